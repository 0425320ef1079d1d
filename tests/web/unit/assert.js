// The unit tests' checks: each throws an Error that says what it expected and what it found.
// Values are compared as JSON (a Date as its instant, a Map as an object of its entries).
const shown = (value) => JSON.stringify(value, (_key, v) => (v instanceof Map ? Object.fromEntries(v) : v)) ?? String(value);
const prefix = (what) => (what ? `${what}: ` : '');

/** `actual` is `expected` (Object.is). */
export function equal(actual, expected, what = '') {
  if (!Object.is(actual, expected)) throw new Error(`${prefix(what)}expected ${shown(expected)}, got ${shown(actual)}`);
}

/** `actual` has the same value as `expected`, compared as JSON. */
export function same(actual, expected, what = '') {
  if (shown(actual) !== shown(expected)) throw new Error(`${prefix(what)}expected ${shown(expected)}, got ${shown(actual)}`);
}

/** `date` is the local wall-clock time `[year, month (1-12), day, hours, minutes]` in the page's zone. */
export function localTime(date, [year, month, day, hours = 0, minutes = 0], what = '') {
  same([date.getFullYear(), date.getMonth() + 1, date.getDate(), date.getHours(), date.getMinutes()],
    [year, month, day, hours, minutes], what);
}
