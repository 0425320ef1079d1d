// The page: the screen of each hash route (so every screen has a link; the table and its rules are router.js's),
// and the header: navigation, live status, unread notifications and the account.
import { api, get, session } from './api.js';
import { live } from './live.js';
import { currentUser, forgetUser, onMessages, onUnread, onUserChange, onWaiting, refreshMessages, refreshUnread,
  refreshWaiting } from './state.js';
import { h, replace, errorBox, unsavedWarning } from './ui.js';
import { t, tn } from './words.js';
import { access, findRoute, landingAfterSignIn, parseHash } from './router.js';
import { offersProviderSignOut, rememberSignOut } from './screens/sign_on/sign-on.js';

const main = document.getElementById('main');
const nav = document.getElementById('nav');
const account = document.getElementById('account');
const liveStatus = document.getElementById('live');
const notice = document.getElementById('notice');
let cleanup = null;
let renderId = 0;
let landed = false; // the first screen keeps the focus where the page starts: the skip link comes first
document.querySelector('.brand').textContent = t('Mentorship'); // the header's name, in the reader's words

function go(path) {
  if (location.hash === `#${path}`) route();
  else location.hash = path;
}

async function route() {
  const id = ++renderId;
  if (cleanup) { try { cleanup(); } catch { /* the old screen is gone anyway */ } cleanup = null; }
  const { path, query } = parseHash(location.hash);
  const found = findRoute(path);
  if (!found) {
    replace(main, h('h1', {}, t('Page not found')), h('p', {}, h('a', { href: '#/' }, t('Back to mentors'))));
    return;
  }
  const { screen, params, options: { title } } = found;
  const allowed = access(found.options, path, session.signedIn);
  if (allowed === 'directory') { location.replace('/mentors'); return; } // a visitor starts at the public directory
  if (allowed === 'sign-in') {
    sessionStorage.setItem('mentorship.after', location.hash.slice(1)); // back to it, with its chosen time
    go('/signin');
    return;
  }
  if (allowed === 'home') { go('/'); return; }
  document.title = t('{screen} · Mentorship', { screen: title });
  // Each route draws into a box of its own: a screen still drawing when the reader moved on (waiting for its module
  // or the API) draws into a box no longer on the page, never beside the next screen.
  const stage = h('div', { class: 'screen' });
  replace(main, stage);
  try {
    const result = await screen(stage, { params, query, go, signedIn });
    if (id !== renderId) { if (typeof result === 'function') result(); return; }
    cleanup = typeof result === 'function' ? result : null;
  } catch (err) {
    // A link to something that is not there (mistyped, or out of date) says so in words, with a way on.
    if (id === renderId && err.status === 404) {
      replace(main, h('h1', {}, t('{screen} not found', { screen: title })),
        errorBox(t('Nothing is at this address: the link may be mistyped or out of date.')),
        h('p', {}, h('a', { href: '#/' }, t('Back to mentors'))));
    } else if (id === renderId) replace(main, h('h1', {}, title), errorBox(err.message || String(err)));
  }
  const heading = main.querySelector('h1');
  const first = !landed;
  landed = true;
  if (!first && heading && id === renderId && document.activeElement === document.body) {
    heading.setAttribute('tabindex', '-1');
    heading.focus({ preventScroll: true });
  }
}

function navLink(href, text, count = 0, within = null) {
  const current = within ? within.test(parseHash(location.hash).path) : parseHash(location.hash).path === href.slice(1);
  return h('a', { href, 'aria-current': current ? 'page' : null }, text,
    count ? h('span', { class: 'count-badge' }, ` ${count}`, h('span', { class: 'sr-only' }, ` ${t('waiting for you')}`)) : null);
}

// Whether the menu shows Programmes: to administrators, and to a user who coordinates one (asked once per user).
const coordinating = new Map();
async function runsProgrammes(user) {
  if (user.is_admin) return true;
  if (!coordinating.has(user.id)) {
    coordinating.set(user.id, get('/programmes?limit=1').then((page) => page.items.length > 0, () => false));
  }
  return coordinating.get(user.id);
}

async function renderHeader() {
  liveStatus.hidden = !session.signedIn; // a visitor has no stream to be connected or not
  if (!session.signedIn) {
    notice.hidden = true;
    replace(nav, navLink('#/signin', t('Sign in')), navLink('#/signup', t('Sign up')));
    replace(account);
    return;
  }
  let user = null;
  try { user = await currentUser(); } catch { user = null; }
  const links = [navLink('#/', t('Mentors')), navLink('#/bookings', t('My bookings'), waitingNow?.for_mentee),
    navLink('#/bundles', t('Bundles')), navLink('#/conversations', t('Messages'), messagesNow, /^\/conversations(\/|$)/)];
  if (user && user.mentor_profile_id) links.push(navLink('#/requests', t('Requests'), waitingNow?.for_mentor));
  links.push(navLink('#/mentor', user && user.mentor_profile_id ? t('Mentor setup') : t('Become a mentor')));
  if (user && await runsProgrammes(user)) links.push(navLink('#/programmes', t('Programmes')));
  links.push(navLink('#/settings', t('Settings')));
  if (user && user.is_admin) links.push(navLink('#/admin', t('Admin'), 0, /^\/admin(\/|$)/));
  replace(nav, links);
  // An address not confirmed gets no email (no confirmation, no reminder) until it is: said at the top of every screen.
  notice.hidden = !user || user.email_verified;
  if (!notice.hidden) {
    replace(notice, t('Confirm your email ({email}): no email reaches you until you do.', { email: user.email }), ' ',
      h('a', { href: '#/settings' }, t('Send the link again')));
  }
  replace(account,
    bell,
    h('span', { class: 'who' }, user ? user.display_name : ''),
    h('button', { type: 'button', onclick: signOut }, t('Sign out')));
}

const bell = h('button', { type: 'button', class: 'bell', onclick: () => go('/notifications') }, t('Notifications'));
onUserChange(() => renderHeader());
onUnread((count) => {
  bell.textContent = typeof count === 'number' ? tn('Notifications ({count} unread)', 'Notifications ({count} unread)', count)
    : t('Notifications ({count} unread)', { count });
});
// The menu's counts of what waits for the user (as a mentee on My bookings, as a mentor on Requests, messages).
let waitingNow = null;
let messagesNow = 0;
onMessages((count) => { if (count !== messagesNow) { messagesNow = count; renderHeader(); } });
onWaiting((found) => {
  const changed = found.for_mentee !== waitingNow?.for_mentee || found.for_mentor !== waitingNow?.for_mentor;
  waitingNow = found;
  if (changed) renderHeader();
});

async function signOut() {
  // A sign-in through an organisation offers, once signed out here, to sign out there too.
  rememberSignOut(await get('/auth/sign-on/current').catch(() => null));
  try { await api('POST', '/auth/logout'); } catch { /* signed out locally either way */ }
  session.clear();
}

const LIVE_TEXT = { live: t('Live'), polling: t('Updating every 10 s'), reconnecting: t('Reconnecting…') };
live.onStatus((connected, mode) => {
  liveStatus.textContent = LIVE_TEXT[mode];
  liveStatus.className = `live ${mode === 'live' ? 'on' : mode === 'polling' ? 'poll' : 'off'}`;
});

session.onChange((auth) => {
  if (!auth) {
    live.stop();
    forgetUser();
    renderHeader();
    go(offersProviderSignOut() ? '/signed-out' : '/signin');
  }
});

function signedIn() {
  forgetUser();
  waitingNow = null;
  live.start();
  refreshUnread();
  refreshWaiting();
  refreshMessages();
  messagesNow = 0;
  renderHeader();
  const after = sessionStorage.getItem('mentorship.after');
  sessionStorage.removeItem('mentorship.after');
  go(landingAfterSignIn(after));
}

// On a phone the menu folds behind its button; choosing a route folds it again.
const menu = document.getElementById('menu');
const menuToggle = document.getElementById('menu-toggle');
const foldMenu = (open) => { menu.classList.toggle('open', open); menuToggle.setAttribute('aria-expanded', String(open)); };
menuToggle.addEventListener('click', () => foldMenu(!menu.classList.contains('open')));
menu.addEventListener('click', (event) => { if (event.target.closest('a, button')) foldMenu(false); });

// Leaving a screen with changes not saved asks first; staying puts the address back without redrawing anything.
let shownHash = location.hash;
let puttingBack = false;
window.addEventListener('hashchange', () => {
  if (puttingBack) { puttingBack = false; return; }
  const warning = unsavedWarning();
  if (warning && !window.confirm(`${warning} ${t('Leave this page anyway?')}`)) {
    puttingBack = true;
    location.hash = shownHash;
    return;
  }
  shownHash = location.hash;
  foldMenu(false); route(); renderHeader();
});
window.addEventListener('beforeunload', (event) => { if (unsavedWarning()) event.preventDefault(); });
// The page's own words (index.html's), in the reader's language.
for (const [id, said] of [['skip-link', t('Skip to content')], ['menu-toggle', t('Menu')]]) {
  document.getElementById(id).textContent = said;
}
nav.setAttribute('aria-label', t('Main'));
notice.setAttribute('aria-label', t('Account notice'));
document.querySelector('.foot a').textContent = t('API documentation');
// Hashes are routes here: the skip link moves focus to the screen instead of following its href.
document.getElementById('skip-link').addEventListener('click', (event) => {
  event.preventDefault();
  main.focus();
});
// A reload or a new tab: signed in again from the refresh cookie, if any (one an organisation's sign-in just left).
await session.resume(location.hash.startsWith('#/sign-on/done'));
if (session.signedIn) { live.start(); refreshUnread(); refreshWaiting(); refreshMessages(); }
renderHeader();
route();
