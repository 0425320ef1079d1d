// Attendance on a session's page: who checked in (live), "I'm here" from the early start until the end, and, from
// the grace after the start, "The other person did not come" for someone who checked in; once the time is over,
// who was found absent and what it cost, with a dispute form while one is open to the viewer.
import { post } from '../../api.js';
import { policy } from '../../policy.js';
import { h, field, replace, messageArea, act, money, clock, when, disclosure } from '../../ui.js';
import { t } from '../../words.js';

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
    h('strong', {}, a === self ? 'You' : a.display_name), ` (${a.role}): `,
    a.checked_in_at ? `checked in at ${clock(new Date(a.checked_in_at))}` : open ? 'not checked in yet' : t('did not check in'))));
  const parts = [people];
  if (open && self && !self.checked_in_at && now < new Date(session.end_time).getTime()) {
    parts.push(view.keep('check-in', () => checkInButton(view)));
  }
  const nobodyCame = others.every((a) => !a.checked_in_at);
  if (open && self && self.checked_in_at && nobodyCame && now >= reportOpens(session) && now < reportCloses(session)) {
    parts.push(view.keep('no-show', () => reportButton(view, role)));
  } else if (open && self && self.checked_in_at && nobodyCame && now < reportOpens(session)) {
    parts.push(h('p', { class: 'muted' }, `If nobody comes, you can report it from ${clock(new Date(reportOpens(session)))}.`));
  }
  if (!open) parts.push(...finding(view, self, role));
  return h('section', { 'aria-labelledby': 'at-h', class: 'attendance-section' }, h('h2', { id: 'at-h' }, t('Attendance')), parts);
}

function checkInButton(view) {
  const messages = messageArea();
  return h('div', {}, h('div', { class: 'actions' }, h('button', { type: 'button', class: 'primary', onclick: (e) => act(e.currentTarget, messages, async () => {
    view.session = await post(`/sessions/${view.id}/check-in`);
    view.render();
  }) }, "I'm here")), messages.el);
}

function reportButton(view, role) {
  const messages = messageArea();
  const who = role === 'mentor' ? (view.session.kind === 'group' ? 'No mentee came' : t('The mentee did not come')) : t('The mentor did not come');
  const confirm = h('div', { class: 'card confirm' },
    h('p', {}, role !== 'mentor' ? t('The mentor will be recorded absent: you pay nothing, and a bundle credit you booked with comes back.')
      : view.session.kind === 'group' ? t('Every mentee will be recorded absent: as for a late cancellation, each one\'s bundle credit is used or the late fee is due.')
        : t('The mentee will be recorded absent: as for a late cancellation, their bundle credit is used or the late fee is due.')),
    h('div', { class: 'actions' }, h('button', { type: 'button', class: 'danger', onclick: (e) => act(e.currentTarget, messages, async () => {
      view.session = await post(`/sessions/${view.id}/no-show`);
      view.render();
    }) }, t('Report the absence'))));
  return h('div', {}, disclosure(`${who}…`, confirm), messages.el);
}

/** Who was found absent, what it cost, and the dispute form while the viewer may dispute it. */
function finding(view, self, role) {
  const { session } = view;
  const currency = view.booking ? view.booking.currency : view.item.currency;
  const meetings = session.attendance.filter((a) => a.role === 'mentee' && a.no_show);
  const lines = meetings.map((a) => {
    const whose = a === self ? 'your' : `${a.display_name}'s`;
    if (a.no_show === 'none') return `An administrator found nobody was absent from ${whose} meeting.`;
    // Until it is final (its dispute window over, or an administrator's decision), a finding moves nothing.
    const until = a.disputable_until ? ` once ${when(a.disputable_until)} has passed without a dispute` : t(' once the dispute is decided');
    if (a.no_show === 'mentor') {
      if (!a.no_show_final) return `The mentor was recorded absent from ${whose} meeting: nothing to pay${until}.`;
      return `The mentor was recorded absent from ${whose} meeting (final): nothing to pay${a.credit_status === 'returned' ? ', and the bundle credit is back' : ''}.`;
    }
    const who = a === self ? 'You were' : `${a.display_name} was`;
    if (!a.no_show_final) {
      return `${who} recorded absent: as for a late cancellation, the bundle credit is used or the late fee is due${until}.`;
    }
    const cost = a.credit_status && a.credit_status !== 'returned' ? 'the bundle credit is used' : `a fee of ${money(a.no_show_fee_cents || 0, currency)} is due`;
    return `${who} recorded absent (final): as for a late cancellation, ${cost}.`;
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
    h('p', { class: 'muted' }, `An administrator decides; open until ${when(meeting.disputable_until)}.`),
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
