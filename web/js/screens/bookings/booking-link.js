// The page of a link in a confirmation or reminder email that cancels or moves a meeting without signing in: it shows
// the meeting and what cancelling costs now, or the free times to move it to; opening it changes nothing, only its
// button acts.
import { api } from '../../api.js';
import { h, replace, messageArea, act, money, span, errorBox, loading, tz, linkToken, noLink } from '../../ui.js';
import { t, tParts } from '../../words.js';

export async function bookingLink(main, { query }) {
  const token = linkToken(query, 'booking-link');
  const card = h('div', { class: 'card narrow' }, token ? loading() : noLink());
  const heading = h('h1', {}, t('Cancel a meeting'));
  main.append(heading, card);
  if (!token) return;
  let view;
  try {
    view = await api('POST', '/booking-links/check', { token }, { authed: false });
  } catch (err) {
    replace(card, errorBox(err.message), h('p', {}, h('a', { href: '#/bookings' }, t('Open My bookings'))));
    return;
  }
  const messages = messageArea();
  const what = h('p', {}, h('strong', {}, view.listing_title), ' ', ...tParts('with {person}', { person: h('bdi', {}, view.with_whom) }),
    ' · ', span(view.start_time, view.end_time));
  const openIt = view.session_id ? h('p', {}, h('a', { href: `#/sessions/${view.session_id}` }, t('Open it in the app instead'))) : null;
  if (view.done) {
    replace(card, what, h('p', { role: 'status' }, t('This meeting is not scheduled any more: there is nothing to do.')), openIt);
    return;
  }
  if (view.action === 'move') { moveIt({ heading, card, what, openIt, messages, token, view }); return; }
  const cost = view.role === 'mentor' ? t('Cancelling costs you nothing; the mentee is refunded in full.')
    : view.credit_forfeited ? t('It starts soon: cancelling now uses the bundle credit it was paid with.')
      : view.late ? t('It starts soon: cancelling now costs {fee}.', { fee: money(view.fee_cents, view.currency) })
        : t('Cancelling now costs nothing.');
  const button = h('button', { type: 'button', class: 'danger', onclick: (e) => act(e.currentTarget, messages, async () => {
    const done = await api('POST', '/booking-links/act', { token }, { authed: false });
    replace(card, what, h('p', { class: 'ok', role: 'status' },
      done.fee_cents ? t('Cancelled. {person} is told. The fee is {fee}.', { person: done.with_whom, fee: money(done.fee_cents, done.currency) })
        : t('Cancelled. {person} is told.', { person: done.with_whom })), openIt);
  }) }, t('Cancel the meeting'));
  replace(card, what, h('p', {}, cost), h('p', { class: 'muted' }, t('Nothing happens until you press the button.')),
    messages.el, h('div', { class: 'actions' }, button), openIt);
}

function moveIt({ heading, card, what, openIt, messages, token, view }) {
  heading.textContent = t('Move a meeting');
  document.title = t('Move a meeting · Mentorship');
  let chosen = null;
  const button = h('button', { type: 'button', class: 'primary', disabled: true, onclick: (e) => act(e.currentTarget, messages, async () => {
    await api('POST', '/booking-links/act', { token, start_time: chosen.start_time }, { authed: false });
    replace(card, what, h('p', { class: 'ok', role: 'status' }, t('Proposed {time}: {person} is asked to accept it. Until then the '
      + 'meeting stays as it is.', { time: span(chosen.start_time, chosen.end_time), person: view.with_whom })), openIt);
  }) }, t('Propose this time'));
  const times = h('div', { class: 'slot-row', role: 'group', 'aria-label': t('Free times') }, view.free_times.map((time) => h('button', {
    type: 'button', class: 'slot', 'aria-pressed': 'false', onclick: (e) => {
      chosen = time;
      times.querySelectorAll('button').forEach((b) => b.setAttribute('aria-pressed', String(b === e.currentTarget)));
      button.disabled = false;
    } }, span(time.start_time, time.end_time))));
  replace(card, what, h('p', {}, t('Moving is free for both of you. Choose a time (in {zone}): {person} is asked to accept it.', { zone: tz(), person: view.with_whom })),
    view.free_times.length ? times : h('p', {}, t('No free time in the next two weeks.')),
    messages.el, h('div', { class: 'actions' }, button), openIt);
}
