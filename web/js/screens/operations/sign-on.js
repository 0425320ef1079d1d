// Sign-on: the organisations' OpenID providers people sign in with, each with its email domains, password rule and
// programme rules. An admin adds one (its discovery document is read at once), changes one, disables one (every
// sign-in made through it ends) or enables it again, each with the reason the audit log keeps.
import { get, patch, post } from '../../api.js';
import { all } from '../../state.js';
import { h, field, redraw, replace, messageArea, act, badge, when, loading, errorBox, empty, disclosure } from '../../ui.js';
import { askReason } from './common.js';

const ROLES = [['mentee', 'Mentee'], ['mentor', 'Mentor']];
const domainsOf = (text) => text.split(/[\s,;]+/).map((d) => d.trim().toLowerCase()).filter(Boolean);
const plural = (n, word) => `${n} ${word}${n === 1 ? '' : 's'}`;
let rows = 0;
const box = (label, name, checked) => h('div', { class: 'field checkbox' },
  h('input', { type: 'checkbox', id: `idp-${name}-${++rows}`, name, checked: Boolean(checked) }),
  h('label', { for: `idp-${name}-${rows}` }, label));

function ruleRow(programmes, rule = {}) {
  const n = ++rows;
  const row = h('fieldset', { class: 'row rule' }, h('legend', {}, 'Programme rule'),
    field('Programme', { tag: 'select', name: `programme-${n}`, required: true }, programmes.map((p) => [p.id, p.name])),
    field('Role', { tag: 'select', name: `role-${n}` }, ROLES),
    field('Claim', { name: `claim-${n}`, value: rule.claim || '', maxlength: 64, hint: 'e.g. groups; empty: everyone' }),
    field('Value', { name: `value-${n}`, value: rule.value || '', maxlength: 200 }),
    h('button', { type: 'button', onclick: () => row.remove() }, 'Remove this rule'));
  const [programme, role] = row.querySelectorAll('select');
  if (rule.programme_id) programme.value = rule.programme_id;
  role.value = rule.role || 'mentee';
  return row;
}

function ruleOf(row) {
  const [programme, role, claim, value] = row.querySelectorAll('select, input');
  return { programme_id: programme.value, role: role.value, claim: claim.value.trim() || null,
    value: value.value.trim() || null };
}

/** The form adding a provider, or changing `provider`; `onSaved(saved)` after the API took it. */
function providerForm(programmes, provider, onSaved) {
  const was = provider || { domains: [], enrolments: [], session_hours: 168 };
  const messages = messageArea();
  const rules = h('div', {}, was.enrolments.map((rule) => ruleRow(programmes, rule)));
  const form = h('form', { class: 'card', noValidate: true,
    'aria-label': provider ? `Change ${provider.display_name}` : 'Add a provider' },
  field('Organisation name', { name: 'display_name', value: was.display_name || '', required: true, maxlength: 100,
    hint: 'People read “Sign in with …” and this name.' }),
  field('Issuer', { type: 'url', name: 'issuer', value: was.issuer || '', required: true, maxlength: 500,
    hint: 'Its discovery document, at this address + /.well-known/openid-configuration, is read when you save.' }),
  field('Client ID', { name: 'client_id', value: was.client_id || '', required: true, maxlength: 255, autocomplete: 'off' }),
  field('Client secret', { type: 'password', name: 'client_secret', required: !provider, autocomplete: 'new-password',
    hint: provider ? 'Empty: the current one stays. It is never shown again.' : 'It is never shown again.' }),
  field('Email domains', { name: 'domains', value: was.domains.join(', '),
    hint: 'Separated by commas or spaces, e.g. example.com, example.org. Their people are offered this sign-in.' }),
  field('Sign-ins last at most (hours)', { type: 'number', name: 'session_hours', min: 1, max: 2160, required: true,
    value: was.session_hours, hint: 'Then people sign in at the organisation again.' }),
  box('Its domains sign in with it only (no passwords)', 'password_sign_in_off', was.password_sign_in_off),
  box('It is on a private network (the service may then reach addresses inside it; logged)', 'private_network',
    was.private_network),
  h('fieldset', {}, h('legend', {}, 'Programme rules'),
    h('p', { class: 'hint' }, 'Who signs in with the claim’s value (one of its values) joins the programme in the role.'),
    rules, programmes.length ? h('button', { type: 'button', onclick: () => {
      rules.append(ruleRow(programmes));
      rules.lastChild.querySelector('select').focus();
    } }, 'Add a programme rule') : h('p', { class: 'muted' }, 'No programme yet: rules join people to one.')),
  messages.el,
  h('button', { type: 'submit', class: 'primary' }, provider ? 'Save the changes' : 'Add the provider'));
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    act(form.querySelector('button[type=submit]'), messages, async () => {
      const data = { display_name: form.display_name.value.trim(), issuer: form.issuer.value.trim(),
        client_id: form.client_id.value.trim(), domains: domainsOf(form.domains.value),
        session_hours: Number(form.session_hours.value), password_sign_in_off: form.password_sign_in_off.checked,
        private_network: form.private_network.checked, enrolments: [...rules.children].map(ruleOf) };
      if (form.client_secret.value) data.client_secret = form.client_secret.value;
      if (!provider) { onSaved(await post('/admin/identity-providers', data)); return; }
      // Only what changed: a new issuer reads discovery again, and lists given replace the old ones.
      const changed = Object.fromEntries(Object.entries(data)
        .filter(([key, value]) => JSON.stringify(value) !== JSON.stringify(provider[key])));
      if (!Object.keys(changed).length) { messages.ok('Nothing changed.'); return; }
      onSaved(await patch(`/admin/identity-providers/${provider.id}`, changed));
    }, form);
  });
  return form;
}

// What an IT admin debugging a sign-in needs first: when the last one was refused, by which check, and what it found.
const CHECKS = { aud: 'the ID token is for another client (audience)', azp: 'the ID token is for another client (azp)',
  iss: 'another issuer answered', signature: 'the signature does not verify', algorithm: 'an algorithm not allowed',
  key: 'a signing key the provider does not publish', nonce: 'the nonce does not match', exp: 'the ID token expired',
  iat: 'the ID token was issued too long ago', sub: 'the subject is unusable', state: 'the state is unknown or used',
  expired: 'the sign-in took over ten minutes', denied: 'cancelled at the provider', code: 'the code was refused',
  provider: 'the provider could not be reached', email: 'no usable email', account: 'no account may sign in with it',
  domain: 'the address belongs to another organisation’s provider', disabled: 'the provider is disabled' };
const lastRefusal = (r) => (r ? h('p', { class: 'refusal' }, h('strong', {}, 'Last refused sign-in: '),
  `${when(r.at)}, ${CHECKS[r.reason] || r.reason} (${r.reason})`, r.detail ? ` — ${r.detail}` : '')
  : h('p', { class: 'meta' }, 'No refused sign-in.'));

function providerRow(p, programmes, messages, reload) {
  const name = p.display_name;
  const programme = (id) => (programmes.find((x) => x.id === id) || { name: 'a programme' }).name;
  const editing = h('div', {});
  const saved = async (changed) => { messages.ok(`${changed.display_name} is saved.`); await reload(); };
  const change = disclosure(`Change ${name}…`, editing,
    () => editing.firstChild || replace(editing, providerForm(programmes, p, saved)));
  const actions = change.firstChild; // the disclosure's button, and beside it the one that disables or enables
  actions.dataset.confirmFor = `idp-${p.id}`;
  // Disabling ends every sign-in made through it; both ask for the reason the audit log keeps.
  const turn = (verb, says, done) => {
    const label = verb === 'enable' ? 'Enable' : 'Disable';
    return h('button', { type: 'button', class: p.disabled_at ? null : 'danger', onclick: () => askReason(actions, {
      label: `${label} ${name}`, confirm: `${label} it`, danger: !p.disabled_at, says, onConfirm: async (reason) => {
        messages.ok(done(await post(`/admin/identity-providers/${p.id}/${verb}`, { reason })));
        await reload();
      } }) }, `${label}…`);
  };
  actions.append(p.disabled_at ? turn('enable', `People may sign in with ${name} again.`, () => `${name} is enabled.`)
    : turn('disable', `No one signs in with ${name} any more: every sign-in made through it ends now, and its domains `
      + 'may use passwords again.',
    (done) => `${name} is disabled: ${plural(done.sign_ins_ended, 'sign-in')} through it ended.`));
  return h('li', {}, h('strong', {}, name), ' ', p.disabled_at ? badge('Disabled', 'cancelled') : badge('Enabled', 'accepted'),
    h('p', { class: 'meta' }, p.issuer, p.disabled_at ? ` · disabled ${when(p.disabled_at)}` : null),
    h('p', {}, `Domains: ${p.domains.join(', ') || 'none'} · `, p.password_sign_in_off
      ? 'they sign in with it only (no passwords)' : 'passwords work too', ` · sign-ins last ${p.session_hours} h`),
    p.enrolments.length ? h('ul', {}, p.enrolments.map((r) => h('li', {}, `${programme(r.programme_id)}: joins as `
      + `${r.role}${r.claim ? ` when ${r.claim} has ${r.value || 'any value'}` : ' (everyone)'}`))) : null,
    h('p', {}, 'Redirect URI to register there: ', h('code', {}, p.redirect_uri)),
    lastRefusal(p.last_refusal),
    change);
}

export async function signOnScreen(main) {
  const messages = messageArea();
  const listEl = h('div', {}, loading());
  const programmes = await all('/programmes').catch(() => []);
  const reload = async () => {
    try {
      const { items } = await get('/admin/identity-providers');
      redraw(listEl, items.length ? h('ul', { class: 'list' }, items.map((p) => providerRow(p, programmes, messages, reload)))
        : empty('No organisation yet: everyone signs in with a password.'));
    } catch (err) { replace(listEl, errorBox(err.message)); }
  };
  const adding = h('div', {});
  const add = disclosure('Add a provider', adding, () => replace(adding, providerForm(programmes, null, async (saved) => {
    messages.ok(`${saved.display_name} is added. Register this redirect URI at it: ${saved.redirect_uri}`);
    add.querySelector('button').click(); // closed: the new provider is in the list
    await reload();
  })));
  main.append(h('p', {}, 'Organisations whose people sign in with their own OpenID provider.'), messages.el, listEl, add);
  await reload();
}
