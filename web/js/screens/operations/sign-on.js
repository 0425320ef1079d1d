// Sign-on: the organisations' identity providers people sign in with (OpenID Connect or SAML 2.0), each with its email
// domains, password rule and programme rules. An admin adds one (an OpenID provider's discovery document, or a SAML
// IdP's metadata, is read at once), changes one, disables one (every
// sign-in made through it ends) or enables it again, each with the reason the audit log keeps; and where a second step
// is required of password sign-ins.
import { del, get, patch, post, put } from '../../api.js';
import { all } from '../../state.js';
import { h, field, redraw, replace, messageArea, act, badge, when, loading, errorBox, empty, disclosure } from '../../ui.js';
import { askReason } from './common.js';
import { t, tn, tParts, fill } from '../../words.js';

const ROLES = [['mentee', t('Mentee')], ['mentor', t('Mentor')]];
const domainsOf = (text) => text.split(/[\s,;]+/).map((d) => d.trim().toLowerCase()).filter(Boolean);
let rows = 0;
const box = (label, name, checked) => h('div', { class: 'field checkbox' },
  h('input', { type: 'checkbox', id: `idp-${name}-${++rows}`, name, checked: Boolean(checked) }),
  h('label', { for: `idp-${name}-${rows}` }, label));

function ruleRow(programmes, rule = {}) {
  const n = ++rows;
  const row = h('fieldset', { class: 'row rule' }, h('legend', {}, t('Programme rule')),
    field(t('Programme'), { tag: 'select', name: `programme-${n}`, required: true }, programmes.map((p) => [p.id, p.name])),
    field(t('Role'), { tag: 'select', name: `role-${n}` }, ROLES),
    field(t('Claim'), { name: `claim-${n}`, value: rule.claim || '', maxlength: 64, hint: t('e.g. groups; empty: everyone') }),
    field(t('Value'), { name: `value-${n}`, value: rule.value || '', maxlength: 200 }),
    h('button', { type: 'button', onclick: () => row.remove() }, t('Remove this rule')));
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

/** A SAML provider's own fields: its metadata (new XML, else its URL: read when new or changed), the attribute map. */
function samlData(form, provider) {
  const xml = form.metadata_xml.value.trim();
  const url = form.metadata_url.value.trim();
  const map = Object.fromEntries(['email', 'name', 'groups'].map((key) => [key, form[`map_${key}`].value.trim()])
    .filter(([, value]) => value));
  const metadata = xml ? { metadata_xml: xml } : url && (!provider || url !== provider.metadata_url) ? { metadata_url: url } : {};
  return { ...metadata, attribute_map: Object.keys(map).length ? map : null, idp_initiated: form.idp_initiated.checked };
}

/** The form adding a provider, or changing `provider`; `onSaved(saved)` after the API took it. */
function providerForm(programmes, provider, onSaved) {
  const was = provider || { domains: [], enrolments: [], session_hours: 168 };
  const messages = messageArea();
  const rules = h('div', {}, was.enrolments.map((rule) => ruleRow(programmes, rule)));
  const oidc = h('div', {},
    field(t('Issuer'), { type: 'url', name: 'issuer', value: was.issuer || '', maxlength: 500,
      hint: t('Its discovery document, at this address + /.well-known/openid-configuration, is read when you save.') }),
    field(t('Client ID'), { name: 'client_id', value: was.client_id || '', maxlength: 255, autocomplete: 'off' }),
    field(t('Client secret'), { type: 'password', name: 'client_secret', autocomplete: 'new-password',
      hint: provider ? t('Empty: the current one stays. It is never shown again.') : t('It is never shown again.') }));
  const map = was.attribute_map || {};
  const saml = h('div', {},
    field(t('IdP metadata URL'), { type: 'url', name: 'metadata_url', value: was.metadata_url || '', maxlength: 2048,
      hint: provider ? t('Saving with this address reads the IdP’s metadata again.') : t('Read when you save. Or paste the metadata below.') }),
    field(t('IdP metadata (XML)'), { tag: 'textarea', name: 'metadata_xml', rows: 3,
      hint: t('Instead of the URL; empty: the URL is read.') }),
    field(t('Email attribute'), { name: 'map_email', value: map.email || '', maxlength: 256, hint: t('Empty: mail, or the usual ones.') }),
    field(t('Name attribute'), { name: 'map_name', value: map.name || '', maxlength: 256, hint: t('Empty: displayName, or the usual ones.') }),
    field(t('Groups attribute'), { name: 'map_groups', value: map.groups || '', maxlength: 256,
      hint: t('Empty: groups, memberOf or eduPersonAffiliation. Programme rules name it as the claim “groups”.') }),
    box(t('Take sign-ins the IdP starts itself (IdP-initiated; off is safer)'), 'idp_initiated', was.idp_initiated));
  const isSaml = () => (provider ? provider.protocol === 'saml' : form.protocol.value === 'saml');
  const show = () => { oidc.hidden = isSaml(); saml.hidden = !isSaml(); };
  const form = h('form', { class: 'card', noValidate: true,
    'aria-label': provider ? t('Change {name}', { name: provider.display_name }) : t('Add a provider') },
  field(t('Organisation name'), { name: 'display_name', value: was.display_name || '', required: true, maxlength: 100,
    hint: t('People read “Sign in with …” and this name.') }),
  provider ? null : field(t('Protocol'), { tag: 'select', name: 'protocol' },
    [['oidc', t('OpenID Connect')], ['saml', t('SAML 2.0')]]),
  oidc, saml,
  field(t('Email domains'), { name: 'domains', value: was.domains.join(', '),
    hint: t('Separated by commas or spaces, e.g. example.com, example.org. Their people are offered this sign-in.') }),
  field(t('Sign-ins last at most (hours)'), { type: 'number', name: 'session_hours', min: 1, max: 2160, required: true,
    value: was.session_hours, hint: t('Then people sign in at the organisation again.') }),
  box(t('Its domains sign in with it only (no passwords)'), 'password_sign_in_off', was.password_sign_in_off),
  box(t('It is on a private network (the service may then reach addresses inside it; logged)'), 'private_network',
    was.private_network),
  h('fieldset', {}, h('legend', {}, t('Programme rules')),
    h('p', { class: 'hint' }, t('Who signs in with the claim’s value (one of its values) joins the programme in the role.')),
    rules, programmes.length ? h('button', { type: 'button', onclick: () => {
      rules.append(ruleRow(programmes));
      rules.lastChild.querySelector('select').focus();
    } }, t('Add a programme rule')) : h('p', { class: 'muted' }, t('No programme yet: rules join people to one.'))),
  messages.el,
  h('button', { type: 'submit', class: 'primary' }, provider ? t('Save the changes') : t('Add the provider')));
  if (!provider) form.protocol.addEventListener('change', show);
  show();
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    act(form.querySelector('button[type=submit]'), messages, async () => {
      const data = { display_name: form.display_name.value.trim(), domains: domainsOf(form.domains.value),
        session_hours: Number(form.session_hours.value), password_sign_in_off: form.password_sign_in_off.checked,
        private_network: form.private_network.checked, enrolments: [...rules.children].map(ruleOf),
        ...(isSaml() ? samlData(form, provider) : { issuer: form.issuer.value.trim(), client_id: form.client_id.value.trim() }) };
      if (!isSaml() && form.client_secret.value) data.client_secret = form.client_secret.value;
      if (!provider) { onSaved(await post(isSaml() ? '/admin/identity-providers/saml' : '/admin/identity-providers', data)); return; }
      // Only what changed: a new issuer reads discovery again, and lists given replace the old ones.
      const changed = Object.fromEntries(Object.entries(data)
        .filter(([key, value]) => JSON.stringify(value) !== JSON.stringify(provider[key])));
      if (!Object.keys(changed).length) { messages.ok(t('Nothing changed.')); return; }
      onSaved(await patch(`/admin/identity-providers/${provider.id}`, changed));
    }, form);
  });
  return form;
}

// What an IT admin debugging a sign-in needs first: when the last one was refused, by which check, and what it found.
const CHECKS = { aud: t('the ID token is for another client (audience)'), azp: t('the ID token is for another client (azp)'),
  iss: t('another issuer answered'), signature: t('the signature does not verify'), algorithm: t('an algorithm not allowed'),
  key: t('a signing key the provider does not publish'), nonce: t('the nonce does not match'), exp: t('the ID token expired'),
  iat: t('the ID token was issued too long ago'), sub: t('the subject is unusable'), state: t('the state is unknown or used'),
  expired: t('the sign-in took over ten minutes'), denied: t('cancelled at the provider'), code: t('the code was refused'),
  provider: t('the provider could not be reached'), email: t('no usable email'), account: t('no account may sign in with it'),
  domain: t('the address belongs to another organisation’s provider'), disabled: t('the provider is disabled'),
  replay: t('the assertion was used already (a replay)'), in_response_to: t('the response answers another sign-in'),
  comment: t('the response carries an XML comment'), dtd: t('the response carries a DTD or an entity'),
  size: t('the response is too large'), name_id: t('the NameID is unusable'), assertion: t('not exactly one assertion'),
  not_on_or_after: t('the assertion expired'), not_before: t('the assertion is not valid yet'),
  destination: t('the response is for another address') };
const lastRefusal = (r) => (r ? h('p', { class: 'refusal' }, h('strong', {}, t('Last refused sign-in:')), ' ',
  t('{when}, {check} ({reason})', { when: when(r.at), check: CHECKS[r.reason] || r.reason, reason: r.reason }),
  r.detail ? ` — ${r.detail}` : '')
  : h('p', { class: 'meta' }, t('No refused sign-in.')));

// A programme rule, each way it reads a whole sentence: by the role it joins as, then whether a claim is asked for
// and, if so, whether a value is.
const JOINS = {
  mentee: { everyone: t('{programme}: joins as mentee (everyone)'), value: t('{programme}: joins as mentee when {claim} has {value}'),
    any: t('{programme}: joins as mentee when {claim} has any value') },
  mentor: { everyone: t('{programme}: joins as mentor (everyone)'), value: t('{programme}: joins as mentor when {claim} has {value}'),
    any: t('{programme}: joins as mentor when {claim} has any value') },
};
function ruleText(programme, r) {
  const said = JOINS[r.role] || JOINS.mentee;
  return fill(r.claim ? (r.value ? said.value : said.any) : said.everyone, { programme, claim: r.claim, value: r.value });
}

/** SCIM provisioning by the provider: its token (shown once when made; a new one ends the old), or none. */
function scimPart(p, messages, reload) {
  const { scim } = p;
  const shown = h('div', { 'aria-live': 'polite' });
  const status = scim.token_created_at
    ? t('SCIM provisioning at {endpoint}: a token since {when}, last used {used}.', { endpoint: scim.endpoint,
      when: when(scim.token_created_at), used: scim.token_last_used_at ? when(scim.token_last_used_at) : t('never') })
    : t('SCIM provisioning at {endpoint}: no token yet.', { endpoint: scim.endpoint });
  const issue = h('button', { type: 'button', onclick: () => act(issue, messages, async () => {
    const made = await post(`/admin/identity-providers/${p.id}/scim-token`);
    replace(shown, h('p', { class: 'secret' }, tParts('The SCIM token of {name}, shown this once: {token}', {
      name: p.display_name, token: h('code', {}, made.token) })));
  }) }, scim.token_created_at ? t('Make a new SCIM token (the current one stops)') : t('Make a SCIM token'));
  const revoke = scim.token_created_at ? h('button', { type: 'button', class: 'danger', onclick: () => act(revoke, messages,
    async () => {
      await del(`/admin/identity-providers/${p.id}/scim-token`);
      messages.ok(t('The SCIM token of {name} is revoked.', { name: p.display_name }));
      await reload();
    }) }, t('Revoke the SCIM token')) : null;
  return h('div', { class: 'scim' }, h('p', {}, status), issue, ' ', revoke, shown);
}

function providerRow(p, programmes, messages, reload) {
  const name = p.display_name;
  const programme = (id) => (programmes.find((x) => x.id === id) || { name: t('a programme') }).name;
  const editing = h('div', {});
  const saved = async (changed) => { messages.ok(t('{name} is saved.', { name: changed.display_name })); await reload(); };
  const change = disclosure(t('Change {name}…', { name }), editing,
    () => editing.firstChild || replace(editing, providerForm(programmes, p, saved)));
  const actions = change.firstChild; // the disclosure's button, and beside it the one that disables or enables
  actions.dataset.confirmFor = `idp-${p.id}`;
  // Disabling ends every sign-in made through it; both ask for the reason the audit log keeps.
  const turn = (verb, words, says, done) => h('button', { type: 'button', class: p.disabled_at ? null : 'danger',
    onclick: () => askReason(actions, {
      label: words.label, confirm: words.confirm, danger: !p.disabled_at, says, onConfirm: async (reason) => {
        messages.ok(done(await post(`/admin/identity-providers/${p.id}/${verb}`, { reason })));
        await reload();
      } }) }, words.button);
  actions.append(p.disabled_at
    ? turn('enable', { label: t('Enable {name}', { name }), confirm: t('Enable it'), button: t('Enable…') },
      t('People may sign in with {name} again.', { name }), () => t('{name} is enabled.', { name }))
    : turn('disable', { label: t('Disable {name}', { name }), confirm: t('Disable it'), button: t('Disable…') },
      t('No one signs in with {name} any more: every sign-in made through it ends now, and its domains may use passwords again.', { name }),
      (done) => tn('{name} is disabled: {count} sign-in through it ended.', '{name} is disabled: {count} sign-ins through it ended.',
        done.sign_ins_ended, { name })));
  return h('li', {}, h('strong', {}, name), ' ', p.disabled_at ? badge(t('Disabled'), 'cancelled') : badge(t('Enabled'), 'accepted'),
    h('p', { class: 'meta' }, p.issuer, p.disabled_at ? [' · ', t('disabled {when}', { when: when(p.disabled_at) })] : null),
    h('p', {}, p.domains.length ? t('Domains: {domains}', { domains: p.domains.join(', ') }) : t('Domains: none'), ' · ',
      p.password_sign_in_off ? t('they sign in with it only (no passwords)') : t('passwords work too'), ' · ',
      t('sign-ins last {hours} h', { hours: p.session_hours })),
    p.enrolments.length ? h('ul', {}, p.enrolments.map((r) => h('li', {}, ruleText(programme(r.programme_id), r)))) : null,
    p.protocol === 'saml'
      ? h('p', {}, tParts('SAML 2.0. SP metadata to register at the IdP: {uri}', { uri: h('a', { href: p.sp_metadata_url }, h('code', {}, p.sp_metadata_url)) }))
      : h('p', {}, tParts('Redirect URI to register there: {uri}', { uri: h('code', {}, p.redirect_uri) })),
    lastRefusal(p.last_refusal),
    scimPart(p, messages, reload),
    change);
}

/** Where a second step is required of password sign-ins: every account, or those of some email domains. */
function secondStepRule(messages) {
  const form = h('form', { class: 'card', novalidate: true, 'aria-label': t('Second step for password sign-ins') }, loading());
  get('/admin/second-step-rule').then((rule) => {
    replace(form, h('h2', {}, t('Second step for password sign-ins')),
      h('p', { class: 'hint' }, t('People it is required of and who have no authenticator app set one up at their next password sign-in. Sign-ins through an organisation are its own business.')),
      box(t('Required of every password account'), 'every_account', rule.every_account),
      field(t('Required of these email domains'), { name: 'domains', value: rule.domains.join(', '),
        hint: t('Separated by commas or spaces, e.g. example.com, example.org.') }),
      h('button', { type: 'submit', class: 'primary' }, t('Save')));
  }, (err) => replace(form, errorBox(err.message)));
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    act(form.querySelector('button'), messages, async () => {
      const saved = await put('/admin/second-step-rule', { every_account: form.every_account.checked, domains: domainsOf(form.domains.value) });
      form.domains.value = saved.domains.join(', ');
      messages.ok(t('Saved: where a second step is required.'));
    }, form);
  });
  return form;
}

export async function signOnScreen(main) {
  const messages = messageArea();
  const listEl = h('div', {}, loading());
  const programmes = await all('/programmes').catch(() => []);
  const reload = async () => {
    try {
      const { items } = await get('/admin/identity-providers');
      redraw(listEl, items.length ? h('ul', { class: 'list' }, items.map((p) => providerRow(p, programmes, messages, reload)))
        : empty(t('No organisation yet: everyone signs in with a password.')));
    } catch (err) { replace(listEl, errorBox(err.message)); }
  };
  const adding = h('div', {});
  const add = disclosure(t('Add a provider'), adding, () => replace(adding, providerForm(programmes, null, async (saved) => {
    messages.ok(saved.protocol === 'saml'
      ? t('{name} is added. Register this service’s SP metadata at the IdP: {uri}', { name: saved.display_name, uri: saved.sp_metadata_url })
      : t('{name} is added. Register this redirect URI at it: {uri}', { name: saved.display_name, uri: saved.redirect_uri }));
    add.querySelector('button').click(); // closed: the new provider is in the list
    await reload();
  })));
  main.append(h('p', {}, t('Organisations whose people sign in with their own identity provider (OpenID Connect or SAML 2.0).')), messages.el, listEl, add,
    secondStepRule(messages));
  await reload();
}
