// Who takes part in a programme. Its coordinators invite (typed addresses or a CSV file), share join links and see
// its people; a participant sees the others and may leave. An invitation's mail and a join link lead here too.
import { api, get, patch, post, session } from '../../api.js';
import { intakeForm, intakeView } from './intake.js';
import { everyItem, findableList } from '../../lists.js';
import { h, field, replace, empty, errorBox, messageArea, act, badge, when, confirmPanel, loading, browserPlace, linkToken,
  noLink } from '../../ui.js';

const ROLES = [['mentee', 'Mentee'], ['mentor', 'Mentor']];
const summary = (p) => (p.description ? h('p', {}, p.description) : null);
const report = (r) => h('div', { role: 'status' },
  h('p', {}, `${r.invited.length} invited, ${r.skipped.length} already invited or taking part, `
    + `${r.errors.length} refused.`),
  r.errors.length ? h('ul', { class: 'list', 'aria-label': 'Refused rows' },
    r.errors.map((e) => h('li', {}, `Line ${e.line}${e.email ? ` (${e.email})` : ''}: ${e.message}`))) : null);

/** A participant's intake, folded, read when opened. */
function intakeOf(p) {
  const panel = h('div', {}, loading());
  const details = h('details', {}, h('summary', {}, p.intake_finished_at ? `Intake of ${p.display_name}`
    : `Intake of ${p.display_name} (not finished)`), panel);
  details.addEventListener('toggle', () => {
    if (details.open) get(`/programmes/${p.programme_id}/participants/${p.id}/intake`)
      .then((found) => replace(panel, intakeView(found)), (err) => replace(panel, errorBox(err.message)));
  });
  return details;
}

const STEPS = [['invited', 'Invited'], ['joined', 'Joined'], ['intake_done', 'Intake done'], ['matched', 'Matched'],
  ['meeting', 'Meeting'], ['met', 'First session held']];
const STATUSES = [['active', 'Taking part'], ['left', 'Left'], ['removed', 'Taken off']];
const INVITATION_STATUSES = [['pending', 'Waiting'], ['accepted', 'Accepted'], ['declined', 'Declined'],
  ['withdrawn', 'Withdrawn']];

/** The enrolment funnel: a row per step, a column per role, each count a link to the people it counts. */
function funnelTable(base, show) {
  const el = h('div', {}, loading());
  const draw = () => get(`${base}/funnel`).then(({ roles }) => replace(el, h('table', { class: 'funnel' },
    h('caption', {}, 'From invited to a first session: each count lists its people.'),
    h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, 'Step'),
      roles.map((r) => h('th', { scope: 'col' }, r.role === 'mentee' ? 'Mentees' : 'Mentors')))),
    h('tbody', {}, STEPS.map(([step, label]) => h('tr', {}, h('th', { scope: 'row' }, label),
      roles.map((r) => h('td', {}, h('button', { type: 'button', class: 'link',
        'aria-label': `${label}: ${r[step]} ${r.role}s`, onclick: () => show(step, r.role) }, String(r[step]))))))))),
  (err) => replace(el, errorBox(err.message)));
  draw();
  return { el, refresh: draw };
}

/** A mentor's capacity, changed by a coordinator where the mentor is listed. */
function capacityForm(base, p) {
  const said = messageArea();
  const form = h('form', { class: 'inline compact', 'aria-label': `Mentees at once for ${p.display_name}` },
    field('Mentees at once', { type: 'number', name: 'capacity', min: 1, max: 20, value: p.capacity || 2,
      id: `cap-${p.id}` }), h('button', { type: 'submit' }, 'Save'), said.el);
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    act(form.querySelector('button'), said, async () => {
      const saved = await patch(`${base}/participants/${p.id}`, { capacity: Number(form.capacity.value) });
      said.ok(`${p.display_name} takes up to ${saved.capacity} mentees at once.`);
    }, form);
  });
  return form;
}

/** The coordinators' part of a programme's page: invite, join links, the people and their invitations, each list
 * found by search and filters on the server and read a page at a time; and the funnel (`funnel`, shown where the page
 * puts it), whose counts show their people in these lists. */
export function peopleSection(programme, messages) {
  const base = `/programmes/${programme.id}`;
  const linksEl = h('div', {});
  const resultEl = h('div', {});
  const closed = programme.status === 'closed';
  const person = (p) => h('li', {},
    `${p.display_name} (${p.email}) · ${p.role} `, badge(STATUSES.find(([v]) => v === p.status)[1],
      p.status === 'active' ? 'accepted' : 'cancelled'), intakeOf(p),
    p.role === 'mentor' && p.status === 'active' ? capacityForm(base, p) : null,
    p.status === 'removed' ? null : h('button', { type: 'button', class: 'danger',
      onclick: (e) => confirmPanel(e.currentTarget.parentElement, { label: `Take ${p.display_name} off`,
        says: h('p', {}, 'Their record stays; only a new invitation brings them back.'), confirm: 'Take them off',
        danger: true, messages, onConfirm: async () => { await post(`${base}/participants/${p.id}/remove`); refresh(); } }) },
    'Take off'));
  const invitation = (i) => {
    const said = messageArea();
    const sent = i.emailed_at ? ` · mailed ${when(i.emailed_at)}` : ` · mail ${i.email_status}`;
    return h('li', {},
      `${i.name ? `${i.name} · ` : ''}${i.email} · ${i.role}${i.capacity ? `, up to ${i.capacity} mentees` : ''}`
        + ` · invited ${when(i.created_at)}${sent}`
        + `${i.status === 'pending' ? ` · until ${when(i.expires_at)}` : ''} `, badge(i.status),
      i.status === 'pending' ? h('div', { class: 'actions' },
        i.email_status === 'pending' ? null : h('button', { type: 'button', onclick: (e) => act(e.currentTarget, said, async () => {
          const again = await post(`${base}/invitations/${i.id}/resend`).catch((err) => {
            const at = err.body && err.body.errors && err.body.errors.retry_at;
            throw at ? new Error(`Mailed less than a day ago: it may go again from ${when(at)}.`) : err;
          });
          said.ok(`Sent again to ${i.email}: it works until ${when(again.expires_at)}.`);
        }) }, 'Send again'),
        h('button', { type: 'button', onclick: (e) => act(e.currentTarget, said, async () => {
          await post(`${base}/invitations/${i.id}/withdraw`); refresh();
        }) }, 'Withdraw')) : null, said.el);
  };
  const people = findableList(`${base}/participants`, person, { label: 'People taking part',
    filters: [['role', 'Role', ROLES], ['status', 'Status', STATUSES], ['step', 'Step', STEPS.slice(2)
      .concat([['intake_due', 'Intake not done'], ['unpaired', 'Not paired']])]] });
  const invites = findableList(`${base}/invitations`, invitation, { label: 'Invitations',
    filters: [['status', 'Status', INVITATION_STATUSES]], none: 'No invitation matches.' });
  const funnel = funnelTable(base, (step, role) => (step === 'invited' ? invites.set({ status: 'pending' })
    : people.set({ role, status: 'active', step: step === 'joined' ? '' : step })));
  async function drawLinks() {
    const links = await get(`${base}/join-links?limit=50`);
    replace(linksEl, links.items.length ? h('ul', { class: 'list' }, links.items.map((l) => {
      const url = `${location.origin}${location.pathname}#/join?token=${l.token}`;
      return h('li', {}, `${l.role} · ${l.uses} of ${l.max_uses} used · until ${when(l.expires_at)} `,
        badge(l.works ? 'works' : 'ended', l.works ? 'accepted' : 'cancelled'),
        l.works ? h('input', { readonly: true, value: url, 'aria-label': `Join link for ${l.role}s`, class: 'copy' }) : null,
        l.works ? h('button', { type: 'button', onclick: (e) => act(e.currentTarget, messages, async () => {
          await navigator.clipboard.writeText(url);
          messages.ok(`The join link for ${l.role}s is copied.`);
        }) }, `Copy the link for ${l.role}s`) : null,
        l.works ? h('button', { type: 'button', onclick: (e) => act(e.currentTarget, messages, async () => {
          await post(`${base}/join-links/${l.id}/revoke`); await drawLinks();
        }) }, 'Revoke') : null);
    })) : empty('No join link yet.'));
  }
  const refresh = () => { people.refresh(); invites.refresh(); funnel.refresh(); };
  const typed = h('form', { class: 'stack', 'aria-label': 'Invite by address' },
    field('Addresses', { tag: 'textarea', name: 'emails', rows: 3, required: true,
      hint: 'One or more, separated by commas or new lines.' }),
    field('As', { tag: 'select', name: 'role' }, ROLES),
    h('button', { type: 'submit', class: 'primary' }, 'Invite'));
  typed.addEventListener('submit', (event) => {
    event.preventDefault();
    act(typed.querySelector('button'), messages, async () => {
      const emails = typed.emails.value.split(/[\s,;]+/).filter(Boolean);
      replace(resultEl, report(await post(`${base}/invitations`,
        { invitees: emails.map((email) => ({ email, role: typed.role.value })) })));
      typed.emails.value = '';
      await refresh();
    }, typed);
  });
  const file = h('form', { class: 'stack', 'aria-label': 'Invite from a file' },
    field('CSV file', { type: 'file', name: 'file', accept: '.csv,text/csv', required: true,
      hint: 'A first line naming the columns name, email, role and capacity (a mentor’s mentees at once); UTF-8.' }),
    h('button', { type: 'submit', class: 'primary' }, 'Invite from the file'));
  file.addEventListener('submit', (event) => {
    event.preventDefault();
    act(file.querySelector('button'), messages, async () => {
      const form = new FormData();
      form.append('file', file.file.files[0]);
      replace(resultEl, report(await api('POST', `${base}/invitations/upload`, form)));
      file.reset();
      await refresh();
    }, file);
  });
  const linkForm = h('form', { class: 'stack', 'aria-label': 'New join link' },
    field('Joins as', { tag: 'select', name: 'role' }, ROLES),
    field('Uses', { type: 'number', name: 'max_uses', min: 1, max: 10000, value: 50, required: true }),
    field('Works for (days)', { type: 'number', name: 'days', min: 1, max: 365, value: 14, required: true }),
    h('button', { type: 'submit' }, 'Make a join link'));
  linkForm.addEventListener('submit', (event) => {
    event.preventDefault();
    act(linkForm.querySelector('button'), messages, async () => {
      await post(`${base}/join-links`, { role: linkForm.role.value, max_uses: Number(linkForm.max_uses.value),
        expires_at: new Date(Date.now() + Number(linkForm.days.value) * 86400000).toISOString() });
      await drawLinks();
    }, linkForm);
  });
  const section = h('section', { 'aria-labelledby': 'pg-ppl-h' }, h('h2', { id: 'pg-ppl-h' }, 'People'),
    closed ? null : h('div', { class: 'grid' }, typed, file), resultEl,
    h('h3', {}, 'Who takes part'), people.el, h('h3', {}, 'Invitations'), invites.el,
    h('h3', {}, 'Join links'), closed ? null : linkForm, linksEl);
  drawLinks().catch((err) => replace(linksEl, errorBox(err.message)));
  return { section, refresh, funnel: h('section', { 'aria-labelledby': 'pg-fun-h' },
    h('h2', { id: 'pg-fun-h' }, 'Enrolment'), funnel.el) };
}

/** A participant's view of their programme: who else takes part, their own part, and leaving. */
export function participantSection(programme, messages, go, onIntake = () => {}) {
  const base = `/programmes/${programme.id}`;
  // Who else takes part: folded, found by name and role on the server, a page at a time (a programme of hundreds).
  const others = h('div', {});
  const peopleEl = h('details', {}, h('summary', {}, 'Who takes part'), others);
  peopleEl.addEventListener('toggle', () => {
    if (peopleEl.open && !others.firstChild) {
      others.append(findableList(`${base}/participants`, (p) => h('li', {}, `${p.display_name} · ${p.role}`),
        { label: 'People taking part', filters: [['role', 'Role', ROLES]] }).el);
    }
  });
  if (programme.viewer_role === 'mentor') {
    everyItem(`${base}/participants`, { role: 'mentor' }).then((mentors) => {
      const mine = mentors.find((p) => p.id === programme.participant_id);
      const input = actions.querySelector('input[name=capacity]');
      if (mine && input) input.value = mine.capacity;
    }, (err) => messages.error(err));
  }
  const part = h('p', {}, `You take part as a ${programme.viewer_role}.`);
  const actions = h('div', { class: 'actions' });
  if (programme.viewer_role === 'mentor') {
    const capacity = h('form', { class: 'inline' }, field('Mentees at once', { type: 'number', name: 'capacity',
      min: 1, max: 20, value: 2 }), h('button', { type: 'submit' }, 'Save'));
    capacity.addEventListener('submit', (event) => {
      event.preventDefault();
      act(capacity.querySelector('button'), messages, async () => {
        await patch(`${base}/participants/${programme.participant_id}`, { capacity: Number(capacity.capacity.value) });
        messages.ok('Saved.');
      }, capacity);
    });
    actions.append(capacity);
  }
  const leaving = h('div', { class: 'actions apart' });
  leaving.append(h('button', { type: 'button', class: 'danger', onclick: () => {
    const why = field('Why? (optional: its coordinators and your mentor or mentee read it)', { tag: 'textarea',
      name: 'reason', rows: 2, maxlength: 1000 });
    confirmPanel(leaving, {
      label: 'Leave the programme', says: [h('p', {}, 'Your pairing ends and its coming sessions are cancelled; the '
        + 'other of the pair is told. Its coordinators are told. Your record stays: a new invitation or join link '
        + 'brings you back.'), why],
      confirm: 'Leave', danger: true, keep: 'Stay', messages,
      onConfirm: async () => {
        await post(`${base}/leave`, { reason: why.querySelector('textarea').value.trim() || null });
        go('/programmes');
      } });
  } }, 'Leave the programme'));
  return h('div', {}, h('section', { 'aria-labelledby': 'pg-me-h' }, h('h2', { id: 'pg-me-h' }, 'Your part'), part,
    actions, leaving, peopleEl), intakeForm(programme, onIntake));
}

/** The invitations of the user's confirmed address, each joined with one click. */
export async function myInvitations(messages, go) {
  const page = await get('/programmes/invitations/mine');
  if (!page.items.length) return null;
  return h('section', { 'aria-labelledby': 'pg-inv-h' }, h('h2', { id: 'pg-inv-h' }, 'Invitations for you'),
    h('ul', { class: 'list' }, page.items.map((i) => h('li', {}, `${i.programme.name}, as a ${i.role} `,
      h('button', { type: 'button', class: 'primary', onclick: (e) => act(e.currentTarget, messages, async () => {
        await post(`/programmes/invitations/${i.id}/accept`);
        go(`/programmes/${i.programme.id}`);
      }) }, `Join ${i.programme.name}`)))));
}

/** `#/programme-invitation?token=…`: what the invitation is for; register with it, or join signed in. */
export async function invitationPage(main, { query, go, signedIn }) {
  const token = linkToken(query, 'programme-invitation');
  const messages = messageArea();
  main.append(h('h1', {}, 'Your invitation'));
  if (!token) { main.append(noLink()); return; }
  const found = await api('POST', '/programme-invitations/preview', { token }, { authed: false });
  main.append(h('p', {}, `You are invited to ${found.programme.name} as a ${found.role}.`), summary(found.programme),
    messages.el);
  if (!found.usable) { main.append(errorBox('This invitation can no longer be answered: ask the programme’s coordinators.')); return; }
  const decline = h('button', { type: 'button', onclick: (e) => act(e.currentTarget, messages, async () => {
    await api('POST', '/programme-invitations/decline', { token }, { authed: false });
    replace(main, h('h1', {}, 'Invitation declined'), h('p', {}, 'The coordinators see that you declined.'));
  }) }, 'Decline');
  if (session.signedIn) {
    main.append(h('div', { class: 'actions' }, h('button', { type: 'button', class: 'primary',
      onclick: (e) => act(e.currentTarget, messages, async () => {
        await post('/programme-invitations/accept', { token });
        go(`/programmes/${found.programme.id}`);
      }) }, `Join ${found.programme.name}`), decline));
  } else if (found.account_exists) {
    sessionStorage.setItem('mentorship.after', `/programme-invitation?token=${token}`);
    main.append(h('p', {}, `${found.email} has an account: `, h('a', { href: '#/signin' }, 'sign in to accept'), '.'),
      h('div', { class: 'actions' }, decline));
  } else {
    const form = h('form', { class: 'card narrow', novalidate: true },
      h('p', {}, `Your account will be ${found.email}.`),
      field('Your name', { name: 'display_name', autocomplete: 'name', value: found.name || '' }),
      field('Password', { type: 'password', name: 'password', autocomplete: 'new-password', required: true,
        hint: 'At least 12 characters, and not a common password.' }),
      h('button', { type: 'submit', class: 'primary' }, 'Create my account and join'));
    form.addEventListener('submit', (event) => {
      event.preventDefault();
      act(form.querySelector('button'), messages, async () => {
        session.store(await api('POST', '/programme-invitations/register', { token, refresh_cookie: true,
          display_name: form.display_name.value.trim(), password: form.password.value,
          ...browserPlace() }, { authed: false }));
        sessionStorage.setItem('mentorship.after', `/programmes/${found.programme.id}`);
        signedIn();
      }, form);
    });
    main.append(form, h('div', { class: 'actions' }, decline));
  }
}

/** `#/join?token=…`: a join link: what it joins, and one button; signed out, the programme named and a way to sign
 * in or register that comes back here. */
export async function joinPage(main, { query, go }) {
  const token = query.get('token') || '';
  const messages = messageArea();
  if (!session.signedIn) {
    const named = await api('POST', '/programme-join-links/preview', { token }, { authed: false }).catch((err) => {
      main.append(h('h1', {}, 'Join a programme'), errorBox(err.status === 422
        ? 'This join link no longer works: ask the programme\u2019s coordinators for a new one.' : err.message));
      return null;
    });
    if (!named) return;
    sessionStorage.setItem('mentorship.after', `/join?token=${token}`);
    main.append(h('h1', {}, `Join ${named.programme.name}`), summary(named.programme),
      h('p', {}, `You join as a ${named.role}. `, h('a', { href: '#/signin' }, 'Sign in'), ' or ',
        h('a', { href: '#/signup' }, 'create an account'), ' to join.'));
    return;
  }
  const found = await post('/programmes/join/preview', { token });
  main.append(h('h1', {}, `Join ${found.programme.name}`), summary(found.programme),
    h('p', {}, `You join as a ${found.role}.`), messages.el,
    h('button', { type: 'button', class: 'primary', onclick: (e) => act(e.currentTarget, messages, async () => {
      await post('/programmes/join', { token });
      go(`/programmes/${found.programme.id}`);
    }) }, 'Join'));
}
