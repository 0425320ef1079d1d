// Time and money in the reader's words (ui.js), in the page's zone: Europe/Berlin (UTC+1, UTC+2 in summer), en-GB.
import { bookingStatus, browserPlace, clock, dayKey, dayLabel, duration, hhmm, money, price, sessionStatus, span, tz,
  when } from '../../../web/js/ui.js';
import { equal, same } from './assert.js';

export const tests = {
  'the page reads times in the zone the browser gives it'() {
    equal(tz(), 'Europe/Berlin');
  },
  'hhmm is the reader\'s wall-clock time, two digits each'() {
    equal(hhmm(new Date('2030-01-15T07:05:00Z')), '08:05');
    equal(hhmm(new Date('2030-07-15T22:30:00Z')), '00:30');
  },
  'a time reads as the reader\'s locale writes it: 24-hour in en-GB, 12-hour in en-US'() {
    equal(clock(new Date('2030-01-15T13:05:00Z')), '14:05');
    equal(clock(new Date('2030-01-15T07:05:00Z')), '08:05');
    equal(clock(new Date('2030-01-15T13:05:00Z'), 'en-US').replace(/\s/, ' '), '2:05 PM'); // its space, as ICU has it
  },
  'dayKey is the reader\'s day, not UTC\'s'() {
    equal(dayKey(new Date('2030-07-15T21:59:00Z')), '2030-07-15');
    equal(dayKey(new Date('2030-07-15T22:00:00Z')), '2030-07-16');
  },
  'dayLabel names the year only when it is not this year\'s'() {
    const year = new Date().getFullYear();
    const thisYear = new Date(year, 5, 10, 12);
    const later = new Date(year + 2, 5, 10, 12);
    equal(dayLabel(thisYear).includes(String(year)), false, dayLabel(thisYear));
    equal(dayLabel(later).endsWith(String(year + 2)), true, dayLabel(later));
    equal(dayLabel(new Date(2021, 1, 23, 12)), 'Tue, 23 Feb 2021');
  },
  'when and span are a day and times in the reader\'s zone'() {
    equal(when('2021-02-23T09:00:00Z'), 'Tue, 23 Feb 2021, 10:00');
    equal(span('2021-02-23T09:00:00Z', '2021-02-23T10:30:00Z'), 'Tue, 23 Feb 2021, 10:00–11:30');
  },
  'an hour that spans the spring clock change reads 01:30 to 03:30'() {
    equal(span('2021-03-28T00:30:00Z', '2021-03-28T01:30:00Z'), 'Sun, 28 Mar 2021, 01:30–03:30');
  },
  'a duration is minutes and seconds, then hours and minutes, then days and hours'() {
    equal(duration(0), '0 min 00 s');
    equal(duration(-5000), '0 min 00 s');
    equal(duration(59_499), '0 min 59 s');
    equal(duration(59_500), '1 min 00 s');
    equal(duration(3_600_000), '1 h 0 min');
    equal(duration(((25 * 60) + 1) * 60_000 + 1000), '1 d 1 h');
  },
  'money is the currency in the reader\'s locale, and plain figures for a code Intl does not know'() {
    equal(money(1234, 'EUR'), '€12.34');
    equal(money(1234, 'USD'), 'US$12.34');
    equal(money(1234), 'US$12.34');
    equal(money(1234, 'EURO'), '12.34 EURO');
  },
  'a listing that costs nothing reads "Free"'() {
    equal(price(0, 'USD'), 'Free');
    equal(price(1234, 'EUR'), '€12.34');
  },
  'a request cancelled before any decision reads as withdrawn'() {
    equal(bookingStatus({ status: 'cancelled', cancel_late: null }), 'Withdrawn');
    equal(bookingStatus({ status: 'cancelled' }), 'Withdrawn');
    equal(bookingStatus({ status: 'cancelled', cancel_late: false }), 'Cancelled');
    equal(bookingStatus({ status: 'draft' }), 'Requested');
    equal(bookingStatus({ status: 'something_new' }), 'something_new');
  },
  'a session replaced by a move reads as moved'() {
    equal(sessionStatus({ status: 'cancelled', cancellation: { reason: 'rescheduled' } }), 'Moved');
    equal(sessionStatus({ status: 'cancelled', cancellation: { reason: 'mentor_request' } }), 'Cancelled');
    equal(sessionStatus({ status: 'mentee_no_show' }), 'Mentee absent');
  },
  'a new account takes the browser\'s zone and language'() {
    same(browserPlace(), { timezone: 'Europe/Berlin', locale: 'en-GB' });
  },
};
