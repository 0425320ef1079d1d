// "Your numbers" on the mentor's own screen: their last 12 months of sessions by month (stacked bars), their
// ratings by stars, their mentees and no-shows. Fetched, and the charts drawn, once the section comes into view.
import { get } from '../../api.js';
import { chartLibrary, distributionChart, formats, periodChart, periodLabels, readerPlace } from '../../chart.js';
import { h, replace, loading, errorBox } from '../../ui.js';
import { fill, t, tn } from '../../words.js';

// Each way a session ended: its field, its name in the legend and tables, its colour, and its words in a summary.
const KINDS = [['completed', t('Completed'), '#1d6b3a', t('{count} completed')], ['cancelled', t('Cancelled'), '#b35900', t('{count} cancelled')],
  ['no_show', t('Someone absent'), '#a1261b', t('{count} with someone absent')], ['missed', t('Nobody came'), '#5f6b7d', t('{count} that nobody came to')]];
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
    h('p', { class: 'muted' }, t('The last 12 months, by the month of each session in your timezone ({zone}).', { zone: mentor.timezone }), ' ',
      t('Cancellations, absences and returning mentees are shown to you and administrators only.')),
    h('ul', { class: 'figures' },
      figure(f.number(sum(months, 'completed')), t('sessions completed')),
      figure(f.number(stats.mentees), stats.mentees === 1 ? t('mentee') : t('mentees')),
      figure(f.number(stats.repeat_mentees), t('came back for another session')),
      figure(f.number(sum(months, 'no_show')), t('sessions with someone absent')),
      figure(stats.reviews_count ? `${f.decimal(stats.average_rating)} ★` : '–',
        tn('average of {count} review', 'average of {count} reviews', stats.reviews_count))),
    monthsChart(months, f), ratingsChart(ratings, stats, f));
}

function monthsChart(months, f) {
  const labels = periodLabels(months.map((m) => m.month), 'month', f.locale);
  const busiest = months.reduce((best, m, i) => (m.completed > months[best].completed ? i : best), 0);
  const said = KINDS.map(([key, , , words]) => fill(words, { count: f.number(sum(months, key)) })).join(', ');
  const summary = sum(months, 'completed') + sum(months, 'cancelled') + sum(months, 'no_show') + sum(months, 'missed')
    ? t('In 12 months: {said}. Most completed in {month} ({count}).', { said, month: labels[busiest].long,
      count: f.number(months[busiest].completed) })
    : t('No sessions in the last 12 months.');
  return h('div', {}, h('h3', {}, t('Sessions per month')), periodChart({
    label: t('Bar chart of your sessions per month, {from} to {to}, stacked by how they ended. {summary}', { from: labels[0].long,
      to: labels[labels.length - 1].long, summary }),
    summary, caption: t('Your sessions per month, by how they ended'), heading: t('Month'), unit: 'month', locale: f.locale,
    periods: months.map((m) => m.month), series: KINDS.map(([key, label, color]) => ({ label, color, values: months.map((m) => m[key]) })) }));
}

function ratingsChart(ratings, stats, f) {
  if (!stats.reviews_count) return h('div', {}, h('h3', {}, t('Ratings')), h('p', { class: 'muted' }, t('No reviews yet.')));
  const most = ratings.lastIndexOf(Math.max(...ratings)) + 1;
  const summary = tn('{count} review', '{count} reviews', stats.reviews_count) + ', ' + tn('{average} of 5 on average; the most '
    + 'gave {count} star.', '{average} of 5 on average; the most gave {count} stars.', most, { average: f.decimal(stats.average_rating) });
  return h('div', {}, h('h3', {}, t('Ratings')), distributionChart({
    label: t('Bar chart of your reviews by their stars, 1 to 5. {summary}', { summary }), summary, caption: t('Your reviews by stars'),
    heading: t('Stars'), seriesLabel: t('Reviews'), values: ratings, color: '#1f5fbf', locale: f.locale,
    categories: ratings.map((_n, i) => ({ short: `${i + 1} ★`, long: tn('{count} star', '{count} stars', i + 1) })) }));
}
