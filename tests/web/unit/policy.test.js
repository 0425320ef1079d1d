// What the page says a cancellation or a start costs before the API is asked (policy.js), with the API's defaults
// (a session opens 15 minutes early; cancelling less than 24 hours ahead costs a mentee 50% of the price).
import { canStartAt, cancellationCost, costText, feeNote, joinCostText, lateFeesText, policy, policyNote } from '../../../web/js/policy.js';
import { equal, same } from './assert.js';

const START = Date.parse('2030-01-10T10:00:00Z');
const HOUR = 3_600_000;
const session = { status: 'scheduled', start_time: '2030-01-10T10:00:00Z', end_time: '2030-01-10T11:00:00Z' };
const cost = (hoursBefore, changes = {}) => cancellationCost({ startTime: session.start_time, priceCents: 5000,
  role: 'mentee', withCredit: false, now: START - hoursBefore * HOUR, ...changes });

/** Runs `check` with the policy's numbers changed as the API may state them, then puts them back. */
function withPolicy(changes, check) {
  const before = { ...policy };
  Object.assign(policy, changes);
  try { check(); } finally { Object.assign(policy, before); }
}

export const tests = {
  'a free listing (a programme\'s sessions) tells of no price and no fee'() {
    equal(policyNote(0, 'USD'), null, 'no cancellation policy before booking');
    equal(feeNote(cost(2, { priceCents: 0 }), 0, 'USD'), null, 'no fee note when cancelling late');
    equal(policyNote(5000, 'USD').textContent.startsWith('Cancellation policy: '), true, 'a priced one tells it');
  },
  'a session can be started from 15 minutes before its start until its end'() {
    equal(canStartAt(session, START - 15 * 60_000 - 1), false, 'a moment too early');
    equal(canStartAt(session, START - 15 * 60_000), true, 'as it opens');
    equal(canStartAt(session, START + HOUR - 1), true, 'just before the end');
    equal(canStartAt(session, START + HOUR), false, 'at the end');
  },
  'only a scheduled session can be started'() {
    equal(canStartAt({ ...session, status: 'in_progress' }, START), false);
    equal(canStartAt({ ...session, status: 'cancelled' }, START), false);
  },
  'cancelling 24 hours ahead or more is free'() {
    same(cost(24), { late: false, feeCents: 0, creditForfeited: false });
    same(cost(100), { late: false, feeCents: 0, creditForfeited: false });
  },
  'a mentee cancelling later pays half the price, rounded down'() {
    same(cost(23.99), { late: true, feeCents: 2500, creditForfeited: false });
    same(cost(1, { priceCents: 999 }), { late: true, feeCents: 499, creditForfeited: false });
  },
  'a late mentee who paid with a credit forfeits it and pays no fee'() {
    same(cost(1, { withCredit: true }), { late: true, feeCents: 0, creditForfeited: true });
  },
  'a mentor never pays, however late'() {
    same(cost(0.1, { role: 'mentor' }), { late: false, feeCents: 0, creditForfeited: false });
  },
  'the cost is said in words, with the price and the fee'() {
    equal(costText(cost(1), 5000, 'EUR'), 'This is a late cancellation (less than 24 hours before the start): a fee of '
      + '€25.00 (50% of €50.00) will be charged.');
    equal(costText(cost(1, { withCredit: true }), 5000, 'EUR'), 'This is a late cancellation (less than 24 hours '
      + 'before the start): the bundle credit you booked with is forfeited.');
    equal(costText(cost(48), 5000, 'EUR'), 'Cancelling now is free: it is more than 24 hours before the start, or you '
      + 'are the mentor.');
  },
  'the words follow the rules the API states'() {
    withPolicy({ cancellation_window_hours: 1, cancellation_fee_percent: 30 }, () => {
      same(cost(0.5), { late: true, feeCents: 1500, creditForfeited: false });
      equal(cost(2).late, false);
      equal(joinCostText(cost(0.5), 'GBP'), 'It starts in less than 1 hour: leaving after joining costs £15.00 '
        + '(30% of the price).');
    });
    equal(policy.cancellation_window_hours, 24, 'the policy is put back');
  },
  'several cancellations at once say their fees in all, or that there is none'() {
    equal(lateFeesText(0, 'EUR'), 'No fee: each is more than 24 hours away.');
    equal(lateFeesText(7500, 'EUR'), 'Less than 24 hours before its start, a cancellation costs 50% of the price: '
      + '€75.00 in all.');
    equal(joinCostText(cost(48), 'EUR'), 'Leaving is free until 24 hours before the start.');
  },
};
