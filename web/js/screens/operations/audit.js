// The audit log: what administrators did (who, what, to which account, session, review, dispute or programme, and
// why), and the credentials' events (sign-ins, through an organisation too, their failures, lock-outs, sign-outs,
// password and email changes, accounts linked to an organisation, sign-on providers added, changed, disabled or
// enabled). `?target=<id>` keeps one account's (or one thing's) entries.
import { get } from '../../api.js';
import { h, field, replace, when } from '../../ui.js';
import { userNames, userName } from './common.js';
import { pagedList } from '../../lists.js';

const ACTIONS = {
  'user.granted_admin': 'Made an admin', 'user.revoked_admin': 'Admin taken away', 'user.disabled': 'Disabled',
  'user.enabled': 'Enabled', 'user.deleted': 'Deleted', 'session.cancelled': 'Session cancelled',
  'review.hidden': 'Review hidden', 'attendance.resolved': 'Dispute decided',
  'programme.coordinator_named': 'Coordinator named', 'programme.coordinator_removed': 'Coordinator taken off',
  'sign_on.provider_added': 'Sign-on provider added', 'sign_on.provider_changed': 'Sign-on provider changed',
  'sign_on.provider_disabled': 'Sign-on provider disabled', 'sign_on.provider_enabled': 'Sign-on provider enabled',
  'programme.coordinators_set': 'Programme coordinators named', 'programme.participant_removed': 'Participant taken off',
  'programme.intake_read': 'Intake answers read', 'programme.exported_pairs': 'Pairs export read',
  'programme.exported_sessions': 'Sessions export read', 'programme.exported_surveys': 'Surveys export read',
  'programme.exported_participants': 'Participants export read (intake answers)', 'programme.exported_goals': 'Goals export read',
  'notice.posted': 'Notice to everyone posted', 'conversation.read_reported': 'Reported conversation read',
  'programme.coordinator_invited': 'Coordinator invited by address',
  'programme.coordinator_invitation_withdrawn': 'Coordinator invitation withdrawn',
};
const KINDS = [['', 'Every kind'], ['signed_in', 'Signed in'], ['sign_in_failed', 'Sign-in refused'],
  ['locked_out', 'Locked out'], ['signed_out', 'Signed out everywhere'], ['refresh_reused', 'Refresh token reused'],
  ['password_changed', 'Password changed'], ['password_reset', 'Password reset'],
  ['email_change_requested', 'Email change asked'], ['email_changed', 'Email changed'],
  ['email_change_cancelled', 'Email change cancelled'], ['signed_in_sso', 'Signed in through an organisation'],
  ['account_linked', 'Account linked to an organisation'], ['sso_refused', 'Organisation sign-in refused'],
  ['provider_added', 'Sign-on provider added'], ['provider_changed', 'Sign-on provider changed'],
  ['provider_disabled', 'Sign-on provider disabled'], ['provider_enabled', 'Sign-on provider enabled']];
const KIND_TEXT = Object.fromEntries(KINDS);

// The sign-on providers by id, read once a screen: an entry names a provider, never its id.
function providerNames() {
  const all = get('/admin/identity-providers').then(({ items }) => new Map(items.map((p) => [p.id, p.display_name])),
    () => new Map());
  return (id) => {
    const el = h('span', {}, 'a sign-on provider');
    all.then((known) => { if (known.has(id)) el.textContent = `the sign-on provider ${known.get(id)}`; });
    return el;
  };
}

function actionRow(entry, names, providers) {
  const kind = entry.target_type.replace(/_/g, ' ');
  const target = entry.target_type === 'user' ? userName(names, entry.target_id)
    : entry.target_type === 'identity_provider' && entry.target_id ? providers(entry.target_id)
      : entry.target_id ? `${kind} ${entry.target_id}` : kind;
  return h('li', {}, h('strong', {}, ACTIONS[entry.action] || entry.action), ': ', target,
    entry.reason ? h('p', {}, `“${entry.reason}”`) : null,
    h('p', { class: 'meta' }, `${when(entry.created_at)} by `, userName(names, entry.admin_user_id)));
}

function eventRow(event, names, providers) {
  return h('li', {}, h('strong', {}, KIND_TEXT[event.kind] || event.kind), ': ',
    event.user_id ? userName(names, event.user_id) : 'an address no account uses',
    event.provider_id ? [' through ', providers(event.provider_id)] : null,
    event.reason ? ` (${event.reason}${event.detail ? `: ${event.detail}` : ''})` : null,
    h('p', { class: 'meta' }, `${when(event.created_at)} from ${event.client_address || 'an unknown address'}`));
}

export function auditScreen(main, { query }) {
  const names = userNames();
  const providers = providerNames();
  const target = query.get('target');
  const actions = h('div', {});
  const events = h('div', {});
  const form = h('form', { class: 'inline-form', 'aria-label': 'Which credential events' },
    field('Kind', { tag: 'select', name: 'kind' }, KINDS), h('button', { type: 'submit' }, 'Show'));
  const loadEvents = () => replace(events, pagedList('/admin/audit/auth-events',
    { user_id: target, kind: form.kind.value || null }, (e) => eventRow(e, names, providers), { none: 'No event here.' }));
  form.addEventListener('submit', (event) => { event.preventDefault(); loadEvents(); });
  replace(actions, pagedList('/admin/audit', { target_id: target }, (a) => actionRow(a, names, providers),
    { none: 'No admin action here.' }));
  // (DOM's own append writes a null as the word "null": only what is there is appended)
  if (target) main.append(h('p', {}, 'Entries of one account: ', userName(names, target), '. ',
    h('a', { href: '#/admin/audit' }, 'Every entry')));
  main.append(
    h('section', { 'aria-labelledby': 'au-act-h' }, h('h2', { id: 'au-act-h' }, 'What administrators did'), actions),
    h('section', { 'aria-labelledby': 'au-ev-h' }, h('h2', { id: 'au-ev-h' }, 'Sign-ins and account changes'),
      form, events));
  loadEvents();
}
