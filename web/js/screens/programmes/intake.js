// A programme's intake: its coordinators' two forms (one for mentors, one for mentees), a participant's answers, a
// mentee's weekly windows in their own zone or a mentor's weekly hours (their profile's, which their public listings
// keep too), and a participant's intake as a coordinator reads it. No one is paired before theirs is finished.
import { get, put } from '../../api.js';
import { h, field, replace, redraw, act, errorBox, loading, empty, browserPlace, messageArea } from '../../ui.js';
import { answerFields, answersView, formEditor } from '../bookings/questions.js';

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
  const mentor = intake.role === 'mentor';
  const hours = mentor && !intake.hours_suggested
    ? h('p', {}, `Weekly hours (${intake.timezone}): ${intake.windows.map(windowText).join(', ')}`) : null;
  const state = intake.finished_at ? null : h('p', { class: 'warning' }, mentor
    ? 'Not finished: they have not given their hours, so no one is paired with them.'
    : 'Not finished: no one is paired with them until they answer.');
  if (!intake.answered_at) return h('div', {}, state, hours || empty('Not answered yet.'));
  return h('div', {}, state, answersView(intake.answers), hours,
    !mentor && intake.windows.length ? h('p', {}, `Free (${intake.timezone}): ${intake.windows.map(windowText).join(', ')}`) : null);
}

/** A participant's own intake: the form of their role, and a mentee's weekly windows. */
export function intakeForm(programme, onFinished = () => {}) {
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
    const state = h('p', { id: 'pg-my-int-state' });
    const showState = (finished) => {
      state.className = finished ? 'muted' : 'warning';
      state.textContent = finished ? 'Finished: you can be paired.' : (mentee
        ? 'Not finished: save it, and the coordinators can pair you.'
        : 'Not finished: confirm your weekly hours and save, and the coordinators can pair you.');
    };
    showState(Boolean(intake.finished_at));
    onFinished(Boolean(intake.finished_at), intake.role);
    const said = messageArea(); // beside the button that saved
    const hours = mentee ? h('fieldset', {}, h('legend', {}, `When you are free each week (${zone})`), windowsEl,
      h('button', { type: 'button', onclick: () => addWindow() }, 'Add a time'))
      : h('fieldset', { 'aria-describedby': 'pg-my-int-hours' }, h('legend', {}, `Your weekly hours (${zone})`),
        h('p', { class: 'hint', id: 'pg-my-int-hours' }, 'These are your mentor profile’s weekly hours: the same hours '
          + 'serve your public listings. '
          + (intake.hours_suggested ? 'You have none yet: weekdays 09:00–17:00 are suggested; change them or keep them.'
            : 'Change them here or on your schedule’s page.')),
        windowsEl, h('button', { type: 'button', onclick: () => addWindow() }, 'Add hours'));
    const form = h('form', { class: 'stack', 'aria-label': 'Your intake' }, state,
      intake.form.length ? answers.el : h('p', { class: 'muted' }, 'The coordinators ask no questions of your role.'),
      hours,
      intake.editable ? h('button', { type: 'submit', class: 'primary' }, mentee ? 'Save my intake'
        : 'Save my intake and confirm my hours')
        : h('p', { class: 'muted' }, 'The intake is closed: your answers change no more.'), said.el);
    form.addEventListener('submit', (event) => {
      event.preventDefault();
      act(form.querySelector('button[type=submit]'), said, async () => {
        const saved = await put(`/programmes/${programme.id}/intake`, { answers: answers.answers(),
          windows: windows(), timezone: zone });
        showState(Boolean(saved.finished_at));
        onFinished(Boolean(saved.finished_at), intake.role);
        said.ok(mentee ? 'Your intake is saved.' : 'Your intake is saved and your weekly hours are confirmed.');
      }, form);
    });
    redraw(el, h('h2', { id: 'pg-my-int-h' }, 'Your intake'), form);
  }, (err) => replace(el, errorBox(err.message)));
  return el;
}
