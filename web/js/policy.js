// The service's documented policy (README, "Configuration"): the defaults of START_EARLY_MINUTES,
// CANCELLATION_WINDOW_HOURS and CANCELLATION_FEE_PERCENT. The API decides; the page only tells
// the user beforehand what the API will do.
import { h, money } from './ui.js';

export const START_EARLY_MINUTES = 15;
export const CANCELLATION_WINDOW_HOURS = 24;
export const CANCELLATION_FEE_PERCENT = 50;

export function canStartAt(session, now = Date.now()) {
  const opens = new Date(session.start_time).getTime() - START_EARLY_MINUTES * 60000;
  return session.status === 'scheduled' && now >= opens && now < new Date(session.end_time).getTime();
}

/** What cancelling now costs: {late, feeCents, creditForfeited}. Mentors never pay. */
export function cancellationCost({ startTime, priceCents, role, withCredit, now = Date.now() }) {
  const late = role === 'mentee' && new Date(startTime).getTime() - now < CANCELLATION_WINDOW_HOURS * 3600000;
  if (!late) return { late: false, feeCents: 0, creditForfeited: false };
  if (withCredit) return { late: true, feeCents: 0, creditForfeited: true };
  return { late: true, feeCents: Math.floor((priceCents * CANCELLATION_FEE_PERCENT) / 100), creditForfeited: false };
}

export function costText(cost, priceCents, currency) {
  if (!cost.late) return 'Cancelling now is free: it is more than 24 hours before the start, or you are the mentor.';
  if (cost.creditForfeited) return 'This is a late cancellation (less than 24 hours before the start): the bundle credit you booked with is forfeited.';
  return `This is a late cancellation (less than 24 hours before the start): a fee of ${money(cost.feeCents, currency)} `
    + `(${CANCELLATION_FEE_PERCENT}% of ${money(priceCents, currency)}) will be charged.`;
}

export const feeNote = (cost, priceCents, currency) => h('p', { class: cost.late ? 'warning fee' : 'fee' }, costText(cost, priceCents, currency));
