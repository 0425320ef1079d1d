// The rules in force, as the API states them (GET /bookings/policy): the API decides; the page only
// tells the user beforehand what the API will do. Screens that show a rule call loadPolicy() first.
import { get } from './api.js';
import { h, money } from './ui.js';
import { t, tn } from './words.js';

export const policy = {
  start_early_minutes: 15, cancellation_window_hours: 24, cancellation_fee_percent: 50, max_reschedules_per_booking: 2,
  reschedule_request_ttl_hours: 48, no_show_grace_minutes: 10, no_show_dispute_hours: 48,
};
let loaded = null;

export function loadPolicy() {
  loaded = loaded || get('/bookings/policy').then((rules) => Object.assign(policy, rules))
    .catch((err) => { loaded = null; throw err; });
  return loaded;
}

export function canStartAt(session, now = Date.now()) {
  const opens = new Date(session.start_time).getTime() - policy.start_early_minutes * 60000;
  return session.status === 'scheduled' && now >= opens && now < new Date(session.end_time).getTime();
}

/** What cancelling now costs: {late, feeCents, creditForfeited}. Mentors never pay. */
export function cancellationCost({ startTime, priceCents, role, withCredit, now = Date.now() }) {
  const late = role === 'mentee' && new Date(startTime).getTime() - now < policy.cancellation_window_hours * 3600000;
  if (!late) return { late: false, feeCents: 0, creditForfeited: false };
  if (withCredit) return { late: true, feeCents: 0, creditForfeited: true };
  return { late: true, feeCents: lateFee(priceCents), creditForfeited: false };
}

const lateFee = (priceCents) => Math.floor((priceCents * policy.cancellation_fee_percent) / 100);
const windowText = () => tn('{count} hour', '{count} hours', policy.cancellation_window_hours);

/** The cancellation rule in words, shown before a request is sent or a seat taken (`what`: 'request' or 'seat'). */
export function policyNote(priceCents, currency, what = 'request') {
  if (!priceCents) return null; // free: nothing to pay, so no fee to tell of
  const words = { hours: windowText(), percent: policy.cancellation_fee_percent, fee: money(lateFee(priceCents), currency) };
  return h('p', { class: 'policy' }, h('strong', {}, t('Cancellation policy:')), ' ', what === 'seat'
    ? t('leaving the session is free until {hours} before its start; leaving less than {hours} before the start costs {percent}% of the price ({fee}).', words)
    : t('cancelling is free until {hours} before the start; cancelling less than {hours} before the start costs {percent}% of the price ({fee}), or the bundle credit it was paid with. Withdrawing a request, or a request the mentor declines or that expires, costs nothing and gives a credit back.', words));
}

export function costText(cost, priceCents, currency) {
  const hours = windowText();
  if (!cost.late) return t('Cancelling now is free: it is more than {hours} before the start, or you are the mentor.', { hours });
  if (cost.creditForfeited) return t('This is a late cancellation (less than {hours} before the start): the bundle credit you booked with is forfeited.', { hours });
  return t('This is a late cancellation (less than {hours} before the start): a fee of {fee} ({percent}% of {price}) will be charged.',
    { hours, fee: money(cost.feeCents, currency), percent: policy.cancellation_fee_percent, price: money(priceCents, currency) });
}

/** What leaving a group seat would cost once taken now: inside the late window, the fee at once. */
export function joinCostText(cost, currency) {
  return cost.late
    ? t('It starts in less than {hours}: leaving after joining costs {fee} ({percent}% of the price).',
      { hours: windowText(), fee: money(cost.feeCents, currency), percent: policy.cancellation_fee_percent })
    : t('Leaving is free until {hours} before the start.', { hours: windowText() });
}

/** What cancelling several times at once costs: the late ones' fees added up (`feeCents`), or none. */
export function lateFeesText(feeCents, currency) {
  return feeCents
    ? t('Less than {hours} before its start, a cancellation costs {percent}% of the price: {fee} in all.',
      { hours: windowText(), percent: policy.cancellation_fee_percent, fee: money(feeCents, currency) })
    : t('No fee: each is more than {hours} away.', { hours: windowText() });
}

export const feeNote = (cost, priceCents, currency) => (priceCents
  ? h('p', { class: cost.late ? 'warning fee' : 'fee' }, costText(cost, priceCents, currency)) : null);
