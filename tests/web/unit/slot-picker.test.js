// The slot picker's calendar (slot-picker.js) in the reader's days, in Europe/Berlin: clocks go forward on
// 31 March 2030 (a day of 23 hours) and back on 27 October 2030 (25 hours).
import { addDays, daysFrom, mondayLead, paging, shownRange, slotsByDay, weekOf } from '../../../web/js/slot-picker.js';
import { equal, localTime, same } from './assert.js';

const day = (month, date) => new Date(2030, month - 1, date);

export const tests = {
  'a day is one day across the clock changes'() {
    equal(daysFrom(day(3, 30), day(3, 31)), 1);
    equal(daysFrom(day(3, 31), day(4, 1)), 1, 'the 23-hour day');
    equal(daysFrom(day(10, 27), day(10, 28)), 1, 'the 25-hour day');
    equal(daysFrom(new Date(2030, 2, 30, 23, 59), new Date(2030, 3, 1, 0, 1)), 2);
    equal(daysFrom(day(1, 10), day(1, 3)), -7);
  },
  'moving by days lands on local midnight, whatever the clocks do'() {
    localTime(addDays(new Date(2030, 2, 30, 15), 1), [2030, 3, 31]);
    localTime(addDays(day(3, 31), 1), [2030, 4, 1]);
    localTime(addDays(day(10, 26), 2), [2030, 10, 28]);
    localTime(addDays(day(1, 30), 2), [2030, 2, 1]);
  },
  'weeks are counted from today, not from a Monday'() {
    const today = day(1, 2); // a Wednesday
    same(weekOf(today, new Date(2030, 0, 2, 18)), today);
    same(weekOf(today, day(1, 8)), today);
    same(weekOf(today, day(1, 9)), day(1, 9));
    same(weekOf(today, day(4, 3)), day(4, 3), 'thirteen weeks on, past the spring change');
  },
  'the week shown stops at the horizon'() {
    const today = day(1, 2);
    const lastDay = addDays(today, 10);
    same(shownRange({ mode: 'week', weekFrom: today, today, lastDay }), [today, day(1, 9)]);
    same(shownRange({ mode: 'week', weekFrom: day(1, 9), today, lastDay }), [day(1, 9), day(1, 12)]);
  },
  'the month shown starts no earlier than today and ends at its last day or the horizon'() {
    const today = day(1, 20);
    const lastDay = addDays(today, 60); // 21 March
    const month = (m) => shownRange({ mode: 'month', monthFrom: day(m, 1), today, lastDay });
    same(month(1), [today, day(2, 1)]);
    same(month(2), [day(2, 1), day(3, 1)]);
    same(month(3), [day(3, 1), day(3, 21)]);
  },
  'there is no earlier page before today nor a later one past the horizon'() {
    const today = day(1, 20);
    const lastDay = addDays(today, 60);
    const week = (weekFrom) => paging({ mode: 'week', weekFrom, today, lastDay });
    same(week(today), { earlier: false, later: true });
    same(week(addDays(today, 56)), { earlier: true, later: false });
    same(week(addDays(today, 49)), { earlier: true, later: true }, 'the last week that has a next one');
    const month = (m, end = lastDay) => paging({ mode: 'month', monthFrom: day(m, 1), today, lastDay: end });
    same(month(1), { earlier: false, later: true });
    same(month(3), { earlier: true, later: false });
    same(month(3, day(4, 1)), { earlier: true, later: false }, 'a horizon ending with March has no April');
    same(month(3, day(4, 2)), { earlier: true, later: true });
  },
  'slots are grouped by the reader\'s day of their start, in their order'() {
    const slots = [{ start_time: '2030-07-15T21:30:00Z' }, { start_time: '2030-07-15T22:30:00Z' },
      { start_time: '2030-07-16T08:00:00Z' }];
    same(slotsByDay(slots), new Map([['2030-07-15', [slots[0]]], ['2030-07-16', [slots[1], slots[2]]]]));
    equal(slotsByDay([]).size, 0);
  },
  'a month\'s grid starts its weeks on Monday'() {
    equal(mondayLead(day(7, 1)), 0, '1 July 2030 is a Monday');
    equal(mondayLead(day(1, 1)), 1, '1 January 2030 is a Tuesday');
    equal(mondayLead(day(9, 1)), 6, '1 September 2030 is a Sunday');
  },
};
