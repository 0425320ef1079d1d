// An invitation to coordinate a programme, opened from its mail (`#/coordinator-invitation?token=…`): register with
// it, or accept it signed in to the account of its address. The rights start once the address is confirmed.
import { api, post, session } from '../../api.js';
import { h, field, errorBox, messageArea, act, browserPlace, linkToken, noLink } from '../../ui.js';
import { t, tParts } from '../../words.js';

export async function coordinatorInvitationPage(main, { query, go, signedIn }) {
  const token = linkToken(query, 'coordinator-invitation');
  const messages = messageArea();
  main.append(h('h1', {}, t('Coordinate a programme')));
  if (!token) { main.append(noLink()); return; }
  const found = await api('POST', '/coordinator-invitations/preview', { token }, { authed: false });
  main.append(h('p', {}, t('You are invited to coordinate {programme}, as {email}.', { programme: found.programme.name, email: found.email })), messages.el);
  if (!found.usable) {
    main.append(errorBox(t('This invitation was used, withdrawn or has expired: ask an administrator for a new one.')));
    return;
  }
  if (session.signedIn) {
    main.append(h('div', { class: 'actions' }, h('button', { type: 'button', class: 'primary',
      onclick: (e) => act(e.currentTarget, messages, async () => {
        const done = await post('/coordinator-invitations/accept', { token });
        go(`/programmes/${done.programme_id}`);
      }) }, t('Coordinate {programme}', { programme: found.programme.name }))));
  } else if (found.account_exists) {
    sessionStorage.setItem('mentorship.after', `/coordinator-invitation?token=${token}`);
    const signIn = h('a', { href: '#/signin' }, t('sign in to accept')); // gathered: not among another text's words
    main.append(h('p', {}, tParts('{email} has an account: {sign_in}.', { email: found.email, sign_in: signIn })));
  } else {
    const form = h('form', { class: 'card narrow', novalidate: true },
      h('p', {}, t('Your account will be {email}.', { email: found.email })),
      field(t('Your name'), { name: 'display_name', autocomplete: 'name' }),
      field(t('Password'), { type: 'password', name: 'password', autocomplete: 'new-password', required: true,
        hint: t('At least 12 characters, and not a common password.') }),
      h('button', { type: 'submit', class: 'primary' }, t('Create my account and coordinate')));
    form.addEventListener('submit', (event) => {
      event.preventDefault();
      act(form.querySelector('button'), messages, async () => {
        session.store(await api('POST', '/coordinator-invitations/register', { token, refresh_cookie: true,
          display_name: form.display_name.value.trim(), password: form.password.value, ...browserPlace() },
        { authed: false }));
        sessionStorage.setItem('mentorship.after', `/programmes/${found.programme.id}`);
        signedIn();
      }, form);
    });
    main.append(form);
  }
}
