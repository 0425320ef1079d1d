// Attendance on a session's page: who checked in (live), "I'm here" from the early start until the end, and, from
// the grace after the start, "The other person did not come" for someone who checked in; once the time is over,
// who was found absent and what it cost, with a dispute form while one is open to the viewer.
import { post } from '../../api.js';
import { policy } from '../../policy.js';
import { h, field, replace, messageArea, act, money, clock, when, disclosure } from '../../ui.js';
import { t } from '../../words.js';

// A person's part in the session, as the attendance list names it.
const ROLE = { mentor: t('mentor'), mentee: t('mentee') };
const ABSENT_STATUSES = new Set(['mentee_no_show', 'mentor_no_show']);

/** The viewer's own entry in the session's attendance. */
function mine(view, me) {
  return view.session.attendance.find((a) => (view.role() === 'mentor' ? a.role === 'mentor' : a.role === 'mentee' && a.id === me.id));
}

export const checkInOpens = (session) => new Date(session.start_time).getTime() - policy.start_early_minutes * 60000;
export const reportOpens = (session) => new Date(session.start_time).getTime() + policy.no_show_grace_minutes * 60000;
export const reportCloses = (session) => new Date(session.end_time).getTime() + policy.no_show_grace_minutes * 60000;

export function attendanceSection(view, me) {
  const { session } = view;
  const now = Date.now();
  const open = ['scheduled', 'in_progress'].includes(session.status);
  if (open && now < checkInOpens(session)) return null;
  // Once over: shown when someone checked in or was found absent (not for a cancelled session, nor one from before
  // check-ins were recorded).
  const recorded = session.attendance.some((a) => a.checked_in_at || a.no_show);
  if (!open && (session.status === 'cancelled' || !recorded)) return null;
  const self = mine(view, me);
  const role = view.role();
  const others = session.attendance.filter((a) => a !== self);
  const people = h('ul', { class: 'attendance' }, session.attendance.map((a) => h('li', {},
    h('strong', {}, a === self ? t('You') : a.display_name), ` (${ROLE[a.role] || a.role}): `,
    a.checked_in_at ? t('checked in at {time}', { time: clock(new Date(a.checked_in_at)) })
      : open ? t('not checked in yet') : t('did not check in'))));
  const parts = [people];
  if (open && self && !self.checked_in_at && now < new Date(session.end_time).getTime()) {
    parts.push(view.keep('check-in', () => checkInButton(view)));
  }
  const nobodyCame = others.every((a) => !a.checked_in_at);
  if (open && self && self.checked_in_at && nobodyCame && now >= reportOpens(session) && now < reportCloses(session)) {
    parts.push(view.keep('no-show', () => reportButton(view, role)));
  } else if (open && self && self.checked_in_at && nobodyCame && now < reportOpens(session)) {
    parts.push(h('p', { class: 'muted' }, t('If nobody comes, you can report it from {time}.', { time: clock(new Date(reportOpens(session))) })));
  }
  if (!open) parts.push(...finding(view, self, role));
  return h('section', { 'aria-labelledby': 'at-h', class: 'attendance-section' }, h('h2', { id: 'at-h' }, t('Attendance')), parts);
}

function checkInButton(view) {
  const messages = messageArea();
  return h('div', {}, h('div', { class: 'actions' }, h('button', { type: 'button', class: 'primary', onclick: (e) => act(e.currentTarget, messages, async () => {
    view.session = await post(`/sessions/${view.id}/check-in`);
    view.render();
  }) }, t('I\'m here'))), messages.el);
}

function reportButton(view, role) {
  const messages = messageArea();
  const who = role === 'mentor' ? (view.session.kind === 'group' ? t('No mentee came') : t('The mentee did not come')) : t('The mentor did not come');
  const confirm = h('div', { class: 'card confirm' },
    h('p', {}, role !== 'mentor' ? t('The mentor will be recorded absent: you pay nothing, and a bundle credit you booked with comes back.')
      : view.session.kind === 'group' ? t('Every mentee will be recorded absent: as for a late cancellation, each one\'s bundle credit is used or the late fee is due.')
        : t('The mentee will be recorded absent: as for a late cancellation, their bundle credit is used or the late fee is due.')),
    h('div', { class: 'actions' }, h('button', { type: 'button', class: 'danger', onclick: (e) => act(e.currentTarget, messages, async () => {
      view.session = await post(`/sessions/${view.id}/no-show`);
      view.render();
    }) }, t('Report the absence'))));
  return h('div', {}, disclosure(t('{what}…', { what: who }), confirm), messages.el);
}

/** Who was found absent, what it cost, and the dispute form while the viewer may dispute it. */
function finding(view, self, role) {
  const { session } = view;
  const currency = view.booking ? view.booking.currency : view.item.currency;
  const meetings = session.attendance.filter((a) => a.role === 'mentee' && a.no_show);
  const lines = meetings.map((a) => {
    const yours = a === self;
    const person = a.display_name;
    if (a.no_show === 'none') {
      return yours ? t('An administrator found nobody was absent from your meeting.')
        : t('An administrator found nobody was absent from {person}\'s meeting.', { person });
    }
    // Until it is final (its dispute window over, or an administrator's decision), a finding moves nothing.
    const until = a.disputable_until ? t('once {time} has passed without a dispute', { time: when(a.disputable_until) })
      : t('once the dispute is decided');
    if (a.no_show === 'mentor') {
      if (!a.no_show_final) {
        return yours ? t('The mentor was recorded absent from your meeting: nothing to pay {until}.', { until })
          : t('The mentor was recorded absent from {person}\'s meeting: nothing to pay {until}.', { person, until });
      }
      const back = a.credit_status === 'returned';
      if (yours) {
        return back ? t('The mentor was recorded absent from your meeting (final): nothing to pay, and the bundle credit is back.')
          : t('The mentor was recorded absent from your meeting (final): nothing to pay.');
      }
      return back ? t('The mentor was recorded absent from {person}\'s meeting (final): nothing to pay, and the bundle credit is back.', { person })
        : t('The mentor was recorded absent from {person}\'s meeting (final): nothing to pay.', { person });
    }
    if (!a.no_show_final) {
      return yours ? t('You were recorded absent: as for a late cancellation, the bundle credit is used or the late fee is due {until}.', { until })
        : t('{person} was recorded absent: as for a late cancellation, the bundle credit is used or the late fee is due {until}.', { person, until });
    }
    if (a.credit_status && a.credit_status !== 'returned') {
      return yours ? t('You were recorded absent (final): as for a late cancellation, the bundle credit is used.')
        : t('{person} was recorded absent (final): as for a late cancellation, the bundle credit is used.', { person });
    }
    const fee = money(a.no_show_fee_cents || 0, currency);
    return yours ? t('You were recorded absent (final): as for a late cancellation, a fee of {fee} is due.', { fee })
      : t('{person} was recorded absent (final): as for a late cancellation, a fee of {fee} is due.', { person, fee });
  });
  const parts = lines.map((line) => h('p', { class: 'finding' }, line));
  if (session.status === 'mentor_no_show' && role === 'mentee') {
    parts.push(h('p', {}, h('a', { href: `#/listings/${session.listing_id}` }, t('Book another time'))));
  }
  // Offered to the side found absent: the only one who may dispute it.
  const disputable = meetings.find((a) => a.disputable_until && new Date(a.disputable_until).getTime() > Date.now()
    && a.no_show === role && (role === 'mentor' || a === self));
  if (disputable) parts.push(view.keep(`dispute-${disputable.id}`, () => disputeForm(view, disputable)));
  const disputed = meetings.find((a) => a.dispute_status === 'open');
  if (disputed) parts.push(h('p', { class: 'muted' }, t('A dispute of this finding is waiting for an administrator.')));
  if (!parts.length && ABSENT_STATUSES.has(session.status)) parts.push(h('p', {}, t('Someone was recorded absent.')));
  return parts;
}

function disputeForm(view, meeting) {
  const messages = messageArea();
  const form = h('form', { class: 'card', 'aria-labelledby': `dp-h-${meeting.id}` },
    h('h3', { id: `dp-h-${meeting.id}` }, t('Dispute this finding')),
    h('p', { class: 'muted' }, t('An administrator decides; open until {time}.', { time: when(meeting.disputable_until) })),
    field(t('What happened'), { tag: 'textarea', name: 'reason', rows: 3, required: true, maxlength: 2000 }),
    messages.el, h('button', { type: 'submit', class: 'primary' }, t('Send the dispute')));
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    act(form.querySelector('button[type=submit]'), messages, async () => {
      const body = { reason: form.reason.value.trim() };
      if (view.session.kind === 'group' && view.role() === 'mentor') body.booking_id = meeting.booking_id;
      await post(`/sessions/${view.id}/attendance-disputes`, body);
      replace(form, h('p', { class: 'ok', role: 'status' }, t('Dispute sent: an administrator will decide.')));
      await view.reload();
    }, form);
  });
  return disclosure(t('Dispute this…'), form);
}
