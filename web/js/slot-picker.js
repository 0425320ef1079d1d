// A compact day-by-day picker of free slots: a row of days (tabs) and the chosen day's slots. The days
// and the slots are one Tab stop each, moved through with the arrow keys, so the request form is one Tab
// away from the chosen slot; a redraw (a live update) keeps the focus where it was.
import { h, replace, empty, hhmm, dayLabel, dayKey, redraw } from './ui.js';

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
 * `onChoose(slot | null)` when a slot is chosen (or the choice cleared); `isRequested(slot)` marks slots
 * the viewer already asked for; `disabled` for the listing's own mentor.
 */
export function slotPicker({ onChoose, isRequested, disabled = false }) {
  const el = h('div', { class: 'picker' });
  let slots = [];
  let shownDay = null;
  let selected = null;

  const days = () => {
    const found = new Map();
    for (const slot of slots) {
      const start = new Date(slot.start_time);
      const key = dayKey(start);
      if (!found.has(key)) found.set(key, { key, label: dayLabel(start), slots: [] });
      found.get(key).slots.push(slot);
    }
    return found;
  };

  function dayTab(day) {
    const shown = day.key === shownDay;
    return h('button', {
      type: 'button', role: 'tab', id: `day-${day.key}`, 'aria-selected': String(shown), 'aria-controls': 'day-slots',
      tabindex: shown ? '0' : '-1', dataset: { key: `day-${day.key}` }, onclick: () => showDay(day.key),
    }, day.label, h('span', { class: 'count' }, ` · ${day.slots.length} free`));
  }

  function slotButton(slot, day, tabStop) {
    const start = new Date(slot.start_time);
    const requested = isRequested(slot);
    return h('button', {
      type: 'button', class: `slot${requested ? ' requested' : ''}`, 'aria-pressed': String(selected?.start_time === slot.start_time),
      tabindex: tabStop ? '0' : '-1', dataset: { start: slot.start_time, key: `slot-${slot.start_time}` }, disabled,
      onclick: () => choose(slot),
    }, `${hhmm(start)}–${hhmm(new Date(slot.end_time))}`, requested ? h('span', { class: 'tag' }, ' Requested') : null,
    h('span', { class: 'sr-only' }, `, ${day.label}`));
  }

  function render() {
    const all = days();
    if (!all.size) { replace(el, empty('No free slot in the next days.')); return; }
    if (!all.has(shownDay)) shownDay = selected && all.has(dayKey(new Date(selected.start_time))) ? dayKey(new Date(selected.start_time)) : all.keys().next().value;
    const day = all.get(shownDay);
    const stop = day.slots.find((s) => s.start_time === selected?.start_time) || day.slots[0];
    const tabs = h('div', { role: 'tablist', 'aria-label': 'Days', class: 'day-tabs' }, [...all.values()].map(dayTab));
    const panel = h('div', { role: 'tabpanel', id: 'day-slots', 'aria-labelledby': `day-${shownDay}`, class: 'slot-row' },
      day.slots.map((slot) => slotButton(slot, day, slot === stop)));
    roving(tabs, '[role=tab]', (tab) => showDay(tab.dataset.key.slice(4)));
    roving(panel, 'button.slot');
    redraw(el, tabs, panel);
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

  return {
    el,
    get selected() { return selected; },
    /** New free slots: a chosen slot no longer free is let go. */
    set(next) {
      slots = next;
      if (selected && !slots.some((s) => s.start_time === selected.start_time)) choose(null);
      render();
    },
    redraw: render,
    clear() { choose(null); },
    /** The first `count` free slots the picker holds, earliest first. */
    next(count) { return slots.slice(0, count); },
    /** Choose a slot, showing its day. */
    pick(slot) { shownDay = dayKey(new Date(slot.start_time)); selected = slot; render(); choose(slot); },
  };
}
