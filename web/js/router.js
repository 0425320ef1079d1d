// The router's table and its decisions: which screen each hash route shows, with what from its address, and who may
// open it. Nothing here touches the page (main.js draws the screen, moves the focus and changes the address), so the
// unit tests read the table and the rules as the app uses them.
import { cancelEmailChange, forgotPassword, resetPassword, signIn, signUp, verifyEmail } from './screens/accounts/auth.js';
import { browse, mentorPage } from './screens/mentors/browse.js';
import { listingPage } from './screens/mentors/listing.js';
import { myBookings, requests } from './screens/bookings/bookings.js';
import { bookingLink } from './screens/bookings/booking-link.js';
import { sessionPage } from './screens/sessions/session.js';
import { mentorSetup } from './screens/mentors/mentor.js';
import { notificationsPage, bundlesPage } from './screens/notifications/notifications.js';
import { settingsPage } from './screens/accounts/settings.js';
import { teamPage } from './screens/mentors/team.js';
import { programmePage, programmesPage } from './screens/programmes/programmes.js';
import { invitationPage, joinPage } from './screens/programmes/enrolment.js';
import { coordinatorInvitationPage } from './screens/programmes/coordinating.js';
import { matchingPage } from './screens/matching/matching.js';
import { reportPage } from './screens/reports/report.js';
import { announcementPage } from './screens/conversations/announcements.js';
import { reportPage as conversationReportPage } from './screens/conversations/reports.js';
import { conversationPage, conversationsPage } from './screens/conversations/conversations.js';
import { adminPage } from './screens/operations/index.js';
import { signedOut, signOnDone, signOnFailed, signOnLink } from './screens/sign_on/sign-on.js';
import { t } from './words.js';

// Each route: its pattern (its groups are the screen's `params`), its screen, and who may open it: `open` to visitors,
// `signedInToo` to those signed in as well; `title` names the page.
export const routes = [
  [/^\/signin$/, signIn, { open: true, title: t('Sign in') }],
  [/^\/signup$/, signUp, { open: true, title: t('Sign up') }],
  [/^\/sign-on\/done$/, signOnDone, { open: true, signedInToo: true, title: t('Signing in') }],
  [/^\/sign-on\/link$/, signOnLink, { open: true, signedInToo: true, title: t('Link your account') }],
  [/^\/sign-on\/failed$/, signOnFailed, { open: true, signedInToo: true, title: t('Not signed in') }],
  [/^\/signed-out$/, signedOut, { open: true, title: t('Signed out') }],
  [/^\/forgot-password$/, forgotPassword, { open: true, title: t('Forgot password') }],
  [/^\/reset-password$/, resetPassword, { open: true, signedInToo: true, title: t('New password') }],
  [/^\/verify-email$/, verifyEmail, { open: true, signedInToo: true, title: t('Confirm your email') }],
  [/^\/cancel-email-change$/, cancelEmailChange, { open: true, signedInToo: true, title: t('Cancel the change of your email') }],
  [/^\/booking-link$/, bookingLink, { open: true, signedInToo: true, title: t('Cancel a meeting') }],
  [/^\/programme-invitation$/, invitationPage, { open: true, signedInToo: true, title: t('Invitation') }],
  [/^\/coordinator-invitation$/, coordinatorInvitationPage, { open: true, signedInToo: true, title: t('Invitation') }],
  [/^\/join$/, joinPage, { open: true, signedInToo: true, title: t('Join a programme') }],
  [/^\/$/, browse, { title: t('Find a mentor') }],
  [/^\/mentors\/([\w-]+)$/, mentorPage, { title: t('Mentor') }],
  [/^\/listings\/([\w-]+)$/, listingPage, { title: t('Listing') }],
  [/^\/listings\/([\w-]+)\/team$/, teamPage, { title: t('Team') }],
  [/^\/bookings$/, myBookings, { title: t('My bookings') }],
  [/^\/requests$/, requests, { title: t('Requests') }],
  [/^\/sessions\/([\w-]+)$/, sessionPage, { title: t('Session') }],
  [/^\/bundles$/, bundlesPage, { title: t('My bundles') }],
  [/^\/mentor$/, mentorSetup, { title: t('Mentor setup') }],
  [/^\/notifications$/, notificationsPage, { title: t('Notifications') }],
  [/^\/conversations$/, conversationsPage, { title: t('Messages') }],
  [/^\/announcements\/([\w-]+)$/, announcementPage, { title: t('Announcement') }],
  [/^\/reports\/([\w-]+)$/, conversationReportPage, { title: t('A reported conversation') }],
  [/^\/conversations\/([\w-]+)$/, conversationPage, { title: t('Conversation') }],
  [/^\/settings$/, settingsPage, { title: t('Settings') }],
  [/^\/programmes$/, programmesPage, { title: t('Programmes') }],
  [/^\/programmes\/([\w-]+)$/, programmePage, { title: t('Programme') }],
  [/^\/programmes\/([\w-]+)\/matching$/, matchingPage, { title: t('Matching') }],
  [/^\/programmes\/([\w-]+)\/report$/, reportPage, { title: t('Dashboard') }],
  [/^\/admin(?:\/([\w-]+))?$/, adminPage, { title: t('Admin') }],
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
