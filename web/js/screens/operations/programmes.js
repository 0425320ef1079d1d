// Programmes and their coordinators: every programme, newest first; an admin names one more coordinator (by their
// email) or takes one off, each with the reason the audit log keeps. A programme's own page runs the rest.
import { api, get, put, qs } from '../../api.js';
import { h, field, replace, messageArea, badge, loading, errorBox, disclosure } from '../../ui.js';
import { askReason, userNames, userName } from './common.js';
import { pagedList } from '../../lists.js';

const STATUS = { draft: 'Draft', enrolling: 'Enrolling', running: 'Running', closed: 'Closed' };

async function userByEmail(email) {
  const wanted = email.trim().toLowerCase();
  const page = await get(`/admin/users${qs({ q: wanted, limit: 100 })}`);
  const user = page.items.find((u) => u.email.toLowerCase() === wanted);
  if (!user) throw new Error(`No account has the address ${wanted}.`);
  return user;
}

function coordinators(programme, messages, names) {
  const listEl = h('ul', { class: 'list' });
  const draw = (ids) => replace(listEl, ids.length ? ids.map((id) => {
    const actions = h('span', { class: 'actions', 'data-confirm-for': `coord-${programme.id}-${id}` });
    actions.append(h('button', { type: 'button', class: 'danger', onclick: () => askReason(actions, {
      label: 'Take this coordinator off', messages, danger: true, confirm: 'Take them off',
      says: 'They stop running this programme and are told so.',
      onConfirm: async (reason) => {
        const changed = await api('DELETE', `/admin/programmes/${programme.id}/coordinators/${id}`, { reason });
        draw(changed.coordinator_user_ids);
        messages.ok('The coordinator was taken off.');
      } }) }, 'Take off…'));
    return h('li', {}, userName(names, id), ' ', actions);
  }) : h('li', { class: 'muted' }, 'No coordinator: its administrators run it.'));
  draw(programme.coordinator_user_ids);
  const add = h('div', { class: 'actions', 'data-confirm-for': `coord-add-${programme.id}` });
  add.append(h('button', { type: 'button', onclick: () => {
    const email = field('Their email', { type: 'email', name: 'email', maxlength: 320, required: true });
    askReason(add, { label: 'Name a coordinator', messages, confirm: 'Name them', extra: email,
      says: 'They run the programme with its other coordinators, and are told so.',
      onConfirm: async (reason) => {
        const user = await userByEmail(email.querySelector('input').value);
        const changed = await put(`/admin/programmes/${programme.id}/coordinators/${user.id}`, { reason });
        draw(changed.coordinator_user_ids);
        messages.ok(`${user.display_name} coordinates ${programme.name}.`);
      } });
  } }, 'Name a coordinator…'));
  return h('div', {}, listEl, add);
}

export function programmesScreen(main) {
  const messages = messageArea();
  const names = userNames();
  main.append(h('p', {}, 'Every programme, newest first. Creating one, and its settings, are on ',
    h('a', { href: '#/programmes' }, 'Programmes'), '.'), messages.el,
  pagedList('/programmes', {}, (p) => {
    const panel = h('div', {}, loading());
    return h('li', {}, h('a', { href: `#/programmes/${p.id}` }, p.name), ' ', badge(STATUS[p.status] || p.status, p.status),
      h('span', { class: 'meta' }, ` · ${p.coordinator_user_ids.length} coordinator${p.coordinator_user_ids.length === 1 ? '' : 's'}`),
      disclosure(`Coordinators of ${p.name}`, panel, async () => {
        try { replace(panel, coordinators(await get(`/programmes/${p.id}`), messages, names)); } catch (err) {
          replace(panel, errorBox(err.message));
        }
      }));
  }, { none: 'No programme yet.' }));
}
