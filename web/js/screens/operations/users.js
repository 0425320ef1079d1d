// Users: find someone by a part of their name or email; disable or enable their account, grant or revoke admin,
// delete the account; each asks for the reason the audit log keeps.
import { api, put, post } from '../../api.js';
import { h, field, replace, messageArea, badge, when } from '../../ui.js';
import { askReason } from './common.js';
import { pagedList } from '../../lists.js';

const FILTERS = [['', 'Everyone'], ['admins', 'Administrators'], ['disabled', 'Disabled accounts']];

function userRow(user, me, messages, reload) {
  const actions = h('div', { class: 'actions', 'data-confirm-for': `user-${user.id}` });
  const gone = Boolean(user.deleted_at);
  const name = `${user.display_name} (${user.email})`;
  const did = (text) => async () => { messages.ok(text); await reload(); };
  if (!gone && user.id !== me.id) {
    actions.append(user.disabled_at
      ? h('button', { type: 'button', onclick: () => askReason(actions, { label: `Enable ${name}`, messages,
        says: `${user.display_name} may sign in again. What was cancelled stays cancelled, and their listings stay `
          + 'off until they turn them on.', confirm: 'Enable the account',
        onConfirm: async (reason) => { await post(`/admin/users/${user.id}/enable`, { reason });
          await did(`${user.display_name}’s account is enabled.`)(); } }) }, 'Enable…')
      : h('button', { type: 'button', class: 'danger', onclick: () => askReason(actions, { label: `Disable ${name}`,
        messages, danger: true, confirm: 'Disable the account',
        says: `${user.display_name} is signed out everywhere at once and cannot sign in; their future sessions and `
          + 'requests are cancelled as if they cancelled them, and their listings stop taking bookings.',
        onConfirm: async (reason) => { await post(`/admin/users/${user.id}/disable`, { reason });
          await did(`${user.display_name}’s account is disabled.`)(); } }) }, 'Disable…'),
    user.is_admin
      ? h('button', { type: 'button', onclick: () => askReason(actions, { label: `Remove admin from ${name}`, messages,
        says: `${user.display_name} will no longer see this console nor act on others’ accounts.`,
        confirm: 'Remove admin', onConfirm: async (reason) => {
          await api('DELETE', `/admin/users/${user.id}/admin`, { reason });
          await did(`${user.display_name} is no longer an admin.`)(); } }) }, 'Remove admin…')
      : h('button', { type: 'button', onclick: () => askReason(actions, { label: `Make ${name} an admin`, messages,
        says: `${user.display_name} will see this console and may act on every account.`,
        confirm: 'Make them an admin', onConfirm: async (reason) => {
          await put(`/admin/users/${user.id}/admin`, { reason });
          await did(`${user.display_name} is an admin.`)(); } }) }, 'Make admin…'),
    h('button', { type: 'button', class: 'danger', onclick: () => askReason(actions, { label: `Delete ${name}`,
      messages, danger: true, confirm: 'Delete the account for good',
      says: `This cannot be undone: ${user.display_name}’s future sessions are cancelled, their name, email and `
        + 'password erased; their past sessions stay, shown as “Deleted user”.',
      onConfirm: async (reason) => { await api('DELETE', `/admin/users/${user.id}`, { reason });
        await did('The account is deleted.')(); } }) }, 'Delete…'));
  }
  actions.append(h('a', { href: `#/admin/audit?target=${user.id}` }, 'Audit log'));
  return h('li', {}, h('strong', {}, user.display_name), ' ', h('span', { class: 'meta' }, user.email), ' ',
    user.is_admin ? badge('Admin', 'accepted') : null, ' ',
    user.disabled_at ? badge('Disabled', 'cancelled') : null, gone ? badge('Deleted', 'cancelled') : null,
    h('p', { class: 'meta' }, `Joined ${when(user.created_at)}`, user.id === me.id ? ' · you' : null),
    user.disabled_at ? h('p', {}, `Disabled ${when(user.disabled_at)}: ${user.disabled_reason || ''}`) : null,
    actions);
}

export function usersScreen(main, { me, query }) {
  const messages = messageArea();
  const results = h('div', {});
  const form = h('form', { class: 'inline-form', role: 'search', 'aria-label': 'Find users' },
    field('Name or email contains', { type: 'search', name: 'q', maxlength: 200, value: query.get('q') || '' }),
    field('Who', { tag: 'select', name: 'filter' }, FILTERS),
    h('button', { type: 'submit', class: 'primary' }, 'Search'));
  const search = () => {
    const filter = form.filter.value;
    const params = { q: form.q.value.trim() || null, is_admin: filter === 'admins' ? 'true' : null,
      disabled: filter === 'disabled' ? 'true' : null };
    replace(results, pagedList('/admin/users', params, (user) => userRow(user, me, messages, search),
      { none: 'No user matches.' }));
  };
  form.addEventListener('submit', (event) => { event.preventDefault(); messages.clear(); search(); });
  main.append(form, messages.el, h('section', { 'aria-label': 'Users found' }, results));
  search();
}
