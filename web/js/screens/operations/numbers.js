// The platform's numbers over a window of days: sessions created per day, how many booking requests became
// sessions, how long the steps between took, and what was refused, by rule. Tables (a chart may come later).
import { get } from '../../api.js';
import { h, field, replace, messageArea, duration, act, loading } from '../../ui.js';
import { t, tn, formatTag } from '../../words.js';

const seconds = (s) => (s === null || s === undefined ? '—' : duration(s * 1000));
const figure = (label, value) => h('div', {}, h('dt', {}, label), h('dd', {}, value));
const capital = (text) => text.charAt(0).toUpperCase() + text.slice(1);

function show(el, n) {
  // Only the days with sessions: 90 rows of noughts say less than the total and the busy days.
  const busy = n.sessions_per_day.filter((d) => d.sessions > 0).reverse();
  const total = n.sessions_per_day.reduce((sum, d) => sum + d.sessions, 0);
  const rate = n.conversion === null ? '—' : t('{percent} %', {
    percent: new Intl.NumberFormat(formatTag(), { maximumFractionDigits: 1 }).format(Math.round(n.conversion * 1000) / 10) });
  replace(el,
    h('dl', { class: 'figures' }, figure(t('Booking requests'), String(n.bookings_requested)),
      figure(t('Accepted'), String(n.bookings_accepted)), figure(t('Became sessions'), String(n.bookings_became_sessions)),
      figure(t('Conversion'), rate)),
    h('h2', { id: 'nu-steps-h' }, t('Time between steps')),
    h('div', { class: 'table-wrap' }, h('table', { 'aria-labelledby': 'nu-steps-h' },
      h('thead', {}, h('tr', {}, [t('Step'), t('Times taken'), t('Median'), t('90th percentile')].map((text) => h('th', { scope: 'col' }, text)))),
      h('tbody', {}, [[t('Request → accepted'), n.requested_to_accepted], [t('Accepted → session created'), n.accepted_to_scheduled]]
        .map(([label, d]) => h('tr', {}, h('th', { scope: 'row' }, label), h('td', {}, String(d.count)),
          h('td', {}, seconds(d.median_seconds)), h('td', {}, seconds(d.p90_seconds))))))),
    h('h2', { id: 'nu-ref-h' }, t('Refusals by rule')),
    h('div', { class: 'table-wrap' }, h('table', { 'aria-labelledby': 'nu-ref-h' },
      h('thead', {}, h('tr', {}, [t('Rule'), t('Count')].map((text) => h('th', { scope: 'col' }, text)))),
      h('tbody', {}, n.refusals.map((r) => h('tr', {}, h('th', { scope: 'row' }, REFUSALS[r.rule] || capital(r.description)), h('td', {}, String(r.count))))))),
    h('p', { class: 'meta' }, t('Requests refused at the door (an overlap, too little notice, a limit) leave no record: the operators’ /metrics counts them.')),
    h('h2', { id: 'nu-day-h' }, t('Sessions created per day (UTC)')),
    h('p', {}, total ? tn('{total} in {count} day, on {busy} of them; newest first, days with none left out.',
      '{total} in {count} days, on {busy} of them; newest first, days with none left out.', n.days, { total, busy: busy.length })
      : tn('No session was created in this {count} day.', 'No session was created in these {count} days.', n.days)),
    busy.length ? h('div', { class: 'table-wrap' }, h('table', { 'aria-labelledby': 'nu-day-h' },
      h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, t('Day')), h('th', { scope: 'col' }, t('Sessions')))),
      h('tbody', {}, busy.map((d) => h('tr', {}, h('th', { scope: 'row' }, d.day),
        h('td', {}, String(d.sessions))))))) : null);
}

// What each rule's count is of, in the reader's words (the API's description is English, for integrators).
const REFUSALS = {
  booking_declined: t('Booking requests the mentor declined'),
  booking_expired: t('Booking requests left unanswered until they expired'),
  sign_in_failed: t('Sign-ins refused (a wrong password, or a disabled account)'),
  locked_out: t('Sign-ins refused by the lock-out after repeated failures'),
  refresh_reused: t('Refresh tokens presented again after use (their sign-in ended)'),
};

export function numbersScreen(main) {
  const messages = messageArea();
  const out = h('div', {}, loading());
  const form = h('form', { class: 'inline-form', 'aria-label': t('Window') },
    field(t('Over the last'), { tag: 'select', name: 'days' },
      ['7', '30', '90'].map((days) => [days, tn('{count} day', '{count} days', Number(days))])),
    h('button', { type: 'submit' }, t('Show')));
  form.days.value = '30';
  const load = () => act(form.querySelector('button'), messages, async () => {
    show(out, await get(`/admin/numbers?days=${form.days.value}`));
  });
  form.addEventListener('submit', (event) => { event.preventDefault(); load(); });
  main.append(form, messages.el, out);
  load();
}
