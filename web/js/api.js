// The public REST API under /api/v1. The access token lives in this page's memory only; the refresh
// token in an HttpOnly cookie that no script can read, sent only to /auth/refresh (api/accounts/cookie.py).
// A reload or a new tab signs in again from that cookie. Tabs renew one at a time (a Web Lock), so no
// tab sends a refresh token another tab has just spent, which would end the sign-in.
import { readerTag, t } from './words.js';

const BASE = '/api/v1';
const listeners = new Set();
const tabs = typeof BroadcastChannel === 'function' ? new BroadcastChannel('mentorship.auth') : null;
let auth = null; // { access_token, expires_at }
let refreshing = null;

// Whether this browser may hold a refresh cookie (its scripts cannot see the cookie itself): a page opened signed
// out asks for a token only when it may, and logs no refused request.
const MAY_RESUME = 'mentorship.mayResume';
const remember = (may) => { try { if (may) localStorage.setItem(MAY_RESUME, '1'); else localStorage.removeItem(MAY_RESUME); } catch { /* private mode */ } };
const mayResume = () => { try { return localStorage.getItem(MAY_RESUME) === '1'; } catch { return true; } };

function setAuth(value, { tellTabs = true } = {}) {
  auth = value;
  remember(Boolean(value));
  listeners.forEach((fn) => fn(value));
  // oxlint-disable-next-line unicorn/require-post-message-target-origin -- a BroadcastChannel's, to this origin's tabs only
  if (!value && tellTabs && tabs) tabs.postMessage('signed-out');
}
// Signing out in one tab signs out the others (their tokens stopped working on the server anyway).
tabs?.addEventListener('message', (event) => { if (event.data === 'signed-out' && auth) setAuth(null, { tellTabs: false }); });

export class ApiError extends Error {
  constructor(status, message, body = null) {
    super(message);
    this.status = status;
    this.body = body;
  }
}

const capital = (text) => text.charAt(0).toUpperCase() + text.slice(1);

/** The field errors of a 422, each {path, name, text}: `path` without its location (json, query), `name` the
 * field's own (its last part that is not a list index), `text` in words ("End must be after start"). */
export function fieldErrors(body) {
  const found = [];
  const walk = (node, path) => {
    if (typeof node === 'string' || (Array.isArray(node) && node.every((item) => typeof item === 'string'))) {
      const raw = Array.isArray(node) ? node.join(' ') : node;
      const name = [...path].reverse().find((part) => !/^\d+$/.test(part)) || '';
      const label = name.replace(/_/g, ' ');
      found.push({ path, name, text: capital(!label || raw.toLowerCase().startsWith(label) ? raw : `${label}: ${raw}`) });
    } else if (node && typeof node === 'object') {
      for (const [key, value] of Object.entries(node)) walk(value, key === '_schema' ? path : [...path, key]);
    }
  };
  // Only what the request's schema refused (webargs' `json` and `query`); a domain error's details are not fields.
  const errors = body && body.errors;
  if (errors && typeof errors === 'object') for (const where of ['json', 'query']) if (errors[where]) walk(errors[where], []);
  return found;
}

/** The API's words for a failure: its field errors in words, each once; else its `message`. */
export function messageOf(body, status) {
  const fields = fieldErrors(body);
  if (fields.length) return [...new Set(fields.map((f) => f.text))].join(' ');
  // The API's sentences start in lower case (they read well in logs); on a page a sentence starts with a capital.
  if (body && typeof body === 'object' && body.message) return body.message.charAt(0).toUpperCase() + body.message.slice(1);
  return t('The request failed (HTTP {status}).', { status });
}

export const session = {
  get token() { return auth && auth.access_token; },
  get signedIn() { return Boolean(auth && auth.access_token); },
  onChange(fn) { listeners.add(fn); return () => listeners.delete(fn); },
  store(tokens) { setAuth({ access_token: tokens.access_token, expires_at: Date.now() + (tokens.expires_in || 3600) * 1000 }); },
  clear() { setAuth(null); },
  /** Signed in again from the refresh cookie, if this browser holds a live one (a reload, a new tab); `fresh`: one
   * the server just set (an organisation's sign-in), asked for even when this browser held none before. */
  resume(fresh = false) { return refreshTokens(fresh); },
};

const oneTabAtATime = (fn) => (navigator.locks ? navigator.locks.request('mentorship.refresh', fn) : fn());

/** Spend the refresh cookie for a new access token (and the next cookie); false when there is none, or it ended. */
export function refreshTokens(fresh = false) {
  if (!refreshing && !auth && !fresh && !mayResume()) return Promise.resolve(false);
  if (!refreshing) {
    refreshing = oneTabAtATime(async () => {
      try {
        const res = await fetch(`${BASE}/auth/refresh`, {
          method: 'POST', headers: { 'Content-Type': 'application/json', Accept: 'application/json' }, body: '{}',
        });
        if (!res.ok) return false;
        session.store(await res.json());
        return true;
      } catch {
        return false;
      }
    }).finally(() => { refreshing = null; });
  }
  return refreshing;
}

/** `send()`'s response, sent once more with a new token when the token it carried had ended (401). */
async function sent(send, authed = true) {
  try {
    const res = await send();
    return res.status === 401 && authed && auth && await refreshTokens() ? await send() : res;
  } catch {
    throw new ApiError(0, t('The service cannot be reached. Check your connection and try again.'));
  }
}

export async function api(method, path, body, { authed = true, headers = {} } = {}) {
  const send = () => {
    const init = { method, headers: { Accept: 'application/json', 'Accept-Language': readerTag(), ...headers } };
    if (authed && auth) init.headers.Authorization = `Bearer ${auth.access_token}`;
    if (body instanceof FormData) init.body = body; // a file: the browser writes its multipart form
    else if (body !== undefined) {
      init.headers['Content-Type'] = 'application/json';
      init.body = JSON.stringify(body);
    }
    return fetch(BASE + path, init);
  };
  const res = await sent(send, authed);
  const text = await res.text();
  let data = null;
  try { data = text ? JSON.parse(text) : null; } catch { data = null; }
  if (!res.ok) {
    const error = new ApiError(res.status, messageOf(data, res.status), data);
    if (res.status === 401 && authed && auth) session.clear(); // expired or revoked: sign in again
    throw error;
  }
  return data;
}

/** A file the API sends (a CSV export), fetched with the page's token and handed to the browser as a download under
 * the name the service gave it; that name. */
export async function download(path) {
  const res = await sent(() => fetch(BASE + path, { headers: auth ? { Authorization: `Bearer ${auth.access_token}` } : {} }));
  if (!res.ok) {
    let data = null;
    try { data = await res.json(); } catch { data = null; }
    throw new ApiError(res.status, messageOf(data, res.status), data);
  }
  const name = /filename="([^"]+)"/.exec(res.headers.get('Content-Disposition') || '')?.[1] || 'export.csv';
  const url = URL.createObjectURL(await res.blob());
  const link = Object.assign(document.createElement('a'), { href: url, download: name, hidden: true });
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
  return name;
}

export const get = (path) => api('GET', path);
export const post = (path, body = {}) => api('POST', path, body);
export const put = (path, body) => api('PUT', path, body);
export const patch = (path, body) => api('PATCH', path, body);
export const del = (path) => api('DELETE', path);

/** Query string from an object, leaving out empty values; arrays repeat the key. */
export function qs(params) {
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) {
    if (value === undefined || value === null || value === '') continue;
    for (const item of Array.isArray(value) ? value : [value]) search.append(key, item);
  }
  const text = search.toString();
  return text ? `?${text}` : '';
}

export const BASE_URL = BASE;
