// A programme's matching. Its coordinators set how it pairs and what the matcher weighs (criteria joining the two
// intake forms, and the other weights), run the match with its progress live, read the latest run's summary, and
// review its drafts (another mentor, two swapped, pinned, removed) before publishing them; they read who is left out
// of matching until their intake is finished (a mentor's hours). A mentee of a programme whose mentees choose sees
// their recommended mentors, and asks one.
import { get, post, put } from '../../api.js';
import { live } from '../../live.js';
import { h, field, redraw, replace, empty, messageArea, act, when } from '../../ui.js';
import { everyItem } from '../../lists.js';
import { draftReview, wordsOnPairs } from './review.js';
import { t, tn, tParts } from '../../words.js';

const MODES = [['coordinator', t('Coordinators publish the drafts')], ['mentee_choice', t('Mentees choose')],
  ['manual', t('By hand, pair by pair')]];
const KINDS = [['shared', t('Shared: more in common')], ['same', t('Same answer')], ['differ', t('Rule: never the same')],
  ['above', t('Rule: mentor’s ranks higher')]];
const WEIGHTS = [['free_time_weight', t('Free time in common')], ['timezone_weight', t('Timezones close')],
  ['capacity_weight', t('Room left with the mentor')], ['reliability_weight', t('Reliability (no-shows)')]];
const BUSY = new Set(['queued', 'running']);
const ENDED = { done: t('Done'), failed: t('Failed'), cancelled: t('Cancelled') };
const num = (x) => String(Math.round(x * 10) / 10);
const sleep = (ms) => new Promise((resolve) => { setTimeout(resolve, ms); });

/** The form of how the programme pairs and what the matcher weighs; `saved(settings)` after a save. */
function settingsForm(base, settings, forms, saved) {
  const messages = messageArea();
  // Free text is compared only where the directory answers it (a department, a manager: same or never the same).
  const choices = (items) => items.filter((q) => q.kind !== 'text' || q.directory)
    .map((q) => [q.id, q.directory ? t('{label} (from the directory)', { label: q.label }) : q.label]);
  const menteeQs = choices(forms[0].items);
  const mentorSide = [['', t('The mentor’s skills')], ...choices(forms[1].items)];
  const rowsEl = h('ul', { class: 'list' });
  const addRow = (c = { kind: 'shared', mentee_question_id: menteeQs[0][0], mentor_question_id: null, weight: 1 }) => {
    const n = rowsEl.children.length + 1;
    const pick = (label, name, options, value) => {
      const one = field(`${label} (criterion ${n})`, { tag: 'select', name }, options);
      one.querySelector('select').value = value || '';
      return one;
    };
    const row = h('li', { class: 'row' }, pick(t('Mentee question'), 'mentee', menteeQs, c.mentee_question_id),
      pick(t('Compared with'), 'mentor', mentorSide, c.mentor_question_id), pick(t('How'), 'kind', KINDS, c.kind),
      field(t('Weight (criterion {n})', { n }), { type: 'number', name: 'weight', min: 0, max: 10, step: 0.5, value: c.weight }),
      h('button', { type: 'button', onclick: () => row.remove() }, t('Remove'), h('span', { class: 'sr-only' }, ' ', t('criterion {n}', { n }))));
    rowsEl.append(row);
  };
  const form = h('form', { class: 'stack', 'aria-labelledby': 'mt-set-h' },
    field(t('How the programme pairs'), { tag: 'select', name: 'pairing_mode', hint: t('The match drafts the pairs and '
      + 'you publish them; or each mentee asks one of the mentors it finds best for them; or you pair by hand.') }, MODES),
    h('fieldset', {}, h('legend', {}, t('Criteria')),
      h('p', { class: 'hint' }, t('Each compares a mentee’s answer with the mentor’s. A rule keeps pairs apart whatever '
        + 'the weights; its weight does not count.')), rowsEl,
      menteeQs.length ? h('button', { type: 'button', onclick: () => { addRow(); rowsEl.lastChild.querySelector('select').focus(); } },
        t('Add a criterion')) : h('p', { class: 'muted' }, t('The mentees’ intake has no question with choices or a scale '
        + 'yet: write one on the programme’s page.'))),
    h('div', { class: 'row weights' }, WEIGHTS.map(([name, label]) => field(label, { type: 'number', name, min: 0, max: 10,
      step: 0.5, value: settings[name] })), field(t('Mentors a choosing mentee sees'), { type: 'number', name: 'top_k',
      min: 1, max: 10, value: settings.top_k })),
    h('button', { type: 'submit', class: 'primary' }, t('Save the settings')), messages.el);
  form.pairing_mode.value = settings.pairing_mode;
  settings.criteria.forEach((c) => addRow(c));
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    act(form.querySelector('button[type=submit]'), messages, async () => {
      const value = (row, name) => row.querySelector(`[name=${name}]`).value;
      const body = { pairing_mode: form.pairing_mode.value, top_k: Number(form.top_k.value),
        ...Object.fromEntries(WEIGHTS.map(([name]) => [name, Number(form[name].value)])),
        criteria: [...rowsEl.children].map((row) => ({ kind: value(row, 'kind'), mentee_question_id: value(row, 'mentee'),
          mentor_question_id: value(row, 'mentor') || null, weight: Number(value(row, 'weight')) })) };
      saved(await put(`${base}/matching`, body));
      messages.ok(t('Saved: the next run weighs these.'));
    }, form);
  });
  return form;
}

/** What a run found: how many matched, their scores beside a greedy match's, and who was left and why. */
function summary(run) {
  if (!run) return empty(t('No run yet: set what counts, then run the match.'));
  if (BUSY.has(run.status)) return null;
  if (run.status === 'failed') return h('p', { class: 'error' }, t('The last run failed: {error}', { error: run.error }));
  if (run.status === 'cancelled' || !run.result) return h('p', { class: 'muted' }, t('The last run was cancelled.'));
  const r = run.result;
  const buckets = r.distribution.filter((b) => b.count);
  const pinned = r.pinned || 0;
  return h('div', {}, h('h3', {}, t('The latest run, {time}', { time: when(run.finished_at) })),
    h('p', {}, [tn('{matched} of {count} mentee matched', '{matched} of {count} mentees matched', r.mentees + pinned,
      { matched: r.matched + pinned }),
    // (Each text a call of its own: a t() inside a template literal is not gathered into the catalogues.)
    pinned ? ', ' + t('{count} pinned', { count: pinned }) : '',
    r.preferred ? ' (' + tn('{count} preferred pair', '{count} preferred pairs', r.preferred) + ')' : '',
    ', ' + tn('with {count} mentor', 'with {count} mentors', r.mentors),
    r.top3_share === null ? '' : '; ' + t('{share} % of them with one of their top 3 mentors', { share: Math.round(r.top3_share * 100) }),
    '.'].join('')),
    h('p', {}, t('Total score {total}, against {greedy} pairing each mentee in turn with the best mentor left.',
      { total: num(r.total), greedy: num(r.greedy_total) })),
    buckets.length ? h('table', { class: 'narrow' }, h('caption', {}, t('Scores of the pairs')),
      h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, t('Score')), h('th', { scope: 'col' }, t('Pairs')))),
      h('tbody', {}, buckets.map((b) => h('tr', {}, h('td', {}, `${b.from}–${b.to}`), h('td', {}, b.count))))) : null,
    r.unmatched.length ? [h('h3', {}, t('Not matched')),
      h('ul', { class: 'list' }, r.unmatched.map((u) => h('li', {}, h('strong', {}, u.name), `: ${u.reason}`)))] : null);
}

/** Who takes part but is left out of matching until their intake is finished, and why. */
function leftOutView(left) {
  if (!left.people.length) return h('p', { class: 'muted' }, t('Everyone taking part has finished their intake.'));
  const said = [
    left.mentors ? tn('{count} mentor has not given their hours', '{count} mentors have not given their hours', left.mentors) : '',
    left.mentees ? tn('{count} mentee has not answered the intake', '{count} mentees have not answered the intake', left.mentees) : '',
  ].filter(Boolean).join(' · ');
  return h('div', {}, h('p', { class: 'warning' }, t('Left out of the match: {summary}.', { summary: said })),
    h('ul', { class: 'list', 'aria-label': t('Left out of the match') },
      left.people.map((p) => {
        const name = { name: h('bdi', {}, h('strong', {}, p.name)) };
        return h('li', {}, ...(p.role === 'mentor' ? tParts('{name} (mentor) has not given their hours', name)
          : tParts('{name} (mentee) has not answered the intake', name)));
      })));
}

/** `#/programmes/{id}/matching`: its coordinators' matching screen. */
export async function matchingPage(main, { params: [id] }) {
  const base = `/programmes/${id}`;
  const [programme, settings, ...forms] = await Promise.all([get(base), get(`${base}/matching`),
    get(`${base}/intake-forms/mentee`), get(`${base}/intake-forms/mentor`)]);
  let mode = settings.pairing_mode;
  let run = null;
  let drafts = [];
  let gone = false;
  let watched = false; // a run followed on this screen keeps its bar, at its end, until the next
  const chosen = new Set();
  const runMessages = messageArea();
  const draftMessages = messageArea();
  const [mentors, mentees] = await Promise.all(['mentor', 'mentee'].map((role) => everyItem(`${base}/participants`,
    { role, status: 'active' }).then((people) => people.map((p) => [p.id, p.display_name]))));
  let leftOut = [];
  const words = wordsOnPairs(base, mentees, mentors);

  const bar = h('progress', { id: 'mt-bar', max: 100, value: 0, 'aria-describedby': 'mt-stage' });
  const stage = h('p', { id: 'mt-stage', 'aria-live': 'polite' });
  const cancel = h('button', { type: 'button', class: 'danger', onclick: (e) => act(e.currentTarget, runMessages, async () => {
    run = await post(`${base}/match-runs/${run.id}/cancel`);
    drawRun();
  }) }, t('Cancel the run'));
  const start = h('button', { type: 'button', class: 'primary', onclick: (e) => act(e.currentTarget, runMessages, async () => {
    const made = await post(`${base}/match-runs`);
    if (!run || run.id !== made.id) run = made; // its first frames may have come first
    watched = true;
    drawRun();
  }) }, t('Run the match'));
  const progressEl = h('div', { hidden: true }, h('label', { for: 'mt-bar' }, t('Progress of the run')), bar, stage, cancel);
  const summaryEl = h('div', {});
  const leftOutEl = h('div', { 'aria-live': 'polite' });
  const loadLeftOut = async () => {
    const left = await get(`${base}/matching/left-out`);
    leftOut = left.people;
    redraw(leftOutEl, leftOutView(left));
  };
  const draftsEl = h('div', {});
  const swap = h('button', { type: 'button', onclick: (e) => act(e.currentTarget, draftMessages, async () => {
    if (chosen.size !== 2) throw new Error(t('Choose two drafts to swap their mentors.'));
    await post(`${base}/match-drafts/swap`, { draft_ids: [...chosen] });
    chosen.clear();
    await loadDrafts();
    draftMessages.ok(t('Their mentors are swapped.'));
  }) }, t('Swap the mentors of the two chosen'));
  const publish = h('button', { type: 'button', class: 'primary', onclick: (e) => act(e.currentTarget, draftMessages, async () => {
    const counts = await post(`${base}/match-drafts/publish`);
    draftMessages.ok(tn('Publishing {count} draft…', 'Publishing {count} drafts…', counts.publishing));
    await loadDrafts();
    // oxlint-disable-next-line no-unmodified-loop-condition -- leaving the screen sets `gone` while the loop sleeps
    for (let i = 0; i < 120 && !gone && drafts.some((d) => d.status === 'publishing'); i += 1) {
      await sleep(1000);
      await loadDrafts();
    }
    const failed = drafts.filter((d) => d.status === 'failed').length;
    draftMessages.ok(tn('{count} pairing proposed: their mentors are asked to accept the sessions.',
      '{count} pairings proposed: their mentors are asked to accept the sessions.', counts.publishing - failed)
      + (failed ? ' ' + t('{count} could not be: see why below.', { count: failed }) : ''));
  }) }, t('Publish the drafts'));
  const draftActions = h('div', { class: 'actions' }, swap, publish);

  function drawRun() {
    const busy = Boolean(run && BUSY.has(run.status));
    const from = document.activeElement;
    watched = watched || busy;
    progressEl.hidden = !watched;
    start.hidden = busy;
    cancel.hidden = !busy;
    if (run) {
      bar.value = run.progress;
      const said = run.cancel_requested && busy ? t('Stopping at the next step') : ENDED[run.status] || run.stage;
      stage.textContent = `${said.charAt(0).toUpperCase()}${said.slice(1)} · ${run.progress} %`;
    }
    if (busy && from === start) cancel.focus();
    if (!busy && from === cancel) start.focus();
    redraw(summaryEl, summary(run));
  }

  const review = draftReview(base, mentors, chosen, async () => { await loadDrafts(); await words.refresh(); });

  async function loadDrafts() {
    if (mode !== 'coordinator') {
      draftActions.hidden = true;
      redraw(draftsEl, empty(mode === 'manual' ? t('Pairs are made by hand, on the programme’s page.')
        : t('Mentees choose: each sees the mentors the latest run found best for them, and asks one.')));
      return;
    }
    drafts = await everyItem(`${base}/match-drafts`);
    for (const one of chosen) if (!drafts.some((d) => d.id === one)) chosen.delete(one);
    draftActions.hidden = !drafts.length;
    if (draftsEl.firstChild !== review.el) replace(draftsEl, review.el);
    review.draw(drafts, run, leftOut);
  }

  async function refresh() {
    const [runs] = await Promise.all([get(`${base}/match-runs?limit=1`), loadDrafts(), loadLeftOut()]);
    // The list leaves results out: the latest run is read whole.
    run = runs.items[0] ? await get(`${base}/match-runs/${runs.items[0].id}`) : null;
    drawRun();
    if (mode === 'coordinator') review.draw(drafts, run, leftOut); // its unmatched, as rows
  }

  const off = live.on((type, data) => {
    if (type === 'reset') { refresh().catch((err) => runMessages.error(err)); return; }
    if (type.startsWith('enrolment.') && data.programme_id === id) { loadLeftOut().catch((err) => runMessages.error(err)); return; }
    if (!type.startsWith('match_run.') || data.programme_id !== id) return;
    run = { ...(run && run.id === data.id ? run : {}), ...data };
    drawRun();
    if (type === 'match_run.failed') runMessages.error(t('The run failed: {error}', { error: data.error }));
    if (type !== 'match_run.completed') return;
    Promise.all([get(`${base}/match-runs/${data.id}`), loadDrafts()]).then(([found]) => {
      run = found;
      drawRun();
      if (mode === 'coordinator') review.draw(drafts, run, leftOut);
      runMessages.ok(tn('The match is done: {matched} of {count} mentee matched.', 'The match is done: {matched} of {count} mentees '
        + 'matched.', found.result.mentees, { matched: found.result.matched }));
    }, (err) => runMessages.error(err));
  });

  main.append(h('p', { class: 'crumbs' }, h('a', { href: '#/programmes' }, t('Programmes')), ' › ',
    h('a', { href: `#${base}` }, programme.name), t(' › Matching')), h('h1', {}, t('Matching: {name}', { name: programme.name })),
  h('section', { 'aria-labelledby': 'mt-set-h' }, h('h2', { id: 'mt-set-h' }, t('How it pairs, and what counts')),
    settingsForm(base, settings, forms, (found) => {
      mode = found.pairing_mode;
      loadDrafts().catch((err) => draftMessages.error(err));
    })),
  h('section', { 'aria-labelledby': 'mt-run-h' }, h('h2', { id: 'mt-run-h' }, t('Runs')),
    leftOutEl, h('div', { class: 'actions' }, start), progressEl, runMessages.el, summaryEl),
  h('section', { 'aria-labelledby': 'mt-dr-h' }, h('h2', { id: 'mt-dr-h' }, t('Drafts')), draftsEl, draftActions,
    draftMessages.el), words.el);
  await refresh().catch((err) => runMessages.error(err));
  return () => { gone = true; off(); };
}

/** A mentee's recommended mentors (their programme's mentees choose), each asked with one button; null when the
 * coordinators pair them. `asked()` after a request is sent. */
export async function recommended(programme, messages, asked) {
  let found;
  try {
    found = await get(`/programmes/${programme.id}/recommendations`);
  } catch (err) {
    if (err.status === 400) return null;
    throw err;
  }
  return h('div', {}, h('h3', {}, t('Your recommended mentors')), h('p', { class: 'hint' }, t('Those the match found best '
    + 'for you, with a place left. Ask one: the pairing starts once they accept its sessions.')), found.items.length
    ? h('ul', { class: 'list' }, found.items.map((r) => h('li', {}, h('p', {}, h('strong', {}, r.mentor_name)),
      h('p', { class: 'meta' }, r.reasons.join(' · ')),
    h('button', { type: 'button', class: 'primary', onclick: (e) => act(e.currentTarget, messages, async () => {
      await post(`/programmes/${programme.id}/mentor-requests`, { mentor_participant_id: r.mentor_participant_id });
      messages.ok(t('Your request was sent to {mentor_name}: the pairing starts once they accept its sessions.', { mentor_name: r.mentor_name }));
      await asked();
    }) }, t('Ask {mentor_name}', { mentor_name: r.mentor_name })))))
    : empty(t('No mentor is recommended to you yet: the coordinators run the match first.')));
}
