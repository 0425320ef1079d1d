// Sign up and sign in; a forgotten password reset, and an email address confirmed, through the links mailed.
import { api, session } from '../../api.js';
import { h, field, messageArea, act, replace, loading, errorBox, browserPlace, linkToken } from '../../ui.js';
import { currentUser, userChanged } from '../../state.js';
import { organisationList, organisationOffer, placed } from '../sign_on/sign-on.js';

async function tokenFor(email, password) {
  session.store(await api('POST', '/auth/token', { email, password, refresh_cookie: true }, { authed: false }));
}

export function signIn(main, { signedIn }) {
  const messages = messageArea();
  const password = field('Password', { type: 'password', name: 'password', autocomplete: 'current-password', required: true });
  const submit = h('button', { type: 'submit', class: 'primary' }, 'Sign in');
  const forgot = h('p', {}, h('a', { href: '#/forgot-password' }, 'Forgot password?'));
  const form = h('form', { class: 'card narrow', novalidate: true },
    field('Email', { type: 'email', name: 'email', autocomplete: 'username', required: true }),
    password, messages.el, submit, forgot,
    h('p', {}, 'New here? ', h('a', { href: '#/signup' }, 'Create an account')));
  const offer = organisationOffer(form, [password, submit, forgot],
    (domain, org) => `People of ${domain} sign in with ${org}: no password is used here.`);
  password.before(offer.el);
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const only = offer.only();
    if (only) { location.assign(placed(only.start_url)); return; }
    act(submit, messages, async () => {
      try {
        await tokenFor(form.email.value.trim(), form.password.value);
      } catch (err) { offer.refused(err); throw err; }
      signedIn();
    }, form);
  });
  main.append(h('h1', {}, 'Sign in'), form, organisationList());
}

export function signUp(main, { signedIn }) {
  const messages = messageArea();
  const name = field('Display name', { name: 'display_name', autocomplete: 'name', required: true });
  const password = field('Password', { type: 'password', name: 'password', autocomplete: 'new-password', required: true,
    hint: 'At least 12 characters, and not a common password: a few unrelated words make a good one.' });
  const submit = h('button', { type: 'submit', class: 'primary' }, 'Sign up');
  const form = h('form', { class: 'card narrow', novalidate: true },
    field('Email', { type: 'email', name: 'email', autocomplete: 'username', required: true }),
    name, password, messages.el, submit,
    h('p', {}, 'Have an account? ', h('a', { href: '#/signin' }, 'Sign in')));
  const offer = organisationOffer(form, [name, password, submit], (domain, org) => `People of ${domain} sign in `
    + `with ${org}: no password is made here. Your account is made when you first sign in there.`);
  name.before(offer.el);
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const only = offer.only();
    if (only) { location.assign(placed(only.start_url)); return; }
    act(submit, messages, async () => {
      const email = form.email.value.trim();
      // The browser's zone and language, so that emails and notifications speak the person's time from the start.
      try {
        await api('POST', '/auth/register', {
          email, password: form.password.value, display_name: form.display_name.value.trim(), ...browserPlace(),
        }, { authed: false });
      } catch (err) { offer.refused(err); throw err; }
      await tokenFor(email, form.password.value);
      signedIn();
    }, form);
  });
  main.append(h('h1', {}, 'Create your account'), form);
}

export function forgotPassword(main) {
  const messages = messageArea();
  const form = h('form', { class: 'card narrow', novalidate: true },
    h('p', {}, 'Enter the email of your account: a link to choose a new password goes to it. It works once, for 30 minutes.'),
    field('Email', { type: 'email', name: 'email', autocomplete: 'username', required: true }),
    messages.el,
    h('button', { type: 'submit', class: 'primary' }, 'Send the link'),
    h('p', {}, h('a', { href: '#/signin' }, 'Back to sign in')));
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    act(form.querySelector('button[type=submit]'), messages, async () => {
      const answer = await api('POST', '/auth/password-reset', { email: form.email.value.trim() }, { authed: false });
      messages.ok(answer.message);
    });
  });
  main.append(h('h1', {}, 'Forgot your password?'), form);
}

export async function resetPassword(main, { query }) {
  const token = linkToken(query, 'reset-password');
  main.append(h('h1', {}, 'Choose a new password'));
  // A link used or expired says so at once, with a way to ask for a new one: nobody types a password for nothing.
  try {
    await api('POST', '/auth/password-reset/check', { token }, { authed: false });
  } catch (err) {
    main.append(h('div', { class: 'card narrow' }, errorBox(err.status === 422
      ? 'This link is invalid, used or expired: links work once, for 30 minutes.' : err.message),
    h('p', {}, h('a', { href: '#/forgot-password' }, 'Ask for a new link'))));
    return;
  }
  const messages = messageArea();
  const form = h('form', { class: 'card narrow', novalidate: true },
    field('New password', { type: 'password', name: 'password', autocomplete: 'new-password', required: true,
      hint: 'At least 12 characters, and not a common password. Every sign-in of your account ends, on every device.' }),
    field('New password again', { type: 'password', name: 'again', autocomplete: 'new-password', required: true }),
    messages.el,
    h('button', { type: 'submit', class: 'primary' }, 'Set the new password'));
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    if (form.password.value !== form.again.value) { messages.error('The two passwords differ.'); return; }
    act(form.querySelector('button[type=submit]'), messages, async () => {
      await api('POST', '/auth/password-reset/confirm', { token, new_password: form.password.value }, { authed: false });
      replace(form, h('p', { class: 'ok', role: 'status' }, 'Your new password is set. '),
        h('p', {}, h('a', { href: '#/signin' }, 'Sign in with it')));
    });
  });
  main.append(form);
}

export async function verifyEmail(main, { query }) {
  const token = linkToken(query, 'verify-email');
  const status = h('div', { class: 'card narrow' }, loading('Confirming your email…'));
  main.append(h('h1', {}, 'Confirm your email'), status);
  try {
    const answer = await api('POST', '/auth/verify-email', { token }, { authed: false });
    if (session.signedIn) userChanged(await currentUser(true)); // the banner asking to confirm goes
    replace(status, h('p', { class: 'ok', role: 'status' }, `${answer.email} is confirmed. Thank you.`),
      h('p', {}, h('a', { href: '#/' }, 'Go on')));
  } catch (err) {
    replace(status, errorBox(err.message || String(err)));
  }
}

// The link mailed to the address being left when someone asks to change the account's email. Opening it changes
// nothing (mail scanners open links): its one button does.
export function cancelEmailChange(main, { query }) {
  const token = linkToken(query, 'cancel-email-change');
  const messages = messageArea();
  const card = h('div', { class: 'card narrow' },
    h('p', {}, 'Someone signed in to your account asked to change its email to another address. If it was you, close this page: nothing changes.'),
    h('p', {}, 'If it was not you, cancel the change: the new address is never confirmed, and every sign-in of your account ends. Then choose a new password, since whoever asked knew yours.'),
    messages.el);
  const button = h('button', { type: 'button', class: 'primary', onclick: (e) => act(e.currentTarget, messages, async () => {
    await api('POST', '/auth/cancel-email-change', { token }, { authed: false });
    replace(card, h('p', { class: 'ok', role: 'status' }, 'The change of your email is cancelled, and every sign-in has ended.'),
      h('p', {}, h('a', { href: '#/forgot-password' }, 'Choose a new password now')));
  }) }, 'Cancel the change of my email');
  card.append(button);
  main.append(h('h1', {}, 'Cancel the change of your email'), card);
}
