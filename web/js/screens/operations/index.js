// The admin console (#/admin/…): one screen per part of the platform an administrator looks after, under one menu.
// Anyone else who opens it reads that it is for administrators only.
import { currentUser } from '../../state.js';
import { h } from '../../ui.js';
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
  ['users', 'Users', 'Users', usersScreen],
  ['programmes', 'Programmes', 'Programmes and their coordinators', programmesScreen],
  ['reviews', 'Reviews', 'Reviews', reviewsScreen],
  ['disputes', 'Disputes', 'Attendance disputes', disputesScreen],
  ['audit', 'Audit log', 'Audit log', auditScreen],
  ['webhooks', 'Webhooks', 'Webhook endpoints and their failures', webhooksScreen],
  ['outbox', 'Outbox', 'Outbox backlog', outboxScreen],
  ['numbers', 'Numbers', 'Platform numbers', numbersScreen],
  ['sign-on', 'Sign-on', 'Sign-on providers', signOnScreen],
  ['notices', 'Notices', 'Notices to everyone', noticesScreen],
];

function adminMenu(current) {
  return h('nav', { class: 'admin-nav', 'aria-label': 'Admin console' }, h('ul', {},
    SECTIONS.map(([path, label]) => h('li', {}, h('a', { href: `#/admin/${path}`,
      'aria-current': path === current ? 'page' : null }, label)))));
}

export async function adminPage(main, { params: [section = 'users'], query, go }) {
  const me = await currentUser();
  if (!me || !me.is_admin) {
    main.append(h('h1', {}, 'Administrators only'),
      h('p', {}, 'The admin console is for the platform’s administrators. If you should be one, ask an administrator '
        + 'to grant you admin.'), h('p', {}, h('a', { href: '#/' }, 'Back to mentors')));
    return undefined;
  }
  const found = SECTIONS.find(([path]) => path === section);
  if (!found) {
    main.append(adminMenu(null), h('h1', {}, 'No such admin screen'),
      h('p', {}, 'Choose one of the screens above.'));
    return undefined;
  }
  const [path, , heading, screen] = found;
  document.title = `${heading} · Admin · Mentorship`;
  main.append(h('p', { class: 'crumbs' }, 'Admin console'), h('h1', {}, heading), adminMenu(path));
  return screen(main, { query, go, me });
}
