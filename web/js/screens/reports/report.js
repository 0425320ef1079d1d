// A programme's dashboard, for its coordinators and admins: its numbers over a period of weeks (from the summaries
// the analytics worker keeps), its sessions week by week by how they ended, the quality of its matches, and its
// pairs at risk with their reasons, each linked to the pair on the programme's page.
import { get, qs } from '../../api.js';
import { chartLibrary, formats, periodChart, periodLabels, readerPlace } from '../../chart.js';
import { h, field, replace, empty, errorBox, messageArea, act, badge } from '../../ui.js';
import { exportDownloads } from './exports.js';
import { t, tn } from '../../words.js';

// Each way a week's sessions ended: its field, its name in the legend and the table, its colour.
// Cancellations count under who made them: one of the pair (at their request, or leaving), a coordinator (a pause, an
// end, a removal), an admin, the system.
const KINDS = [['held', t('Held'), '#1d6b3a'], ['cancelled_by_mentor', t('Cancelled by the mentor'), '#b35900'],
  ['cancelled_by_mentee', t('Cancelled by the mentee'), '#c47f16'],
  ['cancelled_by_coordinator', t('Cancelled by a coordinator'), '#8a6d3b'],
  ['cancelled_by_admin', t('Cancelled by an admin'), '#2f6f8f'], ['cancelled_by_system', t('Cancelled by the system'), '#8b4f6b'],
  ['no_show_mentee', t('Mentee absent'), '#a1261b'], ['no_show_mentor', t('Mentor absent'), '#6a3d9a'],
  ['missed', t('Nobody came'), '#5f6b7d']];
const CANCELLED = KINDS.map(([key]) => key).filter((key) => key.startsWith('cancelled_by_'));
const STATUS = { proposed: t('Proposed'), active: t('Active'), paused: t('Paused'), ended: t('Ended') };
const QUIET = [2, 3, 4, 6, 8];
const DAY = /^\d{4}-\d{2}-\d{2}$/;
// The Sunday of the week that starts on `monday` (a day): the last day of a period shown in weeks.
const weekEnd = (monday) => new Date(Date.parse(`${monday}T00:00:00Z`) + 6 * 86_400_000).toISOString().slice(0, 10);

const WEEKS_AT_MOST = 106;
const kept = (id) => `mentorship.period.${id}`;

/** The programme's own period, to today: its dates, at most the weeks a report shows (its last ones); none for an
 * ongoing programme or one not begun (the report's last twelve weeks). */
function ownPeriod(programme) {
  const today = new Date().toISOString().slice(0, 10);
  if (!programme.starts_on || programme.starts_on > today) return {};
  const to = programme.ends_on && programme.ends_on < today ? programme.ends_on : today;
  const earliest = new Date(Date.parse(`${to}T00:00:00Z`) - (WEEKS_AT_MOST - 1) * 7 * 86_400_000).toISOString().slice(0, 10);
  return { from: programme.starts_on > earliest ? programme.starts_on : earliest, to };
}

/** The dashboard opens on the period in its address; else the one last chosen for this programme (kept in this
 * browser); else the programme's own. */
function periodOf(programme, query) {
  const asked = { from: query.get('from'), to: query.get('to') };
  if (DAY.test(asked.from || '') && DAY.test(asked.to || '')) return asked;
  try {
    const chosen = JSON.parse(localStorage.getItem(kept(programme.id)) || 'null');
    if (chosen && DAY.test(chosen.from) && DAY.test(chosen.to)) return chosen;
  } catch { /* a period kept by hand, unreadable: the programme's own */ }
  return ownPeriod(programme);
}

export async function reportPage(main, { params: [id], query, go }) {
  const [programme, place] = await Promise.all([get(`/programmes/${id}`), readerPlace()]);
  const wanted = periodOf(programme, query);
  const [report] = await Promise.all([get(`/programmes/${id}/report${qs(wanted)}`), chartLibrary().catch(() => null)]);
  const f = formats(place);
  const messages = messageArea();
  const from = report.from || report.weeks[0]?.week; // the period's first Monday (its weeks say it too)
  const period = h('form', { class: 'inline-form', 'aria-label': t('Period') },
    field(t('From the week of'), { type: 'date', name: 'from', value: from, required: true }),
    field(t('To the week of'), { type: 'date', name: 'to', value: report.to, required: true }),
    h('button', { type: 'submit' }, t('Show')));
  period.addEventListener('submit', (event) => {
    event.preventDefault();
    act(period.querySelector('button'), messages, async () => {
      const chosen = { from: period.from.value, to: period.to.value };
      await get(`/programmes/${id}/report${qs(chosen)}`); // a period the API refuses is said here, under the form
      localStorage.setItem(kept(id), JSON.stringify(chosen));
      go(`/programmes/${id}/report${qs(chosen)}`);
    }, period);
  });
  main.append(
    h('p', { class: 'crumbs' }, h('a', { href: '#/programmes' }, t('Programmes')), ' › ',
      h('a', { href: `#/programmes/${id}` }, programme.name), t(' › Dashboard')),
    h('h1', {}, t('Dashboard: {name}', { name: programme.name })),
    period, messages.el,
    h('p', { class: 'muted' }, t('Weeks from Monday (UTC), {from} to the week of {to}.', { from: f.day(from), to: f.day(report.to) }), ' ',
      report.updated_at ? t('Figures as of {time}.', { time: f.moment(report.updated_at) }) : t('No figures counted yet.')),
    figures(report, f), weeksSection(report, f), matchSection(report, f), atRiskSection(id, f),
    exportDownloads(id, { from, to: weekEnd(report.to) }, place.timeZone));
}

function figures(report, f) {
  const s = report.sessions;
  const cancelled = CANCELLED.reduce((n, key) => n + s[key], 0);
  const card = (value, what) => h('li', {}, h('span', { class: 'figure' }, value), ' ', h('span', { class: 'what' }, what));
  const p = report.pairs;
  return h('section', { 'aria-labelledby': 'rp-fig-h' }, h('h2', { id: 'rp-fig-h' }, t('In the period')),
    h('ul', { class: 'figures' },
      card(f.number(s.held), tn('session held ({minutes})', 'sessions held ({minutes})', s.held, { minutes: f.minutes(s.minutes_held) })),
      card(f.percent(report.attendance_rate), t('attendance')),
      card(f.percent(report.no_show_rate), t('no-shows')),
      card(f.number(cancelled), tn('session cancelled', 'sessions cancelled', cancelled)),
      card(report.first_session.average_days === null ? '–' : t('{days} days', { days: f.decimal(report.first_session.average_days) }),
        tn('to a first session ({count} pair)', 'to a first session ({count} pairs)', report.first_session.pairs)),
      card(report.rating.count ? `${f.decimal(report.rating.average)} ★` : '–',
        tn('{count} review of sessions', '{count} reviews of sessions', report.rating.count)),
      card(report.survey.count ? `${f.decimal(report.survey.average)} / 5` : '–',
        tn('{count} closing survey', '{count} closing surveys', report.survey.count)),
      card(`${f.number(report.goals.done)} / ${f.number(report.goals.set)}`, t('goals done'))),
    h('p', {}, t('Pairs now: {active} active, {paused} paused, {proposed} proposed, {ended} ended.', { active: f.number(p.active),
      paused: f.number(p.paused), proposed: f.number(p.proposed), ended: f.number(p.ended) })));
}

function weeksSection(report, f) {
  const weeks = report.weeks;
  const section = h('section', { 'aria-labelledby': 'rp-wk-h' }, h('h2', { id: 'rp-wk-h' }, t('Sessions per week')));
  if (!weeks.length) return (section.append(empty(t('No week in this period.'))), section);
  const labels = periodLabels(weeks.map((w) => w.week), 'week', f.locale);
  const total = (key) => weeks.reduce((n, w) => n + (w[key] || 0), 0);
  const busiest = weeks.reduce((best, w, i) => (w.held > weeks[best].held ? i : best), 0);
  const by = [t('{count} by mentors', { count: f.number(total('cancelled_by_mentor')) }),
    t('{count} by mentees', { count: f.number(total('cancelled_by_mentee')) }),
    t('{count} by coordinators', { count: f.number(total('cancelled_by_coordinator')) }),
    total('cancelled_by_admin') ? t('{count} by admins', { count: f.number(total('cancelled_by_admin')) }) : null,
    total('cancelled_by_system') ? t('{count} by the system', { count: f.number(total('cancelled_by_system')) }) : null];
  const summary = tn('Over {count} week: {held} held, {cancelled} cancelled ({by}), {absent} with someone absent, {missed} that '
    + 'nobody came to.', 'Over {count} weeks: {held} held, {cancelled} cancelled ({by}), {absent} with someone absent, {missed} '
    + 'that nobody came to.', weeks.length, { held: f.number(total('held')),
    cancelled: f.number(CANCELLED.reduce((n, key) => n + total(key), 0)), by: by.filter(Boolean).join(', '),
    absent: f.number(total('no_show_mentee') + total('no_show_mentor')), missed: f.number(total('missed')) })
    + (total('held') ? ' ' + t('Most held in the week of {week} ({count}).', { week: labels[busiest].long,
      count: f.number(weeks[busiest].held) }) : '');
  section.append(periodChart({ periods: weeks.map((w) => w.week), unit: 'week', locale: f.locale, summary,
    label: t('Bar chart of the programme\'s sessions per week, from the week of {from} to the week of {to}, stacked by how '
      + 'they ended. {summary}', { from: labels[0].long, to: labels[labels.length - 1].long, summary }),
    caption: t('Sessions per week, by how they ended'), heading: t('Week of'),
    series: KINDS.map(([key, label, color]) => ({ label, color, values: weeks.map((w) => w[key]) })) }));
  return section;
}

function matchSection(report, f) {
  const m = report.match;
  return h('section', { 'aria-labelledby': 'rp-match-h' }, h('h2', { id: 'rp-match-h' }, t('Match quality')),
    h('p', {}, m.from_run
      ? tn('{count} pair came from a match run; {top} of them ({share}) with one of their mentee\'s three best mentors.',
        '{count} pairs came from a match run; {top} of them ({share}) with one of their mentee\'s three best mentors.', m.from_run,
        { top: f.number(m.top3), share: f.percent(m.share) })
      : t('No pair of the period came from a match run.')));
}

function atRiskSection(id, f) {
  const list = h('ul', { class: 'list', 'aria-labelledby': 'rp-risk-h' });
  const status = h('p', { role: 'status', class: 'muted' });
  const messages = messageArea();
  const more = h('button', { type: 'button', hidden: true }, t('Load more'));
  const quiet = field(t('At risk when not met for'), { tag: 'select', name: 'weeks' },
    QUIET.map((n) => [String(n), tn('{count} week', '{count} weeks', n)]));
  quiet.querySelector('select').value = '3';
  let cursor = null;
  let shown = 0;
  async function load(first) {
    const page = await get(`/programmes/${id}/report/at-risk${qs({ weeks: quiet.querySelector('select').value, limit: 20,
      cursor: first ? null : cursor })}`);
    if (first) { list.replaceChildren(); shown = 0; }
    const items = page.items.map((p) => h('li', { tabindex: '-1' },
      h('p', {}, h('a', { href: `#/programmes/${id}?pairing=${p.pairing_id}` }, t('{mentor} mentors {mentee}', { mentor: p.mentor_name, mentee: p.mentee_name })),
        ' ', badge(STATUS[p.status] || p.status, p.status === 'active' ? 'accepted' : 'draft')),
      h('ul', {}, p.reasons.map((reason) => h('li', {}, reason))),
      h('p', { class: 'meta' }, p.last_held_at ? t('Last session held {time}', { time: f.moment(p.last_held_at) }) : t('No session held yet'))));
    list.append(...items);
    shown += items.length;
    cursor = page.next_cursor;
    more.hidden = !cursor;
    status.textContent = shown ? (cursor ? tn('{count} pair shown, more to load.', '{count} pairs shown, more to load.', shown)
      : tn('{count} pair shown.', '{count} pairs shown.', shown))
      : t('No pair at risk.');
    if (!first && items.length) items[0].focus();
  }
  more.addEventListener('click', () => act(more, messages, () => load(false)));
  quiet.querySelector('select').addEventListener('change', () => act(null, messages, () => load(true)));
  load(true).catch((err) => replace(status, errorBox(err.message)));
  return h('section', { class: 'at-risk', 'aria-labelledby': 'rp-risk-h' }, h('h2', { id: 'rp-risk-h' }, t('Pairs at risk')),
    h('div', { class: 'row' }, quiet), status,
    list, messages.el, more);
}
