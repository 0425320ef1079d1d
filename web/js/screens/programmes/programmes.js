// Programmes: the ones you coordinate or take part in (an administrator: every one, and a form to create one with
// its coordinators), and one programme's page: for those who run it, its settings, its moves (open enrolment,
// start, close), its people and its history; for a participant, the programme and who else takes part.
import { get, patch, post } from '../../api.js';
import { currentUser } from '../../state.js';
import { h, field, replace, loading, empty, errorBox, messageArea, act, badge, when, confirmPanel } from '../../ui.js';
import { myInvitations, participantSection, peopleSection } from './enrolment.js';
import { intakeEditors } from './intake.js';
import { planEditor, planProgress } from './plan.js';
import { nudgesSection } from './nudges.js';
import { pairingsSection } from './pairings.js';
import { exportDownloads } from '../reports/exports.js';
import { talkButton } from '../conversations/conversations.js';
import { announcementsSection } from '../conversations/announcements.js';
import { t, tParts, formatTag } from '../../words.js';

const STATUS = { draft: t('Draft'), enrolling: t('Enrolling'), running: t('Running'), closed: t('Closed') };
// What a move made of the programme, said once it is made.
const NOW = { draft: t('The programme is draft.'), enrolling: t('The programme is enrolling.'),
  running: t('The programme is running.'), closed: t('The programme is closed.') };
const MOVES = {
  draft: [['open-enrolment', t('Open enrolment')], ['start', t('Start')], ['close', t('Close')]],
  enrolling: [['start', t('Start')], ['close', t('Close')]],
  running: [['close', t('Close')]],
  closed: [],
};
const RUNS = new Set(['coordinator', 'admin']);
const dates = (p) => {
  if (!p.starts_on) return t('Ongoing');
  return p.ends_on ? t('{first} to {last}', { first: p.starts_on, last: p.ends_on })
    : t('{first} to open end', { first: p.starts_on });
};
// The viewer's part in a programme, in its list.
const part = (role) => {
  if (RUNS.has(role)) return t('you run it');
  if (role === 'mentor') return t('you take part as a mentor');
  if (role === 'mentee') return t('you take part as a mentee');
  return t('you take part as a {role}', { role });
};
const statusBadge = (p) => badge(STATUS[p.status] || p.status, p.status);

/** Each address typed (one per line or comma), once. */
const addresses = (text) => [...new Set(text.split(/[\s,;]+/).map((e) => e.trim().toLowerCase()).filter(Boolean))];

export async function programmesPage(main, { go }) {
  const me = await currentUser();
  main.append(h('h1', {}, t('Programmes')),
    h('p', {}, h('a', { href: '#/library' }, t('The platform’s library')), ' ', t('of resources shared with every programme.')));
  const invited = await myInvitations(messageArea(), go).catch(() => null);
  if (invited) main.append(invited);
  const listEl = h('div', {}, loading());
  main.append(h('section', { 'aria-labelledby': 'pg-list-h' },
    h('h2', { id: 'pg-list-h' }, me.is_admin ? t('Every programme') : t('Your programmes')), listEl));
  if (me.is_admin) {
    const messages = messageArea();
    const form = h('form', { class: 'stack', 'aria-labelledby': 'pg-new-h' },
      field(t('Name'), { name: 'name', required: true, maxlength: 120 }),
      field(t('Description'), { tag: 'textarea', name: 'description', maxlength: 4000, rows: 3 }),
      field(t('First day'), { type: 'date', name: 'starts_on', hint: t('Leave both days empty for an ongoing programme.') }),
      field(t('Last day'), { type: 'date', name: 'ends_on' }),
      field(t('Coordinators’ email addresses'), { tag: 'textarea', name: 'coordinators', rows: 2,
        hint: t('One or more, separated by commas or new lines: a confirmed account runs the programme at once; any other address is invited by mail, and runs it once the address is confirmed.') }),
      h('button', { type: 'submit', class: 'primary' }, t('Create the programme')), messages.el);
    form.addEventListener('submit', (event) => {
      event.preventDefault();
      act(form.querySelector('button[type=submit]'), messages, async () => {
        const body = { name: form.name.value.trim(), description: form.description.value,
          starts_on: form.starts_on.value || null, ends_on: form.ends_on.value || null, coordinator_user_ids: [] };
        const made = await post('/programmes', body);
        for (const email of addresses(form.coordinators.value)) {
          await post(`/admin/programmes/${made.id}/coordinator-invitations`,
            { email, reason: 'Named when the programme was created' });
        }
        go(`/programmes/${made.id}`);
      }, form);
    });
    main.append(h('section', { 'aria-labelledby': 'pg-new-h' }, h('h2', { id: 'pg-new-h' }, t('New programme')), form));
  }
  try {
    const page = await get('/programmes?limit=50');
    replace(listEl, page.items.length ? h('ul', { class: 'list' }, page.items.map((p) => h('li', {},
      h('a', { href: `#/programmes/${p.id}` }, p.name), ' ', statusBadge(p),
      h('span', { class: 'meta' }, ` · ${dates(p)} · ${part(p.viewer_role)}`))))
      : empty(me.is_admin ? t('No programme yet: create one below.') : t('You take part in no programme yet.')));
  } catch (err) { replace(listEl, errorBox(err.message)); }
}

/** A live pairing's state, each a whole sentence: its sessions are in a mentor's Requests, a mentee's My bookings. */
function livePairing(status, mentor, name) {
  if (status === 'active') {
    return mentor ? t('Your pairing with {name} is active: its sessions are in Requests.', { name })
      : t('Your pairing with {name} is active: its sessions are in My bookings.', { name });
  }
  if (status === 'paused') {
    return mentor ? t('Your pairing with {name} is paused: its sessions are in Requests.', { name })
      : t('Your pairing with {name} is paused: its sessions are in My bookings.', { name });
  }
  return mentor ? t('Your pairing with {name} is {status}: its sessions are in Requests.', { name, status })
    : t('Your pairing with {name} is {status}: its sessions are in My bookings.', { name, status });
}

/** What a participant must do next, said at the top of their programme's page from what its sections read: their
 * intake (a mentor's hours), the pairing to accept or waited for, the survey of an ended one. */
export function nextStep(role) {
  const el = h('p', { class: 'next-step', hidden: true });
  let finished = null;
  let pairings = null;
  const draw = () => {
    if (finished === null || pairings === null) return;
    const live = pairings.find((p) => p.status !== 'ended');
    const unsaid = pairings.find((p) => p.status === 'ended' && !p.surveys.length);
    const other = (p) => (role === 'mentor' ? p.mentee_name : p.mentor_name);
    let text;
    if (!finished) {
      text = role === 'mentor' ? t('Next: confirm your weekly hours in your intake below, so the coordinators can pair you.')
        : t('Next: finish your intake below, so the coordinators can pair you.');
    } else if (live && live.status === 'proposed') {
      text = role === 'mentor' ? t('Next: accept or decline the pairing with {name} below.', { name: other(live) })
        : t('Next: {name} is asked to accept your pairing; you are told when they do.', { name: other(live) });
    } else if (unsaid && !live) {
      text = t('Next: say how your pairing with {name} went, below.', { name: other(unsaid) });
    } else if (live) {
      text = livePairing(live.status, role === 'mentor', other(live));
    } else {
      text = t('Nothing waits for you now: your intake is finished, and you are told when you are paired.');
    }
    el.textContent = text;
    el.hidden = false;
  };
  return { el, intake: (done) => { finished = done; draw(); }, pairings: (items) => { pairings = items; draw(); } };
}

export async function programmePage(main, { params: [id], query, go }) {
  let programme = await get(`/programmes/${id}`);
  const messages = messageArea();
  if (!RUNS.has(programme.viewer_role)) {
    const next = nextStep(programme.viewer_role);
    main.append(...[h('p', { class: 'crumbs' }, h('a', { href: '#/programmes' }, t('Programmes')), ' › ', programme.name),
      h('h1', {}, programme.name), h('p', {}, statusBadge(programme), ` ${dates(programme)}`),
      programme.description ? h('p', {}, programme.description) : null, next.el,
      h('div', { class: 'actions' }, talkButton(t('Message the coordinators'), { programme_id: programme.id }),
        h('a', { href: `#/programmes/${programme.id}/library` }, t('Library of resources'))), messages.el,
      pairingsSection(programme, messages, { runs: false, show: query.get('pairing'), onRead: next.pairings }),
      participantSection(programme, messages, go, next.intake)].filter(Boolean));
    return;
  }
  const head = h('div', {});
  const movesEl = h('div', { class: 'actions' });
  const historyEl = h('ol', { class: 'list' });
  const settings = h('form', { class: 'stack', 'aria-labelledby': 'pg-agree-h' });
  const settingsSaid = messageArea();

  function render() {
    settingsSaid.clear();
    replace(head, h('h1', {}, programme.name), h('p', {}, statusBadge(programme), ` ${dates(programme)}`),
      programme.description ? h('p', {}, programme.description) : null,
      programme.coordinator_names.length ? h('p', { class: 'meta' }, t('Run by {names}.',
        { names: new Intl.ListFormat(formatTag(), { type: 'conjunction' }).format(programme.coordinator_names) })) : null);
    const move = async (path) => {
      programme = await post(`/programmes/${id}/${path}`);
      render();
      await renderHistory();
      messages.ok(NOW[programme.status]);
    };
    // Closing cannot be undone: it asks first.
    replace(movesEl, MOVES[programme.status].map(([path, label]) => h('button', { type: 'button',
      class: path === 'close' ? 'danger' : 'primary',
      onclick: (e) => (path === 'close'
        ? confirmPanel(movesEl, { label: t('Close the programme'), says: h('p', {},
          t('Closing keeps its record, and it changes no more: no new pairing, no new setting.')),
        confirm: t('Close the programme'), danger: true, keep: t('Keep it open'), messages, onConfirm: () => move(path) })
        : act(e.currentTarget, messages, () => move(path))) }, label)));
    const closed = programme.status === 'closed';
    replace(settings,
      field(t('Meets every'), { tag: 'select', name: 'cadence_weeks', disabled: closed },
        [['1', t('week')], ['2', t('two weeks')]]),
      field(t('Session length (minutes)'), { type: 'number', name: 'session_minutes', min: 15, max: 240,
        value: programme.session_minutes, disabled: closed }),
      field(t('Sessions per pairing'), { type: 'number', name: 'session_count', min: 1, max: 26,
        value: programme.session_count, disabled: closed }),
      field(t('Participants may still change their intake'), { type: 'checkbox', name: 'intake_open',
        checked: programme.intake_open, disabled: closed }),
      closed ? h('p', { class: 'muted' }, t('A closed programme keeps its record and changes no more.'))
        : h('button', { type: 'submit' }, t('Save the settings')), settingsSaid.el);
    settings.cadence_weeks.value = String(programme.cadence_weeks);
  }
  settings.addEventListener('submit', (event) => {
    event.preventDefault();
    act(settings.querySelector('button[type=submit]'), settingsSaid, async () => {
      programme = await patch(`/programmes/${id}`, { cadence_weeks: Number(settings.cadence_weeks.value),
        session_minutes: Number(settings.session_minutes.value), session_count: Number(settings.session_count.value),
        intake_open: settings.intake_open.checked });
      render();
      settingsSaid.ok(t('Saved: new pairings take these settings.'));
    }, settings);
  });
  async function renderHistory() {
    const page = await get(`/programmes/${id}/history?limit=100`);
    replace(historyEl, page.items.map((e) => h('li', {}, e.summary,
      h('span', { class: 'meta' }, ` · ${when(e.at)}`))));
  }

  render();
  const people = peopleSection(programme, messages);
  main.append(h('p', { class: 'crumbs' }, h('a', { href: '#/programmes' }, t('Programmes')), ' › ', programme.name),
    head, movesEl, messages.el,
    h('div', { class: 'programme-layout' },
      h('div', { class: 'programme-main' },
        pairingsSection(programme, messages, { runs: true, show: query.get('pairing'), onChange: people.refresh }),
        people.section, announcementsSection(id)),
      h('aside', { class: 'programme-side', 'aria-label': t('The programme at a glance') },
        people.funnel,
        h('section', { 'aria-labelledby': 'pg-go-h' }, h('h2', { id: 'pg-go-h' }, t('Matching and numbers')),
          h('p', {}, tParts('{matching}: how it pairs its people, runs of the match and their drafts',
            { matching: h('a', { href: `#/programmes/${id}/matching` }, t('Matching')) })),
          h('p', {}, tParts('{dashboard}: its sessions week by week, attendance, pairs at risk and match quality',
            { dashboard: h('a', { href: `#/programmes/${id}/report` }, t('Dashboard')) })),
          h('p', {}, tParts('{library}: the resources its plan suggests and its people search',
            { library: h('a', { href: `#/programmes/${id}/library` }, t('Library')) }))),
        exportDownloads(id),
        h('details', { class: 'panel settings' }, h('summary', {}, h('h2', { id: 'pg-set-h' }, t('Settings'))),
          h('h3', { id: 'pg-agree-h' }, t('What its pairings agree')), settings, intakeEditors(programme),
          planEditor(programme)),
        planProgress(programme),
        nudgesSection(id),
        h('section', { 'aria-labelledby': 'pg-his-h' }, h('h2', { id: 'pg-his-h' }, t('History')), historyEl))));
  await renderHistory();
}