// The review of a run's drafts, made for hundreds: one compact table of mentee, mentor, score, the mentor's load were
// the drafts published, and the reasons, sorted by a column and filtered (low scores, the unmatched, those whose intake
// is not finished, the pinned); the two intakes side by side on demand; each draft's actions, and what they did or
// why they were refused, in its own row. The coordinators' words on pairs (never, prefer) below it.
import { del, get, patch, post } from '../../api.js';
import { h, field, replace, empty, errorBox, loading, messageArea, act, badge } from '../../ui.js';
import { intakeView } from '../programmes/intake.js';
import { t } from '../../words.js';

export const LOW_SCORE = 50;
const num = (x) => String(Math.round(x * 10) / 10);
const SHOWN = [['all', t('Every mentee')], ['low', t('Scores below {LOW_SCORE}', { LOW_SCORE })], ['unmatched', t('Not matched')],
  ['left', t('Intake not finished')], ['pinned', t('Pinned')]];
const COLUMNS = [['mentee', t('Mentee'), (r) => r.mentee], ['mentor', t('Mentor'), (r) => r.mentor || '\uffff'],
  ['score', t('Score'), (r) => (r.draft ? r.draft.score : -1)],
  ['load', t('Mentor’s places taken'), (r) => (r.draft ? r.draft.mentor_places_used / Math.max(r.draft.mentor_capacity, 1) : -1)]];

/** Two people's intakes side by side, read when asked for: a region of its own. */
function sideBySide(base, d) {
  const panel = h('section', { class: 'side-by-side', 'aria-label': t('Intakes of {mentee_name} and {mentor_name}', { mentee_name: d.mentee_name, mentor_name: d.mentor_name }) },
    loading());
  Promise.all([d.mentee_participant_id, d.mentor_participant_id].map((id) => get(`${base}/participants/${id}/intake`)))
    .then(([mentee, mentor]) => replace(panel,
      h('div', {}, h('h4', {}, t('{name}, mentee', { name: d.mentee_name })), intakeView(mentee)),
      h('div', {}, h('h4', {}, t('{name}, mentor', { name: d.mentor_name })), intakeView(mentor))),
    (err) => replace(panel, errorBox(err.message)));
  return panel;
}

/** The table of drafts: `draw(drafts, run, leftOut)` (the run's unmatched and those left out become rows too);
 * `chosen`: the drafts ticked to swap; `reload()` after an action. `mentors`: [[id, name]] for "Change mentor". */
export function draftReview(base, mentors, chosen, reload) {
  const el = h('div', {});
  const show = h('select', { name: 'show', 'aria-label': t('Show') }, SHOWN.map(([v, text]) => h('option', { value: v }, text)));
  let sort = { key: 'mentee', up: true };
  let data = { drafts: [], run: null, leftOut: [] };
  const open = new Set(); // drafts whose intakes are shown side by side

  function row(r) {
    const d = r.draft;
    if (!d) {
      return [h('tr', {}, h('td', {}), h('th', { scope: 'row' }, r.mentee),
        h('td', { colspan: 5 }, badge(r.left ? t('Intake not finished') : t('Not matched'), 'cancelled'), ` ${r.reason}`))];
    }
    const said = messageArea();
    // A button is disabled while it acts, which takes the focus from it: it goes back to the same button anew.
    const doing = (label, kind, fn, { danger = false } = {}) => h('button', { type: 'button', class: danger ? 'danger' : null,
      dataset: { key: `${kind}-${d.id}` }, onclick: (e) => act(e.currentTarget, said, async () => {
        const done = await fn();
        await reload();
        const again = el.querySelector(`[data-key="${kind}-${d.id}"]`);
        if (again) again.focus();
        if (done) el.querySelector(`[data-said="${d.id}"]`)?.replaceChildren(h('p', { class: 'ok', role: 'status' }, done));
      }) }, label, h('span', { class: 'sr-only' }, t(' the draft of {mentee_name}', { mentee_name: d.mentee_name })));
    const change = h('form', { class: 'compact', 'aria-label': t('Another mentor for {mentee_name}', { mentee_name: d.mentee_name }) },
      h('select', { name: 'mentor', 'aria-label': t('Mentor of {mentee_name}', { mentee_name: d.mentee_name }) },
        mentors.map(([id, name]) => h('option', { value: id }, name))),
      h('button', { type: 'submit', dataset: { key: `ch-${d.id}` } }, t('Change'),
        h('span', { class: 'sr-only' }, t(' the mentor of {mentee_name}', { mentee_name: d.mentee_name }))));
    change.mentor.value = d.mentor_participant_id;
    change.addEventListener('submit', (event) => {
      event.preventDefault();
      act(change.querySelector('button'), said, async () => {
        await patch(`${base}/match-drafts/${d.id}`, { mentor_participant_id: change.mentor.value });
        await reload();
        el.querySelector(`[data-key="ch-${d.id}"]`)?.focus();
      });
    });
    const busy = d.status === 'publishing';
    const compare = h('button', { type: 'button', 'aria-expanded': String(open.has(d.id)), onclick: () => {
      if (open.has(d.id)) open.delete(d.id); else open.add(d.id);
      draw();
      el.querySelector(`[data-key="cmp-${d.id}"]`)?.focus();
    }, dataset: { key: `cmp-${d.id}` } }, t('Compare intakes'), h('span', { class: 'sr-only' }, ' ', t('of {mentee} and {mentor}', { mentee: d.mentee_name, mentor: d.mentor_name })));
    const full = d.mentor_places_used > d.mentor_capacity;
    const rows = [h('tr', { id: `draft-${d.id}` },
      h('td', {}, busy ? null : h('input', { type: 'checkbox', checked: chosen.has(d.id), 'aria-label': t('Swap the mentor of {mentee_name}', { mentee_name: d.mentee_name }),
        onchange: (e) => (e.currentTarget.checked ? chosen.add(d.id) : chosen.delete(d.id)) })),
      h('th', { scope: 'row' }, d.mentee_name, d.pinned ? [' ', badge(t('Pinned'), 'accepted')] : null,
        d.status === 'draft' ? null : [' ', badge(d.status === 'failed' ? t('Not proposed') : t('Publishing'),
          d.status === 'failed' ? 'cancelled' : 'requested')]),
      h('td', {}, d.mentor_name),
      h('td', { class: d.score < LOW_SCORE ? 'low' : null }, num(d.score)),
      h('td', { class: full ? 'low' : null }, `${d.mentor_places_used} of ${d.mentor_capacity}`),
      h('td', { class: 'meta' }, d.reasons.join(' · '), d.problem ? h('p', { class: 'warning' }, d.problem) : null),
      h('td', {}, busy ? null : h('div', { class: 'actions' },
        doing(d.pinned ? t('Unpin') : t('Pin'), 'pin', () => patch(`${base}/match-drafts/${d.id}`, { pinned: !d.pinned })),
        doing(t('Remove'), 'rm', () => del(`${base}/match-drafts/${d.id}`), { danger: true }),
        doing(t('Never pair'), 'never', async () => {
          await post(`${base}/match-preferences`, { mentee_participant_id: d.mentee_participant_id,
            mentor_participant_id: d.mentor_participant_id, kind: 'never' });
          return t('{mentee_name} and {mentor_name} are kept apart from the next run.', { mentee_name: d.mentee_name, mentor_name: d.mentor_name });
        }), compare), busy ? null : change, h('div', { dataset: { said: d.id } }), said.el))];
    if (open.has(d.id)) rows.push(h('tr', { class: 'compare' }, h('td', { colspan: 7 }, sideBySide(base, d))));
    return rows;
  }

  function rowsShown() {
    const { drafts, run, leftOut } = data;
    const all = [
      ...drafts.map((d) => ({ draft: d, mentee: d.mentee_name, mentor: d.mentor_name })),
      ...(run && run.result ? run.result.unmatched : []).map((u) => ({ mentee: u.name, reason: u.reason })),
      ...leftOut.map((p) => ({ mentee: `${p.name} (${p.role})`, reason: p.reason, left: true }))];
    const keep = { all: () => true, low: (r) => r.draft && r.draft.score < LOW_SCORE, unmatched: (r) => !r.draft && !r.left,
      left: (r) => r.left, pinned: (r) => r.draft && r.draft.pinned }[show.value];
    const [, , value] = COLUMNS.find(([key]) => key === sort.key);
    return all.filter(keep).sort((a, b) => {
      const [x, y] = [value(a), value(b)];
      const order = typeof x === 'number' ? x - y : String(x).localeCompare(String(y));
      return sort.up ? order : -order;
    });
  }

  function draw() {
    const shown = rowsShown();
    const head = h('tr', {}, h('th', { scope: 'col' }, h('span', { class: 'sr-only' }, t('Swap'))),
      COLUMNS.map(([key, label]) => h('th', { scope: 'col',
        'aria-sort': sort.key === key ? (sort.up ? 'ascending' : 'descending') : 'none' },
      h('button', { type: 'button', class: 'link', dataset: { key: `sort-${key}` }, onclick: () => {
        sort = { key, up: sort.key === key ? !sort.up : key !== 'score' };
        draw();
        el.querySelector(`[data-key="sort-${key}"]`)?.focus();
      } }, label))),
      h('th', { scope: 'col' }, t('Reasons')), h('th', { scope: 'col' }, t('Actions')));
    replace(el, h('div', { class: 'filters' }, h('label', {}, t('Show '), show)),
      shown.length ? h('div', { class: 'table-wrap' }, h('table', { class: 'review' },
        h('caption', {}, t('{count} shown. Sort by a column\'s name; "Compare intakes" shows the two side by side.', { count: shown.length })),
        h('thead', {}, head), h('tbody', {}, shown.map(row))))
        : empty(data.drafts.length ? t('None of them.') : t('No draft: run the match to draft the pairs.')));
  }
  show.addEventListener('change', draw);
  return { el, draw: (drafts, run, leftOut) => { data = { drafts, run, leftOut }; draw(); } };
}

/** The coordinators' words on pairs that every run obeys: never pair them, or prefer them; each taken back here. */
export function wordsOnPairs(base, mentees, mentors) {
  const said = messageArea();
  const listEl = h('div', {}, loading());
  const form = h('form', { class: 'inline-form', 'aria-label': t('A word on a pair') },
    field(t('Mentee'), { tag: 'select', name: 'mentee' }, mentees), field(t('Mentor'), { tag: 'select', name: 'mentor' }, mentors),
    field(t('The next runs'), { tag: 'select', name: 'kind' }, [['never', t('never pair them')], ['prefer', t('pair them first, if they fit')]]),
    h('button', { type: 'submit' }, t('Say it')), said.el);
  async function draw() {
    const page = await get(`${base}/match-preferences?limit=100`);
    replace(listEl, page.items.length ? h('ul', { class: 'list', 'aria-label': t('Words on pairs') }, page.items.map((w) => {
      const mine = messageArea();
      const pair = { mentee_name: w.mentee_name, mentor_name: w.mentor_name };
      return h('li', {}, w.kind === 'never' ? t('Never: {mentee_name} with {mentor_name}', pair)
        : t('Prefer: {mentee_name} with {mentor_name}', pair), ' ',
        h('button', { type: 'button', onclick: (e) => act(e.currentTarget, mine, async () => {
          await del(`${base}/match-preferences/${w.id}`);
          await draw();
          said.ok(t('Taken back: {mentee_name} with {mentor_name}.', { mentee_name: w.mentee_name, mentor_name: w.mentor_name }));
        }) }, t('Take back'), h('span', { class: 'sr-only' }, ' ', w.kind === 'never'
          ? t('Never: {mentee_name} with {mentor_name}', pair) : t('Prefer: {mentee_name} with {mentor_name}', pair))), mine.el);
    })) : empty(t('None: the runs weigh every pair that fits. A pair whose pairing ended is not proposed again unless preferred.')));
  }
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    act(form.querySelector('button'), said, async () => {
      const w = await post(`${base}/match-preferences`, { mentee_participant_id: form.mentee.value,
        mentor_participant_id: form.mentor.value, kind: form.kind.value });
      await draw();
      const pair = { mentee: w.mentee_name, mentor: w.mentor_name };
      said.ok(w.kind === 'never' ? t('Kept apart from the next run: {mentee} with {mentor}.', pair)
        : t('Preferred from the next run: {mentee} with {mentor}.', pair));
    }, form);
  });
  draw().catch((err) => replace(listEl, errorBox(err.message)));
  return { el: h('section', { 'aria-labelledby': 'mt-words-h' }, h('h2', { id: 'mt-words-h' }, t('Words on pairs')),
    h('p', { class: 'hint' }, t('Every later run obeys them; the drafts there are now stay as they are.')), form, listEl),
  refresh: draw };
}
