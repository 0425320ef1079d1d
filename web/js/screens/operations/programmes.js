// Programmes and their coordinators: every programme, newest first; an admin names one more coordinator (by their
// email) or takes one off, each with the reason the audit log keeps. A programme's own page runs the rest.
import { api, get, post } from '../../api.js';
import { h, field, replace, messageArea, badge, loading, errorBox, disclosure } from '../../ui.js';
import { askReason, userNames, userName } from './common.js';
import { pagedList } from '../../lists.js';
import { t, tn, tParts } from '../../words.js';

const STATUS = { draft: t('Draft'), enrolling: t('Enrolling'), running: t('Running'), closed: t('Closed') };

function coordinators(programme, messages, names) {
  const listEl = h('ul', { class: 'list' });
  const draw = (ids) => replace(listEl, ids.length ? ids.map((id) => {
    const actions = h('span', { class: 'actions', 'data-confirm-for': `coord-${programme.id}-${id}` });
    actions.append(h('button', { type: 'button', class: 'danger', onclick: () => askReason(actions, {
      label: t('Take this coordinator off'), messages, danger: true, confirm: t('Take them off'),
      says: t('They stop running this programme and are told so.'),
      onConfirm: async (reason) => {
        const changed = await api('DELETE', `/admin/programmes/${programme.id}/coordinators/${id}`, { reason });
        draw(changed.coordinator_user_ids);
        messages.ok(t('The coordinator was taken off.'));
      } }) }, t('Take off…')));
    return h('li', {}, userName(names, id), ' ', actions);
  }) : h('li', { class: 'muted' }, t('No coordinator: its administrators run it.')));
  draw(programme.coordinator_user_ids);
  const add = h('div', { class: 'actions', 'data-confirm-for': `coord-add-${programme.id}` });
  add.append(h('button', { type: 'button', onclick: () => {
    const email = field(t('Their email'), { type: 'email', name: 'email', maxlength: 320, required: true });
    askReason(add, { label: t('Name a coordinator'), messages, confirm: t('Name them'), extra: email,
      says: t('The account of a confirmed address runs the programme at once, and is told so. Any other address is invited by mail, and runs it once the address is confirmed.'),
      onConfirm: async (reason) => {
        const address = email.querySelector('input').value.trim();
        const named = await post(`/admin/programmes/${programme.id}/coordinator-invitations`, { email: address, reason });
        if (named.granted) {
          draw(named.programme.coordinator_user_ids);
          messages.ok(t('{address} coordinates {programme}.', { address, programme: programme.name }));
        } else {
          messages.ok(t('{address} is invited: they coordinate {programme} once their address is confirmed.',
            { address, programme: programme.name }));
        }
      } });
  } }, t('Name a coordinator…')));
  return h('div', {}, listEl, add);
}

export function programmesScreen(main) {
  const messages = messageArea();
  const names = userNames();
  main.append(h('p', {}, tParts('Every programme, newest first. Creating one, and its settings, are on {link}.',
    { link: h('a', { href: '#/programmes' }, t('Programmes')) })), messages.el,
  pagedList('/programmes', {}, (p) => {
    const panel = h('div', {}, loading());
    return h('li', {}, h('a', { href: `#/programmes/${p.id}` }, p.name), ' ', badge(STATUS[p.status] || p.status, p.status),
      h('span', { class: 'meta' }, ' · ', tn('{count} coordinator', '{count} coordinators', p.coordinator_user_ids.length)),
      disclosure(t('Coordinators of {programme}', { programme: p.name }), panel, async () => {
        try { replace(panel, coordinators(await get(`/programmes/${p.id}`), messages, names)); } catch (err) {
          replace(panel, errorBox(err.message));
        }
      }));
  }, { none: t('No programme yet.') }));
}
