// The mentee's bookings and sessions; the mentor's incoming requests (Accept / Decline) and
// sessions. Both update live from the stream.
import { post } from '../../api.js';
import { live } from '../../live.js';
import { all, listing, onWaiting, refreshWaiting } from '../../state.js';
import { answersView } from './questions.js';
import { mySeries, seriesRequests } from './series.js';
import { h, field, redraw, replace, loading, empty, errorBox, messageArea, act, span, when, badge, bookingBadge, sessionBadge, withdrawn } from '../../ui.js';
import { t, tn, tParts } from '../../words.js';

async function titleOf(listingId) {
  try { return (await listing(listingId)).title; } catch { return t('Listing'); }
}

const reasonOf = (b) => (b.status === 'declined' ? b.decline_reason : b.status === 'cancelled' ? b.cancel_reason : null);
// A request declined or withdrawn before any session: the mentee may ask for another time of the listing.
const settled = (b) => b.status === 'declined' || withdrawn(b);

function personName(summary, fallback) {
  return summary && summary.display_name ? summary.display_name : fallback;
}

async function renderInto(el, items, render, emptyText) {
  if (!items.length) { redraw(el, empty(emptyText)); return; }
  const rows = await Promise.all(items.map(render));
  redraw(el, h('ul', { class: 'list' }, rows.map((row) => h('li', {}, row))));
}

// A mentor's session: the mentee's sessions are their bookings' (My bookings lists each once).
async function mentorSessionRow(s) {
  return [
    h('a', { href: `#/sessions/${s.id}` }, await titleOf(s.listing_id)), ' · ', span(s.start_time, s.end_time), ' ',
    sessionBadge(s),
    s.kind === 'group' ? h('span', { class: 'meta' }, ' ', t('group, {taken}/{capacity} seats', { taken: s.seats_taken, capacity: s.capacity })) : null,
    s.mentee ? h('span', { class: 'meta' }, ' ', ...tParts('with {person}', { person: h('bdi', {}, s.mentee.display_name) })) : null,
  ];
}

function liveReload(reload) {
  const off = live.on((type) => {
    if (type === 'reset' || type.startsWith('booking') || type.startsWith('session.')) reload();
  });
  reload();
  return off;
}

// Each booking once: upcoming first (soonest first), then past (latest first), then those cancelled, declined,
// withdrawn or expired. A booking's session, when it has one, gives the status shown once it has started.
const ENDED = new Set(['declined', 'cancelled', 'expired', 'rescheduled']);
const PAST_SESSION = new Set(['completed', 'missed', 'mentee_no_show', 'mentor_no_show']);

function myBookingRow(b, session, messages, reload) {
  const seat = b.group_session_id;
  const sessionId = b.session_id || seat;
  const status = session && (PAST_SESSION.has(session.status) || session.status === 'in_progress')
    ? sessionBadge(session) : bookingBadge(b);
  return async () => [
    h('a', { href: `#/listings/${b.listing_id}` }, await titleOf(b.listing_id)), ' · ', span(b.start_time, b.end_time),
    b.mentor ? h('span', { class: 'meta' }, ' · ', ...(seat
      ? tParts('with {person} (group)', { person: h('bdi', {}, b.mentor.display_name) })
      : tParts('with {person}', { person: h('bdi', {}, b.mentor.display_name) }))) : null, ' ',
    status,
    reasonOf(b) ? h('span', { class: 'meta' }, ` (${reasonOf(b)})`) : null,
    b.status === 'draft' && b.competing_requests ? h('span', { class: 'meta' }, t(' · someone else asked for this time too')) : null,
    sessionId && !ENDED.has(b.status) ? [' ', h('a', { href: `#/sessions/${sessionId}` }, t('Open session'))] : null,
    settled(b) ? [' ', h('a', { href: `#/listings/${b.listing_id}` }, t('Choose another time'))] : null,
    b.series_id ? h('span', { class: 'meta' }, t(' · part of a series')) : null,
    b.status === 'draft' && !b.series_id ? [' ', h('button', { type: 'button', dataset: { key: `withdraw-${b.id}` }, onclick: (e) => act(e.currentTarget, messages, async () => {
      await post(`/bookings/${b.id}/cancel`, {});
      await reload();
    }) }, t('Withdraw request'))] : null,
  ];
}

// What waits for the mentee, first: moves the mentor asked them to answer, seats held for them; then their places
// in line (for a mentor, on Requests: the moves mentees asked them to answer). Drawn from the same read as the
// menu's count, so the two always agree.
function waitingParts(as = 'mentee') {
  const actions = h('div', {});
  const places = h('div', {});
  const actionsSection = h('section', { 'aria-labelledby': 'mb-wait', class: 'waiting-for-you', hidden: true },
    h('h2', { id: 'mb-wait' }, t('Waiting for you')), actions);
  const placesSection = h('section', { 'aria-labelledby': 'mb-line', hidden: true }, h('h2', { id: 'mb-line' }, t('Waitlists')), places);
  const draw = (waiting) => {
    const moves = waiting.moves.filter((m) => m.answer_as === as);
    const mine = as === 'mentee' ? waiting.waitlist : [];
    const offers = mine.filter((p) => p.status === 'offered');
    const lines = mine.filter((p) => p.status === 'waiting');
    actionsSection.hidden = !moves.length && !offers.length;
    placesSection.hidden = !lines.length;
    if (actionsSection.hidden) redraw(actions); else redraw(actions, h('ul', { class: 'list' },
      moves.map((m) => h('li', {}, h('strong', {}, m.proposal.kind === 'request'
        ? t('{display_name} asks you to choose another time', { display_name: m.other.display_name }) : t('{display_name} proposes another time', { display_name: m.other.display_name })),
      t(' for {listing_title} · {time} · answer by {time2} ', { listing_title: m.listing_title, time: span(m.start_time, m.end_time), time2: when(m.proposal.expires_at) }),
      m.session_id ? h('a', { href: `#/sessions/${m.session_id}` }, t('Answer')) : null)),
      offers.map((p) => h('li', {}, h('strong', {}, t('A seat is held for you')), ' · ', p.listing_title, ' · ',
        span(p.start_time, p.end_time), ' · ', t('until {time}', { time: when(p.offer_expires_at) }), ' ',
        h('a', { href: `#/listings/${p.listing_id}` }, t('Take the seat'))))));
    if (placesSection.hidden) redraw(places); else redraw(places, h('ul', { class: 'list' }, lines.map((p) => h('li', {}, h('a', { href: `#/listings/${p.listing_id}` }, p.listing_title),
      ` · ${span(p.start_time, p.end_time)} · `, badge(t('{position} in line', { position: ordinal(p.position) }), 'requested')))));
  };
  return { els: as === 'mentee' ? [actionsSection, placesSection] : [actionsSection], draw };
}

const ordinal = (n) => `${n}${n % 10 === 1 && n % 100 !== 11 ? 'st' : n % 10 === 2 && n % 100 !== 12 ? 'nd' : n % 10 === 3 && n % 100 !== 13 ? 'rd' : 'th'}`;

export function myBookings(main) {
  const messages = messageArea();
  const parts = { upcoming: h('div', {}, loading()), past: h('div', {}, loading()), ended: h('div', {}, loading()) };
  const seriesEl = h('div', {}, loading());
  const waiting = waitingParts();
  const section = (id, title, el) => h('section', { 'aria-labelledby': id }, h('h2', { id }, title), el);
  main.append(h('h1', {}, t('My bookings')), messages.el, ...waiting.els, section('mb-up', t('Upcoming'), parts.upcoming),
    section('mb-series', t('Series'), seriesEl),
    section('mb-past', t('Past'), parts.past), section('mb-ended', t('Cancelled and declined'), parts.ended));
  const offWaiting = onWaiting(waiting.draw);

  async function reload() {
    refreshWaiting();
    mySeries(seriesEl, reload).catch((err) => replace(seriesEl, errorBox(err.message)));
    try {
      const [bookings, sessions] = await Promise.all([all('/bookings', { role: 'mentee' }, 1), all('/sessions', { role: 'mentee' }, 1)]);
      const sessionOf = (b) => sessions.find((s) => s.id === (b.session_id || b.group_session_id));
      const now = Date.now();
      const isPast = (b) => PAST_SESSION.has(sessionOf(b)?.status) || new Date(b.end_time).getTime() <= now;
      const byStart = (x, y) => new Date(x.start_time) - new Date(y.start_time);
      const ended = bookings.filter((b) => ENDED.has(b.status)).sort((x, y) => byStart(y, x));
      const standing = bookings.filter((b) => !ENDED.has(b.status));
      const rows = (list) => list.map((b) => myBookingRow(b, sessionOf(b), messages, reload));
      await Promise.all([
        renderInto(parts.upcoming, rows(standing.filter((b) => !isPast(b)).sort(byStart)), (row) => row(),
          t('Nothing coming up. Find a mentor and request a slot.')),
        renderInto(parts.past, rows(standing.filter(isPast).sort((x, y) => byStart(y, x))), (row) => row(), t('No past sessions yet.')),
        renderInto(parts.ended, rows(ended), (row) => row(), t('None.')),
      ]);
    } catch (err) { Object.values(parts).forEach((el) => replace(el, errorBox(err.message))); }
  }
  const offLive = liveReload(reload);
  return () => { offLive(); offWaiting(); };
}

export function requests(main) {
  const messages = messageArea();
  const requestsEl = h('div', {}, loading());
  const seriesEl = h('div', {});
  const decidedEl = h('div', {}, loading());
  const sessionsEl = h('div', {}, loading());
  const waiting = waitingParts('mentor');
  const offWaiting = onWaiting(waiting.draw);
  main.append(h('h1', {}, t('Requests')), messages.el, ...waiting.els,
    h('section', { 'aria-labelledby': 'in-h' }, h('h2', { id: 'in-h' }, t('Incoming requests')), seriesEl, requestsEl),
    h('section', { 'aria-labelledby': 'ds-h' }, h('h2', { id: 'ds-h' }, t('My sessions as mentor')), sessionsEl),
    h('section', { 'aria-labelledby': 'dc-h' }, h('h2', { id: 'dc-h' }, t('Decided requests')), decidedEl));

  // The answer shows at the top (the request's row is gone once decided); a refusal beside its buttons.
  function decide(b, action, rowMessages, body = () => ({})) {
    return (e) => act(e.currentTarget, rowMessages, async () => {
      const done = await post(`/bookings/${b.id}/${action}`, body());
      messages.ok(`${action === 'accept' ? t('Accepted') : t('Declined')}: ${span(done.start_time, done.end_time)}.`);
      kept.delete(b.id);
      await reload();
    });
  }

  // A request's messages and decline form, kept across the live redraws of the list: what is typed stays.
  const kept = new Map();
  function rowParts(b) {
    if (kept.has(b.id)) return kept.get(b.id);
    const rowMessages = messageArea();
    const name = personName(b.mentee, 'the mentee');
    const form = h('form', { class: 'confirm', hidden: true, 'aria-label': t('Decline the request from {name}', { name }) },
      field(t('Reason (optional; the mentee sees it)'), { tag: 'textarea', name: 'reason', rows: 2, maxlength: 1000 }),
      h('button', { type: 'submit', class: 'danger' }, t('Confirm decline')));
    const send = decide(b, 'decline', rowMessages, () => ({ reason: form.reason.value.trim() || null }));
    form.addEventListener('submit', (event) => { event.preventDefault(); send({ currentTarget: form.querySelector('button') }); });
    kept.set(b.id, { rowMessages, reasonForm: form });
    return kept.get(b.id);
  }
  const openDecline = (form) => () => { form.hidden = false; form.reason.focus(); };

  async function reload() {
    refreshWaiting();
    try {
      const bookings = (await all('/bookings', { role: 'mentor' }, 1)).filter((b) => !b.group_session_id);
      // Soonest first, so requests for one time sit together; a series is answered whole, above.
      const drafts = bookings.filter((b) => b.status === 'draft' && !b.series_id)
        .sort((x, y) => new Date(x.start_time) - new Date(y.start_time));
      const series = await seriesRequests(seriesEl, messages, reload);
      await renderInto(requestsEl, drafts, async (b) => {
        const { rowMessages, reasonForm } = rowParts(b);
        const person = personName(b.mentee, t('a mentee')); // (a t() among another's words is not gathered)
        return h('div', { class: 'request', role: 'group', 'aria-label': t('Request from {person}', { person }) },
          h('strong', { class: 'mentee' }, personName(b.mentee, t('A mentee'))), ' ', t('asks for'), ' ',
          h('a', { href: `#/listings/${b.listing_id}` }, await titleOf(b.listing_id)), ' · ', span(b.start_time, b.end_time), ' ',
          bookingBadge(b),
          b.competing_requests ? h('p', { class: 'collision' }, h('strong', {}, tn('{count} request for this time', '{count} requests for this time', b.competing_requests + 1)),
            t(': accepting one declines the others.')) : null,
          b.notes ? h('p', { class: 'agenda' }, t('Agenda: {notes}', { notes: b.notes })) : null,
          answersView(b.answers),
          h('div', { class: 'actions' },
            h('button', { type: 'button', class: 'primary', dataset: { key: `accept-${b.id}` }, onclick: decide(b, 'accept', rowMessages) }, 'Accept'),
            h('button', { type: 'button', dataset: { key: `decline-${b.id}` }, onclick: openDecline(reasonForm) }, t('Decline…'))),
          reasonForm, rowMessages.el);
      }, series ? t('No other requests waiting.') : t('No requests waiting.'));
      const latestFirst = (x, y) => new Date(y.start_time) - new Date(x.start_time);
      await renderInto(decidedEl, bookings.filter((b) => b.status !== 'draft').sort(latestFirst).slice(0, 20), async (b) => [
        h('strong', {}, personName(b.mentee, t('A mentee'))), ' · ', await titleOf(b.listing_id), ' · ', span(b.start_time, b.end_time), ' ',
        bookingBadge(b),
        reasonOf(b) ? h('span', { class: 'meta' }, ` (${reasonOf(b)})`) : null,
        b.session_id ? [' ', h('a', { href: `#/sessions/${b.session_id}` }, t('Open session'))] : null,
      ], t('Nothing decided yet.'));
    } catch (err) { replace(requestsEl, errorBox(err.message)); replace(decidedEl); }
    try {
      await renderInto(sessionsEl, await all('/sessions', { role: 'mentor' }, 1), mentorSessionRow, t('No sessions yet.'));
    } catch (err) { replace(sessionsEl, errorBox(err.message)); }
  }
  const offLive = liveReload(reload);
  return () => { offLive(); offWaiting(); };
}
