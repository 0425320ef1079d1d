// The mentor's scheduling rules on their setup page: time off (a date range), date overrides, their limits, and
// each listing's buffers, notice, horizon, slot step and limits, each with a line saying what it does. The
// mentees' slots follow each change live (`schedule.changed`).
import { patch, post, put, get } from '../../api.js';
import { h, field, replace, empty, messageArea, act, span, badge } from '../../ui.js';
import { t, tn } from '../../words.js';

const optional = (value) => (value === '' ? null : Number(value));
const shown = (value) => (value === null || value === undefined ? '' : String(value));

// A wall-clock date of the mentor's ("2030-12-20T00:00"), in the reader's words, with its weekday and year.
const dateOf = (text) => new Date(`${text.slice(0, 10)}T00:00:00Z`);
const dayText = (date) => date.toLocaleDateString(undefined, { weekday: 'short', day: 'numeric', month: 'short', year: 'numeric', timeZone: 'UTC' });
const at = (text) => dayText(dateOf(text)) + (text.endsWith('T00:00') ? '' : ` ${text.slice(11)}`);
const DAY_MS = 86400000;

/** A period in the mentor's wall clock, in words: whole days as the days away and the day back ("Fri, Dec 4, 2026
 * (1 day), back Sat, Dec 5, 2026"); else from one time to the other. */
function period(p) {
  if (!p.end) return t('from {start}, until further notice', { start: at(p.start) });
  if (!p.start.endsWith('T00:00') || !p.end.endsWith('T00:00')) return t('{start} to {end}', { start: at(p.start), end: at(p.end) });
  const first = dateOf(p.start);
  const back = dateOf(p.end);
  const days = Math.round((back - first) / DAY_MS);
  const away = days === 1 ? dayText(first) : t('{start} to {end}', { start: dayText(first), end: dayText(new Date(back - DAY_MS)) });
  return tn('{away} ({count} day), back {back}', '{away} ({count} days), back {back}', days, { away, back: dayText(back) });
}

export function timeOffSection(mentor) {
  const messages = messageArea();
  const listEl = h('div', {});
  const affectedEl = h('div', {});
  let periods = [];
  const draw = (view) => {
    periods = view.time_off.map((p) => ({ start: p.start, end: p.end, note: p.note }));
    replace(listEl, periods.length ? h('ul', { class: 'list' }, periods.map((p, i) => h('li', {}, `${period(p)}${p.note ? ` · ${p.note}` : ''} `,
      h('button', { type: 'button', 'aria-label': t('Remove time off {period}', { period: period(p) }), onclick: (e) => act(e.currentTarget, messages, () => save(periods.filter((_, j) => j !== i))) }, t('Remove')))))
      : empty(t('No time off planned.')));
    replace(affectedEl, affected(view, messages, reload));
  };
  const save = async (next) => {
    const view = await put(`/mentor-profiles/${mentor.id}/time-off`, { time_off: next });
    draw(view);
    const declined = view.declined_requests.length;
    messages.ok(t('Time off saved.') + (declined ? ` ${tn('{count} pending request inside it declined; the mentees were told why.',
      '{count} pending requests inside it declined; the mentees were told why.', declined)}` : ''));
  };
  const reload = async () => draw(await get(`/mentor-profiles/${mentor.id}/time-off`));
  const form = h('form', { class: 'inline-form', 'aria-label': t('Add time off') },
    field(t('Away from'), { type: 'date', name: 'from', required: true }),
    field(t('Back on'), { type: 'date', name: 'until', hint: t('Leave empty: until further notice.') }),
    field(t('Note'), { name: 'note', maxlength: 200, placeholder: t('Holiday') }),
    h('button', { type: 'submit' }, t('Add time off')));
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    act(form.querySelector('button'), messages, async () => {
      if (form.until.value && form.until.value <= form.from.value) throw new Error(t('“Back on” must be after “Away from”.'));
      await save([...periods, { start: `${form.from.value}T00:00`, end: form.until.value ? `${form.until.value}T00:00` : null, note: form.note.value.trim() }]);
      form.reset();
    }, form);
  });
  reload().catch((err) => messages.error(err));
  return h('section', { 'aria-labelledby': 'to-h', class: 'card' }, h('h2', { id: 'to-h' }, t('Time off')),
    h('p', { class: 'muted' }, t('Nobody can book you while you are away (days in {timezone}, from the first day to the day you are back). Pending requests inside are declined; sessions already booked stay until you cancel them, and the mentee pays no fee.', { timezone: mentor.timezone })),
    listEl, form, messages.el, affectedEl);
}

/** The accepted bookings and group sessions still inside the time off, each with a way to cancel it. */
function affected(view, messages, reload) {
  const items = [...view.affected_bookings.map((b) => ({ sessionId: b.session_id, what: `${b.mentee.name}`, start: b.start_time, end: b.end_time })),
    ...view.affected_group_sessions.map((s) => ({ sessionId: s.id, what: t('group session, {seats_taken} seats taken', { seats_taken: s.seats_taken }), start: s.start_time, end: s.end_time }))];
  if (!items.length) return null;
  return h('div', { class: 'card', role: 'region', 'aria-label': t('Still booked while you are away') },
    h('h3', {}, t('Still booked while you are away')),
    h('ul', { class: 'list' }, items.map((item) => {
      const reason = h('input', { name: 'reason', value: t('I am away then, sorry.'), 'aria-label': t('Reason for cancelling {time}', { time: span(item.start, item.end) }), maxlength: 500 });
      return h('li', {}, `${span(item.start, item.end)} · ${item.what} `, reason, ' ',
        item.sessionId ? h('button', { type: 'button', class: 'danger', onclick: (e) => act(e.currentTarget, messages, async () => {
          await post(`/sessions/${item.sessionId}/cancel`, { reason: reason.value.trim() || t('The mentor is away then.') });
          messages.ok(t('Session cancelled: the mentee was told, and pays nothing.'));
          await reload();
        }) }, t('Cancel {time}', { time: span(item.start, item.end) })) : badge(t('Session being created'), 'draft'));
    })));
}

export function overridesSection(mentor) {
  const messages = messageArea();
  const listEl = h('div', {});
  let overrides = [];
  const draw = (view) => {
    overrides = view.overrides;
    replace(listEl, overrides.length ? h('ul', { class: 'list' }, overrides.map((o, i) => {
      const hours = o.hours.length ? o.hours.map((x) => `${x.start}–${x.end}`).join(', ') : t('not available');
      return h('li', {}, `${dayText(dateOf(o.date))}: ${hours} `, h('button', { type: 'button',
        'aria-label': t('Remove the override of {day}', { day: dayText(dateOf(o.date)) }),
        onclick: (e) => act(e.currentTarget, messages, () => save(overrides.filter((_, j) => j !== i))) }, t('Remove')));
    })) : empty(t('No date overrides: every date follows your weekly availability.')));
  };
  const save = async (next) => {
    const view = await put(`/mentor-profiles/${mentor.id}/date-overrides`, { overrides: next });
    draw(view);
    const declined = view.declined_requests.length;
    messages.ok(t('Overrides saved.') + (declined ? ` ${tn('{count} pending request outside the new hours declined.',
      '{count} pending requests outside the new hours declined.', declined)}` : ''));
  };
  const form = h('form', { class: 'inline-form', 'aria-label': t('Add a date override') },
    field(t('Date'), { type: 'date', name: 'date', required: true }),
    field(t('From'), { type: 'time', name: 'start', value: '09:00' }),
    field(t('To'), { type: 'time', name: 'end', value: '13:00' }),
    field(t('Not available that day'), { type: 'checkbox', name: 'off' }),
    h('button', { type: 'submit' }, t('Add override')));
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    act(form.querySelector('button'), messages, async () => {
      const hours = form.off.checked ? [] : [{ start: form.start.value, end: form.end.value === '00:00' ? '24:00' : form.end.value }];
      await save([...overrides.filter((o) => o.date !== form.date.value), { date: form.date.value, hours }]);
      form.reset();
    }, form);
  });
  get(`/mentor-profiles/${mentor.id}/date-overrides`).then(draw, (err) => messages.error(err));
  return h('section', { 'aria-labelledby': 'do-h', class: 'card' }, h('h2', { id: 'do-h' }, t('Date overrides')),
    h('p', { class: 'muted' }, t('Other hours for one date (a shorter Friday, a Saturday morning), or none: they replace that weekday\'s '
      + 'windows (in {zone}).', { zone: mentor.timezone })),
    listEl, form, messages.el);
}

export function limitsSection(mentor) {
  const messages = messageArea();
  const form = h('form', { class: 'inline-form', 'aria-label': t('Your session limits') },
    field(t('Sessions a day at most'), { type: 'number', name: 'max_sessions_per_day', min: 1, max: 48, value: shown(mentor.max_sessions_per_day), hint: t('Every listing, group sessions included. Empty: no limit.') }),
    field(t('Sessions a week at most'), { type: 'number', name: 'max_sessions_per_week', min: 1, max: 336, value: shown(mentor.max_sessions_per_week), hint: t('Monday to Sunday. Empty: no limit.') }),
    h('button', { type: 'submit' }, t('Save limits')));
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    act(form.querySelector('button'), messages, async () => {
      await patch(`/mentor-profiles/${mentor.id}`, { max_sessions_per_day: optional(form.max_sessions_per_day.value),
        max_sessions_per_week: optional(form.max_sessions_per_week.value) });
      messages.ok(t('Limits saved.'));
    }, form);
  });
  return h('section', { 'aria-labelledby': 'lim-h', class: 'card' }, h('h2', { id: 'lim-h' }, t('Your limits')),
    h('p', { class: 'muted' }, t('Days and weeks are yours, in {timezone}. A full day or week shows no free slot.', { timezone: mentor.timezone })), form, messages.el);
}

const RULES = [
  ['buffer_before_minutes', t('Buffer before (minutes)'), { min: 0, max: 120 }, t('Kept free before each session: between two sessions, the larger of the two buffers.')],
  ['buffer_after_minutes', t('Buffer after (minutes)'), { min: 0, max: 120 }, t('Kept free after each session.')],
  ['min_notice_minutes', t('Notice (minutes)'), { min: 0, max: 525600 }, t('How long before its start a session can be requested. Empty: the service default.')],
  ['max_days_ahead', t('Horizon (days)'), { min: 1, max: 730 }, t('How far ahead it can be requested. Empty: any time.')],
  ['max_sessions_per_day', t('Of this listing a day'), { min: 1, max: 48 }, t('At most this many of these sessions a day with you. Empty: no limit.')],
  ['max_sessions_per_week', t('Of this listing a week'), { min: 1, max: 336 }, t('The same, a week.')],
  ['max_active_bookings_per_mentor', t('Bookings one mentee may hold'), { min: 1, max: 1000 }, t('Upcoming and pending, with you: one mentee cannot take every slot. Empty: the service default.')],
  ['max_instant_bookings_per_mentor', t('Instant bookings one mentee may hold'), { min: 1, max: 1000 }, t('With instant booking on: upcoming times with you, each time of a series counted; an unconfirmed address holds one. Empty: the service default (26).')],
];

/** A listing's scheduling rules, folded under its card. */
export function listingRules(l) {
  const messages = messageArea();
  const step = field(t('Slots start every'), { tag: 'select', name: 'slot_step_minutes', hint: t('How often a free slot may start.') },
    [['', t('{duration_minutes} minutes (the duration)', { duration_minutes: l.duration_minutes })], ['15', '15 minutes'], ['30', '30 minutes'], ['60', '60 minutes']]);
  step.querySelector('select').value = shown(l.slot_step_minutes);
  const form = h('form', { 'aria-label': t('Scheduling rules of {title}', { title: l.title }) },
    h('div', { class: 'row' }, RULES.map(([name, label, bounds, hint]) => field(label, { type: 'number', name, ...bounds,
      value: name.startsWith('buffer') ? String(l[name]) : shown(l[name]), hint }))),
    step, messages.el, h('button', { type: 'submit' }, t('Save rules of {title}', { title: l.title })));
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    act(form.querySelector('button[type=submit]'), messages, async () => {
      const body = Object.fromEntries(RULES.map(([name]) => [name, name.startsWith('buffer') ? Number(form[name].value || 0) : optional(form[name].value)]));
      body.slot_step_minutes = optional(form.slot_step_minutes.value);
      Object.assign(l, await patch(`/listings/${l.id}`, body));
      messages.ok(t('Rules saved: the free slots follow at once.'));
    }, form);
  });
  return h('details', {}, h('summary', {}, t('Scheduling rules')), form);
}
