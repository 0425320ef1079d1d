// The router's table and its decisions: which screen each hash route shows, with what from its address, and who may
// open it. Nothing here touches the page (main.js draws the screen, moves the focus and changes the address), so the
// unit tests read the table and the rules as the app uses them.
import { t } from './words.js';

// Each screen's module is fetched when it is first shown: the page's first load holds the router, not every screen.
const accountsAuth = () => import('./screens/accounts/auth.js');
const mentorsBrowse = () => import('./screens/mentors/browse.js');
const mentorsListing = () => import('./screens/mentors/listing.js');
const bookingsBookings = () => import('./screens/bookings/bookings.js');
const bookingsBookingLink = () => import('./screens/bookings/booking-link.js');
const sessionsSession = () => import('./screens/sessions/session.js');
const mentorsMentor = () => import('./screens/mentors/mentor.js');
const notificationsNotifications = () => import('./screens/notifications/notifications.js');
const accountsSettings = () => import('./screens/accounts/settings.js');
const mentorsTeam = () => import('./screens/mentors/team.js');
const programmesProgrammes = () => import('./screens/programmes/programmes.js');
const programmesEnrolment = () => import('./screens/programmes/enrolment.js');
const programmesCoordinating = () => import('./screens/programmes/coordinating.js');
const programmesLibrary = () => import('./screens/programmes/library.js');
const matchingMatching = () => import('./screens/matching/matching.js');
const reportsReport = () => import('./screens/reports/report.js');
const conversationsAnnouncements = () => import('./screens/conversations/announcements.js');
const conversationsReports = () => import('./screens/conversations/reports.js');
const conversationsConversations = () => import('./screens/conversations/conversations.js');
const operationsIndex = () => import('./screens/operations/index.js');
const signOnSignOn = () => import('./screens/sign_on/sign-on.js');
/** A screen of a module loaded when it is first drawn. */
const lazy = (load, name) => async (...args) => (await load())[name](...args);

// Each route: its pattern (its groups are the screen's `params`), its screen, and who may open it: `open` to visitors,
// `signedInToo` to those signed in as well; `title` names the page.
export const routes = [
  [/^\/signin$/, lazy(accountsAuth, 'signIn'), { open: true, title: t('Sign in') }],
  [/^\/signup$/, lazy(accountsAuth, 'signUp'), { open: true, title: t('Sign up') }],
  [/^\/sign-on\/done$/, lazy(signOnSignOn, 'signOnDone'), { open: true, signedInToo: true, title: t('Signing in') }],
  [/^\/sign-on\/link$/, lazy(signOnSignOn, 'signOnLink'), { open: true, signedInToo: true, title: t('Link your account') }],
  [/^\/sign-on\/failed$/, lazy(signOnSignOn, 'signOnFailed'), { open: true, signedInToo: true, title: t('Not signed in') }],
  [/^\/signed-out$/, lazy(signOnSignOn, 'signedOut'), { open: true, title: t('Signed out') }],
  [/^\/forgot-password$/, lazy(accountsAuth, 'forgotPassword'), { open: true, title: t('Forgot password') }],
  [/^\/reset-password$/, lazy(accountsAuth, 'resetPassword'), { open: true, signedInToo: true, title: t('New password') }],
  [/^\/verify-email$/, lazy(accountsAuth, 'verifyEmail'), { open: true, signedInToo: true, title: t('Confirm your email') }],
  [/^\/cancel-email-change$/, lazy(accountsAuth, 'cancelEmailChange'), { open: true, signedInToo: true, title: t('Cancel the change of your email') }],
  [/^\/booking-link$/, lazy(bookingsBookingLink, 'bookingLink'), { open: true, signedInToo: true, title: t('Cancel a meeting') }],
  [/^\/programme-invitation$/, lazy(programmesEnrolment, 'invitationPage'), { open: true, signedInToo: true, title: t('Invitation') }],
  [/^\/coordinator-invitation$/, lazy(programmesCoordinating, 'coordinatorInvitationPage'), { open: true, signedInToo: true, title: t('Invitation') }],
  [/^\/join$/, lazy(programmesEnrolment, 'joinPage'), { open: true, signedInToo: true, title: t('Join a programme') }],
  [/^\/$/, lazy(mentorsBrowse, 'browse'), { title: t('Find a mentor') }],
  [/^\/mentors\/([\w-]+)$/, lazy(mentorsBrowse, 'mentorPage'), { title: t('Mentor') }],
  [/^\/listings\/([\w-]+)$/, lazy(mentorsListing, 'listingPage'), { title: t('Listing') }],
  [/^\/listings\/([\w-]+)\/team$/, lazy(mentorsTeam, 'teamPage'), { title: t('Team') }],
  [/^\/bookings$/, lazy(bookingsBookings, 'myBookings'), { title: t('My bookings') }],
  [/^\/requests$/, lazy(bookingsBookings, 'requests'), { title: t('Requests') }],
  [/^\/sessions\/([\w-]+)$/, lazy(sessionsSession, 'sessionPage'), { title: t('Session') }],
  [/^\/bundles$/, lazy(notificationsNotifications, 'bundlesPage'), { title: t('My bundles') }],
  [/^\/mentor$/, lazy(mentorsMentor, 'mentorSetup'), { title: t('Mentor setup') }],
  [/^\/notifications$/, lazy(notificationsNotifications, 'notificationsPage'), { title: t('Notifications') }],
  [/^\/conversations$/, lazy(conversationsConversations, 'conversationsPage'), { title: t('Messages') }],
  [/^\/announcements\/([\w-]+)$/, lazy(conversationsAnnouncements, 'announcementPage'), { title: t('Announcement') }],
  [/^\/reports\/([\w-]+)$/, lazy(conversationsReports, 'reportPage'), { title: t('A reported conversation') }],
  [/^\/conversations\/([\w-]+)$/, lazy(conversationsConversations, 'conversationPage'), { title: t('Conversation') }],
  [/^\/settings$/, lazy(accountsSettings, 'settingsPage'), { title: t('Settings') }],
  [/^\/programmes$/, lazy(programmesProgrammes, 'programmesPage'), { title: t('Programmes') }],
  [/^\/programmes\/([\w-]+)$/, lazy(programmesProgrammes, 'programmePage'), { title: t('Programme') }],
  [/^\/programmes\/([\w-]+)\/matching$/, lazy(matchingMatching, 'matchingPage'), { title: t('Matching') }],
  [/^\/programmes\/([\w-]+)\/report$/, lazy(reportsReport, 'reportPage'), { title: t('Dashboard') }],
  [/^\/programmes\/([\w-]+)\/library$/, lazy(programmesLibrary, 'programmeLibrary'), { title: t('Library') }],
  [/^\/library$/, lazy(programmesLibrary, 'platformLibrary'), { title: t('Library') }],
  [/^\/admin(?:\/([\w-]+))?$/, lazy(operationsIndex, 'adminPage'), { title: t('Admin') }],
];

/** The address's hash ("#/listings/7?start=…") as a path and its query; an empty hash is the root. */
export function parseHash(hash) {
  const raw = hash.replace(/^#/, '') || '/';
  const [path, query = ''] = raw.split('?');
  return { path, query: new URLSearchParams(query) };
}

/** The route of `path`: its screen, the parts of the path its pattern captures, and its options; null for none. */
export function findRoute(path, table = routes) {
  const match = table.find(([pattern]) => pattern.test(path));
  if (!match) return null;
  const [pattern, screen, options] = match;
  return { screen, params: path.match(pattern).slice(1), options };
}

/** What the router does with a route for a reader signed in or not: 'show' it; send a visitor at the root to the
 * public directory ('directory'); send a visitor to sign in first ('sign-in', and back afterwards); send someone
 * signed in away from a page for visitors only ('home'). */
export function access({ open = false, signedInToo = false }, path, signedIn) {
  if (!open && !signedIn) return path === '/' ? 'directory' : 'sign-in';
  if (open && !signedInToo && signedIn) return 'home';
  return 'show';
}

/** Where signing in lands: the route the reader was sent away from, unless that was signing in or up itself. */
export const landingAfterSignIn = (after) => (after && after !== '/signin' && after !== '/signup' ? after : '/');
