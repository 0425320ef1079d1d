// One session: meeting link, agenda, countdown; Start, Complete (mentor), Cancel with the policy's fee shown
// first; moving it to another time by agreement (moves.js); check-ins and absences (attendance.js);
// the mentee's review once it is completed. The page redraws on a live update (ui.js `redraw`); its
// forms are made once and kept (`view.keep`), so what is typed in them, and their messages, stay.
import { BASE_URL, get, post, session as auth } from '../../api.js';
import { live } from '../../live.js';
import { canStartAt, cancellationCost, feeNote, loadPolicy, policy } from '../../policy.js';
import { currentUser, listing, profile } from '../../state.js';
import { h, field, redraw, replace, messageArea, act, money, span, duration, errorBox, sessionBadge } from '../../ui.js';
import { talkButton } from '../conversations/conversations.js';
import { sessionStep } from '../programmes/plan.js';
import { attendanceSection, checkInOpens, reportCloses, reportOpens } from './attendance.js';
import { loadProposals, movesSection, successor } from './moves.js';
import { formatTag, t, tn, tParts } from '../../words.js';

export async function sessionPage(main, { params: [id] }) {
  const me = await currentUser();
  const view = {
    id, me, session: null, booking: null, item: null, next: null, proposals: [], timer: null, cancelOpen: false,
    gone: false, kept: {},
    body: h('div', {}), heading: h('h1', {}, t('Session')),
    keep(name, make) { return (this.kept[name] ||= make()); },
    role() { return me.mentor_profile_id && me.mentor_profile_id === this.session.mentor_profile_id ? 'mentor' : 'mentee'; },
    render() { render(this); },
    reload: () => load(),
  };
  view.crumb = h('a', { href: '#/bookings' }, t('My bookings')); // the mentor's way back is their requests and sessions
  main.append(h('p', { class: 'crumbs' }, view.crumb), view.heading, view.body);

  async function load() {
    try {
      await loadPolicy();
      view.session = await get(`/sessions/${id}`);
      view.item = await listing(view.session.listing_id);
      view.booking = view.session.booking_id ? await get(`/bookings/${view.session.booking_id}`).catch(() => null) : null;
      await loadProposals(view);
      // Moved by agreement: the page follows the meeting to its new session once the worker has made it.
      view.next = view.booking && view.booking.status === 'rescheduled' ? await successor(view) : null;
      if (view.next && view.next.session_id && !view.gone) { location.replace(`#/sessions/${view.next.session_id}`); return; }
      if (!view.gone) view.render();
    } catch (err) { if (!view.gone) replace(view.body, errorBox(err.message)); }
  }
  const off = live.on((type, data) => {
    const booking = view.booking && view.booking.id;
    if (type === 'reset' || data.id === id || data.session_id === id || (booking && (data.id === booking
      || data.booking_id === booking || data.rescheduled_from_booking_id === booking))
      || (view.next && (data.id === view.next.id || data.booking_id === view.next.id))) load();
  });
  await load();
  return () => { view.gone = true; off(); clearInterval(view.timer); };
}

function render(view) {
  const { session, booking, item } = view;
  view.heading.textContent = item.title;
  const mentor = h('span', {});
  profile(session.mentor_profile_id).then((p) => { mentor.textContent = p.display_name; }).catch(() => {});
  const price = booking ? booking.price_cents : item.price_cents;
  const currency = booking ? booking.currency : item.currency;
  const mentee = view.role() === 'mentee';
  if (!mentee) Object.assign(view.crumb, { href: '#/requests', textContent: t('My sessions as mentor') });
  const status = session.status;
  redraw(view.body,
    h('p', { class: 'meta' }, span(session.start_time, session.end_time), ' ', sessionBadge(session),
      ' · ', mentee || session.mentee ? tParts('with {person}', { person: mentee ? mentor : session.mentee.display_name })
        : t('with your group'),
      session.kind === 'group' ? [' · ', t('group session, {taken}/{capacity} seats', { taken: session.seats_taken,
        capacity: session.capacity })] : '',
      price ? ` · ${money(price, currency)}` : ''),
    countdown(view),
    view.keep('talk', () => h('div', { class: 'actions' }, talk(view, mentee))),
    // A group session's mentor sees who holds a seat, from the first seat taken (the API gives them to the mentor).
    !mentee && session.kind === 'group' && Array.isArray(session.participants)
      ? h('section', { 'aria-labelledby': 'pp-h' }, h('h2', { id: 'pp-h' }, t('Participants ({count})', { count: session.participants.length })),
        session.participants.length
          ? h('ul', { class: 'list' }, session.participants.map((p) => h('li', {}, p.display_name)))
          : h('p', { class: 'muted' }, t('No one has joined yet.')))
      : null,
    session.meeting_url && ['scheduled', 'in_progress'].includes(status) ? joinButton(session) : null,
    status === 'scheduled' ? addToCalendar(view) : null,
    booking && booking.notes ? h('section', { 'aria-labelledby': 'ag-h' }, h('h2', { id: 'ag-h' }, t('Agenda')), h('p', {}, booking.notes)) : null,
    // In a programme, the step of the pair's plan this session is for (nothing when it has none).
    session.kind === 'individual' && session.status !== 'cancelled' ? view.keep('step', () => sessionStep(session.id)) : null,
    view.next ? h('p', { class: 'ok', role: 'status' }, t('Moved to {time} at no cost.', { time: span(view.next.start_time, view.next.end_time) }), ' ',
      t('Its session is being prepared…')) : null,
    attendanceSection(view, view.me),
    movesSection(view),
    status === 'scheduled' ? view.keep('actions', () => actions(view)) : null,
    status === 'scheduled' ? h('p', { class: 'muted' }, tn('You can start {count} minute before the start time.', 'You can start {count} minutes before the start time.', policy.start_early_minutes)) : null,
    status === 'scheduled' && view.cancelOpen ? view.keep('cancel', () => cancelPanel(view, price, currency)) : null,
    status === 'in_progress' && !mentee ? view.keep('complete', () => completeForm(view)) : null,
    status === 'in_progress' && mentee ? h('p', {}, t('The mentor completes the session with notes and action items.')) : null,
    status === 'completed' ? outcome(session) : null,
    // The review form until the mentee has reviewed (kept, with its thanks, once they did here).
    status === 'completed' && mentee && (session.reviewed === false || view.kept.review) ? view.keep('review', () => reviewForm(view)) : null,
    session.reviewed && !view.kept.review ? h('p', { class: 'ok' }, t('You reviewed this session. Thank you.')) : null,
    session.cancellation && !view.next ? h('p', { class: 'meta' }, cancelledBy(session.cancellation), ' ',
      session.cancellation.late ? t('Late cancellation, fee {fee}.', { fee: money(session.cancellation.fee_cents, currency) }) : t('No fee.'),
      session.cancellation.credit_refunded ? [' ', t('The bundle credit was returned.')] : '') : null);
}

/** Who cancelled the session, and why (their words, or the service's). */
function cancelledBy({ cancelled_by: by, reason }) {
  const said = { reason };
  if (by === 'mentor') return t('Cancelled by the mentor: {reason}.', said);
  if (by === 'mentee') return t('Cancelled by the mentee: {reason}.', said);
  if (by === 'coordinator') return t('Cancelled by the coordinator: {reason}.', said);
  if (by === 'admin') return t('Cancelled by the admin: {reason}.', said);
  if (by === 'system') return t('Cancelled by the system: {reason}.', said);
  return t('Cancelled by the {who}: {reason}.', { who: by, reason });
}

/** Writing to the session's people: a group session's conversation, or one's mentor or mentee. */
function talk(view, mentee) {
  const { session } = view;
  if (session.kind === 'group') return talkButton(t('Message the group'), { session_id: session.id });
  if (mentee) return talkButton(t('Message your mentor'), { mentor_profile_id: session.mentor_profile_id });
  return session.mentee_user_id ? talkButton(t('Message your mentee'), { user_id: session.mentee_user_id }) : null;
}

/** "Add to your calendar": Google Calendar and Outlook links with the session's time, and its .ics file (the feed's
 * event: importing it again updates the same one). */
function addToCalendar(view) {
  const { session, item } = view;
  const page = `${location.origin}${location.pathname}#/sessions/${session.id}`;
  const joining = session.meeting_url ? '\n' + t('Join: {url}', { url: session.meeting_url }) : '';
  const details = `${item.title}: ${page}${joining}`;
  const compact = (iso) => new Date(iso).toISOString().replace(/[-:]/g, '').replace(/\.\d{3}/, '');
  const dates = `${compact(session.start_time)}/${compact(session.end_time)}`;
  const google = `https://calendar.google.com/calendar/render?${new URLSearchParams({ action: 'TEMPLATE', text: item.title,
    dates, details, location: session.meeting_url || '' })}`;
  const outlook = `https://outlook.live.com/calendar/0/deeplink/compose?${new URLSearchParams({ path: '/calendar/action/compose',
    rru: 'addevent', subject: item.title, startdt: new Date(session.start_time).toISOString(),
    enddt: new Date(session.end_time).toISOString(), body: details, location: session.meeting_url || '' })}`;
  const messages = messageArea();
  const download = h('button', { type: 'button', onclick: (e) => act(e.currentTarget, messages, async () => {
    const res = await fetch(`${BASE_URL}/sessions/${session.id}/calendar.ics`, { headers: { Authorization: `Bearer ${auth.token}` } });
    if (!res.ok) throw new Error(t('The calendar file could not be made. Try again.'));
    const link = h('a', { href: URL.createObjectURL(await res.blob()), download: `${item.title}.ics` });
    link.click();
    setTimeout(() => URL.revokeObjectURL(link.href), 10000);
  }) }, t('Download .ics'));
  return h('section', { 'aria-labelledby': 'cal-h', class: 'add-to-calendar' }, h('h2', { id: 'cal-h' }, t('Add to your calendar')),
    h('p', { class: 'actions' },
      h('a', { href: google, target: '_blank', rel: 'noopener noreferrer' }, t('Google Calendar')), ' ',
      h('a', { href: outlook, target: '_blank', rel: 'noopener noreferrer' }, t('Outlook')), ' ', download),
    messages.el);
}

/** The countdown, ticking every second; it also enables Start once the session can start. */
/** When the meeting's Join button opens: as a session may start, the policy's minutes before its start. */
const joinOpens = (session) => new Date(session.start_time).getTime() - policy.start_early_minutes * 60000;

/** Join: a button that opens as the session may start (the page redraws then), its host named beside it. */
function joinButton(session) {
  if (session.status === 'scheduled' && Date.now() < joinOpens(session)) {
    return h('p', { class: 'join' }, h('button', { type: 'button', class: 'primary', disabled: true }, t('Join the meeting')), ' ',
      h('span', { class: 'meta' }, tn('opens {count} minute before the start, on {host}', 'opens {count} minutes before the start, on {host}',
        policy.start_early_minutes, { host: hostOf(session.meeting_url) })));
  }
  return h('p', { class: 'join' }, h('a', { class: 'button primary', href: session.meeting_url, target: '_blank', rel: 'noopener noreferrer' },
    t('Join the meeting')), ' ', h('span', { class: 'meta' }, t('on {host}', { host: hostOf(session.meeting_url) })));
}

/** The meeting's host, as the person reads it beside the button (the whole address is the link's). */
function hostOf(url) {
  try { return new URL(url).host; } catch { return t('the meeting service'); }
}

function countdown(view) {
  const el = h('p', { class: 'countdown' });
  const tick = () => {
    const { session } = view;
    const now = Date.now();
    const start = new Date(session.start_time).getTime();
    // Join opens, check-in opens, reporting an absence opens, check-in closes, reporting closes: the page draws what
    // it offers.
    const crossed = [joinOpens(session), checkInOpens(session), reportOpens(session), new Date(session.end_time).getTime(),
      reportCloses(session)]
      .filter((at) => at <= now).length;
    if (view.crossed !== undefined && crossed !== view.crossed) { view.crossed = crossed; view.render(); return; }
    view.crossed = crossed;
    if (session.status === 'scheduled') {
      el.textContent = now < start ? t('Starts in {left}', { left: duration(start - now) }) : t('Starting time has come');
      const button = view.kept.actions?.querySelector('[data-key=start]');
      if (button && !button.dataset.busy) button.disabled = !canStartAt(session, now);
    } else if (session.status === 'in_progress') {
      // Started early: the booked time has not begun, and lasts as booked from its start.
      el.textContent = now < start
        ? t('In progress, started early: the booked {minutes} min begin in {left}', {
          minutes: Math.round((new Date(session.end_time).getTime() - start) / 60000), left: duration(start - now) })
        : t('In progress, {left} left', { left: duration(new Date(session.end_time).getTime() - now) });
    } else el.textContent = '';
  };
  clearInterval(view.timer);
  view.timer = setInterval(tick, 1000);
  tick();
  return el;
}

function actions(view) {
  const messages = messageArea();
  const start = h('button', { type: 'button', class: 'primary', dataset: { key: 'start' }, disabled: !canStartAt(view.session), onclick: async (e) => {
    const button = e.currentTarget;
    button.dataset.busy = '1'; // the countdown leaves it disabled while the start is sent
    try {
      await act(button, messages, async () => {
        view.session = await post(`/sessions/${view.id}/start`);
        view.render();
      });
    } finally { delete button.dataset.busy; }
  } }, t('Start session'));
  const cancel = h('button', { type: 'button', class: 'danger', 'aria-expanded': 'false', onclick: () => {
    view.cancelOpen = !view.cancelOpen;
    cancel.setAttribute('aria-expanded', String(view.cancelOpen));
    delete view.kept.cancel;
    view.render();
  } }, view.session.kind === 'group' && view.role() === 'mentee' ? t('Leave session') : t('Cancel session'));
  return h('div', {}, h('div', { class: 'actions' }, start, cancel), messages.el);
}

function cancelPanel(view, price, currency) {
  const messages = messageArea();
  const cost = cancellationCost({ startTime: view.session.start_time, priceCents: price, role: view.role(),
    withCredit: Boolean(view.booking && view.booking.bundle_purchase_id) });
  const form = h('form', { class: 'card confirm', 'aria-labelledby': 'cx-h' }, h('h2', { id: 'cx-h' }, t('Cancel this session?')),
    feeNote(cost, price, currency),
    field(t('Reason'), { tag: 'textarea', name: 'reason', rows: 2, required: true, maxlength: 1000 }),
    messages.el,
    h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'danger' }, t('Confirm cancellation')),
      h('button', { type: 'button', onclick: () => { view.cancelOpen = false; delete view.kept.cancel; view.render(); } }, t('Keep the session'))));
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    act(form.querySelector('button[type=submit]'), messages, async () => {
      view.session = await post(`/sessions/${view.id}/cancel`, { reason: form.reason.value.trim() });
      view.cancelOpen = false;
      view.render();
    }, form);
  });
  return form;
}

function completeForm(view) {
  const messages = messageArea();
  const form = h('form', { class: 'card', 'aria-labelledby': 'co-h' }, h('h2', { id: 'co-h' }, t('Complete the session')),
    field(t('Notes'), { tag: 'textarea', name: 'notes', rows: 3, maxlength: 10000 }),
    field(t('Action items'), { tag: 'textarea', name: 'action_items', rows: 3,
      hint: t('One per line. In a programme each becomes an action item of the pairing, the mentee’s.') }),
    messages.el, h('button', { type: 'submit', class: 'primary' }, t('Complete session')));
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    act(form.querySelector('button[type=submit]'), messages, async () => {
      const items = form.action_items.value.split('\n').map((s) => s.trim()).filter(Boolean);
      view.session = await post(`/sessions/${view.id}/complete`, { notes: form.notes.value.trim() || null, action_items: items });
      view.render();
    }, form);
  });
  return form;
}

/** An action item as a session outside programmes keeps it: its words, or {title, owner, due_on}. */
function itemWords(item) {
  if (typeof item === 'string') return item;
  const due = item.due_on ? new Date(`${item.due_on}T12:00:00`).toLocaleDateString(formatTag(), { day: 'numeric', month: 'short', year: 'numeric' }) : '';
  const mentors = item.owner === 'mentor';
  if (due) {
    return mentors ? t('{title} (the mentor’s), due {day}', { title: item.title, day: due })
      : t('{title}, due {day}', { title: item.title, day: due });
  }
  return mentors ? t('{title} (the mentor’s)', { title: item.title }) : item.title;
}

function outcome(session) {
  return h('section', { 'aria-labelledby': 'out-h' }, h('h2', { id: 'out-h' }, t('Outcome')),
    session.notes ? h('p', {}, session.notes) : h('p', { class: 'muted' }, t('No notes.')),
    session.action_items && session.action_items.length
      ? h('ul', {}, session.action_items.map((a) => h('li', {}, itemWords(a)))) : null);
}

function reviewForm(view) {
  const messages = messageArea();
  const form = h('form', { class: 'card', 'aria-labelledby': 'rv-h' }, h('h2', { id: 'rv-h' }, t('Review this session')),
    field(t('Rating'), { tag: 'select', name: 'rating', required: true }, [['5', '5 – excellent'], ['4', '4 – good'], ['3', '3 – fine'], ['2', '2 – poor'], ['1', '1 – bad']]),
    field(t('Comment'), { tag: 'textarea', name: 'comment', rows: 3, maxlength: 5000 }),
    field(t('Post as "A mentee" (otherwise your first name and initial)'), { type: 'checkbox', name: 'anonymous' }),
    messages.el, h('button', { type: 'submit', class: 'primary' }, t('Submit review')));
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    act(form.querySelector('button[type=submit]'), messages, async () => {
      await post(`/sessions/${view.id}/review`, { rating: Number(form.rating.value), comment: form.comment.value.trim(),
        anonymous: form.anonymous.checked });
      replace(form, h('h2', {}, t('Review this session')), h('p', { class: 'ok', role: 'status' }, t('Thank you: your review is published.')));
    }, form);
  });
  return form;
}
