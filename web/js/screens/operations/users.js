// Users: find someone by a part of their name or email; disable or enable their account, grant or revoke admin,
// delete the account; each asks for the reason the audit log keeps.
import { api, put, post } from '../../api.js';
import { h, field, replace, messageArea, badge, when } from '../../ui.js';
import { askReason } from './common.js';
import { pagedList } from '../../lists.js';
import { t } from '../../words.js';

const FILTERS = [['', t('Everyone')], ['admins', t('Administrators')], ['disabled', t('Disabled accounts')]];

function userRow(user, me, messages, reload) {
  const actions = h('div', { class: 'actions', 'data-confirm-for': `user-${user.id}` });
  const gone = Boolean(user.deleted_at);
  const name = `${user.display_name} (${user.email})`;
  const person = user.display_name;
  const did = (text) => async () => { messages.ok(text); await reload(); };
  if (!gone && user.id !== me.id) {
    actions.append(user.disabled_at
      ? h('button', { type: 'button', onclick: () => askReason(actions, { label: t('Enable {name}', { name }), messages,
        says: t('{person} may sign in again. What was cancelled stays cancelled, and their listings stay off until they turn them on.', { person }),
        confirm: t('Enable the account'),
        onConfirm: async (reason) => { await post(`/admin/users/${user.id}/enable`, { reason });
          await did(t('{person}’s account is enabled.', { person }))(); } }) }, t('Enable…'))
      : h('button', { type: 'button', class: 'danger', onclick: () => askReason(actions, { label: t('Disable {name}', { name }),
        messages, danger: true, confirm: t('Disable the account'),
        says: t('{person} is signed out everywhere at once and cannot sign in; their future sessions and requests are cancelled as if they cancelled them, and their listings stop taking bookings.', { person }),
        onConfirm: async (reason) => { await post(`/admin/users/${user.id}/disable`, { reason });
          await did(t('{person}’s account is disabled.', { person }))(); } }) }, t('Disable…')),
    user.is_admin
      ? h('button', { type: 'button', onclick: () => askReason(actions, { label: t('Remove admin from {name}', { name }), messages,
        says: t('{person} will no longer see this console nor act on others’ accounts.', { person }),
        confirm: t('Remove admin'), onConfirm: async (reason) => {
          await api('DELETE', `/admin/users/${user.id}/admin`, { reason });
          await did(t('{person} is no longer an admin.', { person }))(); } }) }, t('Remove admin…'))
      : h('button', { type: 'button', onclick: () => askReason(actions, { label: t('Make {name} an admin', { name }), messages,
        says: t('{person} will see this console and may act on every account.', { person }),
        confirm: t('Make them an admin'), onConfirm: async (reason) => {
          await put(`/admin/users/${user.id}/admin`, { reason });
          await did(t('{person} is an admin.', { person }))(); } }) }, t('Make admin…')),
    h('button', { type: 'button', class: 'danger', onclick: () => askReason(actions, { label: t('Delete {name}', { name }),
      messages, danger: true, confirm: t('Delete the account for good'),
      says: t('This cannot be undone: {person}’s future sessions are cancelled, their name, email and password erased; their past sessions stay, shown as “Deleted user”.', { person }),
      onConfirm: async (reason) => { await api('DELETE', `/admin/users/${user.id}`, { reason });
        await did(t('The account is deleted.'))(); } }) }, t('Delete…')));
  }
  actions.append(h('a', { href: `#/admin/audit?target=${user.id}` }, t('Audit log')));
  return h('li', {}, h('strong', {}, user.display_name), ' ', h('span', { class: 'meta' }, user.email), ' ',
    user.is_admin ? badge(t('Admin'), 'accepted') : null, ' ',
    user.disabled_at ? badge(t('Disabled'), 'cancelled') : null, gone ? badge(t('Deleted'), 'cancelled') : null,
    h('p', { class: 'meta' }, t('Joined {when}', { when: when(user.created_at) }), user.id === me.id ? [' · ', t('you')] : null),
    user.disabled_at ? h('p', {}, t('Disabled {when}: {reason}', { when: when(user.disabled_at), reason: user.disabled_reason || '' })) : null,
    actions);
}

export function usersScreen(main, { me, query }) {
  const messages = messageArea();
  const results = h('div', {});
  const form = h('form', { class: 'inline-form', role: 'search', 'aria-label': t('Find users') },
    field(t('Name or email contains'), { type: 'search', name: 'q', maxlength: 200, value: query.get('q') || '' }),
    field(t('Who'), { tag: 'select', name: 'filter' }, FILTERS),
    h('button', { type: 'submit', class: 'primary' }, t('Search')));
  const search = () => {
    const filter = form.filter.value;
    const params = { q: form.q.value.trim() || null, is_admin: filter === 'admins' ? 'true' : null,
      disabled: filter === 'disabled' ? 'true' : null };
    replace(results, pagedList('/admin/users', params, (user) => userRow(user, me, messages, search),
      { none: t('No user matches.') }));
  };
  form.addEventListener('submit', (event) => { event.preventDefault(); messages.clear(); search(); });
  main.append(form, messages.el, h('section', { 'aria-label': t('Users found') }, results));
  search();
}
