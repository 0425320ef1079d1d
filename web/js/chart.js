// Charts: bars by week or month (stacked by kind), and a distribution. uPlot (web/vendor/uplot/) and the charts'
// styles are fetched on the first chart drawn, so a screen without one never loads them. Every chart comes with
// its numbers in words: a one-line summary, and a table of the same data under "Show the numbers as a table"; the
// canvas is an image named by what it shows. Periods are calendar weeks and months, labelled in the reader's locale.
import { currentUser } from './state.js';
import { h } from './ui.js';
import { formatTag, t } from './words.js';

const VENDOR = new URL('../vendor/uplot/', import.meta.url);
let loading = null;

function stylesheet(href) {
  const found = document.querySelector(`link[rel="stylesheet"][href="${CSS.escape(href)}"]`);
  if (found) return Promise.resolve();
  return new Promise((resolve, reject) => {
    document.head.append(h('link', { rel: 'stylesheet', href, onload: resolve, onerror: () => reject(new Error(t('Could not load {address}', { address: href }))) }));
  });
}

/** uPlot and the charts' styles, loaded once (again after a failure). */
export function chartLibrary() {
  loading ??= Promise.all([
    import('../vendor/uplot/uPlot.esm.js'),
    stylesheet(new URL('uPlot.min.css', VENDOR).pathname),
    stylesheet(new URL('../charts.css', import.meta.url).pathname),
  ]).then(([module]) => module.default, (err) => { loading = null; throw err; });
  return loading;
}

/** The reader's locale and timezone: the ones saved in their settings, else the browser's. */
export async function readerPlace() {
  let me = null;
  try { me = await currentUser(); } catch { me = null; }
  const locale = formatTag(); // the account's, once known (words.js keeps it), else the browser's
  const timeZone = me?.timezone && safe(() => new Intl.DateTimeFormat('en', { timeZone: me.timezone })) ? me.timezone : undefined;
  return { locale, timeZone };
}
function safe(fn) { try { return fn(); } catch { return false; } }

/** Numbers and times for a reader: `number(n)`, `percent(share)`, `decimal(x)`, `moment(iso)` (their timezone),
 * `minutes(m)` a length of time ("45 min", "2 h", "1 h 30 min"). */
export function formats({ locale, timeZone } = {}) {
  const whole = new Intl.NumberFormat(locale);
  const share = new Intl.NumberFormat(locale, { style: 'percent', maximumFractionDigits: 1 });
  const one = new Intl.NumberFormat(locale, { minimumFractionDigits: 1, maximumFractionDigits: 1 });
  const at = new Intl.DateTimeFormat(locale, { timeZone, dateStyle: 'medium', timeStyle: 'short' });
  const day = new Intl.DateTimeFormat(locale, { timeZone: 'UTC', dateStyle: 'medium' });
  return {
    locale,
    number: (n) => (n === null || n === undefined ? '–' : whole.format(n)),
    percent: (x) => (x === null || x === undefined ? '–' : share.format(x)),
    decimal: (x) => (x === null || x === undefined ? '–' : one.format(x)),
    minutes: (m) => {
      const hours = Math.floor(m / 60);
      const rest = m % 60;
      if (hours && rest) return t('{hours} h {minutes} min', { hours: whole.format(hours), minutes: whole.format(rest) });
      return hours ? t('{hours} h', { hours: whole.format(hours) }) : t('{minutes} min', { minutes: whole.format(rest) });
    },
    moment: (iso) => (iso ? at.format(new Date(iso)) : '–'),
    day: (isoDay) => day.format(calendarDay(isoDay)),
  };
}

// A week's or a month's first day ("2030-01-06", "2030-03") is a calendar date, not an instant: it is formatted as
// that date (in UTC, where the Date made of it falls), so a reader west of UTC does not see the day before.
const calendarDay = (text) => { const [y, m, d = 1] = text.split('-').map(Number); return new Date(Date.UTC(y, m - 1, d)); };

/** The labels of periods ("2030-01-06" weeks or "2030-03" months): short ones for the axis ("Mar", and "Mar 2030"
 * where the year changes), long ones for tables and sentences ("March 2030", "6 January 2030"). */
export function periodLabels(periods, unit, locale) {
  const format = (options) => new Intl.DateTimeFormat(locale, { ...options, timeZone: 'UTC' });
  const [bare, short, long] = unit === 'month'
    ? [format({ month: 'short' }), format({ month: 'short', year: 'numeric' }), format({ month: 'long', year: 'numeric' })]
    : [format({ day: 'numeric', month: 'short' }), format({ day: 'numeric', month: 'short', year: 'numeric' }),
      format({ day: 'numeric', month: 'long', year: 'numeric' })];
  return periods.map((p) => {
    const day = calendarDay(p);
    return { bare: bare.format(day), short: short.format(day), group: day.getUTCFullYear(),
        long: long.format(day) };
  });
}

/** The axis's labels at `splits`: a period's year only on the first shown and where it changes. */
function axisLabels(categories, splits) {
  let year = null;
  return splits.map((v) => {
    const c = categories[v];
    if (!c) return '';
    if (c.bare === undefined || c.group === year) return c.bare ?? c.short;
    year = c.group;
    return c.short;
  });
}

const STEPS = [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000, 20000, 50000, 100000, 200000, 500000];

/**
 * A bar chart of `series` ([{label, values, color}]) over `categories` ([{short, long}]), stacked when `stacked`:
 * a figure with the canvas (an image named `label`), a legend, `summary` in words, and the table (`caption`, the
 * first column headed `heading`). Drawn once uPlot is loaded; `figure.drawn` settles then. Resizes with its box.
 */
export function barChart({ label, summary, caption, heading, categories, series, stacked = false, locale, narrow = false }) {
  const number = new Intl.NumberFormat(locale);
  const plot = h('div', { class: 'chart-plot' });
  const table = h('table', {},
    h('caption', {}, caption),
    h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, heading), series.map((s) => h('th', { scope: 'col', class: 'num' }, s.label)),
      stacked && series.length > 1 ? h('th', { scope: 'col', class: 'num' }, t('Total')) : null)),
    h('tbody', {}, categories.map((c, i) => h('tr', {}, h('th', { scope: 'row' }, c.long),
      series.map((s) => h('td', { class: 'num' }, number.format(s.values[i] || 0))),
      stacked && series.length > 1 ? h('td', { class: 'num' }, number.format(series.reduce((sum, s) => sum + (s.values[i] || 0), 0))) : null))));
  const legend = series.length > 1 ? h('ul', { class: 'chart-legend', 'aria-hidden': 'true' },
    series.map((s) => { const swatch = h('span', { class: 'swatch' }); swatch.style.background = s.color; return h('li', {}, swatch, s.label); })) : null;
  const figure = h('figure', { class: narrow ? 'chart narrow-chart' : 'chart' }, plot, legend, h('figcaption', { class: 'chart-summary' }, summary),
    h('details', {}, h('summary', {}, t('Show the numbers as a table')),
      // Wider than a phone, the table scrolls sideways: its box takes the focus, so keys scroll it too.
      h('div', { class: 'table-wrap', tabindex: '0', role: 'group', 'aria-label': caption }, table)));
  figure.drawn = chartLibrary().then((uPlot) => draw(uPlot, { figure, plot, label, categories, series, stacked, number }));
  figure.drawn.catch(() => plot.replaceChildren(h('p', { class: 'muted' }, t('The chart could not be drawn: its numbers are in the table below.'))));
  return figure;
}

// Stacked bars: each series drawn at the running total of it and those under it, the tallest first, so each shows
// as the band between its total and the one under it. Bars not stacked are of one series.
function draw(uPlot, { figure, plot, label, categories, series, stacked, number }) {
  const xs = categories.map((_c, i) => i);
  let running = xs.map(() => 0);
  const totals = series.map((s) => {
    const values = xs.map((i) => s.values[i] || 0);
    if (!stacked) return values;
    running = running.map((sum, i) => sum + values[i]);
    return running;
  });
  const order = stacked ? series.map((_s, i) => i).reverse() : series.map((_s, i) => i);
  const bars = uPlot.paths.bars({ size: [0.7, 64], align: 0 });
  const labelWidth = 14 + 7 * Math.max(...categories.map((c) => c.short.length));
  const most = Math.max(1, ...totals.flat());
  const size = () => {
    const width = Math.max(240, plot.clientWidth || figure.clientWidth || 320);
    return { width, height: Math.round(Math.min(300, Math.max(190, width * 0.5))) };
  };
  const options = {
    ...size(),
    legend: { show: false },
    cursor: { show: false },
    select: { show: false },
    scales: { x: { time: false, range: [-0.5, xs.length - 0.5] }, y: { range: [0, Math.ceil(most * 1.1)] } },
    axes: [
      // Every category's label while they fit (about 7 px a character), else every second, third…
      { values: (_u, splits) => axisLabels(categories, splits),
        splits: (u) => { const step = Math.ceil(labelWidth / (u.bbox.width / uPlot.pxRatio / xs.length)); return xs.filter((i) => i % step === 0); },
        gap: 4, size: 30, stroke: '#1d2433', grid: { show: false }, ticks: { show: false }, font: '12px system-ui, sans-serif' },
      { values: (_u, splits) => splits.map((v) => number.format(v)), incrs: STEPS, stroke: '#1d2433', size: 44, space: 32,
        grid: { stroke: '#e3e7ee', width: 1 }, ticks: { show: false }, font: '12px system-ui, sans-serif' },
    ],
    series: [{}, ...order.map((i) => ({ label: series[i].label, fill: series[i].color, stroke: '#ffffff', width: 1,
      paths: bars, points: { show: false } }))],
  };
  // An empty bar is not drawn (a bar of no height would still show its outline).
  const chart = new uPlot(options, [xs, ...order.map((i) => totals[i].map((value) => value || null))], plot);
  const canvas = plot.querySelector('canvas');
  canvas.setAttribute('role', 'img');
  canvas.setAttribute('aria-label', label);
  const resize = new ResizeObserver(() => {
    if (!figure.isConnected) { resize.disconnect(); chart.destroy(); return; }
    const wanted = size();
    if (wanted.width !== chart.width || wanted.height !== chart.height) chart.setSize(wanted);
  });
  resize.observe(plot);
  return chart;
}

/** Bars of `values` by `categories` (a distribution: ratings by stars, say), as `barChart` draws them. */
export function distributionChart({ label, summary, caption, heading, categories, values, seriesLabel, color = '#1f5fbf', locale }) {
  return barChart({ label, summary, caption, heading, categories, locale, narrow: true,
    series: [{ label: seriesLabel, values, color }] });
}

/** Stacked bars of `series` by `periods` ("2030-01-06" weeks or "2030-03" months, `unit`), labelled for the reader. */
export function periodChart({ periods, unit, ...rest }) {
  return barChart({ ...rest, stacked: true, categories: periodLabels(periods, unit, rest.locale) });
}
