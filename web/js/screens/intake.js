// A programme's intake: its coordinators' two forms (one for mentors, one for mentees), a participant's answers and a
// mentee's weekly windows in their own zone, and a participant's intake as a coordinator reads it.
import { get, put } from '../api.js';
import { h, field, replace, redraw, act, errorBox, loading, empty } from '../ui.js';
import { answerFields, answersView, formEditor } from './questions.js';
import { browserPlace } from './auth.js';

const DAYS = ['Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday', 'Sunday'];
const hhmm = (m) => `${String(Math.floor(m / 60)).padStart(2, '0')}:${String(m % 60).padStart(2, '0')}`;
const minutes = (t) => { const [hours, mins] = t.split(':').map(Number); return hours * 60 + mins; };
const windowText = (w) => `${DAYS[w.weekday]} ${hhmm(w.start_minute)}–${hhmm(w.end_minute)}`;

/** The coordinators' editors of the two intake forms. */
export function intakeEditors(programme) {
  return h('section', { 'aria-labelledby': 'pg-int-h' }, h('h2', { id: 'pg-int-h' }, 'Intake'),
    h('p', { class: 'hint' }, programme.intake_open ? 'Participants answer it when they join, and change their answers '
      + 'while it is open.' : 'Closed: the answers change no more.'),
    ['mentee', 'mentor'].map((audience) => formEditor({ url: `/programmes/${programme.id}/intake-forms/${audience}`,
      max: 30, summary: `The ${audience}s’ form`, name: `Intake form for ${audience}s`,
      hint: `Asked of each ${audience} (30 questions at most); you read their answers with the people.`,
      save: `Save the ${audience}s’ form`,
      saved: (n) => `${n} question${n === 1 ? '' : 's'} saved: ${audience}s answer ${n === 1 ? 'it' : 'them'}.` })));
}

/** A participant's intake, as a coordinator (or the participant) reads it. */
export function intakeView(intake) {
  if (!intake.answered_at) return empty('Not answered yet.');
  return h('div', {}, answersView(intake.answers),
    intake.windows.length ? h('p', {}, `Free (${intake.timezone}): ${intake.windows.map(windowText).join(', ')}`) : null);
}

/** A participant's own intake: the form of their role, and a mentee's weekly windows. */
export function intakeForm(programme, messages) {
  const el = h('section', { 'aria-labelledby': 'pg-my-int-h' }, h('h2', { id: 'pg-my-int-h' }, 'Your intake'), loading());
  get(`/programmes/${programme.id}/intake`).then((intake) => {
    const answers = answerFields(null, intake.form, intake.answers);
    const mentee = intake.role === 'mentee';
    const zone = intake.timezone || browserPlace().timezone || 'UTC';
    const windowsEl = h('ol', { class: 'list' });
    const addWindow = (w = { weekday: 0, start_minute: 1080, end_minute: 1200 }) => {
      const n = windowsEl.children.length + 1;
      const day = field(`Day of window ${n}`, { tag: 'select', name: 'weekday' }, DAYS.map((d, i) => [String(i), d]));
      day.querySelector('select').value = String(w.weekday);
      const row = h('li', { class: 'inline' }, day,
        field(`From (window ${n})`, { type: 'time', name: 'start', value: hhmm(w.start_minute), step: 900 }),
        field(`To (window ${n})`, { type: 'time', name: 'end', value: hhmm(w.end_minute % 1440), step: 900 }),
        h('button', { type: 'button', class: 'link', onclick: () => row.remove() }, `Remove window ${n}`));
      windowsEl.append(row);
    };
    intake.windows.forEach(addWindow);
    const windows = () => [...windowsEl.children].map((row) => ({
      weekday: Number(row.querySelector('[name=weekday]').value), start_minute: minutes(row.querySelector('[name=start]').value),
      end_minute: minutes(row.querySelector('[name=end]').value) || 1440 }));
    const form = h('form', { class: 'stack', 'aria-label': 'Your intake' },
      intake.form.length ? answers.el : h('p', { class: 'muted' }, 'The coordinators ask no questions of your role.'),
      mentee ? h('fieldset', {}, h('legend', {}, `When you are free each week (${zone})`), windowsEl,
        h('button', { type: 'button', onclick: () => addWindow() }, 'Add a time')) : null,
      intake.editable ? h('button', { type: 'submit', class: 'primary' }, 'Save my intake')
        : h('p', { class: 'muted' }, 'The intake is closed: your answers change no more.'));
    form.addEventListener('submit', (event) => {
      event.preventDefault();
      act(form.querySelector('button[type=submit]'), messages, async () => {
        await put(`/programmes/${programme.id}/intake`, { answers: answers.answers(),
          ...(mentee ? { windows: windows(), timezone: zone } : {}) });
        messages.ok('Your intake is saved.');
      }, form);
    });
    redraw(el, h('h2', { id: 'pg-my-int-h' }, 'Your intake'), form);
  }, (err) => replace(el, errorBox(err.message)));
  return el;
}
