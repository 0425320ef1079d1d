// A programme's pairings: its coordinators pair a mentor and a mentee and follow every pairing; each of the pair
// sees theirs (its agreement, status and first time), pauses, resumes or ends it, and says how it went once ended.
import { get, patch, post } from '../../api.js';
import { h, field, replace, empty, errorBox, act, badge, when, confirmPanel, loading, messageArea, tz,
  SESSION_STATUS } from '../../ui.js';
import { recommended } from '../matching/matching.js';
import { pairingProposal } from '../bookings/series.js';
import { everyItem, findableList } from '../../lists.js';
import { talkButton } from '../conversations/conversations.js';
import { pairingPlan } from './plan.js';
import { t, tn, formatTag } from '../../words.js';

const STATUS = { proposed: t('Proposed'), active: t('Active'), paused: t('Paused'), ended: t('Ended') };
const TONE = { proposed: 'draft', active: 'accepted', paused: 'draft', ended: 'cancelled' };
// What became of a session: its status, and for a cancelled one who cancelled it and why.
const BY = { mentor: t('Cancelled by the mentor'), mentee: t('Cancelled by the mentee'),
  coordinator: t('Cancelled by a coordinator'), admin: t('Cancelled by an admin'), system: t('Cancelled by the system') };
const CAUSE = { pause: t('the pairing was paused'), end: t('the pairing ended'), leave: t('one of the pair left the programme'),
  removal: t('one of the pair was taken off the programme'), reschedule: t('moved to another time') };
const cancelled = (by) => {
  if (!by) return t('Cancelled');
  return BY[by] || t('Cancelled by {who}', { who: by });
};
const outcome = (one) => {
  if (one.status !== 'cancelled') return SESSION_STATUS[one.status] || one.status;
  return CAUSE[one.cause] ? t('{cancelled}: {cause}', { cancelled: cancelled(one.cancelled_by), cause: CAUSE[one.cause] })
    : cancelled(one.cancelled_by);
};
// Who was found absent from a session.
const ABSENT = { mentee: t('mentee absent'), mentor: t('mentor absent'), none: t('none absent') };
const absent = (who) => ABSENT[who] || t('{who} absent', { who });
// A goal's state, on its badge.
const GOAL = { open: t('open'), done: t('done'), dropped: t('dropped') };
// A role, in a survey's line.
const ROLE = { mentee: t('mentee'), mentor: t('mentor') };
// A day with no time (a paused pairing's day to go on), as the reader's locale writes it.
const onDay = (iso) => new Date(`${iso}T12:00:00`).toLocaleDateString(formatTag(), { dateStyle: 'long' });
const dayFromNow = (days) => new Date(Date.now() + days * 864e5).toISOString().slice(0, 10);
// What a pairing agrees (English says "sessions" whatever their number, as the settings do).
const agreement = (p) => (p.cadence_weeks === 1
  ? tn('every week, {count} sessions of {minutes} minutes', 'every week, {count} sessions of {minutes} minutes',
    p.session_count, { minutes: p.session_minutes })
  : tn('every two weeks, {count} sessions of {minutes} minutes', 'every two weeks, {count} sessions of {minutes} minutes',
    p.session_count, { minutes: p.session_minutes }));

function moves(base, p, messages, refresh) {
  const el = h('div', { class: 'actions', 'data-confirm-for': `pairing-${p.id}` });
  // The pair read "the pairing"; its coordinators, with many, read whose.
  const whose = ['coordinator', 'admin'].includes(p.viewer_role);
  const names = { mentor: p.mentor_name, mentee: p.mentee_name };
  const act1 = (path, label, body = {}) => h('button', { type: 'button',
    onclick: (e) => act(e.currentTarget, messages, async () => { await post(`${base}/${p.id}/${path}`, body); await refresh(); }) }, label);
  // A pause and an end ask why (optional; the other two read it in the history and their notification); a pause
  // may name the day it goes on by itself.
  // `words`: the button's text, and the confirming panel's name.
  const asking = (path, words, says, confirm, danger, until = false) => h('button', { type: 'button',
    class: danger ? 'danger' : '',
    onclick: () => {
      const reason = field(t('Why? (optional: the pair and the coordinators read it)'), { tag: 'textarea', name: 'reason',
        rows: 2, maxlength: 1000 });
      const day = until ? field(t('Goes on by itself on (optional)'), { type: 'date', name: 'resume_on',
        min: dayFromNow(1), max: dayFromNow(366),
        hint: t('That day its remaining sessions are asked for again; leave it empty to resume by hand.') }) : null;
      confirmPanel(el, { label: words.panel, says: [h('p', {}, says), reason, day],
        confirm, danger, keep: t('Keep it as it is'), messages,
        onConfirm: async () => {
          const body = { reason: reason.querySelector('textarea').value.trim() || null };
          if (day && day.querySelector('input').value) body.resume_on = day.querySelector('input').value;
          await post(`${base}/${p.id}/${path}`, body);
          await refresh();
        } });
    } }, words.button);
  if (p.status === 'active') {
    el.append(asking('pause', { button: whose ? t('Pause the pairing of {mentee}', names) : t('Pause the pairing'),
      panel: t('Pause the pairing of {mentor} and {mentee}', names) },
    t('Its coming sessions are cancelled; resuming asks for them again.'), t('Pause it'), false, true));
  }
  if (p.status === 'paused') {
    el.append(act1('resume', whose ? t('Resume the pairing of {mentee}', names) : t('Resume the pairing')));
  }
  if (p.status !== 'ended') {
    el.append(asking('end', { button: whose ? t('End the pairing of {mentee}', names) : t('End the pairing'),
      panel: t('End the pairing of {mentor} and {mentee}', names) },
    t('Its coming sessions are cancelled, and both are asked how it went.'), t('End it'), true));
  }
  return el;
}

function survey(base, p, messages, refresh) {
  if (p.status !== 'ended' || !['mentor', 'mentee'].includes(p.viewer_role)) return null;
  if (p.surveys.length) return h('p', {}, t('You rated it {rating} of 5. Thank you.', { rating: p.surveys[0].rating }));
  const form = h('form', { class: 'stack', 'aria-label': t('How it went') },
    field(t('Your rating, 1 to 5'), { type: 'number', name: 'rating', min: 1, max: 5, required: true }),
    field(t('A few words'), { tag: 'textarea', name: 'comment', rows: 2, maxlength: 2000 }),
    h('button', { type: 'submit', class: 'primary' }, t('Send')));
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    act(form.querySelector('button'), messages, async () => {
      await post(`${base}/${p.id}/survey`, { rating: Number(form.rating.value), comment: form.comment.value });
      await refresh();
    }, form);
  });
  return form;
}

/** A pairing's sessions, goals and the action items not done, folded, read when opened; the pair and coordinators
 * add to them and tick them off while it is not ended. */
function progress(base, p, messages) {
  const url = `${base}/${p.id}`;
  const open = p.status !== 'ended';
  const pair = ['mentor', 'mentee'].includes(p.viewer_role); // the pair open a session's page; coordinators see times
  const sessionsEl = h('div', {}, loading());
  const goalsEl = h('div', {});
  const itemsEl = h('div', {});
  // The forms are made once and kept: a redraw of the lists keeps what is being typed.
  const adding = (name, label, path, words, longest) => {
    const form = h('form', { class: 'inline', 'aria-label': name },
      field(label, { name: 'title', maxlength: longest, required: true }), h('button', { type: 'submit' }, words));
    form.addEventListener('submit', (event) => {
      event.preventDefault();
      act(form.querySelector('button'), messages, async () => {
        await post(`${url}/${path}`, { title: form.title.value });
        form.reset();
        await draw();
      }, form);
    });
    return open ? form : null;
  };
  const tick = (label, fn) => h('button', { type: 'button',
    onclick: (e) => act(e.currentTarget, messages, async () => { await fn(); await draw(); }) }, label);
  async function draw() {
    const [goals, items, held] = await Promise.all([get(`${url}/goals`), get(`${url}/action-items?open=true`),
      get(`${url}/sessions`)]);
    replace(sessionsEl, held.items.length ? h('ol', { class: 'list' }, held.items.map((one) => h('li', {},
      pair ? h('a', { href: `#/sessions/${one.id}` }, when(one.start_time)) : when(one.start_time),
      ` · ${outcome(one)}${one.no_show && !one.status.endsWith('no_show') ? ` · ${absent(one.no_show)}` : ''}`)))
      : empty(t('No session yet.')));
    replace(goalsEl, goals.items.length ? h('ul', { class: 'list' }, goals.items.map((g) => h('li', {}, `${g.title} `,
      badge(GOAL[g.status] || g.status, g.status === 'done' ? 'accepted' : g.status === 'open' ? 'draft' : 'cancelled'),
      open && g.status === 'open' ? tick(t('Mark “{title}” reached', { title: g.title }),
        () => patch(`${url}/goals/${g.id}`, { status: 'done' })) : null)))
      : empty(t('No goal yet.')));
    replace(itemsEl, items.items.length ? h('ul', { class: 'list' }, items.items.map((i) => h('li', {}, `${i.title} `,
      h('span', { class: 'meta' }, `${i.owner_user_id === p.mentee_user_id ? p.mentee_name : p.mentor_name}`
        + `${i.due_on ? ` · ${t('due {day}', { day: i.due_on })}` : ''} `),
      open ? tick(t('Mark “{title}” done', { title: i.title }),
        () => patch(`${url}/action-items/${i.id}`, { done: true })) : null)))
      : empty(t('Nothing waits.')));
  }
  const names = { mentor: p.mentor_name, mentee: p.mentee_name };
  const planEl = h('div', {}); // the coordinators read the pair's plan here (the pair, above)
  const panel = h('div', {}, planEl, h('h4', {}, t('Sessions')), sessionsEl, h('h4', {}, t('Goals')), goalsEl,
    adding(t('New goal of {mentee}', names), t('Goal'), 'goals', t('Add the goal'), 200),
    h('h4', {}, t('Action items not done')), itemsEl,
    adding(t('New action item of {mentee}', names), t('Action item'), 'action-items', t('Add the item'), 1000));
  const details = h('details', {}, h('summary', {}, t('Sessions, goals and action items of {mentor} and {mentee}', names)),
    panel);
  details.addEventListener('toggle', () => {
    if (!details.open) return;
    if (!pair && !planEl.firstChild) replace(planEl, pairingPlan(base, p, messages));
    draw().catch((err) => replace(sessionsEl, errorBox(err.message)));
  });
  return details;
}

/** The programme's proposal of a pairing, for its mentor to accept or decline where it is shown: one answer for its
 * sessions (the series asking for them). */
function proposal(p, refresh) {
  if (p.viewer_role !== 'mentor' || p.status !== 'proposed' || !p.series_id) return null;
  const el = h('div', {});
  const rowMessages = messageArea();
  get(`/booking-series/${p.series_id}`).then((s) => {
    if (s.status !== 'requested') return;
    // The pairing follows the answer once the worker has (a moment): the list is read again until it has.
    const answer = (action) => (e) => act(e.currentTarget, rowMessages, async () => {
      await post(`/booking-series/${s.id}/${action}`, {});
      for (let tries = 0; tries < 30; tries += 1) {
        const now = await get(`/programmes/${p.programme_id}/pairings/${p.id}`);
        if (now.status !== 'proposed') break;
        await new Promise((done) => { setTimeout(done, 500); });
      }
      await refresh();
    });
    const pending = s.occurrences.filter((o) => o.status === 'draft').length;
    replace(el, pairingProposal(s, p.mentee_name, pending, answer, rowMessages, { inProgramme: true }));
  }, (err) => replace(el, errorBox(err.message)));
  return el;
}

function pairingItem(base, p, messages, refresh) {
  const meta = [agreement(p),
    p.first_start && p.status !== 'ended' ? t('from {time}', { time: when(p.first_start) }) : null,
    p.status === 'proposed' && p.viewer_role !== 'mentor' ? t('waiting for the mentor to accept the pairing') : null,
    p.status === 'paused' && p.resume_on ? t('goes on by itself on {day}', { day: onDay(p.resume_on) }) : null,
    p.end_reason ? t('ended: {reason}', { reason: p.end_reason }) : null].filter(Boolean);
  return h('li', { id: `pairing-${p.id}`, tabindex: '-1' },
    h('p', {}, t('{mentor} mentors {mentee}', { mentor: p.mentor_name, mentee: p.mentee_name }), ' ',
      badge(STATUS[p.status], TONE[p.status])),
    h('p', { class: 'meta' }, meta.join(' · ')),
    p.viewer_role === 'coordinator' || p.viewer_role === 'admin'
      ? (p.surveys.length ? h('p', {}, t('Surveys: {ratings}',
        { ratings: p.surveys.map((s) => `${ROLE[s.role] || s.role} ${s.rating}/5`).join(', ') })) : null)
      : null,
    p.viewer_role === 'mentor' ? talkButton(t('Message {name}', { name: p.mentee_name }), { user_id: p.mentee_user_id })
      : p.viewer_role === 'mentee' ? talkButton(t('Message {name}', { name: p.mentor_name }),
        { mentor_profile_id: p.mentor_profile_id }) : null,
    proposal(p, refresh), moves(base, p, messages, refresh),
    p.status !== 'proposed' && ['mentor', 'mentee'].includes(p.viewer_role) ? pairingPlan(base, p, messages) : null,
    p.status === 'proposed' ? null : progress(base, p, messages),
    survey(base, p, messages, refresh));
}

/** The coordinators' form to pair a mentor and a mentee. The mentee list marks (and disables) those with a live
 * pairing, naming their mentor (`paired()`: participation id → mentor's name, as the list last read it); what the
 * form did is said beside it. A pair that breaks one of the programme's hard rules is refused with the rule, and the
 * form then offers to pair them all the same, with a reason. */
function pairForm(base, people, paired, refresh) {
  const said = messageArea();
  const menteeSelect = h('select', { id: 'pair-mentee', name: 'mentee', required: true });
  const drawMentees = () => {
    const chosen = menteeSelect.value;
    const now = paired();
    const waiting = (p) => now.has(p.id) || !p.intake_finished_at;
    const mentees = people.filter((p) => p.role === 'mentee').sort((a, b) => Number(waiting(a)) - Number(waiting(b)));
    replace(menteeSelect, ...mentees.map((p) => h('option', { value: p.id, disabled: waiting(p) },
      now.has(p.id) ? t('{name} (paired with {mentor})', { name: p.display_name, mentor: now.get(p.id) })
        : p.intake_finished_at ? p.display_name : t('{name} (intake not finished)', { name: p.display_name }))));
    if (chosen && !waiting(mentees.find((p) => p.id === chosen) || { id: chosen })) menteeSelect.value = chosen;
  };
  drawMentees();
  const mentors = people.filter((p) => p.role === 'mentor')
    .sort((a, b) => Number(!a.intake_finished_at) - Number(!b.intake_finished_at));
  const mentorSelect = h('select', { id: 'pair-mentor', name: 'mentor', required: true },
    mentors.map((p) => h('option', { value: p.id, disabled: !p.intake_finished_at },
      p.intake_finished_at ? p.display_name : t('{name} (hours not given yet)', { name: p.display_name }))));
  const override = h('div', { class: 'stack', hidden: true });
  const form = h('form', { class: 'stack', 'aria-label': t('Pair a mentor and a mentee') },
    h('div', { class: 'field' }, h('label', { for: mentorSelect.id }, t('Mentor')), mentorSelect),
    h('div', { class: 'field' }, h('label', { for: menteeSelect.id }, t('Mentee')), menteeSelect,
      h('small', { class: 'hint' }, t('Mentees paired already are marked with their mentor: end that pairing to pair them again. Those whose intake is not finished (a mentor’s hours not given) are paired once it is.'))),
    field(t('First session (optional)'), { type: 'datetime-local', name: 'first_start',
      hint: t('In your timezone ({zone}). If empty, the first time in the next four weeks when both are free.', { zone: tz() }) }),
    h('button', { type: 'submit', class: 'primary' }, t('Pair them')), said.el, override);
  const allTheSame = (body) => {
    const reason = field(t('Why pair them all the same?'), { tag: 'textarea', name: 'override_reason', rows: 2,
      maxlength: 1000, hint: t('Kept with the pairing and in the programme’s history.') });
    const button = h('button', { type: 'button', onclick: (e) => {
      const text = reason.querySelector('textarea').value.trim();
      if (!text) { said.error(t('Give a reason to pair them across the rule.')); return; }
      pair(e.currentTarget, { ...body, override_reason: text });
    } }, t('Pair them all the same'));
    replace(override, reason, h('div', { class: 'actions' }, button));
    override.hidden = false;
  };
  async function pair(button, body) {
    button.disabled = true;
    said.clear();
    let made;
    try {
      made = await post(base, body);
    } catch (err) {
      said.error(err);
      if (err.body && err.body.errors && err.body.errors.rule === 'hard_rule') allTheSame(body);
      return;
    } finally {
      if (button.isConnected) button.disabled = false;
    }
    override.hidden = true;
    replace(override);
    await refresh();
    drawMentees();
    const words = { mentor: made.mentor_name, mentee: made.mentee_name, time: when(made.first_start) };
    said.ok(made.override_reason
      ? t('{mentor} and {mentee} are paired: their sessions are asked for from {time} (across the rule: {rules}).',
        { ...words, rules: made.rules_overridden.join('; ') })
      : t('{mentor} and {mentee} are paired: their sessions are asked for from {time}.', words));
  }
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    override.hidden = true;
    pair(form.querySelector('button[type=submit]'), { mentor_participant_id: form.mentor.value,
      mentee_participant_id: form.mentee.value,
      first_start: form.first_start.value ? new Date(form.first_start.value).toISOString() : null });
  });
  return form;
}

/** The pairings of a programme: for its coordinators every one, found by name and status on the server a page at a
 * time, and the form to pair; one's own for the pair. `show`: a pairing's id (a link from the dashboard or a
 * notification), read on its own and shown first, focused; `onChange()` once a pairing was made or moved. */
export function pairingsSection(programme, messages, { runs, show = null, onRead = null, onChange = () => {} }) {
  const base = `/programmes/${programme.id}/pairings`;
  const listEl = h('div', {}, loading());
  const formEl = h('div', {});
  const shownEl = h('div', {});
  let paired = new Map(); // a mentee's participation id → their live pairing's mentor
  const livePairs = async () => {
    const all = await everyItem(base);
    paired = new Map(all.filter((p) => p.status !== 'ended').map((p) => [p.mentee_participant_id, p.mentor_name]));
  };
  let list = null;
  // The pairing followed here (a link's), read on its own and drawn again after each move made on it or below.
  const drawShown = () => get(`${base}/${show}`).then((p) => {
    const item = pairingItem(base, p, messages, refresh);
    replace(shownEl, h('div', { class: 'shown' }, h('h3', {}, t('The pairing you followed')), h('ul', { class: 'list' }, item)));
    return item;
  }, (err) => { replace(shownEl, errorBox(err.message)); return null; });
  async function refresh() {
    if (runs) {
      list.refresh();
      if (show) await drawShown();
      onChange();
      await livePairs();
      return;
    }
    const page = await get(`${base}?limit=100`);
    // A mentee with no pairing, of a programme whose mentees choose, sees the mentors recommended to them.
    const choice = programme.viewer_role === 'mentee' && programme.pairing_mode === 'mentee_choice'
      && page.items.every((p) => p.status === 'ended')
      ? await recommended(programme, messages, refresh) : null;
    replace(listEl, page.items.length ? h('ul', { class: 'list' }, page.items.map((p) => pairingItem(base, p, messages, refresh)))
      : choice ? null : empty(t('You are not paired yet: the coordinators pair you.')), choice);
    if (onRead) onRead(page.items);
  }
  if (runs) {
    const listed = (p) => {
      const li = pairingItem(base, p, messages, refresh);
      if (p.id === show) li.id = `listed-${li.id}`; // shown first, on its own
      return li;
    };
    list = findableList(base, listed, { label: t('Pairings'),
      filters: [['status', t('Status'), Object.entries(STATUS), t('Any status')]], none: t('No pairing matches.') });
    replace(listEl, list.el);
    if (programme.status !== 'closed') {
      Promise.all([everyItem(`/programmes/${programme.id}/participants`, { status: 'active' }), livePairs()])
        .then(([people]) => replace(formEl, pairForm(base, people, () => paired, refresh)),
          (err) => replace(formEl, errorBox(err.message)));
    }
  } else {
    refresh().then(() => {
      const shown = show && listEl.querySelector(`#pairing-${CSS.escape(show)}`);
      if (shown) { shown.scrollIntoView({ block: 'start' }); shown.focus({ preventScroll: true }); }
    }, (err) => replace(listEl, errorBox(err.message)));
  }
  if (show && runs) {
    drawShown().then((item) => {
      if (!item) return;
      item.scrollIntoView({ block: 'start' });
      item.focus({ preventScroll: true });
    });
  }
  return h('section', { 'aria-labelledby': 'pg-pair-h' }, h('h2', { id: 'pg-pair-h' }, runs ? t('Pairings') : t('Your pairing')),
    shownEl, formEl, listEl);
}
