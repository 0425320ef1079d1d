// Sign up and sign in.
import { api, session } from '../api.js';
import { h, field, messageArea, act } from '../ui.js';

async function tokenFor(email, password) {
  session.store(await api('POST', '/auth/token', { email, password }, { authed: false }));
}

export function signIn(main, { signedIn }) {
  const messages = messageArea();
  const form = h('form', { class: 'card narrow', novalidate: true },
    field('Email', { type: 'email', name: 'email', autocomplete: 'username', required: true }),
    field('Password', { type: 'password', name: 'password', autocomplete: 'current-password', required: true }),
    messages.el,
    h('button', { type: 'submit', class: 'primary' }, 'Sign in'),
    h('p', {}, 'New here? ', h('a', { href: '#/signup' }, 'Create an account')));
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    act(form.querySelector('button[type=submit]'), messages, async () => {
      await tokenFor(form.email.value.trim(), form.password.value);
      signedIn();
    });
  });
  main.append(h('h1', {}, 'Sign in'), form);
}

export function signUp(main, { signedIn }) {
  const messages = messageArea();
  const form = h('form', { class: 'card narrow', novalidate: true },
    field('Display name', { name: 'display_name', autocomplete: 'name', required: true }),
    field('Email', { type: 'email', name: 'email', autocomplete: 'username', required: true }),
    field('Password', { type: 'password', name: 'password', autocomplete: 'new-password', required: true,
      hint: 'At least 8 characters.' }),
    messages.el,
    h('button', { type: 'submit', class: 'primary' }, 'Sign up'),
    h('p', {}, 'Have an account? ', h('a', { href: '#/signin' }, 'Sign in')));
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    act(form.querySelector('button[type=submit]'), messages, async () => {
      const email = form.email.value.trim();
      await api('POST', '/auth/register', {
        email, password: form.password.value, display_name: form.display_name.value.trim(),
      }, { authed: false });
      await tokenFor(email, form.password.value);
      signedIn();
    });
  });
  main.append(h('h1', {}, 'Create your account'), form);
}
