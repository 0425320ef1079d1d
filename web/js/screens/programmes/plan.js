// A programme's plan for the term: the coordinators' editor (steps at week N or session N, an agenda in Markdown, the
// resources each suggests) and its progress as a chart; a pair's "this week" on their pairing and session pages,
// where either ticks a step done or skips it with a note. Agendas are HTML rendered and cleaned by the server (nh3).
import { get, post, put } from '../../api.js';
import { h, field, replace, act, badge, empty, errorBox, loading, messageArea, guardUnsaved } from '../../ui.js';
import { barChart, formats } from '../../chart.js';
import { everyItem } from '../../lists.js';
import { t, tn } from '../../words.js';

const ANCHORS = [['week', t('Week')], ['session', t('Session')]];
const STATUS = { todo: t('To do'), done: t('Done'), skipped: t('Skipped') };
const KIND = { todo: 'draft', done: 'accepted', skipped: 'cancelled' };
export const stepWhen = (s) => (s.anchor === 'week' ? t('Week {n}', { n: s.number }) : t('Session {n}', { n: s.number }));
// A resource per line: "Title | https://…".
const linesOf = (links) => links.map((l) => `${l.title} | ${l.url}`).join('\n');
const linksOf = (text) => text.split('\n').map((line) => line.trim()).filter(Boolean).map((line) => {
  const [title, ...rest] = line.split('|');
  return { title: title.trim(), url: rest.join('|').trim() };
});

function agenda(step) {
  const el = h('div', { class: 'agenda' });
  el.innerHTML = step.agenda_html; // rendered and cleaned by the server (nh3)
  return el;
}

// A suggested resource: a link only for an http(s) address; anything else shown as words, never followed.
const resource = (l) => h('li', {}, /^https?:\/\//i.test(l.url)
  ? h('a', { href: l.url, rel: 'noopener noreferrer', target: '_blank' }, l.title) : l.title);

/** The coordinators' editor of the plan, folded under its name, with the button that applies it to running pairings. */
export function planEditor(programme) {
  const url = `/programmes/${programme.id}/plan`;
  const messages = messageArea();
  const rowsEl = h('ol', { class: 'questions' });
  const applyEl = h('div', {});
  let saved = '[]';
  let library = []; // [id, title] of the resources a step may suggest: the programme's and the platform's
  const rows = () => [...rowsEl.children];
  const current = () => JSON.stringify(rows().map((row) => ({ id: row.dataset.id || null,
    anchor: row.querySelector('[name=anchor]').value, number: Number(row.querySelector('[name=number]').value),
    title: row.querySelector('[name=title]').value.trim(), agenda: row.querySelector('[name=agenda]').value,
    links: linksOf(row.querySelector('[name=links]').value),
    resource_ids: [...row.querySelector('[name=resource_ids]').selectedOptions].map((o) => o.value) })));
  const addButton = h('button', { type: 'button', onclick: () => { addRow(); rows().at(-1).querySelector('[name=title]').focus(); } }, t('Add a step'));
  function addRow(s = { anchor: 'week', number: rows().length + 1, title: '', agenda: '', links: [] }) {
    const n = rows().length + 1;
    const anchor = field(t('Step {n} comes at', { n }), { tag: 'select', name: 'anchor' }, ANCHORS);
    anchor.querySelector('select').value = s.anchor;
    const row = h('li', { class: 'card', 'data-id': s.id || '' },
      field(t('Title of step {n}', { n }), { name: 'title', value: s.title, maxlength: 120, required: true }),
      h('div', { class: 'inline' }, anchor, field(t('Number of step {n}', { n }), { type: 'number', name: 'number', min: 1, max: 104, value: s.number, required: true })),
      field(t('Agenda of step {n}', { n }), { tag: 'textarea', name: 'agenda', rows: 3, maxlength: 4000,
        hint: t('Markdown: *emphasis*, **bold**, [links](https://…), lists.') }),
      field(t('Resources of step {n}', { n }), { tag: 'textarea', name: 'links', rows: 2,
        hint: t('One a line: a title, then | and its https address. Five at most.') }),
      field(t('From the library, for step {n}', { n }), { tag: 'select', name: 'resource_ids', multiple: true,
        size: Math.min(5, Math.max(2, library.length)), hint: t('Five at most.') }, library),
      h('button', { type: 'button', class: 'link', onclick: () => { row.remove(); addButton.disabled = false; } }, t('Remove step {n}', { n })));
    row.querySelector('[name=agenda]').value = s.agenda;
    row.querySelector('[name=links]').value = linesOf(s.links);
    for (const option of row.querySelector('[name=resource_ids]').options) option.selected = (s.resource_ids || []).includes(option.value);
    rowsEl.append(row);
    addButton.disabled = rows().length >= 52;
  }
  const showApply = (plan) => replace(applyEl, plan.pairings_behind ? h('p', { class: 'warning' },
    tn('{count} pairing under way keeps the plan it started with.', '{count} pairings under way keep the plan they started with.', plan.pairings_behind), ' ',
    h('button', { type: 'button', onclick: (e) => act(e.currentTarget, messages, async () => {
      showApply(await post(`${url}/apply`));
      messages.ok(t('Applied: steps already done or skipped stay as they were; the others follow the plan.'));
    }) }, t('Apply the plan to them'))) : null);
  const form = h('form', { 'aria-label': t('The plan for the term') },
    h('p', { class: 'hint' }, t('Each pairing gets a copy when it starts and works through it; editing the plan changes pairings not yet started.')),
    rowsEl, h('div', { class: 'actions' }, addButton, h('button', { type: 'submit', class: 'primary' }, t('Save the plan'))), messages.el, applyEl);
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    act(form.querySelector('button[type=submit]'), messages, async () => {
      const plan = await put(url, { steps: JSON.parse(current()) });
      rows().forEach((row, i) => { row.dataset.id = plan.steps[i].id; });
      saved = current();
      showApply(plan);
      messages.ok(tn('{count} step saved.', '{count} steps saved.', plan.steps.length));
    }, form);
  });
  guardUnsaved(form, () => (current() !== saved ? t('The plan for the term: not saved.') : null));
  const details = h('details', {}, h('summary', {}, t('The plan for the term')), form);
  details.addEventListener('toggle', async () => {
    if (!details.open || details.dataset.loaded) return;
    details.dataset.loaded = 'yes';
    try {
      const [plan, found] = await Promise.all([get(url), everyItem(`/programmes/${programme.id}/resources`)]);
      library = found.map((r) => [r.id, r.title]);
      plan.steps.forEach(addRow);
      saved = current();
      showApply(plan);
    } catch (err) { messages.error(err); }
  });
  return details;
}

/** How the programme's pairings stand with each step of the plan: a chart with its table (the coordinators). */
export function planProgress(programme) {
  const el = h('section', { 'aria-labelledby': 'pg-plan-h' }, h('h2', { id: 'pg-plan-h' }, t('Progress through the plan')), loading());
  get(`/programmes/${programme.id}/plan/progress`).then((p) => {
    if (!p.steps.length) { replace(el, el.firstChild, empty(t('No pairing has a plan yet.'))); return; }
    const done = p.steps.reduce((sum, s) => sum + s.done + s.skipped, 0);
    const all = p.steps.reduce((sum, s) => sum + s.done + s.skipped + s.todo, 0);
    replace(el, el.firstChild, barChart({ label: t('Pairings by step of the plan'), stacked: true, narrow: true,
      summary: tn('{count} pairing works through the plan: {done} of {all} steps behind them.',
        '{count} pairings work through the plan: {done} of {all} steps behind them.', p.pairings, { done, all }),
      caption: t('Pairings by step of the plan'), heading: t('Step'), locale: formats().locale,
      categories: p.steps.map((s) => ({ short: String(s.position + 1), long: `${s.position + 1}. ${s.title}` })),
      series: [{ label: STATUS.done, values: p.steps.map((s) => s.done), color: '#1f7a3f' },
        { label: STATUS.skipped, values: p.steps.map((s) => s.skipped), color: '#8a6d00' },
        { label: STATUS.todo, values: p.steps.map((s) => s.todo), color: '#9aa5b1' }] }));
  }, (err) => replace(el, el.firstChild, errorBox(err.message)));
  return el;
}

/** One step, as the pair read it: when, its title, status, agenda and resources; with the moves still open. */
function stepCard(step, { move, open, current = false, toGoal = null, titles = {}, programmeId = null }) {
  const fromLibrary = (step.resource_ids || []).filter((id) => titles[id]).map((id) => h('li', {},
    h('a', { href: `#/programmes/${programmeId}/library?q=${encodeURIComponent(titles[id])}` }, titles[id])));
  const note = field(t('Why skip “{title}”', { title: step.title }), { name: 'note', maxlength: 1000 });
  note.hidden = true;
  const skip = h('button', { type: 'button', onclick: (e) => {
    if (note.hidden) { note.hidden = false; note.querySelector('input').focus(); return; }
    move(e.currentTarget, 'skip', note.querySelector('input').value);
  } }, t('Skip “{title}”', { title: step.title }));
  return h('article', { class: current ? 'card plan-step current' : 'card plan-step' },
    h('p', { class: 'meta' }, stepWhen(step), ' ', badge(STATUS[step.status], KIND[step.status])),
    h(current ? 'h4' : 'h5', {}, step.title), step.agenda_html ? agenda(step) : null,
    step.links.length || fromLibrary.length ? [h('p', { class: 'meta' }, t('Suggested resources')),
      h('ul', { class: 'resources' }, step.links.map(resource), fromLibrary)] : null,
    step.note ? h('p', { class: 'muted' }, t('Note: {note}', { note: step.note })) : null,
    open && step.status === 'todo' ? h('div', { class: 'actions' },
      h('button', { type: 'button', class: 'primary', onclick: (e) => move(e.currentTarget, 'done') }, t('Mark “{title}” done', { title: step.title })),
      skip, toGoal ? [h('button', { type: 'button', class: 'link', onclick: (e) => toGoal(e.currentTarget, 'goals') },
        t('Set “{title}” as a goal', { title: step.title })),
      h('button', { type: 'button', class: 'link', onclick: (e) => toGoal(e.currentTarget, 'action-items') },
        t('Add “{title}” as an action item', { title: step.title }))] : null, note) : null,
    open && step.status !== 'todo' ? h('button', { type: 'button', class: 'link', onclick: (e) => move(e.currentTarget, 'reopen') },
      t('Put “{title}” back to do', { title: step.title })) : null);
}

/** A pairing's plan: this week's step first, then every step folded; `open` while the pairing has not ended. */
export function pairingPlan(base, p, messages) {
  const url = `${base}/${p.id}/plan`;
  const el = h('section', { class: 'pairing-plan', 'aria-label': t('Plan of {mentor} and {mentee}', { mentor: p.mentor_name, mentee: p.mentee_name }) });
  const open = p.status !== 'ended';
  const draw = (plan) => {
    if (!plan.steps.length) { replace(el); return; }
    const now = plan.steps.find((s) => s.id === plan.current_step_id);
    const titles = Object.fromEntries(plan.resources.map((r) => [r.id, r.title]));
    const card = (s, current) => stepCard(s, { open, current, titles, programmeId: p.programme_id, move: (button, action, note = null) =>
      act(button, messages, async () => draw(await post(`${url}/${s.id}/${action}`, { note }))),
    // A step raises a goal or an action item of the pairing, as any is made (they are in the panel below).
    toGoal: (button, kind) => act(button, messages, async () => {
      await post(`${base}/${p.id}/${kind}`, { title: s.title });
      messages.ok(kind === 'goals' ? t('“{title}” is now a goal of the pairing.', { title: s.title })
        : t('“{title}” is now an action item of the pairing.', { title: s.title }));
    }) });
    replace(el, h('h4', {}, plan.week ? t('This week (week {n})', { n: plan.week }) : t('The plan')),
      now ? card(now, true) : empty(t('Every step is behind you.')),
      h('details', {}, h('summary', {}, tn('All {count} step ({done} behind)', 'All {count} steps ({done} behind)', plan.steps.length, { done: plan.done })),
        h('div', { class: 'stack' }, plan.steps.filter((s) => s !== now).map((s) => card(s, false)))));
  };
  get(url).then(draw, (err) => replace(el, errorBox(err.message)));
  return el;
}

/** The step of a session of a pairing, on the session's page; nothing when it has none. */
export function sessionStep(sessionId) {
  const messages = messageArea();
  const el = h('section', { 'aria-labelledby': 'ses-step-h' });
  get(`/sessions/${sessionId}/plan-step`).then((step) => {
    const url = `/programmes/${step.programme_id}/pairings/${step.pairing_id}/plan/${step.id}`;
    const move = (button, action, note = null) => act(button, messages, async () => {
      const plan = await post(`${url}/${action}`, { note });
      const now = plan.steps.find((s) => s.id === step.id);
      if (now) draw({ ...step, ...now }); else el.remove(); // gone: the plan applied since had it no more
    });
    const draw = (s) => replace(el, h('h2', { id: 'ses-step-h' }, t('This session’s step')),
      stepCard(s, { move, open: step.pairing_open, current: true, programmeId: step.programme_id,
        titles: Object.fromEntries(step.resources.map((r) => [r.id, r.title])) }), messages.el);
    draw(step);
  }, () => el.remove());
  return el;
}
