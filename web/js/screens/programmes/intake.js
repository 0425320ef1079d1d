// A programme's intake: its coordinators' two forms (one for mentors, one for mentees), a participant's answers, a
// mentee's weekly windows in their own zone or a mentor's weekly hours (their profile's, which their public listings
// keep too), and a participant's intake as a coordinator reads it. No one is paired before theirs is finished.
import { get, put } from '../../api.js';
import { h, field, replace, redraw, act, errorBox, loading, empty, browserPlace, messageArea } from '../../ui.js';
import { answerFields, answersView, formEditor } from '../bookings/questions.js';
import { t, tn } from '../../words.js';

const DAYS = [t('Monday'), t('Tuesday'), t('Wednesday'), t('Thursday'), t('Friday'), t('Saturday'), t('Sunday')];
const hhmm = (m) => `${String(Math.floor(m / 60)).padStart(2, '0')}:${String(m % 60).padStart(2, '0')}`;
const minutes = (time) => { const [hours, mins] = time.split(':').map(Number); return hours * 60 + mins; };
const windowText = (w) => `${DAYS[w.weekday]} ${hhmm(w.start_minute)}–${hhmm(w.end_minute)}`;

// The words of each audience's form editor, each a whole text.
const EDITOR_WORDS = {
  mentee: { summary: t('The mentees’ form'), name: t('Intake form for mentees'),
    hint: t('Asked of each mentee (30 questions at most); you read their answers with the people.'),
    save: t('Save the mentees’ form'),
    saved: (n) => tn('{count} question saved: mentees answer it.', '{count} questions saved: mentees answer them.', n) },
  mentor: { summary: t('The mentors’ form'), name: t('Intake form for mentors'),
    hint: t('Asked of each mentor (30 questions at most); you read their answers with the people.'),
    save: t('Save the mentors’ form'),
    saved: (n) => tn('{count} question saved: mentors answer it.', '{count} questions saved: mentors answer them.', n) },
};

/** The coordinators' editors of the two intake forms. */
export function intakeEditors(programme) {
  return h('section', { 'aria-labelledby': 'pg-int-h' }, h('h2', { id: 'pg-int-h' }, t('Intake')),
    h('p', { class: 'hint' }, programme.intake_open
      ? t('Participants answer it when they join, and change their answers while it is open.')
      : t('Closed: the answers change no more.')),
    ['mentee', 'mentor'].map((audience) => formEditor({ url: `/programmes/${programme.id}/intake-forms/${audience}`,
      max: 30, directory: true, ...EDITOR_WORDS[audience] })));
}

/** A participant's intake, as a coordinator (or the participant) reads it. */
export function intakeView(intake) {
  const mentor = intake.role === 'mentor';
  const hours = mentor && !intake.hours_suggested
    ? h('p', {}, t('Weekly hours ({zone}): {windows}',
      { zone: intake.timezone, windows: intake.windows.map(windowText).join(', ') })) : null;
  const state = intake.finished_at ? null : h('p', { class: 'warning' }, mentor
    ? t('Not finished: they have not given their hours, so no one is paired with them.')
    : t('Not finished: no one is paired with them until they answer.'));
  if (!intake.answered_at) return h('div', {}, state, hours || empty(t('Not answered yet.')));
  return h('div', {}, state, answersView(intake.answers), hours,
    !mentor && intake.windows.length ? h('p', {}, t('Free ({zone}): {windows}',
      { zone: intake.timezone, windows: intake.windows.map(windowText).join(', ') })) : null);
}

/** A participant's own intake: the form of their role, and a mentee's weekly windows. */
export function intakeForm(programme, onFinished = () => {}) {
  const el = h('section', { 'aria-labelledby': 'pg-my-int-h' }, h('h2', { id: 'pg-my-int-h' }, t('Your intake')), loading());
  get(`/programmes/${programme.id}/intake`).then((intake) => {
    const answers = answerFields(null, intake.form, intake.answers);
    const mentee = intake.role === 'mentee';
    const zone = intake.timezone || browserPlace().timezone || 'UTC';
    const windowsEl = h('ol', { class: 'list' });
    const addWindow = (w = { weekday: 0, start_minute: 1080, end_minute: 1200 }) => {
      const n = windowsEl.children.length + 1;
      const day = field(t('Day of window {n}', { n }), { tag: 'select', name: 'weekday' }, DAYS.map((d, i) => [String(i), d]));
      day.querySelector('select').value = String(w.weekday);
      const row = h('li', { class: 'inline' }, day,
        field(t('From (window {n})', { n }), { type: 'time', name: 'start', value: hhmm(w.start_minute), step: 900 }),
        field(t('To (window {n})', { n }), { type: 'time', name: 'end', value: hhmm(w.end_minute % 1440), step: 900 }),
        h('button', { type: 'button', class: 'link', onclick: () => row.remove() }, t('Remove window {n}', { n })));
      windowsEl.append(row);
    };
    intake.windows.forEach(addWindow);
    const windows = () => [...windowsEl.children].map((row) => ({
      weekday: Number(row.querySelector('[name=weekday]').value), start_minute: minutes(row.querySelector('[name=start]').value),
      end_minute: minutes(row.querySelector('[name=end]').value) || 1440 }));
    const state = h('p', { id: 'pg-my-int-state' });
    const showState = (finished) => {
      state.className = finished ? 'muted' : 'warning';
      state.textContent = finished ? t('Finished: you can be paired.') : (mentee
        ? t('Not finished: save it, and the coordinators can pair you.')
        : t('Not finished: confirm your weekly hours and save, and the coordinators can pair you.'));
    };
    showState(Boolean(intake.finished_at));
    onFinished(Boolean(intake.finished_at), intake.role);
    const said = messageArea(); // beside the button that saved
    const hoursSaid = t('These are your mentor profile’s weekly hours: the same hours serve your public listings.');
    const hoursNext = intake.hours_suggested
      ? t('You have none yet: weekdays 09:00–17:00 are suggested; change them or keep them.')
      : t('Change them here or on your schedule’s page.');
    const hours = mentee ? h('fieldset', {}, h('legend', {}, t('When you are free each week ({zone})', { zone })), windowsEl,
      h('button', { type: 'button', onclick: () => addWindow() }, t('Add a time')))
      : h('fieldset', { 'aria-describedby': 'pg-my-int-hours' }, h('legend', {}, t('Your weekly hours ({zone})', { zone })),
        h('p', { class: 'hint', id: 'pg-my-int-hours' }, `${hoursSaid} ${hoursNext}`),
        windowsEl, h('button', { type: 'button', onclick: () => addWindow() }, t('Add hours')));
    const form = h('form', { class: 'stack', 'aria-label': t('Your intake') }, state,
      intake.form.length ? answers.el : h('p', { class: 'muted' }, t('The coordinators ask no questions of your role.')),
      hours,
      intake.editable ? h('button', { type: 'submit', class: 'primary' }, mentee ? t('Save my intake')
        : t('Save my intake and confirm my hours'))
        : h('p', { class: 'muted' }, t('The intake is closed: your answers change no more.')), said.el);
    form.addEventListener('submit', (event) => {
      event.preventDefault();
      act(form.querySelector('button[type=submit]'), said, async () => {
        const saved = await put(`/programmes/${programme.id}/intake`, { answers: answers.answers(),
          windows: windows(), timezone: zone });
        showState(Boolean(saved.finished_at));
        onFinished(Boolean(saved.finished_at), intake.role);
        said.ok(mentee ? t('Your intake is saved.') : t('Your intake is saved and your weekly hours are confirmed.'));
      }, form);
    });
    redraw(el, h('h2', { id: 'pg-my-int-h' }, t('Your intake')), form);
  }, (err) => replace(el, errorBox(err.message)));
  return el;
}
