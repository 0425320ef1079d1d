// Settings: the account (name, timezone, locale, email, password), the private calendar feed, where
// one is signed in, a mentor's profile and team invitations, and deleting the account. Each section
// keeps its own messages beside its own button.
import { api, del, get, patch, post, session } from '../../api.js';
import { currentUser, rememberProfile, userChanged } from '../../state.js';
import { append, h, field, replace, loading, empty, errorBox, messageArea, act, when, tz } from '../../ui.js';
import { LANGUAGES, formatTag, t, tParts } from '../../words.js';
import { authenticatorsSection } from './second-step.js';

// Every region a locale may name (ISO 3166), each shown by its name in the reader's language.
const REGIONS = ('AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ BA BB BD BE BF BG BH BI BJ BL BM BN BO BQ BR BS BT BV BW BY '
  + 'BZ CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ DE DJ DK DM DO DZ EC EE EG EH ER ES ET FI FJ FK FM FO FR GA GB GD '
  + 'GE GF GG GH GI GL GM GN GP GQ GR GS GT GU GW GY HK HM HN HR HT HU ID IE IL IM IN IO IQ IR IS IT JE JM JO JP KE KG KH KI KM KN KP '
  + 'KR KW KY KZ LA LB LC LI LK LR LS LT LU LV LY MA MC MD ME MF MG MH MK ML MM MN MO MP MQ MR MS MT MU MV MW MX MY MZ NA NC NE NF NG '
  + 'NI NL NO NP NR NU NZ OM PA PE PF PG PH PK PL PM PN PR PS PT PW PY QA RE RO RS RU RW SA SB SC SD SE SG SH SI SJ SK SL SM SN SO SR '
  + 'SS ST SV SX SY SZ TC TD TF TG TH TJ TK TL TM TN TO TR TT TV TW TZ UA UG UM US UY UZ VA VC VE VG VI VN VU WF WS YE YT ZA ZM ZW').split(' ');
const splitList = (text) => text.split(',').map((s) => s.trim()).filter(Boolean);

export async function settingsPage(main) {
  const me = await currentUser(true);
  const [mentor, through] = await Promise.all([me.mentor_profile_id ? get(`/mentor-profiles/${me.mentor_profile_id}`) : null,
    get('/auth/sign-on/current').catch(() => null)]);
  append(main, [h('h1', {}, t('Settings')),
    h('nav', { class: 'toc', 'aria-label': t('Settings sections') }, h('ul', {},
      [['st-account', t('Account')], ['st-email', t('Email')], ['st-telling', t('How you are told')], ['st-password', t('Password')], me.has_password === false ? null : ['st-second-step', t('Second step')],
        ['st-calendar', t('Calendar feed')],
        ['st-signins', t('Sign-ins')], mentor ? ['st-mentor', t('Mentor profile')] : null, ['st-delete', t('Delete account')]]
        .filter(Boolean).map(([id, text]) => h('li', {}, h('a', { href: `#/settings`, onclick: jump(id) }, text))))),
    accountSection(me), emailSection(me), tellingSection(), passwordSection(me, through),
    me.has_password === false ? null : section('st-second-step', t('Second step'), ...authenticatorsSection()), calendarSection(), signInsSection(),
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

/** The language and the region of a locale ("fr-CA": French, Canada): the languages the service speaks, each in its
 * own words, and one the account has that the service does not speak (its formats kept); the regions by name. */
function placeFields(locale) {
  const [language = '', region = ''] = (locale || '').split('-').filter((part) => !/^[A-Z][a-z]{3}$/.test(part));
  const own = new Intl.DisplayNames([formatTag()], { type: 'region' });
  const regions = REGIONS.map((code) => [code, own.of(code) || code]).sort((a, b) => a[1].localeCompare(b[1], formatTag()));
  const languages = Object.entries(LANGUAGES);
  if (language && !(language in LANGUAGES)) {
    languages.push([language, new Intl.DisplayNames([language], { type: 'language' }).of(language) || language]);
  }
  const chosen = field(t('Language'), { tag: 'select', name: 'language',
    hint: t('The language the service speaks to you in: screens, emails, notifications, calendar invitations.') },
  [['', t('Not set (English)')], ...languages]);
  const where = field(t('Region'), { tag: 'select', name: 'region', hint: t('How dates, times and numbers are written to you.') },
    [['', t('Not set')], ...regions]);
  chosen.querySelector('select').value = language.toLowerCase();
  where.querySelector('select').value = region.toUpperCase();
  return [chosen, where];
}

function accountSection(me) {
  const zones = typeof Intl.supportedValuesOf === 'function' ? Intl.supportedValuesOf('timeZone') : [tz()];
  const zoneOptions = [['', t('Not set (this device\'s: {zone})', { zone: tz() })], ...zones.map((z) => [z, z])];
  if (me.timezone && !zones.includes(me.timezone)) zoneOptions.push([me.timezone, me.timezone]);
  const body = form({ 'aria-label': t('Account') }, [
    field(t('Display name'), { name: 'display_name', value: me.display_name, required: true, maxlength: 100, autocomplete: 'name' }),
    field(t('Timezone'), { tag: 'select', name: 'timezone', hint: t('Emails and notifications give times in this timezone.') }, zoneOptions),
    ...placeFields(me.locale),
  ], t('Save account'), async (el, messages) => {
    const locale = [el.language.value, el.region.value].filter(Boolean).join('-');
    const changes = { display_name: el.display_name.value.trim(), timezone: el.timezone.value || null,
      locale: el.language.value ? locale : null };
    userChanged(await patch('/me', changes));
    messages.ok(t('Saved.'));
  });
  body.timezone.value = me.timezone || '';
  return section('st-account', t('Account'), body);
}

function emailSection(me) {
  const resendMessages = messageArea();
  const status = me.email_verified ? t('confirmed') : t('not confirmed yet');
  const resend = !me.email_verified || me.pending_email
    ? [h('button', { type: 'button', onclick: (e) => act(e.currentTarget, resendMessages, async () => {
      resendMessages.ok((await post('/me/email-verification')).message);
    }) }, t('Send the confirmation link again')), resendMessages.el] : null;
  const change = form({ 'aria-label': t('Change email') }, [
    field(t('New email'), { type: 'email', name: 'email', required: true, autocomplete: 'email' }),
    field(t('Current password'), { type: 'password', name: 'current_password', required: true, autocomplete: 'current-password',
      hint: t('A link goes to the new address; it becomes your email once you open it.') }),
  ], t('Change email'), async (el, messages) => {
    const updated = await patch('/me', { email: el.email.value.trim(), current_password: el.current_password.value });
    userChanged(updated);
    el.reset();
    messages.ok(t('A link is on its way to {address}. Your email stays {email} until you open it.', { address: updated.pending_email, email: updated.email }));
  });
  const pendingMessages = messageArea();
  const pending = me.pending_email ? h('div', {},
    h('p', { class: 'muted' }, t('Waiting for confirmation: {address}. Your email changes once that address is confirmed.', { address: me.pending_email })),
    h('button', { type: 'button', onclick: (e) => act(e.currentTarget, pendingMessages, async () => {
      await del('/me/pending-email');
      userChanged(await get('/me'));
      pendingMessages.ok(t('The change to {address} is cancelled: your email stays {email}.', { address: me.pending_email, email: me.email }));
    }) }, t('Cancel this change')), pendingMessages.el) : null;
  return section('st-email', t('Email'),
    h('p', {}, t('Your email: '), h('strong', {}, me.email), ` (${status}).`),
    pending, resend, me.has_password === false ? null : change); // a change is proven with the password
}

function passwordSection(me, through) {
  // A sign-in through an organisation says so; an account made by one has no password to change.
  const org = through && through.display_name ? h('p', {}, through.reauth_at
    ? t('You sign in with {organisation}: this sign-in lasts until {until}, then you sign in there again.',
      { organisation: through.display_name, until: when(through.reauth_at) })
    : t('You sign in with {organisation}.', { organisation: through.display_name })) : null;
  const body = me.has_password === false ? h('p', { class: 'muted' }, t('Your account has no password: you sign in '
    + 'through your organisation, so there is none to change here.')) : form({ 'aria-label': t('Change password') }, [
    field(t('Current password'), { type: 'password', name: 'current_password', required: true, autocomplete: 'current-password' }),
    field(t('New password'), { type: 'password', name: 'new_password', required: true, autocomplete: 'new-password',
      hint: t('At least 12 characters, and not a common password. Your other sign-ins end; this one goes on.') }),
    field(t('New password again'), { type: 'password', name: 'again', required: true, autocomplete: 'new-password' }),
  ], t('Change password'), async (el, messages) => {
    if (el.new_password.value !== el.again.value) throw new Error(t('The two new passwords differ.'));
    session.store(await post('/me/password', { current_password: el.current_password.value,
      new_password: el.new_password.value, refresh_cookie: true }));
    el.reset();
    messages.ok(t('Your password is changed. Every other sign-in has ended.'));
  });
  return section('st-password', t('Password'), org, body);
}

const SUBSCRIBE = [
  ['Google Calendar', t('Other calendars (+) › From URL, paste the address, Add calendar.')],
  ['Apple Calendar', t('File › New Calendar Subscription, paste the address, Subscribe.')],
  ['Outlook', t('Add calendar › Subscribe from web, paste the address, Import.')],
];

const EMAIL_CHOICES = [['now', t('Email at once')], ['daily', t('Daily digest')], ['weekly', t('Weekly digest')], ['off', t('No email')]];

// Each kind of news: by email at once, in a digest, or not at all (in the app always); account security always mailed.
function tellingSection() {
  const body = h('div', {}, loading());
  const load = async () => {
    try {
      const { items } = await get('/me/notification-preferences');
      replace(body, form({ 'aria-label': t('How you are told') }, items.map((one) => field(one.described,
        { tag: 'select', name: one.kind, disabled: one.locked,
          hint: one.locked ? t('Always emailed at once: password, email and sign-in changes.') : null },
        one.locked ? [['now', t('Email at once')]] : EMAIL_CHOICES)), t('Save how you are told'), async (el, messages) => {
        const changes = items.filter((one) => !one.locked).map((one) => ({ kind: one.kind, email: el[one.kind].value }));
        await api('PUT', '/me/notification-preferences', { items: changes });
        messages.ok(t('Saved.'));
      }));
      for (const one of items) body.querySelector(`select[name="${one.kind}"]`).value = one.email;
    } catch (err) { replace(body, errorBox(err.message)); }
  };
  load();
  return section('st-telling', t('How you are told'),
    h('p', { class: 'muted' }, t('You always see everything in the app. Choose what also comes by email: at once, gathered in a digest ' +
      '(at 8:00 in your timezone; a weekly one on Monday), or not at all. Every email has a link that stops its kind.')), body);
}

function calendarSection() {
  const messages = messageArea();
  const statusEl = h('div', {}, loading());
  const urlEl = h('div', {});
  const load = async () => {
    try {
      const feed = await get('/me/calendar-token');
      replace(statusEl, h('p', {}, feed.active
        ? t('Your feed address works (made {made}). It is shown only when made: make a new one to copy it again.', { made: when(feed.created_at) })
        : feed.revoked_at ? (feed.revoked_reason
          ? t('Your last feed address stopped working {at}: {why}.', { at: when(feed.revoked_at),
            why: FEED_ENDED[feed.revoked_reason] || feed.revoked_reason.replace(/_/g, ' ') })
          : t('Your last feed address stopped working {at}.', { at: when(feed.revoked_at) }))
          : t('You have no calendar feed yet.')),
      feed.active ? h('button', { type: 'button', class: 'danger', onclick: (e) => act(e.currentTarget, messages, async () => {
        await del('/me/calendar-token');
        replace(urlEl);
        messages.ok(t('The feed address no longer works.'));
        await load();
      }) }, t('Revoke the feed address')) : null);
    } catch (err) { replace(statusEl, errorBox(err.message)); }
  };
  const make = h('button', { type: 'button', class: 'primary', onclick: (e) => act(e.currentTarget, messages, async () => {
    const { url } = await post('/me/calendar-token');
    const copyMessages = messageArea();
    const input = h('input', { id: 'feed-url', type: 'text', readonly: true, value: url, class: 'wide' });
    replace(urlEl, h('div', { class: 'field' }, h('label', { for: 'feed-url' }, t('Your private feed address (any earlier one has stopped working)')), input),
      h('button', { type: 'button', onclick: async () => {
        input.select();
        try { await navigator.clipboard.writeText(url); copyMessages.ok(t('Copied.')); } catch { copyMessages.ok(t('Selected: press Ctrl+C (⌘C) to copy.')); }
      } }, t('Copy')), copyMessages.el);
    await load();
  }) }, t('Make a new feed address'));
  load();
  return section('st-calendar', t('Calendar feed'),
    h('p', {}, t('Your sessions in your own calendar app, kept up to date. Keep the address private: anyone with it sees your sessions.')),
    statusEl, make, messages.el, urlEl,
    h('h3', {}, t('How to subscribe')),
    h('ul', {}, SUBSCRIBE.map(([app, how]) => h('li', {}, h('strong', { translate: 'no' }, app), ': ', how))));
}

/** "Chrome on Linux" for a browser's User-Agent; a script's own name (its first word) otherwise. */
// Why a calendar feed address stopped working, as its owner reads it.
const FEED_ENDED = {
  revoked: t('you revoked it'), password_changed: t('your password was changed'), password_reset: t('your password was reset'),
  account_deleted: t('the account was deleted'),
  address_claimed: t('it was made before the address was confirmed, and the address\'s owner signed in through their organisation'),
  signed_out: t('it was made before your address was confirmed, and you signed out everywhere'),
};

export function deviceName(agent) {
  if (!agent) return t('Unknown device');
  const browser = [['Edg/', 'Edge'], ['OPR/', 'Opera'], ['Firefox/', 'Firefox'], ['Chrome/', 'Chrome'], ['Safari/', 'Safari']]
    .find(([mark]) => agent.includes(mark));
  const system = [['iPhone', 'iPhone'], ['iPad', 'iPad'], ['Android', 'Android'], ['Windows', 'Windows'], ['Mac OS X', 'macOS'],
    ['Linux', 'Linux']].find(([mark]) => agent.includes(mark));
  if (browser && agent.startsWith('Mozilla/')) return system ? t('{browser} on {system}', { browser: browser[1], system: system[1] }) : browser[1];
  return agent.split(' ')[0].slice(0, 60);
}

function signInsSection() {
  const messages = messageArea();
  const listEl = h('div', {}, loading());
  const load = async () => {
    try {
      const items = (await get('/me/sign-ins')).items;
      replace(listEl, items.length ? h('ul', { class: 'list' }, items.map((s) => h('li', {},
        h('strong', { title: s.user_agent || '', translate: 'no' }, deviceName(s.user_agent)), s.current ? ` ${t('(this browser)')}` : '',
        h('span', { class: 'meta' }, ' · ', s.ip_address
          ? t('signed in {at} · last used {used} from {address}', { at: when(s.created_at), used: when(s.last_used_at), address: s.ip_address })
          : t('signed in {at} · last used {used}', { at: when(s.created_at), used: when(s.last_used_at) })), ' ',
        h('button', { type: 'button', 'aria-label': s.current ? t('Sign out this browser (signed in {at})', { at: when(s.created_at) })
          : t('Sign out {device} (signed in {at})', { device: deviceName(s.user_agent), at: when(s.created_at) }),
          onclick: (e) => act(e.currentTarget, messages, async () => {
            await del(`/me/sign-ins/${s.id}`);
            if (s.current) { session.clear(); return; }
            messages.ok(t('Signed out there.'));
            await load();
          }) }, t('Sign out'))))) : empty(t('No sign-in.')));
    } catch (err) { replace(listEl, errorBox(err.message)); }
  };
  load();
  return section('st-signins', t('Sign-ins'), h('p', { class: 'muted' }, t('Where your account is signed in, most recently used first.')),
    messages.el, listEl);
}

function mentorProfileSection(mentor) {
  const body = form({ 'aria-label': t('Mentor profile') }, [
    field(t('Headline'), { name: 'headline', value: mentor.headline, required: true, maxlength: 200 }),
    field(t('Bio'), { tag: 'textarea', name: 'bio', rows: 4, maxlength: 5000 }),
    field(t('Skills'), { name: 'skills', value: mentor.skills.join(', '), hint: t('Comma separated, e.g. python, postgresql') }),
    field(t('Profile timezone'), { name: 'timezone', value: mentor.timezone, required: true,
      hint: t('IANA name, e.g. Europe/Paris. Your weekly availability is in this timezone.') }),
  ], t('Save mentor profile'), async (el, messages) => {
    const saved = await patch(`/mentor-profiles/${mentor.id}`, { headline: el.headline.value.trim(), bio: el.bio.value.trim(),
      skills: splitList(el.skills.value), timezone: el.timezone.value.trim() });
    rememberProfile(saved);
    messages.ok(t('Mentor profile saved.'));
  });
  body.bio.value = mentor.bio || '';
  return section('st-mentor', t('Mentor profile'), body,
    h('p', {}, tParts('Teams of your listings: open {mentor_setup} and choose a listing’s “Team”.',
      { mentor_setup: h('a', { href: '#/mentor' }, t('Mentor setup')) })));
}

function invitationsSection() {
  const messages = messageArea();
  const listEl = h('div', {}, loading());
  const load = async () => {
    try {
      const items = (await get('/team-invitations')).items;
      replace(listEl, items.length ? h('ul', { class: 'list' }, items.map((inv) => h('li', {},
        t('{person} invites you to teach “{listing}”', { person: inv.invited_by, listing: inv.listing_title }), ' ',
        ...['accept', 'decline'].map((verb) => h('button', { type: 'button', class: verb === 'accept' ? 'primary' : null,
          'aria-label': verb === 'accept' ? t('Accept the invitation to teach {listing}', { listing: inv.listing_title })
            : t('Decline the invitation to teach {listing}', { listing: inv.listing_title }),
          onclick: (e) => act(e.currentTarget, messages, async () => {
            await post(`/team-invitations/${inv.id}/${verb}`);
            messages.ok(verb === 'accept' ? t('You teach “{listing}” now.', { listing: inv.listing_title }) : t('Invitation declined.'));
            await load();
          }) }, verb === 'accept' ? t('Accept') : t('Decline')))))) : empty(t('No invitation waiting.')));
    } catch (err) { replace(listEl, errorBox(err.message)); }
  };
  load();
  return section('st-invitations', t('Team invitations'), messages.el, listEl);
}

function deleteSection(me) {
  const panel = h('div', {});
  const open = h('button', { type: 'button', class: 'danger', 'aria-expanded': 'false', onclick: () => {
    open.setAttribute('aria-expanded', 'true');
    replace(panel, form({ class: 'confirm', 'aria-label': t('Confirm account deletion') }, [
      h('p', { class: 'warning' }, t('Your future bookings and sessions are cancelled (the cancellation policy applies), your name and '
        + 'email are erased, and every sign-in ends. Past sessions and reviews stay, shown as “Deleted user”. This cannot be undone.')),
      me.has_password === false
        ? h('p', {}, t('Your account has no password: a sign-in through your organisation in the last 15 minutes confirms '
          + 'it is you. If yours is older, sign out and sign in there again first.'))
        : field(t('Current password'), { type: 'password', name: 'current_password', required: true, autocomplete: 'current-password' }),
    ], t('Delete my account for good'), async (el) => {
      await api('DELETE', '/me', el.current_password ? { current_password: el.current_password.value } : {});
      session.clear();
    }, 'danger'));
    panel.querySelector('input, button').focus();
  } }, t('Delete my account…'));
  return section('st-delete', t('Delete account'), open, panel);
}
