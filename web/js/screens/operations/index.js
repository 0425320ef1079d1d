// The admin console (#/admin/…): one screen per part of the platform an administrator looks after, under one menu.
// Anyone else who opens it reads that it is for administrators only.
import { currentUser } from '../../state.js';
import { h } from '../../ui.js';
import { t } from '../../words.js';
import { usersScreen } from './users.js';
import { programmesScreen } from './programmes.js';
import { reviewsScreen } from './reviews.js';
import { disputesScreen } from './disputes.js';
import { auditScreen } from './audit.js';
import { webhooksScreen } from './webhooks.js';
import { outboxScreen } from './outbox.js';
import { numbersScreen } from './numbers.js';
import { signOnScreen } from './sign-on.js';
import { noticesScreen } from './notices.js';

// [path, menu label, heading, screen]; each screen is also in docs/admin-console.md's list.
const SECTIONS = [
  ['users', t('Users'), t('Users'), usersScreen],
  ['programmes', t('Programmes'), t('Programmes and their coordinators'), programmesScreen],
  ['reviews', t('Reviews'), t('Reviews'), reviewsScreen],
  ['disputes', t('Disputes'), t('Attendance disputes'), disputesScreen],
  ['audit', t('Audit log'), t('Audit log'), auditScreen],
  ['webhooks', t('Webhooks'), t('Webhook endpoints and their failures'), webhooksScreen],
  ['outbox', t('Outbox'), t('Outbox backlog'), outboxScreen],
  ['numbers', t('Numbers'), t('Platform numbers'), numbersScreen],
  ['sign-on', t('Sign-on'), t('Sign-on providers'), signOnScreen],
  ['notices', t('Notices'), t('Notices to everyone'), noticesScreen],
];

function adminMenu(current) {
  return h('nav', { class: 'admin-nav', 'aria-label': t('Admin console') }, h('ul', {},
    SECTIONS.map(([path, label]) => h('li', {}, h('a', { href: `#/admin/${path}`,
      'aria-current': path === current ? 'page' : null }, label)))));
}

export async function adminPage(main, { params: [section = 'users'], query, go }) {
  const me = await currentUser();
  if (!me || !me.is_admin) {
    main.append(h('h1', {}, t('Administrators only')),
      h('p', {}, t('The admin console is for the platform’s administrators. If you should be one, ask an administrator to grant you admin.')),
      h('p', {}, h('a', { href: '#/' }, t('Back to mentors'))));
    return undefined;
  }
  const found = SECTIONS.find(([path]) => path === section);
  if (!found) {
    main.append(adminMenu(null), h('h1', {}, t('No such admin screen')),
      h('p', {}, t('Choose one of the screens above.')));
    return undefined;
  }
  const [path, , heading, screen] = found;
  document.title = t('{heading} · Admin · Mentorship', { heading });
  main.append(h('p', { class: 'crumbs' }, t('Admin console')), h('h1', {}, heading), adminMenu(path));
  return screen(main, { query, go, me });
}
