// The audit log: what administrators did (who, what, to which account, session, review, dispute or programme, and
// why), and the credentials' events (sign-ins, through an organisation too, their failures, lock-outs, sign-outs,
// password and email changes, accounts linked to an organisation, sign-on providers added, changed, disabled or
// enabled, accounts provisioned or deprovisioned by an organisation's SCIM client). `?target=<id>` keeps one account's (or one thing's) entries.
import { get } from '../../api.js';
import { h, field, replace, when } from '../../ui.js';
import { userNames, userName } from './common.js';
import { pagedList } from '../../lists.js';
import { t, tParts, fill } from '../../words.js';

const ACTIONS = {
  'user.granted_admin': t('Made an admin'), 'user.revoked_admin': t('Admin taken away'), 'user.disabled': t('Disabled'),
  'user.enabled': t('Enabled'), 'user.deleted': t('Deleted'), 'session.cancelled': t('Session cancelled'),
  'review.hidden': t('Review hidden'), 'attendance.resolved': t('Dispute decided'),
  'programme.coordinator_named': t('Coordinator named'), 'programme.coordinator_removed': t('Coordinator taken off'),
  'sign_on.provider_added': t('Sign-on provider added'), 'sign_on.provider_changed': t('Sign-on provider changed'),
  'sign_on.provider_disabled': t('Sign-on provider disabled'), 'sign_on.provider_enabled': t('Sign-on provider enabled'),
  'sign_on.scim_token_issued': t('SCIM token made'), 'sign_on.scim_token_revoked': t('SCIM token revoked'),
  'programme.coordinators_set': t('Programme coordinators named'), 'programme.participant_removed': t('Participant taken off'),
  'programme.intake_read': t('Intake answers read'), 'programme.exported_pairs': t('Pairs export read'),
  'programme.exported_sessions': t('Sessions export read'), 'programme.exported_surveys': t('Surveys export read'),
  'programme.exported_participants': t('Participants export read (intake answers)'), 'programme.exported_goals': t('Goals export read'),
  'notice.posted': t('Notice to everyone posted'), 'conversation.read_reported': t('Reported conversation read'),
  'programme.coordinator_invited': t('Coordinator invited by address'),
  'programme.coordinator_invitation_withdrawn': t('Coordinator invitation withdrawn'),
  'library.resource_added': t('Resource added to the platform’s library'),
  'library.resource_changed': t('Resource of the platform’s library changed'),
  'library.resource_removed': t('Resource taken out of the platform’s library'),
};
const KINDS = [['', t('Every kind')], ['signed_in', t('Signed in')], ['sign_in_failed', t('Sign-in refused')],
  ['locked_out', t('Locked out')], ['signed_out', t('Signed out everywhere')], ['refresh_reused', t('Refresh token reused')],
  ['password_changed', t('Password changed')], ['password_reset', t('Password reset')],
  ['email_change_requested', t('Email change asked')], ['email_changed', t('Email changed')],
  ['email_change_cancelled', t('Email change cancelled')], ['signed_in_sso', t('Signed in through an organisation')],
  ['account_linked', t('Account linked to an organisation')], ['sso_refused', t('Organisation sign-in refused')],
  ['provider_added', t('Sign-on provider added')], ['provider_changed', t('Sign-on provider changed')],
  ['provider_disabled', t('Sign-on provider disabled')], ['provider_enabled', t('Sign-on provider enabled')],
  ['scim_provisioned', t('Provisioned by an organisation (SCIM)')],
  ['scim_deprovisioned', t('Deprovisioned by an organisation (SCIM)')]];
const KIND_TEXT = Object.fromEntries(KINDS);

// What an action was done to, by its kind and id (a kind not here is shown as it is).
const TARGETS = { session: t('session {id}'), review: t('review {id}'), dispute: t('dispute {id}'),
  programme: t('programme {id}'), programme_participant: t('programme participant {id}'),
  announcement: t('announcement {id}'), conversation: t('conversation {id}'),
  coordinator_invitation: t('coordinator invitation {id}') };

// The sign-on providers by id, read once a screen: an entry names a provider, never its id; `through`: the words
// "through the sign-on provider …" (each way its own whole phrase).
function providerNames() {
  const all = get('/admin/identity-providers').then(({ items }) => new Map(items.map((p) => [p.id, p.display_name])),
    () => new Map());
  return (id, through = false) => {
    const el = h('span', {}, through ? t('through a sign-on provider') : t('a sign-on provider'));
    all.then((known) => {
      if (!known.has(id)) return;
      const name = known.get(id);
      el.textContent = through ? t('through the sign-on provider {name}', { name }) : t('the sign-on provider {name}', { name });
    });
    return el;
  };
}

function actionRow(entry, names, providers) {
  const kind = entry.target_type.replace(/_/g, ' ');
  const target = entry.target_type === 'user' ? userName(names, entry.target_id)
    : entry.target_type === 'identity_provider' && entry.target_id ? providers(entry.target_id)
      : entry.target_id ? (TARGETS[entry.target_type] ? fill(TARGETS[entry.target_type], { id: entry.target_id })
        : `${kind} ${entry.target_id}`) : kind;
  return h('li', {}, h('strong', {}, ACTIONS[entry.action] || entry.action), ': ', target,
    entry.reason ? h('p', {}, t('“{reason}”', { reason: entry.reason })) : null,
    h('p', { class: 'meta' }, tParts('{when} by {person}', { when: when(entry.created_at), person: userName(names, entry.admin_user_id) })));
}

function eventRow(event, names, providers) {
  return h('li', {}, h('strong', {}, KIND_TEXT[event.kind] || event.kind), ': ',
    event.user_id ? userName(names, event.user_id) : t('an address no account uses'),
    event.provider_id ? [' ', providers(event.provider_id, true)] : null,
    event.reason ? ` (${event.reason}${event.detail ? `: ${event.detail}` : ''})` : null,
    h('p', { class: 'meta' }, event.client_address
      ? t('{when} from {address}', { when: when(event.created_at), address: event.client_address })
      : t('{when} from an unknown address', { when: when(event.created_at) })));
}

export function auditScreen(main, { query }) {
  const names = userNames();
  const providers = providerNames();
  const target = query.get('target');
  const actions = h('div', {});
  const events = h('div', {});
  const form = h('form', { class: 'inline-form', 'aria-label': t('Which credential events') },
    field(t('Kind'), { tag: 'select', name: 'kind' }, KINDS), h('button', { type: 'submit' }, t('Show')));
  const loadEvents = () => replace(events, pagedList('/admin/audit/auth-events',
    { user_id: target, kind: form.kind.value || null }, (e) => eventRow(e, names, providers), { none: t('No event here.') }));
  form.addEventListener('submit', (event) => { event.preventDefault(); loadEvents(); });
  replace(actions, pagedList('/admin/audit', { target_id: target }, (a) => actionRow(a, names, providers),
    { none: t('No admin action here.') }));
  // (DOM's own append writes a null as the word "null": only what is there is appended)
  if (target) main.append(h('p', {}, tParts('Entries of one account: {person}.', { person: userName(names, target) }), ' ',
    h('a', { href: '#/admin/audit' }, t('Every entry'))));
  main.append(
    h('section', { 'aria-labelledby': 'au-act-h' }, h('h2', { id: 'au-act-h' }, t('What administrators did')), actions),
    h('section', { 'aria-labelledby': 'au-ev-h' }, h('h2', { id: 'au-ev-h' }, t('Sign-ins and account changes')),
      form, events));
  loadEvents();
}
