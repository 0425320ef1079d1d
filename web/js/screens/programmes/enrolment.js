// Who takes part in a programme. Its coordinators invite (typed addresses or a CSV file), share join links and see
// its people; a participant sees the others and may leave. An invitation's mail and a join link lead here too.
import { api, get, patch, post, session } from '../../api.js';
import { intakeForm, intakeView } from './intake.js';
import { everyItem, findableList } from '../../lists.js';
import { h, field, replace, empty, errorBox, messageArea, act, badge, when, confirmPanel, loading, browserPlace, linkToken,
  noLink } from '../../ui.js';
import { t, tn, tParts } from '../../words.js';

const ROLES = [['mentee', t('Mentee')], ['mentor', t('Mentor')]];
// A role as a list's line names it.
const ROLE = { mentee: t('mentee'), mentor: t('mentor') };
const roleWord = (value) => ROLE[value] || value;
// The texts that name a role, each whole, by role.
const JOIN_LINK = {
  mentee: { label: t('Join link for mentees'), copied: t('The join link for mentees is copied.'),
    copy: t('Copy the link for mentees') },
  mentor: { label: t('Join link for mentors'), copied: t('The join link for mentors is copied.'),
    copy: t('Copy the link for mentors') },
};
const PART = { mentee: t('You take part as a mentee.'), mentor: t('You take part as a mentor.') };
const JOINS = { mentee: t('You join as a mentee.'), mentor: t('You join as a mentor.') };
const summary = (p) => (p.description ? h('p', {}, p.description) : null);
const report = (r) => h('div', { role: 'status' },
  h('p', {}, t('{invited} invited, {skipped} already invited or taking part, {refused} refused.',
    { invited: r.invited.length, skipped: r.skipped.length, refused: r.errors.length })),
  r.errors.length ? h('ul', { class: 'list', 'aria-label': t('Refused rows') },
    r.errors.map((e) => h('li', {}, e.email ? t('Line {line} ({email}): {message}', e)
      : t('Line {line}: {message}', e)))) : null);

/** A participant's intake, folded, read when opened. */
function intakeOf(p) {
  const panel = h('div', {}, loading());
  const details = h('details', {}, h('summary', {}, p.intake_finished_at ? t('Intake of {name}', { name: p.display_name })
    : t('Intake of {name} (not finished)', { name: p.display_name })), panel);
  details.addEventListener('toggle', () => {
    if (details.open) get(`/programmes/${p.programme_id}/participants/${p.id}/intake`)
      .then((found) => replace(panel, intakeView(found)), (err) => replace(panel, errorBox(err.message)));
  });
  return details;
}

const STEPS = [['invited', t('Invited')], ['joined', t('Joined')], ['intake_done', t('Intake done')], ['matched', t('Matched')],
  ['meeting', t('Meeting')], ['met', t('First session held')]];
const STATUSES = [['active', t('Taking part')], ['left', t('Left')], ['removed', t('Taken off')]];
const INVITATION_STATUSES = [['pending', t('Waiting')], ['accepted', t('Accepted')], ['declined', t('Declined')],
  ['withdrawn', t('Withdrawn')]];
// An invitation's badge, and its mail's state when not mailed yet.
const INVITATION_BADGE = { pending: t('pending'), accepted: t('accepted'), declined: t('declined'),
  withdrawn: t('withdrawn') };
const MAIL = { pending: t('mail pending'), sent: t('mail sent'), failed: t('mail failed'), none: t('mail none') };
// A funnel's count, named for the screen reader: every count says its role in the plural, as the table's heads do.
const counted = (step, count, who) => (who === 'mentee'
  ? tn('{step}: {count} mentees', '{step}: {count} mentees', count, { step })
  : tn('{step}: {count} mentors', '{step}: {count} mentors', count, { step }));

/** The enrolment funnel: a row per step, a column per role, each count a link to the people it counts. */
function funnelTable(base, show) {
  const el = h('div', {}, loading());
  const draw = () => get(`${base}/funnel`).then(({ roles }) => replace(el, h('table', { class: 'funnel' },
    h('caption', {}, t('From invited to a first session: each count lists its people.')),
    h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, t('Step')),
      roles.map((r) => h('th', { scope: 'col' }, r.role === 'mentee' ? t('Mentees') : t('Mentors'))))),
    h('tbody', {}, STEPS.map(([step, label]) => h('tr', {}, h('th', { scope: 'row' }, label),
      roles.map((r) => h('td', {}, h('button', { type: 'button', class: 'link',
        'aria-label': counted(label, r[step], r.role), onclick: () => show(step, r.role) }, String(r[step]))))))))),
  (err) => replace(el, errorBox(err.message)));
  draw();
  return { el, refresh: draw };
}

/** A mentor's capacity, changed by a coordinator where the mentor is listed. */
function capacityForm(base, p) {
  const said = messageArea();
  const form = h('form', { class: 'inline compact', 'aria-label': t('Mentees at once for {name}', { name: p.display_name }) },
    field(t('Mentees at once'), { type: 'number', name: 'capacity', min: 1, max: 20, value: p.capacity || 2,
      id: `cap-${p.id}` }), h('button', { type: 'submit' }, t('Save')), said.el);
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    act(form.querySelector('button'), said, async () => {
      const saved = await patch(`${base}/participants/${p.id}`, { capacity: Number(form.capacity.value) });
      said.ok(tn('{name} takes up to {count} mentees at once.', '{name} takes up to {count} mentees at once.',
        saved.capacity, { name: p.display_name }));
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
    `${p.display_name} (${p.email}) · ${roleWord(p.role)} `, badge(STATUSES.find(([v]) => v === p.status)[1],
      p.status === 'active' ? 'accepted' : 'cancelled'), intakeOf(p),
    p.role === 'mentor' && p.status === 'active' ? capacityForm(base, p) : null,
    p.status === 'removed' ? null : h('button', { type: 'button', class: 'danger',
      onclick: (e) => confirmPanel(e.currentTarget.parentElement, { label: t('Take {name} off', { name: p.display_name }),
        says: h('p', {}, t('Their record stays; only a new invitation brings them back.')), confirm: t('Take them off'),
        danger: true, messages, onConfirm: async () => { await post(`${base}/participants/${p.id}/remove`); refresh(); } }) },
    t('Take off')));
  const invitation = (i) => {
    const said = messageArea();
    const sent = i.emailed_at ? t('mailed {time}', { time: when(i.emailed_at) })
      : MAIL[i.email_status] || t('mail {status}', { status: i.email_status });
    const as = i.capacity ? tn('{role}, up to {count} mentees', '{role}, up to {count} mentees', i.capacity,
      { role: roleWord(i.role) }) : roleWord(i.role);
    return h('li', {},
      [i.name, i.email, as, t('invited {time}', { time: when(i.created_at) }), sent,
        i.status === 'pending' ? t('until {time}', { time: when(i.expires_at) }) : ''].filter(Boolean).join(' · ') + ' ',
      badge(INVITATION_BADGE[i.status] || i.status, i.status),
      i.status === 'pending' ? h('div', { class: 'actions' },
        i.email_status === 'pending' ? null : h('button', { type: 'button', onclick: (e) => act(e.currentTarget, said, async () => {
          const again = await post(`${base}/invitations/${i.id}/resend`).catch((err) => {
            const at = err.body && err.body.errors && err.body.errors.retry_at;
            throw at ? new Error(t('Mailed less than a day ago: it may go again from {time}.', { time: when(at) })) : err;
          });
          said.ok(t('Sent again to {email}: it works until {time}.', { email: i.email, time: when(again.expires_at) }));
        }) }, t('Send again')),
        h('button', { type: 'button', onclick: (e) => act(e.currentTarget, said, async () => {
          await post(`${base}/invitations/${i.id}/withdraw`); refresh();
        }) }, t('Withdraw'))) : null, said.el);
  };
  const people = findableList(`${base}/participants`, person, { label: t('People taking part'),
    filters: [['role', t('Role'), ROLES, t('Any role')], ['status', t('Status'), STATUSES, t('Any status')], ['step', t('Step'),
      STEPS.slice(2).concat([['intake_due', t('Intake not done')], ['unpaired', t('Not paired')]]), t('Any step')]] });
  const invites = findableList(`${base}/invitations`, invitation, { label: t('Invitations'),
    filters: [['status', t('Status'), INVITATION_STATUSES, t('Any status')]], none: t('No invitation matches.') });
  const funnel = funnelTable(base, (step, role) => (step === 'invited' ? invites.set({ status: 'pending' })
    : people.set({ role, status: 'active', step: step === 'joined' ? '' : step })));
  async function drawLinks() {
    const links = await get(`${base}/join-links?limit=50`);
    replace(linksEl, links.items.length ? h('ul', { class: 'list' }, links.items.map((l) => {
      const url = `${location.origin}${location.pathname}#/join?token=${l.token}`;
      const words = JOIN_LINK[l.role] || JOIN_LINK.mentee;
      return h('li', {}, [roleWord(l.role), t('{uses} of {most} used', { uses: l.uses, most: l.max_uses }),
        t('until {time}', { time: when(l.expires_at) })].join(' · ') + ' ',
        badge(l.works ? t('works') : t('ended'), l.works ? 'accepted' : 'cancelled'),
        l.works ? h('input', { readonly: true, value: url, 'aria-label': words.label, class: 'copy' }) : null,
        l.works ? h('button', { type: 'button', onclick: (e) => act(e.currentTarget, messages, async () => {
          await navigator.clipboard.writeText(url);
          messages.ok(words.copied);
        }) }, words.copy) : null,
        l.works ? h('button', { type: 'button', onclick: (e) => act(e.currentTarget, messages, async () => {
          await post(`${base}/join-links/${l.id}/revoke`); await drawLinks();
        }) }, t('Revoke')) : null);
    })) : empty(t('No join link yet.')));
  }
  const refresh = () => { people.refresh(); invites.refresh(); funnel.refresh(); };
  const typed = h('form', { class: 'stack', 'aria-label': t('Invite by address') },
    field(t('Addresses'), { tag: 'textarea', name: 'emails', rows: 3, required: true,
      hint: t('One or more, separated by commas or new lines.') }),
    field(t('As'), { tag: 'select', name: 'role' }, ROLES),
    h('button', { type: 'submit', class: 'primary' }, t('Invite')));
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
  const file = h('form', { class: 'stack', 'aria-label': t('Invite from a file') },
    field(t('CSV file'), { type: 'file', name: 'file', accept: '.csv,text/csv', required: true,
      hint: t('A first line naming the columns name, email, role and capacity (a mentor’s mentees at once); UTF-8.') }),
    h('button', { type: 'submit', class: 'primary' }, t('Invite from the file')));
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
  const linkForm = h('form', { class: 'stack', 'aria-label': t('New join link') },
    field(t('Joins as'), { tag: 'select', name: 'role' }, ROLES),
    field(t('Uses'), { type: 'number', name: 'max_uses', min: 1, max: 10000, value: 50, required: true }),
    field(t('Works for (days)'), { type: 'number', name: 'days', min: 1, max: 365, value: 14, required: true }),
    h('button', { type: 'submit' }, t('Make a join link')));
  linkForm.addEventListener('submit', (event) => {
    event.preventDefault();
    act(linkForm.querySelector('button'), messages, async () => {
      await post(`${base}/join-links`, { role: linkForm.role.value, max_uses: Number(linkForm.max_uses.value),
        expires_at: new Date(Date.now() + Number(linkForm.days.value) * 86400000).toISOString() });
      await drawLinks();
    }, linkForm);
  });
  const section = h('section', { 'aria-labelledby': 'pg-ppl-h' }, h('h2', { id: 'pg-ppl-h' }, t('People')),
    closed ? null : h('div', { class: 'grid' }, typed, file), resultEl,
    h('h3', {}, t('Who takes part')), people.el, h('h3', {}, t('Invitations')), invites.el,
    h('h3', {}, t('Join links')), closed ? null : linkForm, linksEl);
  drawLinks().catch((err) => replace(linksEl, errorBox(err.message)));
  return { section, refresh, funnel: h('section', { 'aria-labelledby': 'pg-fun-h' },
    h('h2', { id: 'pg-fun-h' }, t('Enrolment')), funnel.el) };
}

/** A participant's view of their programme: who else takes part, their own part, and leaving. */
export function participantSection(programme, messages, go, onIntake = () => {}) {
  const base = `/programmes/${programme.id}`;
  // Who else takes part: folded, found by name and role on the server, a page at a time (a programme of hundreds).
  const others = h('div', {});
  const peopleEl = h('details', {}, h('summary', {}, t('Who takes part')), others);
  peopleEl.addEventListener('toggle', () => {
    if (peopleEl.open && !others.firstChild) {
      others.append(findableList(`${base}/participants`, (p) => h('li', {}, `${p.display_name} · ${roleWord(p.role)}`),
        { label: t('People taking part'), filters: [['role', t('Role'), ROLES, t('Any role')]] }).el);
    }
  });
  if (programme.viewer_role === 'mentor') {
    everyItem(`${base}/participants`, { role: 'mentor' }).then((mentors) => {
      const mine = mentors.find((p) => p.id === programme.participant_id);
      const input = actions.querySelector('input[name=capacity]');
      if (mine && input) input.value = mine.capacity;
    }, (err) => messages.error(err));
  }
  const part = h('p', {}, PART[programme.viewer_role] || PART.mentee);
  const actions = h('div', { class: 'actions' });
  if (programme.viewer_role === 'mentor') {
    const capacity = h('form', { class: 'inline' }, field(t('Mentees at once'), { type: 'number', name: 'capacity',
      min: 1, max: 20, value: 2 }), h('button', { type: 'submit' }, t('Save')));
    capacity.addEventListener('submit', (event) => {
      event.preventDefault();
      act(capacity.querySelector('button'), messages, async () => {
        await patch(`${base}/participants/${programme.participant_id}`, { capacity: Number(capacity.capacity.value) });
        messages.ok(t('Saved.'));
      }, capacity);
    });
    actions.append(capacity);
  }
  const leaving = h('div', { class: 'actions apart' });
  leaving.append(h('button', { type: 'button', class: 'danger', onclick: () => {
    const why = field(t('Why? (optional: its coordinators and your mentor or mentee read it)'), { tag: 'textarea',
      name: 'reason', rows: 2, maxlength: 1000 });
    confirmPanel(leaving, {
      label: t('Leave the programme'), says: [h('p', {}, t('Your pairing ends and its coming sessions are cancelled; the other of the pair is told. Its coordinators are told. Your record stays: a new invitation or join link brings you back.')), why],
      confirm: t('Leave'), danger: true, keep: t('Stay'), messages,
      onConfirm: async () => {
        await post(`${base}/leave`, { reason: why.querySelector('textarea').value.trim() || null });
        go('/programmes');
      } });
  } }, t('Leave the programme')));
  return h('div', {}, h('section', { 'aria-labelledby': 'pg-me-h' }, h('h2', { id: 'pg-me-h' }, t('Your part')), part,
    actions, leaving, peopleEl), intakeForm(programme, onIntake));
}

// What an invitation is for, by role (a mentor's or a mentee's), each whole.
const invitedAs = (programme, as) => (as === 'mentor' ? t('{programme}, as a mentor', { programme })
  : t('{programme}, as a mentee', { programme }));
const invitedTo = (programme, as) => (as === 'mentor' ? t('You are invited to {programme} as a mentor.', { programme })
  : t('You are invited to {programme} as a mentee.', { programme }));

/** The invitations of the user's confirmed address, each joined with one click. */
export async function myInvitations(messages, go) {
  const page = await get('/programmes/invitations/mine');
  if (!page.items.length) return null;
  return h('section', { 'aria-labelledby': 'pg-inv-h' }, h('h2', { id: 'pg-inv-h' }, t('Invitations for you')),
    h('ul', { class: 'list' }, page.items.map((i) => h('li', {}, `${invitedAs(i.programme.name, i.role)} `,
      h('button', { type: 'button', class: 'primary', onclick: (e) => act(e.currentTarget, messages, async () => {
        await post(`/programmes/invitations/${i.id}/accept`);
        go(`/programmes/${i.programme.id}`);
      }) }, t('Join {programme}', { programme: i.programme.name }))))));
}

/** `#/programme-invitation?token=…`: what the invitation is for; register with it, or join signed in. */
export async function invitationPage(main, { query, go, signedIn }) {
  const token = linkToken(query, 'programme-invitation');
  const messages = messageArea();
  main.append(h('h1', {}, t('Your invitation')));
  if (!token) { main.append(noLink()); return; }
  const found = await api('POST', '/programme-invitations/preview', { token }, { authed: false });
  main.append(h('p', {}, invitedTo(found.programme.name, found.role)), summary(found.programme),
    messages.el);
  if (!found.usable) { main.append(errorBox(t('This invitation can no longer be answered: ask the programme’s coordinators.'))); return; }
  const decline = h('button', { type: 'button', onclick: (e) => act(e.currentTarget, messages, async () => {
    await api('POST', '/programme-invitations/decline', { token }, { authed: false });
    replace(main, h('h1', {}, t('Invitation declined')), h('p', {}, t('The coordinators see that you declined.')));
  }) }, t('Decline'));
  if (session.signedIn) {
    main.append(h('div', { class: 'actions' }, h('button', { type: 'button', class: 'primary',
      onclick: (e) => act(e.currentTarget, messages, async () => {
        await post('/programme-invitations/accept', { token });
        go(`/programmes/${found.programme.id}`);
      }) }, t('Join {programme}', { programme: found.programme.name })), decline));
  } else if (found.account_exists) {
    sessionStorage.setItem('mentorship.after', `/programme-invitation?token=${token}`);
    const signIn = h('a', { href: '#/signin' }, t('sign in to accept')); // gathered: not among another text's words
    main.append(h('p', {}, tParts('{email} has an account: {sign_in}.', { email: found.email, sign_in: signIn })),
      h('div', { class: 'actions' }, decline));
  } else {
    const form = h('form', { class: 'card narrow', novalidate: true },
      h('p', {}, t('Your account will be {email}.', { email: found.email })),
      field(t('Your name'), { name: 'display_name', autocomplete: 'name', value: found.name || '' }),
      field(t('Password'), { type: 'password', name: 'password', autocomplete: 'new-password', required: true,
        hint: t('At least 12 characters, and not a common password.') }),
      h('button', { type: 'submit', class: 'primary' }, t('Create my account and join')));
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
      main.append(h('h1', {}, t('Join a programme')), errorBox(err.status === 422
        ? t('This join link no longer works: ask the programme\u2019s coordinators for a new one.') : err.message));
      return null;
    });
    if (!named) return;
    sessionStorage.setItem('mentorship.after', `/join?token=${token}`);
    const signIn = { sign_in: h('a', { href: '#/signin' }, t('Sign in')),
      sign_up: h('a', { href: '#/signup' }, t('create an account')) };
    main.append(h('h1', {}, t('Join {programme}', { programme: named.programme.name })), summary(named.programme),
      h('p', {}, named.role === 'mentor' ? tParts('You join as a mentor. {sign_in} or {sign_up} to join.', signIn)
        : tParts('You join as a mentee. {sign_in} or {sign_up} to join.', signIn)));
    return;
  }
  const found = await post('/programmes/join/preview', { token });
  main.append(h('h1', {}, t('Join {programme}', { programme: found.programme.name })), summary(found.programme),
    h('p', {}, JOINS[found.role] || JOINS.mentee), messages.el,
    h('button', { type: 'button', class: 'primary', onclick: (e) => act(e.currentTarget, messages, async () => {
      await post('/programmes/join', { token });
      go(`/programmes/${found.programme.id}`);
    }) }, t('Join')));
}
