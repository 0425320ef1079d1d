// The page of a link in a confirmation or reminder email that cancels or moves a meeting without signing in: it shows
// the meeting and what cancelling costs now, or the free times to move it to; opening it changes nothing, only its
// button acts.
import { api } from '../../api.js';
import { h, replace, messageArea, act, money, span, errorBox, loading, tz, linkToken, noLink } from '../../ui.js';

export async function bookingLink(main, { query }) {
  const token = linkToken(query, 'booking-link');
  const card = h('div', { class: 'card narrow' }, token ? loading() : noLink());
  const heading = h('h1', {}, 'Cancel a meeting');
  main.append(heading, card);
  if (!token) return;
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
    replace(card, what, h('p', { role: 'status' }, 'This meeting is not scheduled any more: there is nothing to do.'), openIt);
    return;
  }
  if (view.action === 'move') { moveIt({ heading, card, what, openIt, messages, token, view }); return; }
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

function moveIt({ heading, card, what, openIt, messages, token, view }) {
  heading.textContent = 'Move a meeting';
  document.title = 'Move a meeting · Mentorship';
  let chosen = null;
  const button = h('button', { type: 'button', class: 'primary', disabled: true, onclick: (e) => act(e.currentTarget, messages, async () => {
    await api('POST', '/booking-links/act', { token, start_time: chosen.start_time }, { authed: false });
    replace(card, what, h('p', { class: 'ok', role: 'status' }, `Proposed ${span(chosen.start_time, chosen.end_time)}: `
      + `${view.with_whom} is asked to accept it. Until then the meeting stays as it is.`), openIt);
  }) }, 'Propose this time');
  const times = h('div', { class: 'slot-row', role: 'group', 'aria-label': 'Free times' }, view.free_times.map((t) => h('button', {
    type: 'button', class: 'slot', 'aria-pressed': 'false', onclick: (e) => {
      chosen = t;
      times.querySelectorAll('button').forEach((b) => b.setAttribute('aria-pressed', String(b === e.currentTarget)));
      button.disabled = false;
    } }, span(t.start_time, t.end_time))));
  replace(card, what, h('p', {}, `Moving is free for both of you. Choose a time (in ${tz()}): ${view.with_whom} is asked to accept it.`),
    view.free_times.length ? times : h('p', {}, 'No free time in the next two weeks.'),
    messages.el, h('div', { class: 'actions' }, button), openIt);
}
