// Moving a one-to-one session by agreement, on its page: the open proposal shown to both (live), with Accept and
// Decline for the other side and Withdraw for the proposer; "Propose another time" (one to three of the listing's
// free slots, in a day-by-day picker); the mentor's "Ask to reschedule"; and the mentee's answer to that request
// (any free time, or cancel at no cost). Forms are made once and kept by the page (`view.keep`).
import { get, post, qs } from '../../api.js';
import { policy } from '../../policy.js';
import { slotPicker } from '../../slot-picker.js';
import { h, field, replace, messageArea, act, span, when, disclosure } from '../../ui.js';
import { t, tn } from '../../words.js';

const SLOT_DAYS = 60; // how far ahead a move may be looked for
const MAX_TIMES = 3;

/** The booking's proposals, newest first; the open one, and the accepted one that moved it. */
export async function loadProposals(view) {
  const { booking } = view;
  if (!booking || booking.group_session_id) { view.proposals = []; return; }
  view.proposals = (await get(`/bookings/${booking.id}/reschedule-proposals`)).items;
}

const openProposal = (view) => (view.proposals || []).find((p) => p.status === 'open');

/** Where a moved booking went: the accepted proposal's new booking (and its session, once the worker made it). */
export async function successor(view) {
  const moved = (view.proposals || []).find((p) => p.status === 'accepted');
  if (!moved) return null;
  const next = await get(`/bookings/${moved.new_booking_id}`);
  return next;
}

/** What the page shows about moving the session: nothing once it started or for a group session. */
export function movesSection(view) {
  const { session, booking } = view;
  if (!booking || booking.status !== 'accepted' || session.kind !== 'individual' || session.status !== 'scheduled'
      || Date.now() >= new Date(session.start_time).getTime()) return null;
  const open = openProposal(view);
  const role = view.role();
  const other = role === 'mentor' ? 'mentee' : 'mentor'; // who answers a move
  let body;
  if (open && open.proposed_by === role) {
    body = view.keep(`mine-${open.id}`, () => ownProposal(view, open, other));
  } else if (open && open.kind === 'request') {
    body = view.keep(`choose-${open.id}`, () => chooseAnyTime(view, open));
  } else if (open) {
    body = view.keep(`answer-${open.id}`, () => answerProposal(view, open, other));
  } else if (booking.reschedule_count >= policy.max_reschedules_per_booking) {
    body = h('p', { class: 'muted' }, tn('This booking was moved {count} time, the most allowed.',
      'This booking was moved {count} times, the most allowed.', booking.reschedule_count));
  } else {
    body = h('div', {}, view.keep('propose', () => proposeForm(view, other)),
      role === 'mentor' ? view.keep('ask', () => askForm(view)) : null);
  }
  return h('section', { 'aria-labelledby': 'mv-h', class: 'moves' }, h('h2', { id: 'mv-h' }, t('Another time')), body);
}

function ownProposal(view, open, other) {
  const messages = messageArea();
  const mentee = other === 'mentee';
  const what = open.kind === 'request'
    ? (mentee ? t('You asked the mentee to choose another time.') : t('You asked the mentor to choose another time.'))
    : t('You proposed {times}.', { times: open.start_times.map(when).join('; ') });
  const closes = { time: when(open.expires_at) };
  return h('div', { class: 'card proposal', role: 'group', 'aria-label': t('Your proposal') },
    h('p', {}, what, ' ', mentee ? t('Waiting for the mentee; it closes {time}.', closes)
      : t('Waiting for the mentor; it closes {time}.', closes)),
    h('div', { class: 'actions' }, h('button', { type: 'button', onclick: (e) => act(e.currentTarget, messages, async () => {
      await post(`/reschedule-proposals/${open.id}/withdraw`);
      await view.reload();
    }) }, open.kind === 'request' ? t('Withdraw the request') : t('Withdraw the proposal'))), messages.el);
}

function answerProposal(view, open, other) {
  const messages = messageArea();
  const accept = (start) => (e) => act(e.currentTarget, messages, async () => {
    await post(`/reschedule-proposals/${open.id}/accept`, { start_time: start });
    await view.reload();
  });
  return h('div', { class: 'card proposal', role: 'group', 'aria-label': t('Proposal to move') },
    h('p', {}, h('strong', {}, other === 'mentee' ? t('The mentee proposes another time') : t('The mentor proposes another time')),
      open.message ? `: “${open.message}”` : '.', ' ', t('Moving costs nothing.')),
    h('div', { class: 'actions' },
      open.start_times.map((start) => h('button', { type: 'button', class: 'primary', onclick: accept(start) },
        t('Move to {time}', { time: when(start) }))),
      h('button', { type: 'button', onclick: (e) => act(e.currentTarget, messages, async () => {
        await post(`/reschedule-proposals/${open.id}/decline`);
        await view.reload();
      }) }, t('Keep the current time'))),
    messages.el);
}

/** The listing's free slots of the next days, in a picker: `onChoose(slot)`. */
function freeSlots(view, onChoose) {
  const listingId = view.session.listing_id;
  const picker = slotPicker({
    onChoose, isRequested: () => false, horizonDays: SLOT_DAYS,
    fetchSlots: async (from, to) => (await get(`/listings/${listingId}/slots${qs({ from: from.toISOString(), to: to.toISOString() })}`))
      .items.filter((s) => s.start_time !== view.session.start_time),
    firstFree: async () => (await get(`/listings/${listingId}/slots/first`)).slot,
  });
  picker.reload();
  return h('section', { 'aria-label': t('Free slots'), class: 'slots' }, picker.el);
}

function proposeForm(view, other) {
  const messages = messageArea();
  const chosen = [];
  const list = h('ul', { class: 'chosen', 'aria-live': 'polite' });
  const send = h('button', { type: 'submit', class: 'primary', disabled: true }, t('Send proposal'));
  const draw = () => {
    replace(list, chosen.map((slot, index) => h('li', {}, when(slot.start_time), ' ',
      h('button', { type: 'button', class: 'link', 'aria-label': t('Remove {time}', { time: when(slot.start_time) }), onclick: () => {
        chosen.splice(index, 1);
        draw();
      } }, t('Remove')))));
    send.disabled = chosen.length === 0;
  };
  const slots = freeSlots(view, (slot) => {
    if (!slot || chosen.some((s) => s.start_time === slot.start_time)) return;
    if (chosen.length >= MAX_TIMES) { messages.error(t('Propose at most {count} times.', { count: MAX_TIMES })); return; }
    chosen.push(slot);
    draw();
  });
  const form = h('form', { class: 'card', 'aria-labelledby': 'pr-h' },
    h('h3', { id: 'pr-h' }, t('Propose another time')),
    h('p', { class: 'muted' }, other === 'mentee'
      ? t('Choose up to {count} free times; the mentee picks one, or keeps the current time.', { count: MAX_TIMES })
      : t('Choose up to {count} free times; the mentor picks one, or keeps the current time.', { count: MAX_TIMES })),
    slots, h('p', {}, t('Proposed: ')), list,
    field(t('Message (optional)'), { tag: 'textarea', name: 'message', rows: 2, maxlength: 1000 }),
    messages.el, h('div', { class: 'actions' }, send));
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    act(send, messages, async () => {
      await post(`/bookings/${view.booking.id}/reschedule-proposals`,
        { start_times: chosen.map((s) => s.start_time), message: form.message.value.trim() });
      chosen.length = 0;
      draw();
      form.hidden = true;
      await view.reload();
    }, form);
  });
  return disclosure(t('Propose another time'), form);
}

function askForm(view) {
  const messages = messageArea();
  const form = h('form', { class: 'card', 'aria-labelledby': 'ask-h' },
    h('h3', { id: 'ask-h' }, t('Ask the mentee to choose another time')),
    h('p', { class: 'muted' }, tn('They pick any free time, or cancel at no cost; with no answer within {count} hour, the session is '
      + 'cancelled at no cost to them.', 'They pick any free time, or cancel at no cost; with no answer within {count} hours, the '
      + 'session is cancelled at no cost to them.', policy.reschedule_request_ttl_hours)),
    field(t('Reason'), { tag: 'textarea', name: 'reason', rows: 2, required: true, maxlength: 1000 }),
    messages.el, h('button', { type: 'submit', class: 'primary' }, t('Send the request')));
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    act(form.querySelector('button[type=submit]'), messages, async () => {
      await post(`/bookings/${view.booking.id}/request-reschedule`, { reason: form.reason.value.trim() });
      form.hidden = true;
      await view.reload();
    }, form);
  });
  return disclosure(t('Ask to reschedule'), form, () => form.reason.focus());
}

function chooseAnyTime(view, open) {
  const messages = messageArea();
  let picked = null;
  const move = h('button', { type: 'button', class: 'primary', disabled: true, onclick: (e) => act(e.currentTarget, messages, async () => {
    await post(`/reschedule-proposals/${open.id}/accept`, { start_time: picked.start_time });
    await view.reload();
  }) }, t('Move to the chosen time'));
  const chosenText = h('p', { class: 'muted' }, t('Choose a free time.'));
  const slots = freeSlots(view, (slot) => {
    picked = slot;
    move.disabled = !slot;
    chosenText.textContent = slot ? t('Chosen: {time}.', { time: span(slot.start_time, slot.end_time) }) : t('Choose a free time.');
  });
  return h('div', { class: 'card proposal', role: 'group', 'aria-label': t('Choose another time') },
    h('p', {}, h('strong', {}, t('The mentor asks you to choose another time')), open.message ? `: “${open.message}”` : '.',
      ' ', t('Moving costs nothing; cancelling costs nothing either. Answer before {time}.', { time: when(open.expires_at) })),
    slots, chosenText,
    h('div', { class: 'actions' }, move, h('button', { type: 'button', class: 'danger', onclick: (e) => act(e.currentTarget, messages, async () => {
      await post(`/reschedule-proposals/${open.id}/decline`);
      await view.reload();
    }) }, t('Cancel at no cost'))),
    messages.el);
}
