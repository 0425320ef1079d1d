// The page of a link in a confirmation or reminder email that cancels a meeting without signing in: it shows the
// meeting and what cancelling costs now; opening it changes nothing, only its button acts.
import { api } from '../api.js';
import { h, replace, messageArea, act, money, span, errorBox, loading } from '../ui.js';

export async function bookingLink(main, { query }) {
  const token = query.get('token') || '';
  history.replaceState(null, '', '#/booking-link'); // the token stays out of the address bar and the history
  const card = h('div', { class: 'card narrow' }, loading());
  main.append(h('h1', {}, 'Cancel a meeting'), card);
  let view;
  try {
    view = await api('POST', '/booking-links/check', { token }, { authed: false });
  } catch (err) {
    replace(card, errorBox(err.message), h('p', {}, h('a', { href: '#/bookings' }, 'Open My bookings')));
    return;
  }
  const messages = messageArea();
  const what = h('p', {}, h('strong', {}, view.listing_title), ` with ${view.with_whom} · ${span(view.start_time, view.end_time)}`);
  const openIt = view.session_id ? h('p', {}, h('a', { href: `#/sessions/${view.session_id}` }, 'Open it in the app instead')) : null;
  if (view.done) {
    replace(card, what, h('p', { role: 'status' }, 'This meeting is not scheduled any more: there is nothing to cancel.'), openIt);
    return;
  }
  const cost = view.role === 'mentor' ? 'Cancelling costs you nothing; the mentee is refunded in full.'
    : view.credit_forfeited ? 'It starts soon: cancelling now uses the bundle credit it was paid with.'
      : view.late ? `It starts soon: cancelling now costs ${money(view.fee_cents, view.currency)}.`
        : 'Cancelling now costs nothing.';
  const button = h('button', { type: 'button', class: 'danger', onclick: (e) => act(e.currentTarget, messages, async () => {
    const done = await api('POST', '/booking-links/act', { token }, { authed: false });
    replace(card, what, h('p', { class: 'ok', role: 'status' },
      `Cancelled. ${done.with_whom} is told.${done.fee_cents ? ` The fee is ${money(done.fee_cents, done.currency)}.` : ''}`), openIt);
  }) }, 'Cancel the meeting');
  replace(card, what, h('p', {}, cost), h('p', { class: 'muted' }, 'Nothing happens until you press the button.'),
    messages.el, h('div', { class: 'actions' }, button), openIt);
}
