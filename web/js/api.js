// The public REST API under /api/v1, with the bearer token kept in this tab's sessionStorage
// (never in a URL). A refresh token, when the API issues one, renews the access token once on 401.
const BASE = '/api/v1';
const STORE = 'mentorship.auth';
const listeners = new Set();
let auth = readAuth();
let refreshing = null;

function readAuth() {
  try { return JSON.parse(sessionStorage.getItem(STORE)) || null; } catch { return null; }
}

function saveAuth(value) {
  auth = value;
  if (value) sessionStorage.setItem(STORE, JSON.stringify(value));
  else sessionStorage.removeItem(STORE);
  listeners.forEach((fn) => fn(value));
}

export class ApiError extends Error {
  constructor(status, message, body = null) {
    super(message);
    this.status = status;
    this.body = body;
  }
}

/** The API's words for a failure: its `message`, and the field errors of a 422. */
export function messageOf(body, status) {
  if (body && typeof body === 'object') {
    const parts = [];
    if (body.message) parts.push(body.message);
    const fields = body.errors && (body.errors.json || body.errors.query || body.errors);
    if (fields && typeof fields === 'object') {
      for (const [name, problems] of Object.entries(fields)) {
        const text = Array.isArray(problems) ? problems.join(' ') : typeof problems === 'string' ? problems : JSON.stringify(problems);
        parts.push(`${name.replace(/_/g, ' ')}: ${text}`);
      }
    }
    if (parts.length) return parts.join(' — ');
  }
  return `The request failed (HTTP ${status}).`;
}

export const session = {
  get token() { return auth && auth.access_token; },
  get signedIn() { return Boolean(auth && auth.access_token); },
  onChange(fn) { listeners.add(fn); return () => listeners.delete(fn); },
  store(tokens) {
    saveAuth({
      access_token: tokens.access_token,
      refresh_token: tokens.refresh_token || (auth && auth.refresh_token) || null,
      expires_at: Date.now() + (tokens.expires_in || 3600) * 1000,
    });
  },
  clear() { saveAuth(null); },
};

/** Exchange the refresh token for a new pair; false when there is none, or the API has no refresh. */
export function refreshTokens() {
  if (!auth || !auth.refresh_token) return Promise.resolve(false);
  if (!refreshing) {
    refreshing = (async () => {
      try {
        const res = await fetch(`${BASE}/auth/refresh`, {
          method: 'POST', headers: { 'Content-Type': 'application/json' },
          body: JSON.stringify({ refresh_token: auth.refresh_token }),
        });
        if (!res.ok) {
          if (res.status === 404 || res.status === 405) auth.refresh_token = null; // no refresh on this API
          return false;
        }
        session.store(await res.json());
        return true;
      } catch {
        return false;
      } finally {
        refreshing = null;
      }
    })();
  }
  return refreshing;
}

export async function api(method, path, body, { authed = true, headers = {} } = {}) {
  const send = () => {
    const init = { method, headers: { Accept: 'application/json', ...headers } };
    if (authed && auth) init.headers.Authorization = `Bearer ${auth.access_token}`;
    if (body !== undefined) {
      init.headers['Content-Type'] = 'application/json';
      init.body = JSON.stringify(body);
    }
    return fetch(BASE + path, init);
  };
  let res;
  try {
    res = await send();
    if (res.status === 401 && authed && auth && await refreshTokens()) res = await send();
  } catch {
    throw new ApiError(0, 'The service cannot be reached. Check your connection and try again.');
  }
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
