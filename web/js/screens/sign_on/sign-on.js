// Signing in through an organisation's OpenID provider: what the sign-in and sign-up forms offer for an address's
// domain, and the screens the provider's answer comes back to (#/sign-on/done, …/link, …/failed); after signing out
// of such a sign-in, the offer to sign out at the organisation too (#/signed-out).
import { BASE_URL, api, qs, session } from '../../api.js';
import { h, field, replace, messageArea, act, loading, errorBox, browserPlace } from '../../ui.js';
import { t } from '../../words.js';

const ADDRESS = /^[^@\s]+@[^@\s.]+(\.[^@\s.]+)+$/;
const LEFT = 'mentorship.signed-out-of';
const startUrl = (id) => `${BASE_URL}/auth/sign-on/${id}/start`;
/** A provider's start address with the browser's zone and language: an account the sign-in makes takes them, as a
 * password sign-up's does. */
export const placed = (url) => url + qs(browserPlace());
const offered = (email) => api('GET', `/auth/sign-on/providers${qs({ email })}`, undefined, { authed: false });

/** Watches `form`'s email field (a moment after typing stops, and on leaving it): the organisation owning the
 * address's domain is offered with a prominent link to sign in there; when its people sign in there only, `parts`
 * hide and `says(domain, name)` tells why. `el` goes under the field; `only()` is that organisation, if so. */
export function organisationOffer(form, parts, says) {
  const el = h('div', { 'aria-live': 'polite' });
  let asked = '';
  let shown = null;
  let timer = null;
  const show = (provider, domain = '') => {
    shown = provider || null;
    const only = Boolean(shown && shown.password_sign_in_off);
    parts.forEach((part) => { // hidden, and out of the form's checks
      part.hidden = only;
      part.querySelectorAll('input').forEach((input) => { input.disabled = only; });
    });
    replace(el, shown ? [only ? h('p', {}, says(domain, shown.display_name)) : null,
      h('p', {}, h('a', { class: 'button primary', href: placed(shown.start_url) }, t('Sign in with {organisation}', { organisation: shown.display_name })))] : null);
  };
  const look = async () => {
    clearTimeout(timer);
    const email = form.email.value.trim().toLowerCase();
    if (email === asked) return;
    asked = email;
    if (!ADDRESS.test(email)) { show(null); return; }
    try {
      const { items } = await offered(email);
      if (asked === email) show(items[0], email.split('@')[1]);
    } catch { /* nothing offered: the form works as it is */ }
  };
  form.email.addEventListener('input', () => { clearTimeout(timer); timer = setTimeout(look, 350); });
  form.email.addEventListener('blur', look);
  return {
    el,
    only: () => (shown && shown.password_sign_in_off ? shown : null),
    /** A refusal naming the provider the address must use (403 from a password route): offer it. */
    refused(err) {
      const named = err && err.status === 403 && err.body && err.body.errors;
      if (named && named.provider_id) {
        show({ display_name: named.provider, start_url: startUrl(named.provider_id), password_sign_in_off: true },
          form.email.value.trim().toLowerCase().split('@')[1]);
      }
    },
  };
}

/** "Or sign in with your organisation": every enabled provider, or nothing when there is none. */
export function organisationList() {
  const el = h('section', { class: 'card narrow', 'aria-labelledby': 'orgs', hidden: true });
  offered(null).then(({ items }) => {
    if (!items.length) return;
    replace(el, h('h2', { id: 'orgs' }, t('Or sign in with your organisation')),
      h('ul', { class: 'list' }, items.map((p) => h('li', {}, h('a', { href: placed(p.start_url) }, p.display_name)))));
    el.hidden = false;
  }, () => {});
  return el;
}

const tryAgain = (text = t('Try again')) => h('p', {}, h('a', { class: 'button primary', href: '#/signin' }, text));

// #/sign-on/done: the provider signed the person in; the refresh cookie it left gives this page its token.
export async function signOnDone(main, { signedIn }) {
  main.append(h('h1', {}, t('Signing you in')), loading(t('Finishing your sign-in…')));
  if (session.signedIn || await session.resume(true)) { signedIn(); return; }
  replace(main, h('h1', {}, t('Sign-in not finished')), h('div', { class: 'card narrow' },
    errorBox(t('Your organisation signed you in, but this browser kept no sign-in here: it may block this site’s '
      + 'cookies. Allow them, then try again.')), tryAgain()));
}

// #/sign-on/link: an account already holds the organisation's address; its password proves it once.
export function signOnLink(main, { query, signedIn }) {
  const ticket = query.get('ticket') || '';
  const org = query.get('provider') || 'your organisation';
  const email = query.get('email');
  history.replaceState(null, '', '#/sign-on/link'); // the ticket leaves the address bar and the history
  const card = h('div', { class: 'card narrow' });
  main.append(h('h1', {}, t('Link your account to {organisation}', { organisation: org })), card);
  const spent = (text = t('This link to your account is unknown, used or expired: start again.')) => replace(card,
    errorBox(text), tryAgain(t('Start again')));
  if (!ticket) { spent(); return; }
  const messages = messageArea();
  const form = h('form', { noValidate: true },
    h('p', {}, email
      ? t('An account with this email ({email}) exists. Enter its password once to link it to {organisation}: from then '
        + 'on you sign in with {organisation}.', { email, organisation: org })
      : t('An account with this email exists. Enter its password once to link it to {organisation}: from then on you '
        + 'sign in with {organisation}.', { organisation: org })),
    field(t('Password of your account'), { type: 'password', name: 'password', autocomplete: 'current-password',
      required: true }),
    messages.el,
    h('button', { type: 'submit', class: 'primary' }, t('Link and sign in')));
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    act(form.querySelector('button'), messages, async () => {
      try {
        session.store(await api('POST', '/auth/sign-on/link', { ticket, password: form.password.value,
          refresh_cookie: true }, { authed: false }));
      } catch (err) { // any answer spends the ticket: another try starts at the organisation again
        if (err.status === 401) spent(t('Wrong password. This link now works no more: sign in with {organisation} again to try once more.', { organisation: org }));
        else if (err.status === 403 || err.status === 422) spent(err.status === 403 ? err.message : undefined);
        else throw err;
        return;
      }
      signedIn();
    });
  });
  card.append(form);
}

const REASONS = {
  denied: t('The sign-in was cancelled at your organisation’s sign-in page.'),
  state: t('This sign-in was not started in this browser, or it was finished already.'),
  expired: t('This sign-in took too long: it has to end within ten minutes.'),
  provider: t('Your organisation’s sign-in could not be reached. Try again in a moment.'),
  code: t('Your organisation’s sign-in refused to finish: its code was used already or expired.'),
  token: t('Your organisation’s sign-in answered with an identity this service cannot trust. Tell your administrator.'),
  disabled: t('Signing in through this organisation is turned off. Ask your administrator.'),
  email: t('Your organisation did not share your email address. Allow it to, or ask your administrator.'),
  account: t('This identity cannot sign in to an account here. Ask your administrator.'),
  link: t('This link to your account is unknown, used or expired.'),
  'account-disabled': t('Your account here is disabled. Ask an administrator of this service.'),
};

// #/sign-on/failed?reason=…: what went wrong, in a sentence, and the way back.
export function signOnFailed(main, { query }) {
  const reason = REASONS[query.get('reason')] || t('Signing in through your organisation did not finish.');
  main.append(h('h1', {}, t('You are not signed in')), h('div', { class: 'card narrow' }, errorBox(reason), tryAgain()));
}

/** Before signing out: a sign-in through an organisation that offers to sign out there too is remembered (this tab). */
export function rememberSignOut(current) {
  if (current && current.end_session_url) sessionStorage.setItem(LEFT, JSON.stringify(current));
  else sessionStorage.removeItem(LEFT);
}
export const offersProviderSignOut = () => Boolean(sessionStorage.getItem(LEFT));

// #/signed-out: signed out here; and at the organisation too, if the person wants.
export function signedOut(main) {
  let left = null;
  try { left = JSON.parse(sessionStorage.getItem(LEFT)); } catch { left = null; }
  sessionStorage.removeItem(LEFT);
  main.append(h('h1', {}, t('You are signed out')), h('div', { class: 'card narrow' },
    left ? [h('p', {}, t('You are signed out here. Also sign out of {organisation}?', { organisation: left.display_name })),
      h('p', {}, h('a', { class: 'button primary', href: left.end_session_url },
        t('Sign out of {organisation}', { organisation: left.display_name })))]
      : h('p', {}, t('You are signed out here.')),
    h('p', {}, h('a', { href: '#/' }, t('Home')), ' · ', h('a', { href: '#/signin' }, t('Sign in again')))));
}
