// Settings: the account (name, timezone, locale, email, password), the private calendar feed, where
// one is signed in, a mentor's profile and team invitations, and deleting the account. Each section
// keeps its own messages beside its own button.
import { api, del, get, patch, post, session } from '../../api.js';
import { currentUser, rememberProfile, userChanged } from '../../state.js';
import { append, h, field, replace, loading, empty, errorBox, messageArea, act, when, tz } from '../../ui.js';

const LOCALES = ['en-GB', 'en-US', 'de-DE', 'es-ES', 'fr-FR', 'it-IT', 'ja-JP', 'nl-NL', 'pl-PL', 'pt-BR', 'sv-SE', 'zh-CN'];
const splitList = (text) => text.split(',').map((s) => s.trim()).filter(Boolean);

export async function settingsPage(main) {
  const me = await currentUser(true);
  const [mentor, through] = await Promise.all([me.mentor_profile_id ? get(`/mentor-profiles/${me.mentor_profile_id}`) : null,
    get('/auth/sign-on/current').catch(() => null)]);
  append(main, [h('h1', {}, 'Settings'),
    h('nav', { class: 'toc', 'aria-label': 'Settings sections' }, h('ul', {},
      [['st-account', 'Account'], ['st-email', 'Email'], ['st-telling', 'How you are told'], ['st-password', 'Password'],
        ['st-calendar', 'Calendar feed'],
        ['st-signins', 'Sign-ins'], mentor ? ['st-mentor', 'Mentor profile'] : null, ['st-delete', 'Delete account']]
        .filter(Boolean).map(([id, text]) => h('li', {}, h('a', { href: `#/settings`, onclick: jump(id) }, text))))),
    accountSection(me), emailSection(me), tellingSection(), passwordSection(me, through), calendarSection(), signInsSection(),
    mentor ? mentorProfileSection(mentor) : null, mentor ? invitationsSection() : null, deleteSection(me)]);
}

// Hash links are routes here: move to the section (and its heading's focus) without leaving the screen.
const jump = (id) => (event) => {
  event.preventDefault();
  const heading = document.getElementById(id);
  heading.setAttribute('tabindex', '-1');
  heading.focus();
};

function section(id, title, ...children) {
  return h('section', { class: 'card', 'aria-labelledby': id }, h('h2', { id }, title), ...children);
}

/** A form whose submit runs `fn(form)` with its button disabled; its messages sit just above the button. */
function form(attrs, fields, buttonText, fn, buttonClass = 'primary') {
  const messages = messageArea();
  const button = h('button', { type: 'submit', class: buttonClass }, buttonText);
  const el = h('form', { novalidate: true, ...attrs }, fields, messages.el, button);
  el.addEventListener('submit', (event) => { event.preventDefault(); act(button, messages, () => fn(el, messages), el); });
  return el;
}

function accountSection(me) {
  const zones = typeof Intl.supportedValuesOf === 'function' ? Intl.supportedValuesOf('timeZone') : [tz()];
  const zoneOptions = [['', `Not set (this device's: ${tz()})`], ...zones.map((z) => [z, z])];
  if (me.timezone && !zones.includes(me.timezone)) zoneOptions.push([me.timezone, me.timezone]);
  const body = form({ 'aria-label': 'Account' }, [
    field('Display name', { name: 'display_name', value: me.display_name, required: true, maxlength: 100, autocomplete: 'name' }),
    field('Timezone', { tag: 'select', name: 'timezone', hint: 'Emails and notifications give times in this timezone.' }, zoneOptions),
    field('Locale', { name: 'locale', value: me.locale || '', list: 'locales', maxlength: 35, autocomplete: 'off',
      hint: 'How dates and times are written to you, e.g. en-GB or pt-BR. Empty: English.' }),
    h('datalist', { id: 'locales' }, LOCALES.map((tag) => h('option', { value: tag }))),
  ], 'Save account', async (el, messages) => {
    const changes = { display_name: el.display_name.value.trim(), timezone: el.timezone.value || null,
      locale: el.locale.value.trim() || null };
    userChanged(await patch('/me', changes));
    messages.ok('Saved.');
  });
  body.timezone.value = me.timezone || '';
  return section('st-account', 'Account', body);
}

function emailSection(me) {
  const resendMessages = messageArea();
  const status = me.email_verified ? 'confirmed' : 'not confirmed yet';
  const resend = !me.email_verified || me.pending_email
    ? [h('button', { type: 'button', onclick: (e) => act(e.currentTarget, resendMessages, async () => {
      resendMessages.ok((await post('/me/email-verification')).message);
    }) }, 'Send the confirmation link again'), resendMessages.el] : null;
  const change = form({ 'aria-label': 'Change email' }, [
    field('New email', { type: 'email', name: 'email', required: true, autocomplete: 'email' }),
    field('Current password', { type: 'password', name: 'current_password', required: true, autocomplete: 'current-password',
      hint: 'A link goes to the new address; it becomes your email once you open it.' }),
  ], 'Change email', async (el, messages) => {
    const updated = await patch('/me', { email: el.email.value.trim(), current_password: el.current_password.value });
    userChanged(updated);
    el.reset();
    messages.ok(`A link is on its way to ${updated.pending_email}. Your email stays ${updated.email} until you open it.`);
  });
  const pendingMessages = messageArea();
  const pending = me.pending_email ? h('div', {},
    h('p', { class: 'muted' }, `Waiting for confirmation: ${me.pending_email}. Your email changes once that address is confirmed.`),
    h('button', { type: 'button', onclick: (e) => act(e.currentTarget, pendingMessages, async () => {
      await del('/me/pending-email');
      userChanged(await get('/me'));
      pendingMessages.ok(`The change to ${me.pending_email} is cancelled: your email stays ${me.email}.`);
    }) }, 'Cancel this change'), pendingMessages.el) : null;
  return section('st-email', 'Email',
    h('p', {}, 'Your email: ', h('strong', {}, me.email), ` (${status}).`),
    pending, resend, me.has_password === false ? null : change); // a change is proven with the password
}

function passwordSection(me, through) {
  // A sign-in through an organisation says so; an account made by one has no password to change.
  const org = through && through.display_name ? h('p', {}, `You sign in with ${through.display_name}`,
    through.reauth_at ? `: this sign-in lasts until ${when(through.reauth_at)}, then you sign in there again.` : '.') : null;
  const body = me.has_password === false ? h('p', { class: 'muted' }, 'Your account has no password: you sign in '
    + 'through your organisation, so there is none to change here.') : form({ 'aria-label': 'Change password' }, [
    field('Current password', { type: 'password', name: 'current_password', required: true, autocomplete: 'current-password' }),
    field('New password', { type: 'password', name: 'new_password', required: true, autocomplete: 'new-password',
      hint: 'At least 12 characters, and not a common password. Your other sign-ins end; this one goes on.' }),
    field('New password again', { type: 'password', name: 'again', required: true, autocomplete: 'new-password' }),
  ], 'Change password', async (el, messages) => {
    if (el.new_password.value !== el.again.value) throw new Error('The two new passwords differ.');
    session.store(await post('/me/password', { current_password: el.current_password.value,
      new_password: el.new_password.value, refresh_cookie: true }));
    el.reset();
    messages.ok('Your password is changed. Every other sign-in has ended.');
  });
  return section('st-password', 'Password', org, body);
}

const SUBSCRIBE = [
  ['Google Calendar', 'Other calendars (+) › From URL, paste the address, Add calendar.'],
  ['Apple Calendar', 'File › New Calendar Subscription, paste the address, Subscribe.'],
  ['Outlook', 'Add calendar › Subscribe from web, paste the address, Import.'],
];

const EMAIL_CHOICES = [['now', 'Email at once'], ['daily', 'Daily digest'], ['weekly', 'Weekly digest'], ['off', 'No email']];

// Each kind of news: by email at once, in a digest, or not at all (in the app always); account security always mailed.
function tellingSection() {
  const body = h('div', {}, loading());
  const load = async () => {
    try {
      const { items } = await get('/me/notification-preferences');
      replace(body, form({ 'aria-label': 'How you are told' }, items.map((one) => field(one.described,
        { tag: 'select', name: one.kind, disabled: one.locked,
          hint: one.locked ? 'Always emailed at once: password, email and sign-in changes.' : null },
        one.locked ? [['now', 'Email at once']] : EMAIL_CHOICES)), 'Save how you are told', async (el, messages) => {
        const changes = items.filter((one) => !one.locked).map((one) => ({ kind: one.kind, email: el[one.kind].value }));
        await api('PUT', '/me/notification-preferences', { items: changes });
        messages.ok('Saved.');
      }));
      for (const one of items) body.querySelector(`select[name="${one.kind}"]`).value = one.email;
    } catch (err) { replace(body, errorBox(err.message)); }
  };
  load();
  return section('st-telling', 'How you are told',
    h('p', { class: 'muted' }, 'You always see everything in the app. Choose what also comes by email: at once, gathered in a digest ' +
      '(at 8:00 in your timezone; a weekly one on Monday), or not at all. Every email has a link that stops its kind.'), body);
}

function calendarSection() {
  const messages = messageArea();
  const statusEl = h('div', {}, loading());
  const urlEl = h('div', {});
  const load = async () => {
    try {
      const feed = await get('/me/calendar-token');
      replace(statusEl, h('p', {}, feed.active
        ? `Your feed address works (made ${when(feed.created_at)}). It is shown only when made: make a new one to copy it again.`
        : feed.revoked_at ? `Your last feed address stopped working ${when(feed.revoked_at)}${feed.revoked_reason ? `: ${FEED_ENDED[feed.revoked_reason] || feed.revoked_reason.replace(/_/g, ' ')}` : ''}.`
          : 'You have no calendar feed yet.'),
      feed.active ? h('button', { type: 'button', class: 'danger', onclick: (e) => act(e.currentTarget, messages, async () => {
        await del('/me/calendar-token');
        replace(urlEl);
        messages.ok('The feed address no longer works.');
        await load();
      }) }, 'Revoke the feed address') : null);
    } catch (err) { replace(statusEl, errorBox(err.message)); }
  };
  const make = h('button', { type: 'button', class: 'primary', onclick: (e) => act(e.currentTarget, messages, async () => {
    const { url } = await post('/me/calendar-token');
    const copyMessages = messageArea();
    const input = h('input', { id: 'feed-url', type: 'text', readonly: true, value: url, class: 'wide' });
    replace(urlEl, h('div', { class: 'field' }, h('label', { for: 'feed-url' }, 'Your private feed address (any earlier one has stopped working)'), input),
      h('button', { type: 'button', onclick: async () => {
        input.select();
        try { await navigator.clipboard.writeText(url); copyMessages.ok('Copied.'); } catch { copyMessages.ok('Selected: press Ctrl+C (⌘C) to copy.'); }
      } }, 'Copy'), copyMessages.el);
    await load();
  }) }, 'Make a new feed address');
  load();
  return section('st-calendar', 'Calendar feed',
    h('p', {}, 'Your sessions in your own calendar app, kept up to date. Keep the address private: anyone with it sees your sessions.'),
    statusEl, make, messages.el, urlEl,
    h('h3', {}, 'How to subscribe'),
    h('ul', {}, SUBSCRIBE.map(([app, how]) => h('li', {}, h('strong', {}, `${app}: `), how))));
}

/** "Chrome on Linux" for a browser's User-Agent; a script's own name (its first word) otherwise. */
// Why a calendar feed address stopped working, as its owner reads it.
const FEED_ENDED = {
  revoked: 'you revoked it', password_changed: 'your password was changed', password_reset: 'your password was reset',
  account_deleted: 'the account was deleted',
  address_claimed: "it was made before the address was confirmed, and the address's owner signed in through their organisation",
  signed_out: 'it was made before your address was confirmed, and you signed out everywhere',
};

export function deviceName(agent) {
  if (!agent) return 'Unknown device';
  const browser = [['Edg/', 'Edge'], ['OPR/', 'Opera'], ['Firefox/', 'Firefox'], ['Chrome/', 'Chrome'], ['Safari/', 'Safari']]
    .find(([mark]) => agent.includes(mark));
  const system = [['iPhone', 'iPhone'], ['iPad', 'iPad'], ['Android', 'Android'], ['Windows', 'Windows'], ['Mac OS X', 'macOS'],
    ['Linux', 'Linux']].find(([mark]) => agent.includes(mark));
  if (browser && agent.startsWith('Mozilla/')) return system ? `${browser[1]} on ${system[1]}` : browser[1];
  return agent.split(' ')[0].slice(0, 60);
}

function signInsSection() {
  const messages = messageArea();
  const listEl = h('div', {}, loading());
  const load = async () => {
    try {
      const items = (await get('/me/sign-ins')).items;
      replace(listEl, items.length ? h('ul', { class: 'list' }, items.map((s) => h('li', {},
        h('strong', { title: s.user_agent || '' }, deviceName(s.user_agent)), s.current ? ' (this browser)' : '',
        h('span', { class: 'meta' }, ` · signed in ${when(s.created_at)} · last used ${when(s.last_used_at)}${s.ip_address ? ` from ${s.ip_address}` : ''}`), ' ',
        h('button', { type: 'button', 'aria-label': `Sign out ${s.current ? 'this browser' : deviceName(s.user_agent)} (signed in ${when(s.created_at)})`,
          onclick: (e) => act(e.currentTarget, messages, async () => {
            await del(`/me/sign-ins/${s.id}`);
            if (s.current) { session.clear(); return; }
            messages.ok('Signed out there.');
            await load();
          }) }, 'Sign out')))) : empty('No sign-in.'));
    } catch (err) { replace(listEl, errorBox(err.message)); }
  };
  load();
  return section('st-signins', 'Sign-ins', h('p', { class: 'muted' }, 'Where your account is signed in, most recently used first.'),
    messages.el, listEl);
}

function mentorProfileSection(mentor) {
  const body = form({ 'aria-label': 'Mentor profile' }, [
    field('Headline', { name: 'headline', value: mentor.headline, required: true, maxlength: 200 }),
    field('Bio', { tag: 'textarea', name: 'bio', rows: 4, maxlength: 5000 }),
    field('Skills', { name: 'skills', value: mentor.skills.join(', '), hint: 'Comma separated, e.g. python, postgresql' }),
    field('Profile timezone', { name: 'timezone', value: mentor.timezone, required: true,
      hint: 'IANA name, e.g. Europe/Paris. Your weekly availability is in this timezone.' }),
  ], 'Save mentor profile', async (el, messages) => {
    const saved = await patch(`/mentor-profiles/${mentor.id}`, { headline: el.headline.value.trim(), bio: el.bio.value.trim(),
      skills: splitList(el.skills.value), timezone: el.timezone.value.trim() });
    rememberProfile(saved);
    messages.ok('Mentor profile saved.');
  });
  body.bio.value = mentor.bio || '';
  return section('st-mentor', 'Mentor profile', body,
    h('p', {}, 'Teams of your listings: open ', h('a', { href: '#/mentor' }, 'Mentor setup'), ' and choose a listing’s “Team”.'));
}

function invitationsSection() {
  const messages = messageArea();
  const listEl = h('div', {}, loading());
  const load = async () => {
    try {
      const items = (await get('/team-invitations')).items;
      replace(listEl, items.length ? h('ul', { class: 'list' }, items.map((inv) => h('li', {},
        `${inv.invited_by} invites you to teach “${inv.listing_title}” `,
        ...['accept', 'decline'].map((verb) => h('button', { type: 'button', class: verb === 'accept' ? 'primary' : null,
          'aria-label': `${verb === 'accept' ? 'Accept' : 'Decline'} the invitation to teach ${inv.listing_title}`,
          onclick: (e) => act(e.currentTarget, messages, async () => {
            await post(`/team-invitations/${inv.id}/${verb}`);
            messages.ok(verb === 'accept' ? `You teach “${inv.listing_title}” now.` : 'Invitation declined.');
            await load();
          }) }, verb === 'accept' ? 'Accept' : 'Decline'))))) : empty('No invitation waiting.'));
    } catch (err) { replace(listEl, errorBox(err.message)); }
  };
  load();
  return section('st-invitations', 'Team invitations', messages.el, listEl);
}

function deleteSection(me) {
  const panel = h('div', {});
  const open = h('button', { type: 'button', class: 'danger', 'aria-expanded': 'false', onclick: () => {
    open.setAttribute('aria-expanded', 'true');
    replace(panel, form({ class: 'confirm', 'aria-label': 'Confirm account deletion' }, [
      h('p', { class: 'warning' }, 'Your future bookings and sessions are cancelled (the cancellation policy applies), your name and '
        + 'email are erased, and every sign-in ends. Past sessions and reviews stay, shown as “Deleted user”. This cannot be undone.'),
      me.has_password === false
        ? h('p', {}, 'Your account has no password: a sign-in through your organisation in the last 15 minutes confirms '
          + 'it is you. If yours is older, sign out and sign in there again first.')
        : field('Current password', { type: 'password', name: 'current_password', required: true, autocomplete: 'current-password' }),
    ], 'Delete my account for good', async (el) => {
      await api('DELETE', '/me', el.current_password ? { current_password: el.current_password.value } : {});
      session.clear();
    }, 'danger'));
    panel.querySelector('input, button').focus();
  } }, 'Delete my account…');
  return section('st-delete', 'Delete account', open, panel);
}
