// Sign up and sign in; a forgotten password reset, and an email address confirmed, through the links mailed.
import { api, session } from '../../api.js';
import { h, field, messageArea, act, replace, loading, errorBox, browserPlace, linkToken, noLink } from '../../ui.js';
import { currentUser, userChanged } from '../../state.js';
import { organisationList, organisationOffer, placed } from '../sign_on/sign-on.js';
import { t } from '../../words.js';
import { secondStepForm } from './second-step.js';

/** Sign in with the password, then `signedIn()`; an account with a second step is asked for its code first. */
async function tokenFor(main, email, password, signedIn) {
  try {
    session.store(await api('POST', '/auth/token', { email, password, refresh_cookie: true }, { authed: false }));
  } catch (err) {
    if (err.body?.reason !== 'second_step_required') throw err;
    secondStepForm(main, err.body.second_step, { signedIn: (tokens) => { session.store(tokens); signedIn(); },
      restart: () => { replace(main); signIn(main, { signedIn }); } });
    return;
  }
  signedIn();
}

export function signIn(main, { signedIn }) {
  const messages = messageArea();
  const password = field(t('Password'), { type: 'password', name: 'password', autocomplete: 'current-password', required: true });
  const submit = h('button', { type: 'submit', class: 'primary' }, t('Sign in'));
  const forgot = h('p', {}, h('a', { href: '#/forgot-password' }, t('Forgot password?')));
  const form = h('form', { class: 'card narrow', novalidate: true },
    field(t('Email'), { type: 'email', name: 'email', autocomplete: 'username', required: true }),
    password, messages.el, submit, forgot,
    h('p', {}, t('New here? '), h('a', { href: '#/signup' }, t('Create an account'))));
  const offer = organisationOffer(form, [password, submit, forgot],
    (domain, org) => t('People of {domain} sign in with {organisation}: no password is used here.', { domain, organisation: org }));
  password.before(offer.el);
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const only = offer.only();
    if (only) { location.assign(placed(only.start_url)); return; }
    act(submit, messages, async () => {
      try {
        await tokenFor(main, form.email.value.trim(), form.password.value, signedIn);
      } catch (err) { offer.refused(err); throw err; }
    }, form);
  });
  main.append(h('h1', {}, t('Sign in')), form, organisationList());
}

export function signUp(main, { signedIn }) {
  const messages = messageArea();
  const name = field(t('Display name'), { name: 'display_name', autocomplete: 'name', required: true });
  const password = field(t('Password'), { type: 'password', name: 'password', autocomplete: 'new-password', required: true,
    hint: t('At least 12 characters, and not a common password: a few unrelated words make a good one.') });
  const submit = h('button', { type: 'submit', class: 'primary' }, t('Sign up'));
  const form = h('form', { class: 'card narrow', novalidate: true },
    field(t('Email'), { type: 'email', name: 'email', autocomplete: 'username', required: true }),
    name, password, messages.el, submit,
    h('p', {}, t('Have an account? '), h('a', { href: '#/signin' }, t('Sign in'))));
  const offer = organisationOffer(form, [name, password, submit], (domain, org) => t('People of {domain} sign in with {organisation}: no password is made here. '
    + 'Your account is made when you first sign in there.', { domain, organisation: org }));
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
      await tokenFor(main, email, form.password.value, signedIn);
    }, form);
  });
  main.append(h('h1', {}, t('Create your account')), form);
}

export function forgotPassword(main) {
  const messages = messageArea();
  const form = h('form', { class: 'card narrow', novalidate: true },
    h('p', {}, t('Enter the email of your account: a link to choose a new password goes to it. It works once, for 30 minutes.')),
    field(t('Email'), { type: 'email', name: 'email', autocomplete: 'username', required: true }),
    messages.el,
    h('button', { type: 'submit', class: 'primary' }, t('Send the link')),
    h('p', {}, h('a', { href: '#/signin' }, t('Back to sign in'))));
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    act(form.querySelector('button[type=submit]'), messages, async () => {
      const answer = await api('POST', '/auth/password-reset', { email: form.email.value.trim() }, { authed: false });
      messages.ok(answer.message);
    });
  });
  main.append(h('h1', {}, t('Forgot your password?')), form);
}

export async function resetPassword(main, { query }) {
  const token = linkToken(query, 'reset-password');
  main.append(h('h1', {}, t('Choose a new password')));
  // A link used or expired says so at once, with a way to ask for a new one: nobody types a password for nothing.
  try {
    await api('POST', '/auth/password-reset/check', { token }, { authed: false });
  } catch (err) {
    main.append(h('div', { class: 'card narrow' }, errorBox(err.status === 422
      ? t('This link is invalid, used or expired: links work once, for 30 minutes.') : err.message),
    h('p', {}, h('a', { href: '#/forgot-password' }, t('Ask for a new link')))));
    return;
  }
  const messages = messageArea();
  const form = h('form', { class: 'card narrow', novalidate: true },
    field(t('New password'), { type: 'password', name: 'password', autocomplete: 'new-password', required: true,
      hint: t('At least 12 characters, and not a common password. Every sign-in of your account ends, on every device.') }),
    field(t('New password again'), { type: 'password', name: 'again', autocomplete: 'new-password', required: true }),
    messages.el,
    h('button', { type: 'submit', class: 'primary' }, t('Set the new password')));
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    if (form.password.value !== form.again.value) { messages.error(t('The two passwords differ.')); return; }
    act(form.querySelector('button[type=submit]'), messages, async () => {
      await api('POST', '/auth/password-reset/confirm', { token, new_password: form.password.value }, { authed: false });
      replace(form, h('p', { class: 'ok', role: 'status' }, t('Your new password is set. ')),
        h('p', {}, h('a', { href: '#/signin' }, t('Sign in with it'))));
    });
  });
  main.append(form);
}

export async function verifyEmail(main, { query }) {
  const token = linkToken(query, 'verify-email');
  const status = h('div', { class: 'card narrow' }, loading(t('Confirming your email…')));
  main.append(h('h1', {}, t('Confirm your email')), status);
  if (!token) { replace(status, noLink()); return; }
  try {
    const answer = await api('POST', '/auth/verify-email', { token }, { authed: false });
    if (session.signedIn) userChanged(await currentUser(true)); // the banner asking to confirm goes
    replace(status, h('p', { class: 'ok', role: 'status' }, t('{email} is confirmed. Thank you.', { email: answer.email })),
      h('p', {}, h('a', { href: '#/' }, t('Go on'))));
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
    h('p', {}, t('Someone signed in to your account asked to change its email to another address. If it was you, close this page: nothing changes.')),
    h('p', {}, t('If it was not you, cancel the change: the new address is never confirmed, and every sign-in of your account ends. Then choose a new password, since whoever asked knew yours.')),
    messages.el);
  const button = h('button', { type: 'button', class: 'primary', onclick: (e) => act(e.currentTarget, messages, async () => {
    await api('POST', '/auth/cancel-email-change', { token }, { authed: false });
    replace(card, h('p', { class: 'ok', role: 'status' }, t('The change of your email is cancelled, and every sign-in has ended.')),
      h('p', {}, h('a', { href: '#/forgot-password' }, t('Choose a new password now'))));
  }) }, t('Cancel the change of my email'));
  card.append(button);
  main.append(h('h1', {}, t('Cancel the change of your email')), card);
}
