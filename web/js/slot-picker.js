// A picker of free slots over a listing's whole horizon: a week at a time (its seven days as tabs, the chosen day's
// slots below them) or a month whose days with free time are marked, and a jump to the first free time. The days
// and the slots are one Tab stop each, moved through with the arrow keys, so the request form is one Tab away from
// the chosen slot; a redraw (a live update, another week) keeps the focus where it was and the chosen day shown.
// Each slot says what it means to the viewer: a time they already meet someone (not offered), a time others asked
// for (how many, never who).
import { h, replace, redraw, errorBox, loading, clock, dayLabel, dayKey } from './ui.js';
import { formatTag, t, tn } from './words.js';

// The picker's calendar, in the viewer's own days: a day is a local midnight, so a day of 23 or 25 hours (a change of
// clocks) is still one day.
/** `date`'s local day moved by `n` days, at midnight. */
export const addDays = (date, n) => new Date(date.getFullYear(), date.getMonth(), date.getDate() + n);
export const midnight = (date) => new Date(date.getFullYear(), date.getMonth(), date.getDate());
/** Whole days from `from`'s day to `to`'s. */
export const daysFrom = (from, to) => Math.round((midnight(to) - midnight(from)) / 86400000);
/** The first day of the picker's week holding `day`: weeks are counted from `today`, not from a Monday. */
export const weekOf = (today, day) => addDays(today, 7 * Math.floor(daysFrom(today, day) / 7));
/** The first of the month after `month`'s. */
const nextMonth = (month) => new Date(month.getFullYear(), month.getMonth() + 1, 1);
/** The days whose slots are read, [from, to): the week shown, or the month shown from today; both end at `lastDay`
 * (the first day past the horizon). */
export function shownRange({ mode, weekFrom, monthFrom, today, lastDay }) {
  if (mode === 'week') return [weekFrom, addDays(weekFrom, Math.min(7, daysFrom(weekFrom, lastDay)))];
  const next = nextMonth(monthFrom);
  return [monthFrom < today ? today : monthFrom, next < lastDay ? next : lastDay];
}
/** Whether there is an earlier and a later week (or month) to move to, within today and the horizon. */
export function paging({ mode, weekFrom, monthFrom, today, lastDay }) {
  if (mode === 'week') return { earlier: weekFrom > today, later: addDays(weekFrom, 7) < lastDay };
  return { earlier: monthFrom > new Date(today.getFullYear(), today.getMonth(), 1), later: nextMonth(monthFrom) < lastDay };
}
/** Slots grouped by the viewer's day of their start (`dayKey`), each day's in the order given. */
export function slotsByDay(slots) {
  const found = new Map();
  for (const slot of slots) {
    const key = dayKey(new Date(slot.start_time));
    if (!found.has(key)) found.set(key, []);
    found.get(key).push(slot);
  }
  return found;
}
/** The empty cells before a month's first day in a grid of weeks that start on Monday. */
export const mondayLead = (first) => (first.getDay() + 6) % 7;

const shortDay = (date) => date.toLocaleDateString(formatTag(), { day: 'numeric', month: 'short' });
const longDay = (date) => date.toLocaleDateString(formatTag(), { weekday: 'long', day: 'numeric', month: 'long', year: 'numeric' });
const monthName = (date) => date.toLocaleDateString(formatTag(), { month: 'long', year: 'numeric' });

/** Arrow keys, Home and End move the focus among `group`'s items (those matching `selector`); `onMove(item)`. */
function roving(group, selector, onMove = () => {}) {
  group.addEventListener('keydown', (event) => {
    const items = [...group.querySelectorAll(selector)];
    const at = items.indexOf(document.activeElement);
    const to = { ArrowRight: at + 1, ArrowDown: at + 1, ArrowLeft: at - 1, ArrowUp: at - 1, Home: 0, End: items.length - 1 }[event.key];
    if (at < 0 || to === undefined) return;
    event.preventDefault();
    const next = items[(to + items.length) % items.length];
    items.forEach((item) => { item.tabIndex = item === next ? 0 : -1; });
    next.focus();
    onMove(next);
  });
}

/**
 * `fetchSlots(from, to)` reads the free slots of a range (at most 31 days); `firstFree()` the first free slot or
 * null; `horizonDays` how far ahead slots may be. `onChoose(slot | null)` when a slot is chosen (or the choice
 * cleared); `isRequested(slot)` marks slots the viewer already asked for; `disabled` for the listing's own mentor;
 * `initial` a start time to open at and choose (a public booking page's link), if still free.
 */
export function slotPicker({ onChoose, isRequested, fetchSlots, firstFree, horizonDays = 60, disabled = false, initial }) {
  const el = h('div', { class: 'picker' });
  const today = midnight(new Date());
  const lastDay = addDays(today, horizonDays); // the first day past the horizon
  let mode = 'week';
  let weekFrom = today;
  let monthFrom = new Date(today.getFullYear(), today.getMonth(), 1);
  let slots = [];
  let state = 'loading'; // or 'shown', or an error's words
  let note = null; // what the last jump found, in words
  let shownDay = null;
  let selected = null;
  let asked = 0; // the latest read: an older answer never draws over a newer one
  let focusDay = null; // a day whose tab takes the focus once drawn (after a jump)
  let wanted = initial && new Date(initial);
  if (wanted && !(wanted >= today && wanted < lastDay)) wanted = null;
  if (wanted) weekFrom = weekOf(today, wanted);

  const range = () => shownRange({ mode, weekFrom, monthFrom, today, lastDay });

  async function load() {
    const mine = ++asked;
    const [from, to] = range();
    try {
      const found = to > from ? await fetchSlots(from, to) : [];
      if (mine !== asked) return;
      slots = found;
      state = 'shown';
      const chosen = selected && new Date(selected.start_time);
      const gone = chosen && chosen >= from && chosen < to && !slots.some((s) => s.start_time === selected.start_time && !s.viewer_busy);
      if (gone) choose(null); // the chosen slot is no longer free
      if (wanted) {
        const slot = slots.find((s) => new Date(s.start_time).getTime() === wanted.getTime() && !s.viewer_busy);
        note = slot ? null : t('The time you chose is no longer free: choose another.');
        wanted = null;
        if (slot) { shownDay = dayKey(new Date(slot.start_time)); selected = slot; render(); choose(slot); return; }
      }
    } catch (err) {
      if (mine !== asked) return;
      state = err.message;
    }
    render();
  }

  const byDay = () => slotsByDay(slots);

  function nav() {
    const [from] = range();
    const week = mode === 'week';
    const { earlier, later } = paging({ mode, weekFrom, monthFrom, today, lastDay });
    const last = addDays(weekFrom, Math.min(7, daysFrom(weekFrom, lastDay)) - 1);
    const label = week ? `${shortDay(from)} – ${shortDay(last)} ${last.getFullYear()}` : monthName(monthFrom);
    return h('div', { class: 'picker-nav' },
      h('button', { type: 'button', dataset: { key: 'earlier' }, disabled: !earlier, onclick: () => move(-1) }, week ? t('Previous week') : t('Previous month')),
      h('strong', { class: 'range', 'aria-live': 'polite' }, label),
      h('button', { type: 'button', dataset: { key: 'later' }, disabled: !later, onclick: () => move(1) }, week ? t('Next week') : t('Next month')),
      h('div', { class: 'jumps' },
        h('button', { type: 'button', dataset: { key: 'mode' }, 'aria-pressed': String(!week), onclick: toggle }, t('Month view')),
        h('button', { type: 'button', dataset: { key: 'first' }, onclick: jumpToFirst }, t('First free time'))),
      note ? h('p', { class: 'muted', role: 'status' }, note) : null);
  }

  function slotButton(slot, label, tabStop) {
    const start = new Date(slot.start_time);
    const requested = isRequested(slot);
    const others = slot.requested_by_others || 0;
    return h('button', {
      type: 'button', class: `slot${requested ? ' requested' : ''}${slot.viewer_busy ? ' busy' : ''}`,
      'aria-pressed': String(selected?.start_time === slot.start_time), tabindex: tabStop ? '0' : '-1',
      dataset: { start: slot.start_time, key: `slot-${slot.start_time}` }, disabled: disabled || slot.viewer_busy,
      onclick: () => choose(slot),
    }, h('span', { class: 'time' }, `${clock(start)}–${clock(new Date(slot.end_time))}`),
    requested ? h('span', { class: 'tag' }, ` ${t('Requested')}`) : null,
    slot.viewer_busy ? h('span', { class: 'tag' }, ` · ${t('you have a session then')}`) : null,
    !requested && others ? h('span', { class: 'tag' }, ` · ${others === 1 ? t('asked for by someone else') : tn('asked for by {count} other', 'asked for by {count} others', others)}`) : null,
    h('span', { class: 'sr-only' }, `, ${label}`));
  }

  function weekView() {
    const days = [];
    for (let day = weekFrom; day < lastDay && days.length < 7; day = addDays(day, 1)) days.push(day);
    const free = byDay();
    const keys = days.map(dayKey);
    if (!keys.includes(shownDay)) {
      const chosenDay = selected && dayKey(new Date(selected.start_time));
      shownDay = keys.includes(chosenDay) ? chosenDay : keys.find((k) => free.has(k)) || keys[0];
    }
    const tabs = h('div', { role: 'tablist', 'aria-label': t('Days'), class: 'day-tabs' }, days.map((day) => {
      const key = dayKey(day);
      const count = (free.get(key) || []).length;
      const shown = key === shownDay;
      return h('button', {
        type: 'button', role: 'tab', id: `day-${key}`, 'aria-selected': String(shown), 'aria-controls': 'day-slots',
        tabindex: shown ? '0' : '-1', class: count ? '' : 'none', dataset: { key: `day-${key}` }, onclick: () => showDay(key),
      }, h('span', { class: 'wd' }, day.toLocaleDateString(formatTag(), { weekday: 'short' })), ' ', h('span', { class: 'dm' }, shortDay(day)),
      h('span', { class: 'sr-only' }, ' · '), h('span', { class: 'count' }, count ? tn('{count} free', '{count} free', count) : t('none')));
    }));
    const daySlots = free.get(shownDay) || [];
    const label = dayLabel(days[keys.indexOf(shownDay)]);
    const stop = daySlots.find((s) => s.start_time === selected?.start_time && !s.viewer_busy) || daySlots.find((s) => !s.viewer_busy);
    const panel = h('div', { role: 'tabpanel', id: 'day-slots', 'aria-labelledby': `day-${shownDay}`, class: 'slot-row' },
      daySlots.length ? daySlots.map((slot) => slotButton(slot, label, slot === stop))
        : h('p', { class: 'muted empty' }, free.size ? t('No free time on this day.') : t('No free time this week.')));
    roving(tabs, '[role=tab]', (tab) => showDay(tab.dataset.key.slice(4)));
    roving(panel, 'button.slot:not([disabled])');
    return [tabs, panel];
  }

  function monthView() {
    const free = byDay();
    const first = monthFrom;
    const days = new Date(first.getFullYear(), first.getMonth() + 1, 0).getDate();
    const lead = mondayLead(first);
    const names = [...Array(7)].map((_, i) => addDays(first, i - lead).toLocaleDateString(formatTag(), { weekday: 'narrow' }));
    const cells = [];
    for (let i = 0; i < lead; i += 1) cells.push(h('span', { class: 'cell' }));
    for (let d = 1; d <= days; d += 1) {
      const day = new Date(first.getFullYear(), first.getMonth(), d);
      const count = (free.get(dayKey(day)) || []).length;
      cells.push(count
        ? h('button', { type: 'button', class: 'cell free', dataset: { key: `month-${dayKey(day)}` }, onclick: () => openDay(day) },
          String(d), h('span', { class: 'sr-only' }, ` ${longDay(day)}, ${tn('{count} free', '{count} free', count)}`))
        : h('span', { class: 'cell' }, String(d), h('span', { class: 'sr-only' }, ` ${longDay(day)}, ${t('no free time')}`)));
    }
    return h('div', { class: 'month', role: 'group', 'aria-label': t('Days of {month} with free time', { month: monthName(first) }) },
      names.map((name) => h('span', { class: 'cell head', 'aria-hidden': 'true' }, name)), cells,
      free.size ? null : h('p', { class: 'muted empty' }, t('No free time this month.')));
  }

  function render() {
    const body = state === 'loading' ? loading(t('Loading free slots…'))
      : state !== 'shown' ? errorBox(state) : mode === 'week' ? weekView() : monthView();
    redraw(el, nav(), body);
    const tab = focusDay && el.querySelector(`#day-${focusDay}`);
    if (tab) { tab.focus(); focusDay = null; }
  }

  function move(step) {
    note = null;
    if (mode === 'week') weekFrom = addDays(weekFrom, 7 * step);
    else monthFrom = new Date(monthFrom.getFullYear(), monthFrom.getMonth() + step, 1);
    shownDay = null;
    state = 'loading';
    render();
    load();
  }

  function toggle() {
    note = null;
    mode = mode === 'week' ? 'month' : 'week';
    if (mode === 'month') monthFrom = new Date(weekFrom.getFullYear(), weekFrom.getMonth(), 1);
    state = 'loading';
    render();
    load();
  }

  /** The week of `day` (weeks counted from today), with `day` shown and its tab focused. */
  function openDay(day) {
    mode = 'week';
    weekFrom = weekOf(today, day);
    shownDay = dayKey(day);
    focusDay = shownDay;
    state = 'loading';
    render();
    return load();
  }

  async function jumpToFirst() {
    note = null;
    try {
      const found = await firstFree();
      if (found) { await openDay(new Date(found.start_time)); return; }
      note = t('No free time within the booking horizon.');
    } catch (err) { note = err.message; }
    render();
  }

  function showDay(key) {
    shownDay = key;
    render();
  }

  function choose(slot) {
    selected = slot;
    const buttons = [...el.querySelectorAll('button.slot')];
    const chosen = buttons.find((b) => b.dataset.start === slot?.start_time);
    buttons.forEach((b) => {
      b.setAttribute('aria-pressed', String(b === chosen));
      if (chosen) b.tabIndex = b === chosen ? 0 : -1; // the slot group's Tab stop is the chosen slot
    });
    onChoose(slot);
  }

  replace(el, loading(t('Loading free slots…')));
  return {
    el,
    get selected() { return selected; },
    /** Reads the shown range again (a live update): the chosen day stays shown, a chosen slot no longer free is let go. */
    reload: load,
    redraw: render,
    clear() { choose(null); },
    /** The first `count` slots shown that the viewer can take, earliest first. */
    next(count) { return slots.filter((s) => !s.viewer_busy && !isRequested(s)).slice(0, count); },
    /** Choose a slot of the shown range, showing its day. */
    pick(slot) { shownDay = dayKey(new Date(slot.start_time)); selected = slot; render(); choose(slot); },
  };
}
