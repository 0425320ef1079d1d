// "Your numbers" on the mentor's own screen: their last 12 months of sessions by month (stacked bars), their
// ratings by stars, their mentees and no-shows. Fetched, and the charts drawn, once the section comes into view.
import { get } from '../../api.js';
import { chartLibrary, distributionChart, formats, periodChart, periodLabels, readerPlace } from '../../chart.js';
import { h, replace, loading, errorBox } from '../../ui.js';
import { t } from '../../words.js';

// Each way a session ended: its field, its name in the legend and tables, its colour, and its words in a summary.
const KINDS = [['completed', t('Completed'), '#1d6b3a', 'completed'], ['cancelled', t('Cancelled'), '#b35900', 'cancelled'],
  ['no_show', t('Someone absent'), '#a1261b', t('with someone absent')], ['missed', t('Nobody came'), '#5f6b7d', t('that nobody came to')]];
const sum = (items, key) => items.reduce((total, item) => total + (item[key] || 0), 0);

export function numbersSection(mentor) {
  const body = h('div', {}, loading());
  const section = h('section', { class: 'card', 'aria-labelledby': 'num-h', 'aria-busy': 'true' },
    h('h2', { id: 'num-h' }, t('Your numbers')), body);
  const seen = new IntersectionObserver((entries) => {
    if (!section.isConnected) { seen.disconnect(); return; }
    if (!entries.some((entry) => entry.isIntersecting)) return;
    seen.disconnect();
    show(mentor, body).finally(() => section.removeAttribute('aria-busy'));
  });
  seen.observe(section);
  return section;
}

async function show(mentor, body) {
  let stats;
  let place;
  try {
    [stats, place] = await Promise.all([get(`/mentor-profiles/${mentor.id}/stats`), readerPlace(),
      chartLibrary().catch(() => null)]); // the figures wait for the charts' styles; the tables do without them
  } catch (err) {
    replace(body, errorBox(err.message || String(err)));
    return;
  }
  const f = formats(place);
  const months = stats.sessions_per_month;
  const ratings = [1, 2, 3, 4, 5].map((stars) => stats.ratings[String(stars)] || 0);
  const figure = (value, what) => h('li', {}, h('span', { class: 'figure' }, value), ' ', h('span', { class: 'what' }, what));
  replace(body,
    h('p', { class: 'muted' }, t('The last 12 months, by the month of each session in your timezone '), `(${mentor.timezone}). `,
      t('Cancellations, absences and returning mentees are shown to you and administrators only.')),
    h('ul', { class: 'figures' },
      figure(f.number(sum(months, 'completed')), 'sessions completed'),
      figure(f.number(stats.mentees), stats.mentees === 1 ? 'mentee' : 'mentees'),
      figure(f.number(stats.repeat_mentees), t('came back for another session')),
      figure(f.number(sum(months, 'no_show')), t('sessions with someone absent')),
      figure(stats.reviews_count ? `${f.decimal(stats.average_rating)} ★` : '–',
        `average of ${f.number(stats.reviews_count)} review${stats.reviews_count === 1 ? '' : 's'}`)),
    monthsChart(months, f), ratingsChart(ratings, stats, f));
}

function monthsChart(months, f) {
  const labels = periodLabels(months.map((m) => m.month), 'month', f.locale);
  const busiest = months.reduce((best, m, i) => (m.completed > months[best].completed ? i : best), 0);
  const said = KINDS.map(([key, , , words]) => `${f.number(sum(months, key))} ${words}`).join(', ');
  const summary = sum(months, 'completed') + sum(months, 'cancelled') + sum(months, 'no_show') + sum(months, 'missed')
    ? `In 12 months: ${said}. Most completed in ${labels[busiest].long} (${f.number(months[busiest].completed)}).`
    : t('No sessions in the last 12 months.');
  return h('div', {}, h('h3', {}, t('Sessions per month')), periodChart({
    label: `Bar chart of your sessions per month, ${labels[0].long} to ${labels[labels.length - 1].long}, stacked by how they ended. ${summary}`,
    summary, caption: t('Your sessions per month, by how they ended'), heading: t('Month'), unit: 'month', locale: f.locale,
    periods: months.map((m) => m.month), series: KINDS.map(([key, label, color]) => ({ label, color, values: months.map((m) => m[key]) })) }));
}

function ratingsChart(ratings, stats, f) {
  if (!stats.reviews_count) return h('div', {}, h('h3', {}, t('Ratings')), h('p', { class: 'muted' }, t('No reviews yet.')));
  const most = ratings.lastIndexOf(Math.max(...ratings)) + 1;
  const summary = `${f.number(stats.reviews_count)} review${stats.reviews_count === 1 ? '' : 's'}, `
    + `${f.decimal(stats.average_rating)} of 5 on average; the most gave ${most} star${most === 1 ? '' : 's'}.`;
  return h('div', {}, h('h3', {}, t('Ratings')), distributionChart({
    label: `Bar chart of your reviews by their stars, 1 to 5. ${summary}`, summary, caption: t('Your reviews by stars'),
    heading: t('Stars'), seriesLabel: t('Reviews'), values: ratings, color: '#1f5fbf', locale: f.locale,
    categories: ratings.map((_n, i) => ({ short: `${i + 1} ★`, long: `${i + 1} star${i ? 's' : ''}` })) }));
}
