// Small DOM and formatting helpers shared by the screens.
import { fieldErrors } from './api.js';
import { formatTag, t, tn } from './words.js';

/** h('button', {onclick, class: 'x'}, 'text', child…): an element; null/false children are skipped. */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key.startsWith('on') && typeof value === 'function') el.addEventListener(key.slice(2), value);
    else if (key === 'class') el.className = value;
    else if (key === 'dataset') Object.assign(el.dataset, value);
    else if (typeof value === 'boolean' || typeof value === 'object') el[key] = value;
    else el.setAttribute(key, value === true ? '' : String(value));
  }
  append(el, children);
  return el;
}

export function append(el, children) {
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

export function replace(el, ...children) {
  el.replaceChildren();
  append(el, children);
  return el;
}

/**
 * The one way a screen draws a part of itself again (a live update, a list loaded anew). What people type
 * lives in forms made once and kept, which a redraw moves, never rebuilds; the focus goes back to the same
 * control in the new part (its `data-key`, else the control of the same kind, name and words); the page
 * keeps its scroll position.
 */
export function redraw(el, ...children) {
  const active = document.activeElement;
  const focused = active && active !== el && el.contains(active) ? identityOf(active) : null;
  const { scrollX, scrollY } = window;
  replace(el, ...children);
  keepConfirmations(el);
  if (focused) {
    const again = [...el.querySelectorAll(focused.selector)].find((node) => identityOf(node).key === focused.key);
    if (again && again !== document.activeElement) again.focus({ preventScroll: true });
  }
  if (window.scrollX !== scrollX || window.scrollY !== scrollY) window.scrollTo(scrollX, scrollY);
}

function identityOf(node) {
  if (node.dataset.key) return { selector: `[data-key="${CSS.escape(node.dataset.key)}"]`, key: node.dataset.key };
  const key = [node.tagName, node.getAttribute('name'), node.getAttribute('aria-label'), node.textContent.trim()].join('|');
  return { selector: node.tagName.toLowerCase(), key };
}

let fieldCount = 0;
/** A labelled form field: label text, then the input's attributes (tag: input|textarea|select). */
export function field(label, attrs = {}, options = null) {
  const id = attrs.id || `f${++fieldCount}`;
  const { tag = 'input', hint, ...rest } = attrs;
  const control = h(tag, { id, name: rest.name || id, ...rest },
    options ? options.map(([value, text]) => h('option', { value }, text)) : null);
  const hintEl = hint ? h('small', { id: `${id}-hint`, class: 'hint' }, hint) : null;
  if (hintEl) control.setAttribute('aria-describedby', hintEl.id);
  return h('div', { class: 'field' }, h('label', { for: id }, label), control, hintEl);
}

/** An error message in words, announced to screen readers. */
/** A mailed link's token, read from the address (which then forgets it: the bar and the history never show it) and
 * kept for this tab, so reloading the page reads it again; '' when the page was opened without one. */
export function linkToken(query, route) {
  const key = `mentorship.link.${route}`;
  const token = query.get('token') || sessionStorage.getItem(key) || '';
  if (token) sessionStorage.setItem(key, token);
  history.replaceState(null, '', `#/${route}`);
  return token;
}

export const errorBox = (message) => h('p', { class: 'error', role: 'alert', tabindex: '-1' }, message);
export const loading = (what = t('Loading…')) => h('p', { class: 'muted loading', 'aria-busy': 'true' }, what);
export const empty = (text) => h('p', { class: 'muted empty' }, text);
export const noLink = () => errorBox(t('This page opens from the link in your mail: open that link again.'));

/** A button that shows or hides `panel` (hidden at first), saying which with `aria-expanded`; `onOpen()` after it
 * opens. The button above the panel, in one block. */
export function disclosure(label, panel, onOpen = () => {}) {
  panel.hidden = true;
  const button = h('button', { type: 'button', 'aria-expanded': 'false', onclick: () => {
    panel.hidden = !panel.hidden;
    button.setAttribute('aria-expanded', String(!panel.hidden));
    if (!panel.hidden) onOpen();
  } }, label);
  return h('div', {}, h('div', { class: 'actions' }, button), panel);
}

/** Shows API errors (or success notes) in one place of a screen. */
export function messageArea() {
  const el = h('div', { class: 'messages', 'aria-live': 'polite' });
  return {
    el,
    error(err) { replace(el, errorBox(err && err.message ? err.message : String(err))); },
    ok(text) { replace(el, h('p', { class: 'ok', role: 'status' }, text)); },
    clear() { replace(el); },
  };
}

// Confirmations open, by the `data-confirm-for` of the place they are in: a redraw that draws that place anew puts
// the panel back in it, so a live update never closes a question someone is reading.
const confirming = new Map();
function keepConfirmations(el) {
  for (const [key, panel] of confirming) {
    if (panel.isConnected) continue;
    const host = el.querySelector(`[data-confirm-for="${CSS.escape(key)}"]`);
    if (host) host.append(panel);
    else if (!document.querySelector(`[data-confirm-for="${CSS.escape(key)}"]`)) confirming.delete(key);
  }
}

/** Asks before an action that pays or cannot be undone: a panel in `at` saying what it does and costs (`says`), a
 * button that acts (`confirm`) and one that keeps things as they are; focus moves to the first. One panel per place;
 * `at`'s `data-confirm-for`, when set, keeps it across redraws. */
export function confirmPanel(at, { label, says, confirm, danger = false, keep = t('Keep it'), messages, onConfirm }) {
  at.querySelector(':scope > .confirm')?.remove();
  const key = at.dataset.confirmFor;
  const close = () => { panel.remove(); if (key) confirming.delete(key); };
  const panel = h('div', { class: 'confirm', role: 'group', 'aria-label': label }, says,
    h('button', { type: 'button', class: danger ? 'danger' : 'primary',
      onclick: (e) => act(e.currentTarget, messages, async () => { await onConfirm(); close(); }) }, confirm),
    h('button', { type: 'button', onclick: close }, keep));
  if (key) confirming.set(key, panel);
  at.append(panel);
  panel.querySelector('button').focus();
  return panel;
}

// Changes a screen holds but has not saved: leaving the screen (another route, a reload, closing the tab) asks first.
const unsavedChecks = new Set();
/** `check()` says what would be lost (a sentence) or nothing; it counts while `el` is on the page. */
export function guardUnsaved(el, check) {
  const guard = () => (el.isConnected ? check() : (unsavedChecks.delete(guard), null));
  unsavedChecks.add(guard);
}
/** What leaving now would lose, in words, or null. */
export function unsavedWarning() {
  for (const check of unsavedChecks) { const said = check(); if (said) return said; }
  return null;
}

/** Run an async action from a button: disabled while it runs, errors shown in `messages`; with `form`, the
 * API's field errors go under their fields (once each), and only those no field of the form takes above. */
export async function act(button, messages, fn, form = null) {
  if (button) button.disabled = true;
  messages.clear();
  if (form) clearFieldErrors(form);
  try {
    return await fn();
  } catch (err) {
    const rest = form ? placeFieldErrors(form, fieldErrors(err && err.body)) : null;
    if (rest === null) messages.error(err);
    else if (rest.length) messages.error(rest.map((f) => f.text).join(' '));
    else messages.error(t('Check the fields marked above.'));
    return undefined;
  } finally {
    if (button && button.isConnected) button.disabled = false;
  }
}

function clearFieldErrors(form) {
  form.querySelectorAll('.field-error').forEach((el) => {
    const control = form.querySelector(`[aria-errormessage="${el.id}"]`);
    if (control) {
      control.removeAttribute('aria-invalid');
      control.removeAttribute('aria-errormessage');
      const described = (control.getAttribute('aria-describedby') || '').split(' ').filter((id) => id && id !== el.id);
      if (described.length) control.setAttribute('aria-describedby', described.join(' ')); else control.removeAttribute('aria-describedby');
    }
    el.remove();
  });
}

/** Each field error under the form's control of that name; the errors no control takes (null: none were fields). */
function placeFieldErrors(form, errors) {
  if (!errors.length) return null;
  const rest = [];
  const placed = new Set();
  for (const error of errors) {
    const control = error.name && form.elements.namedItem(error.name);
    if (!(control instanceof HTMLElement) || placed.has(error.name)) { if (!control) rest.push(error); continue; }
    placed.add(error.name);
    const note = h('small', { class: 'field-error', id: `${control.id}-error` }, error.text);
    control.setAttribute('aria-invalid', 'true');
    control.setAttribute('aria-errormessage', note.id);
    control.setAttribute('aria-describedby', [control.getAttribute('aria-describedby'), note.id].filter(Boolean).join(' '));
    control.closest('.field')?.append(note);
  }
  const first = form.querySelector('[aria-invalid="true"]');
  if (first) first.focus();
  return rest;
}

export const tz = () => Intl.DateTimeFormat().resolvedOptions().timeZone;

/** The browser's IANA zone and language tag, each only when it is one the API takes (else the account has none). */
export function browserPlace() {
  const place = {};
  const zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
  if (zone && zone !== 'Etc/Unknown' && /^[A-Za-z_]+(\/[A-Za-z0-9_+-]+)*$/.test(zone)) place.timezone = zone;
  if (/^[A-Za-z]{2,3}(-[A-Za-z0-9]{1,8})*$/.test(navigator.language || '')) place.locale = navigator.language;
  return place;
}

export function money(cents, currency = 'USD') {
  try {
    return new Intl.NumberFormat(formatTag(), { style: 'currency', currency }).format(cents / 100);
  } catch {
    return `${(cents / 100).toFixed(2)} ${currency}`;
  }
}

// The skill a programme's listings are made with is the service's own word, shown in the reader's words; a mentor's
// own skills as they wrote them.
const SKILL_WORDS = { mentoring: t('mentoring') };
export const skillWord = (skill) => SKILL_WORDS[skill] || skill;

/** A listing's price: "Free" when it costs nothing (a programme's sessions, say). */
export const price = (cents, currency) => (cents ? money(cents, currency) : t('Free'));

const pad = (n) => String(n).padStart(2, '0');
/** The viewer's local time as HH:MM (a time field's value). */
export const hhmm = (date) => `${pad(date.getHours())}:${pad(date.getMinutes())}`;
/** The viewer's local time as their locale writes it: 24-hour ("14:30") or 12-hour ("2:30 PM"), as the mails and
 * the public pages do. */
export const clock = (date, locale = formatTag()) => date.toLocaleTimeString(locale, { timeStyle: 'short' });
/** A day in one way everywhere ("Tue, 23 Feb" in en-GB), its year named when it is not this year's. */
export const dayLabel = (date) => date.toLocaleDateString(formatTag(), { weekday: 'short', day: 'numeric', month: 'short',
  ...(date.getFullYear() === new Date().getFullYear() ? {} : { year: 'numeric' }) });
export const dayKey = (date) => `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}`;
export function when(iso) {
  const date = new Date(iso);
  return `${dayLabel(date)}, ${clock(date)}`;
}
export function span(startIso, endIso) {
  const start = new Date(startIso);
  return `${dayLabel(start)}, ${clock(start)}–${clock(new Date(endIso))}`;
}

export function duration(ms) {
  const total = Math.max(0, Math.round(ms / 1000));
  const days = Math.floor(total / 86400);
  const hours = Math.floor((total % 86400) / 3600);
  const minutes = Math.floor((total % 3600) / 60);
  const seconds = total % 60;
  if (days) return t('{days} d {hours} h', { days, hours });
  if (hours) return t('{hours} h {minutes} min', { hours, minutes });
  return t('{minutes} min {seconds} s', { minutes, seconds: pad(seconds) });
}

export const BOOKING_STATUS = {
  draft: t('Requested'), accepted: t('Accepted'), declined: t('Declined'), cancelled: t('Cancelled'), expired: t('Expired'),
  rescheduled: t('Moved'),
};
// A status's badge is coloured by its kind, never by its words (which are the reader's language's).
const BOOKING_KIND = { draft: 'requested', rescheduled: 'moved' };
/** A request cancelled before any decision was withdrawn (by its mentee, or by the system): no fee was ever at stake. */
export const withdrawn = (b) => b.status === 'cancelled' && (b.cancel_late === null || b.cancel_late === undefined);
/** A booking's status in words: "Withdrawn" for a request cancelled before any decision. */
export const bookingStatus = (b) => (withdrawn(b) ? t('Withdrawn') : BOOKING_STATUS[b.status] || b.status);
export const bookingBadge = (b) => badge(bookingStatus(b), withdrawn(b) ? 'cancelled' : BOOKING_KIND[b.status] || b.status);
export const SESSION_STATUS = {
  scheduled: t('Scheduled'), in_progress: t('In progress'), completed: t('Completed'), cancelled: t('Cancelled'),
  missed: t('Missed'), mentee_no_show: t('Mentee absent'), mentor_no_show: t('Mentor absent'),
};
const SESSION_KIND = { in_progress: 'in-progress', mentee_no_show: 'mentee-absent', mentor_no_show: 'mentor-absent' };
const moved = (s) => s.status === 'cancelled' && s.cancellation && s.cancellation.reason === 'rescheduled';
/** A session's status in words: "Moved" for one a move by agreement replaced (the meeting went to a new session). */
export const sessionStatus = (s) => (moved(s) ? t('Moved') : SESSION_STATUS[s.status] || s.status);
/** A session's badge (`s`: a session, or only its status). */
export const sessionBadge = (s) => badge(sessionStatus(s), moved(s) ? 'moved' : SESSION_KIND[s.status] || s.status);
/** A badge: words, coloured by `kind` (a class of app.css: `accepted`, `cancelled`, `requested`…). */
export const badge = (text, kind = '') => h('span', { class: `badge ${kind}`.trim() }, text);

export function rating(profile) {
  if (!profile || !profile.rating_count) return t('No ratings yet');
  const average = new Intl.NumberFormat(formatTag(), { minimumFractionDigits: 1, maximumFractionDigits: 1 }).format(profile.rating_average);
  return `★ ${average} (${tn('{count} review', '{count} reviews', profile.rating_count)})`;
}

export function heading(text, level = 1) {
  return h(`h${level}`, {}, text);
}
