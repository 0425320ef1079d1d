// A listing's questions to the mentee who books it: the mentor's editor (free text, one choice, several choices, a
// 1-5 scale; required or not), the fields of the booking form that answer them, and the answers as the mentor reads
// them with a request.
import { get, put } from '../../api.js';
import { h, field, redraw, messageArea, act, guardUnsaved } from '../../ui.js';
import { t, tn } from '../../words.js';

const KINDS = [['text', t('Free text')], ['single', t('One choice')], ['multiple', t('Several choices')], ['scale', t('Scale of 1 to 5')]];
const splitOptions = (text) => text.split(',').map((o) => o.trim()).filter(Boolean);
// Who answers an intake's free-text question: the person, or their organisation's directory (SCIM).
const ANSWERED_BY = [['', t('The person')], ['department', t('The directory: their department')],
  ['manager', t('The directory: their manager')]];

/** The mentor's editor of a listing's questions, folded under "Booking questions". */
export function questionsEditor(l) {
  return formEditor({ url: `/listings/${l.id}/questions`, max: 10, summary: t('Booking questions'), name: t('Booking questions of {title}', { title: l.title }),
    hint: t('Asked when a mentee books this listing; you read the answers with the request.'), save: t('Save questions of {title}', { title: l.title }),
    saved: (n) => (n ? tn('{count} question saved: mentees answer them when booking.', '{count} questions saved: mentees answer them when booking.', n)
      : t('No questions: mentees book without answering any.')) });
}

/** An editor of a form of questions at `url` (at most `max`), folded under `summary`; with `directory`, a free-text
 * question may be answered by the organisation's directory instead of the person. */
export function formEditor({ url, max, summary, name, hint, save, saved: savedText, directory = false }) {
  const messages = messageArea();
  const rowsEl = h('ol', { class: 'questions' });
  let saved = '[]';
  const rows = () => [...rowsEl.querySelectorAll(':scope > li')];
  const current = () => JSON.stringify(rows().map((row) => ({
    kind: row.querySelector('select').value, label: row.querySelector('[name=label]').value.trim(),
    options: row.querySelector('select').value === 'single' || row.querySelector('select').value === 'multiple'
      ? splitOptions(row.querySelector('[name=options]').value) : [],
    required: row.querySelector('[name=required]').checked,
    ...(directory ? { directory: row.querySelector('[name=kind]').value === 'text'
      ? row.querySelector('[name=directory]').value || null : null } : {}) })));
  const addButton = h('button', { type: 'button', onclick: () => { addRow(); rows().at(-1).querySelector('[name=label]').focus(); } }, t('Add a question'));

  function addRow(q = { kind: 'text', label: '', options: [], required: false }) {
    const n = rows().length + 1;
    const kind = field(t('Kind of question {n}', { n }), { tag: 'select', name: 'kind' }, KINDS);
    const options = field(t('Choices of question {n}', { n }), { name: 'options', value: q.options.join(', '), maxlength: 1100,
      hint: t('Two to ten, separated by commas.') });
    const answeredBy = directory ? field(t('Who answers question {n}', { n }), { tag: 'select', name: 'directory',
      hint: t('The directory’s answer comes from your organisation’s identity provider (SCIM) and stays current.') },
    ANSWERED_BY) : null;
    const required = field(t('Question {n} must be answered', { n }), { type: 'checkbox', name: 'required', checked: q.required });
    const showOptions = () => {
      const chosen = kind.querySelector('select').value;
      options.hidden = !['single', 'multiple'].includes(chosen);
      if (!answeredBy) return;
      answeredBy.hidden = chosen !== 'text';
      const fromDirectory = !answeredBy.hidden && answeredBy.querySelector('select').value !== '';
      required.hidden = fromDirectory;
      if (fromDirectory) required.querySelector('input').checked = false;
    };
    kind.querySelector('select').value = q.kind;
    kind.querySelector('select').addEventListener('change', showOptions);
    if (answeredBy) {
      answeredBy.querySelector('select').value = q.directory || '';
      answeredBy.querySelector('select').addEventListener('change', showOptions);
    }
    showOptions();
    const row = h('li', { class: 'card' },
      field(t('Question {n}', { n }), { name: 'label', value: q.label, maxlength: 200, required: true }), kind, options,
      answeredBy, required,
      h('button', { type: 'button', class: 'link', onclick: () => { row.remove(); addButton.disabled = false; } }, t('Remove question {n}', { n })));
    rowsEl.append(row);
    addButton.disabled = rows().length >= max;
  }

  const form = h('form', { 'aria-label': name }, h('p', { class: 'hint' }, hint),
    rowsEl, h('div', { class: 'actions' }, addButton, h('button', { type: 'submit', class: 'primary' }, save)), messages.el);
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    act(form.querySelector('button[type=submit]'), messages, async () => {
      const items = (await put(url, { items: JSON.parse(current()) })).items;
      saved = current();
      messages.ok(savedText(items.length));
    });
  });
  guardUnsaved(form, () => (current() !== saved ? t('{name}: not saved.', { name }) : null));
  const details = h('details', {}, h('summary', {}, summary), form);
  details.addEventListener('toggle', async () => {
    if (!details.open || details.dataset.loaded) return;
    details.dataset.loaded = 'yes';
    try {
      (await get(url)).items.forEach(addRow);
      saved = current();
    } catch (err) { messages.error(err); }
  });
  return details;
}

/** The booking form's fields answering the listing's questions (or the `given` questions, filled with the answers
 * `kept`): `answers()` as the API takes them. */
export function answerFields(listingId, given = null, kept = []) {
  const el = h('div', { class: 'answers' });
  let questions = [];
  const draw = (found) => {
    questions = found;
    redraw(el, questions.map((q, i) => (q.directory ? directoryAnswer(q, kept) : answerField(q, i))));
    for (const a of kept) fill(el, questions.findIndex((q) => q.id === a.question_id), a.value);
  };
  if (given) draw(given);
  else get(`/listings/${listingId}/questions`).then((found) => draw(found.items))
    .catch(() => { /* no questions shown: the API says which is missing if one is required */ });
  return {
    el,
    answers() {
      return questions.map((q, i) => ({ question_id: q.id, value: q.directory ? null : valueOf(el, q, i) }))
        .filter((a) => a.value !== null && a.value !== '' && !(Array.isArray(a.value) && !a.value.length));
    },
    reset() { el.querySelectorAll('input, textarea, select').forEach((c) => { if (c.type === 'checkbox' || c.type === 'radio') c.checked = false; else c.value = ''; }); },
  };
}

function answerField(q, i) {
  const name = `answer-${i}`;
  const label = `${q.label}${q.required ? '' : ' (optional)'}`;
  if (q.kind === 'text') return field(label, { tag: 'textarea', name, rows: 2, maxlength: 2000, required: q.required });
  if (q.kind === 'single') return field(label, { tag: 'select', name, required: q.required }, [['', t('Choose…')], ...q.options.map((o) => [o, o])]);
  if (q.kind === 'scale') {
    return field(label, { tag: 'select', name, required: q.required }, [['', t('Choose…')], ['1', '1'], ['2', '2'], ['3', '3'], ['4', '4'], ['5', '5']]);
  }
  return h('fieldset', { class: 'choices' }, h('legend', {}, label),
    q.options.map((o, j) => h('label', {}, h('input', { type: 'checkbox', name, value: o, id: `${name}-${j}` }), ` ${o}`)));
}

/** A question the organisation's directory answers: its answer shown, never asked. */
function directoryAnswer(q, kept) {
  const given = kept.find((a) => a.question_id === q.id);
  return h('div', { class: 'field' }, h('strong', {}, q.label),
    h('p', { class: given ? '' : 'muted' }, given ? t('{value} (from your organisation’s directory)', { value: String(given.value) })
      : t('Not given by your organisation’s directory.')));
}

function fill(el, i, value) {
  if (i < 0) return;
  for (const control of el.querySelectorAll(`[name="answer-${i}"]`)) {
    if (control.type === 'checkbox') control.checked = value.includes(control.value);
    else control.value = String(value);
  }
}

function valueOf(el, q, i) {
  const controls = [...el.querySelectorAll(`[name="answer-${i}"]`)];
  if (q.kind === 'multiple') return controls.filter((c) => c.checked).map((c) => c.value);
  const value = controls[0]?.value.trim() ?? '';
  if (q.kind === 'scale') return value ? Number(value) : null;
  return value;
}

/** A request's answers, as its mentor reads them. */
export function answersView(answers) {
  if (!answers || !answers.length) return null;
  return h('dl', { class: 'answers' }, answers.map((a) => [h('dt', {}, a.label),
    h('dd', {}, Array.isArray(a.value) ? a.value.join(', ') : a.kind === 'scale' ? `${a.value} of 5` : String(a.value),
      a.directory ? h('small', { class: 'muted' }, ` ${t('(from the directory)')}`) : null)]));
}
