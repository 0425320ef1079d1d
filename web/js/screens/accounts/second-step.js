// Two-step sign-in: the code a password sign-in asks for (or the authenticator a rule makes one set up first), the
// settings' authenticator apps and recovery codes, and an authenticator's key and QR code shown once.
import { api, get, patch, del, post } from '../../api.js';
import { h, field, replace, messageArea, act, loading, errorBox, empty, when } from '../../ui.js';
import { t, tn } from '../../words.js';

// WebAuthn's byte strings travel as base64url in JSON; the browser's API takes and gives ArrayBuffers.
const bytes = (text) => Uint8Array.from(atob(text.replace(/-/g, '+').replace(/_/g, '/')), (c) => c.charCodeAt(0));
const text64 = (buffer) => btoa(String.fromCharCode(...new Uint8Array(buffer))).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
const keysIn = (list) => (list || []).map((c) => ({ ...c, id: bytes(c.id) }));
const asJson = (credential) => ({ id: credential.id, rawId: text64(credential.rawId), type: credential.type,
  response: Object.fromEntries(['clientDataJSON', 'attestationObject', 'authenticatorData', 'signature', 'userHandle']
    .filter((name) => credential.response[name]).map((name) => [name, text64(credential.response[name])])) });

/** A security key's signature for a sign-in's second step (`options`: the 401's `second_step.webauthn`). */
async function keySigns(options) {
  const publicKey = { ...options, challenge: bytes(options.challenge), allowCredentials: keysIn(options.allowCredentials) };
  return asJson(await navigator.credentials.get({ publicKey }));
}

/** A new security key made by the browser for this account: the API's options in, its answer out as JSON. */
async function keyMade(options) {
  const publicKey = { ...options, challenge: bytes(options.challenge), user: { ...options.user, id: bytes(options.user.id) },
    excludeCredentials: keysIn(options.excludeCredentials) };
  return asJson(await navigator.credentials.create({ publicKey }));
}

const codeField = () => field(t('Code from your authenticator app'), { name: 'code', inputmode: 'numeric',
  autocomplete: 'one-time-code', pattern: '[0-9 ]*', maxlength: 8, required: true });

/** An authenticator's key: a QR code to scan, the link for an app on this device, and the key to type. */
function keyPanel(setup) {
  const qr = `data:image/svg+xml;charset=utf-8,${encodeURIComponent(setup.qr_svg)}`;
  return h('div', { class: 'setup' },
    h('p', {}, t('Scan this code with an authenticator app (such as one on your phone), or add the key by hand.')),
    h('img', { src: qr, alt: t('QR code of your authenticator key'), width: 180, height: 180 }),
    h('p', {}, h('a', { href: setup.uri }, t('Open in an authenticator app on this device'))),
    h('p', {}, t('Key: '), h('code', { class: 'key' }, setup.secret.replace(/(.{4})/g, '$1 ').trim())));
}

/** Ten recovery codes, shown this once. */
export function codesPanel(codes) {
  return h('div', { class: 'card codes', role: 'region', 'aria-label': t('Recovery codes') },
    h('h3', {}, t('Your recovery codes')),
    h('p', {}, t('Each signs you in once if you lose your authenticator. Keep them somewhere safe: they are not shown again.')),
    h('ul', { class: 'codes-list' }, codes.map((code) => h('li', {}, h('code', {}, code)))));
}

/** The sign-in's second step, in place of the password form: `due` is the 401's `second_step`. */
export function secondStepForm(main, due, { signedIn, restart }) {
  const messages = messageArea();
  const code = codeField();
  const apps = due.methods.includes('totp') || due.enrolment;
  const recovery = field(t('Recovery code'), { name: 'recovery', autocomplete: 'off', maxlength: 20, disabled: apps });
  recovery.hidden = apps;
  code.hidden = !apps;
  code.querySelector('input').disabled = !apps;
  const submit = h('button', { type: 'submit', class: 'primary' }, t('Sign in'));
  const setup = h('div', {});
  const toggle = apps && due.methods.includes('recovery_code') ? h('button', { type: 'button', class: 'link', onclick: () => {
    const byRecovery = recovery.hidden;
    [recovery.hidden, code.hidden] = [!byRecovery, byRecovery];
    recovery.querySelector('input').disabled = !byRecovery;
    code.querySelector('input').disabled = byRecovery;
    toggle.textContent = byRecovery ? t('Use a code from your app instead') : t('Use a recovery code instead');
    (byRecovery ? recovery : code).querySelector('input').focus();
  } }, t('Use a recovery code instead')) : null;
  const finish = (tokens) => {
    if (!tokens.recovery_codes) { signedIn(tokens); return; }
    const go = h('button', { type: 'button', class: 'primary', onclick: () => signedIn(tokens) }, t('I have kept them: go on'));
    replace(main, h('h1', {}, t('You are signed in')), codesPanel(tokens.recovery_codes), go);
    go.focus();
  };
  const withKey = due.webauthn ? h('button', { type: 'button', class: 'primary', onclick: (e) => act(e.currentTarget, messages, async () => {
    finish(await api('POST', '/auth/token/second-step', { challenge: due.challenge, refresh_cookie: true,
      webauthn: await keySigns(due.webauthn) }, { authed: false }));
  }) }, t('Use your security key')) : null;
  const form = h('form', { class: 'card narrow', novalidate: true, 'aria-label': t('Second step') },
    h('p', {}, due.enrolment
      ? t('Your organisation asks for a second step when you sign in with a password. Set up an authenticator app now: it takes a minute.')
      : apps ? t('Enter the code your authenticator app shows for this account.') : t('Use your security key, or one of your recovery codes.')),
    withKey, setup, code, recovery, messages.el, apps || due.methods.includes('recovery_code') ? submit : null, toggle,
    h('p', {}, h('button', { type: 'button', class: 'link', onclick: restart }, t('Start again'))));
  if (due.enrolment) {
    code.hidden = true;
    submit.hidden = true;
    setup.append(loading());
    api('POST', '/auth/token/second-step/setup', { challenge: due.challenge }, { authed: false }).then((key) => {
      replace(setup, keyPanel(key));
      code.hidden = false;
      submit.hidden = false;
      code.querySelector('input').focus();
    }, (err) => replace(setup, errorBox(err.message)));
  }
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    act(submit, messages, async () => {
      const byRecovery = !recovery.hidden;
      const tokens = await api('POST', '/auth/token/second-step', { challenge: due.challenge, refresh_cookie: true,
        ...(byRecovery ? { recovery_code: form.recovery.value.trim() } : { code: form.code.value.trim() }) }, { authed: false });
      finish(tokens);
    }, form);
  });
  replace(main, h('h1', {}, t('Second step')), form);
  if (withKey) withKey.focus();
  else if (!due.enrolment) (apps ? code : recovery).querySelector('input').focus();
}

/** Settings: the person's authenticator apps, their recovery codes, and adding, renaming and removing them. */
export function authenticatorsSection() {
  const body = h('div', {}, loading());
  const messages = messageArea();
  const load = async () => {
    let state;
    try { state = await get('/me/authenticators'); } catch (err) { replace(body, errorBox(err.message)); return; }
    const rows = state.authenticators.map((one) => {
      const row = h('li', {}, h('strong', {}, one.name), ' ', h('span', { class: 'muted' }, one.last_used_at
        ? t('added {added}, last used {used}', { added: when(one.created_at), used: when(one.last_used_at) })
        : t('added {added}', { added: when(one.created_at) })), ' ',
      h('button', { type: 'button', onclick: () => {
        const rename = h('form', { class: 'row', novalidate: true, 'aria-label': t('Rename {name}', { name: one.name }) },
          field(t('Name'), { name: 'name', required: true, maxlength: 60, value: one.name }),
          h('button', { type: 'submit', class: 'primary' }, t('Save')));
        rename.addEventListener('submit', (event) => {
          event.preventDefault();
          act(rename.querySelector('button'), messages, async () => {
            await patch(`/me/authenticators/${one.id}`, { name: rename.name.value.trim() });
            await load();
          }, rename);
        });
        replace(row, rename);
        rename.name.focus();
      } }, t('Rename')), ' ',
      h('button', { type: 'button', class: 'danger', onclick: (e) => act(e.currentTarget, messages, async () => {
        await del(`/me/authenticators/${one.id}`);
        await load();
        messages.ok(t('“{name}” is removed.', { name: one.name }));
      }) }, t('Remove')));
      return row;
    }).concat(state.security_keys.map((key) => h('li', {}, h('strong', {}, key.name), ' ', h('span', { class: 'muted' },
      t('security key, added {added}', { added: when(key.created_at) })), ' ',
    h('button', { type: 'button', class: 'danger', onclick: (e) => act(e.currentTarget, messages, async () => {
      await del(`/me/authenticators/${key.id}`);
      await load();
      messages.ok(t('“{name}” is removed.', { name: key.name }));
    }) }, t('Remove')))));
    const add = h('form', { novalidate: true, 'aria-label': t('Add an authenticator app') },
      field(t('Name'), { name: 'name', required: true, maxlength: 60, value: state.authenticators.length ? '' : t('Phone'),
        hint: t('So you can tell your authenticators apart.') }),
      h('button', { type: 'submit', class: 'primary' }, t('Add an authenticator app')), ' ',
      navigator.credentials ? h('button', { type: 'button', onclick: (e) => act(e.currentTarget, messages, async () => {
        const { options, setup } = await post('/me/security-keys/options');
        const made = await post('/me/security-keys', { setup, name: add.name.value.trim() || t('Security key'),
          credential: await keyMade(options) });
        await load();
        messages.ok(t('Your security key is set up: password sign-ins may now take the second step with it.'));
        if (made.recovery_codes) body.append(codesPanel(made.recovery_codes));
      }, add) }, t('Add a security key')) : null);
    add.addEventListener('submit', (event) => {
      event.preventDefault();
      act(add.querySelector('button'), messages, async () => confirmStep(await post('/me/authenticators', { name: add.name.value.trim() })), add);
    });
    const confirmStep = (setup) => {
      const code = codeField();
      const check = h('form', { novalidate: true, 'aria-label': t('Confirm the authenticator') }, keyPanel(setup), code,
        h('button', { type: 'submit', class: 'primary' }, t('Confirm')));
      check.addEventListener('submit', (event) => {
        event.preventDefault();
        act(check.querySelector('button[type=submit]'), messages, async () => {
          const { recovery_codes: codes } = await post(`/me/authenticators/${setup.id}/confirm`, { code: check.code.value.trim() });
          await load();
          messages.ok(t('Your authenticator is set up: password sign-ins now ask for its code.'));
          if (codes) body.append(codesPanel(codes));
        }, check);
      });
      replace(body, check);
      code.querySelector('input').focus();
    };
    const renew = rows.length ? h('button', { type: 'button', onclick: (e) => act(e.currentTarget, messages, async () => {
      const { recovery_codes: codes } = await post('/me/recovery-codes');
      await load();
      body.append(codesPanel(codes));
    }) }, t('Make new recovery codes')) : null;
    replace(body,
      state.required ? h('p', {}, t('Your organisation requires a second step when you sign in with a password.')) : null,
      rows.length ? h('ul', { class: 'plain' }, rows) : empty(t('No authenticator yet: a password alone signs you in.')),
      rows.length ? h('p', {}, tn('You have {count} recovery code left.', 'You have {count} recovery codes left.', state.recovery_codes_left), ' ', renew) : null,
      rows.length ? h('p', { class: 'hint' }, t('Removing one, or making new codes, needs a sign-in of the last ten minutes.')) : null,
      add);
  };
  load();
  return [body, messages.el];
}
