// What several screens need: the signed-in user, and cached mentor profiles and listings.
import { get, post, qs, session } from './api.js';
import { live } from './live.js';
import { keepLanguage } from './words.js';

let me = null;
const profiles = new Map();
const listings = new Map();
const unreadListeners = new Set();
let unread = null;
const waitingListeners = new Set();
let waiting = null;
const messageListeners = new Set();
let messagesWaiting = null;

export async function currentUser(force = false) {
  if (!session.signedIn) return null;
  if (!me || force) { me = await get('/me'); keepLanguage(me.locale); }
  return me;
}
export const forgetUser = () => {
  me = null; unread = null; waiting = null; messagesWaiting = null; profiles.clear(); listings.clear();
};
const userListeners = new Set();
/** The account changed (its name, say): screens showing it draw it again. */
export function userChanged(user) { me = user; keepLanguage(user.locale); userListeners.forEach((fn) => fn(user)); }
export function onUserChange(fn) { userListeners.add(fn); return () => userListeners.delete(fn); }

export async function profile(id) {
  if (!profiles.has(id)) profiles.set(id, get(`/mentor-profiles/${id}`).catch((err) => { profiles.delete(id); throw err; }));
  return profiles.get(id);
}
export const rememberProfile = (item) => profiles.set(item.id, Promise.resolve(item));

export async function listing(id) {
  if (!listings.has(id)) listings.set(id, get(`/listings/${id}`).catch((err) => { listings.delete(id); throw err; }));
  return listings.get(id);
}
export const rememberListing = (item) => listings.set(item.id, Promise.resolve(item));

/** Every page of a list route (bounded: at most `pages` pages of 100). */
export async function all(path, params = {}, pages = 5) {
  const items = [];
  let cursor = null;
  for (let page = 0; page < pages; page += 1) {
    const body = await get(path + qs({ ...params, limit: 100, cursor }));
    items.push(...body.items);
    cursor = body.next_cursor;
    if (!cursor) break;
  }
  return items;
}

// --- unread notifications ---------------------------------------------------------------------
export function onUnread(fn) { unreadListeners.add(fn); if (unread !== null) fn(unread); return () => unreadListeners.delete(fn); }
export async function refreshUnread() {
  if (!session.signedIn) return;
  try {
    const body = await get(`/notifications${qs({ unread: 'true', limit: 100 })}`);
    unread = body.next_cursor ? '100+' : body.items.length;
  } catch {
    return; // the count stays as it was; the notifications screen shows errors in words
  }
  unreadListeners.forEach((fn) => fn(unread));
}
export async function markRead(id) {
  await post(`/notifications/${id}/read`);
  await refreshUnread();
}

// --- what waits for the user: moves to answer, seats offered, places in line, requests ----------
export function onWaiting(fn) { waitingListeners.add(fn); if (waiting) fn(waiting); return () => waitingListeners.delete(fn); }
export async function refreshWaiting() {
  if (!session.signedIn) return;
  try {
    waiting = await get('/me/waiting');
  } catch {
    return; // the badges stay as they were
  }
  waitingListeners.forEach((fn) => fn(waiting));
}
// --- messages not read, in all one's conversations: the menu's count ----------------------------
export function onMessages(fn) {
  messageListeners.add(fn);
  if (messagesWaiting !== null) fn(messagesWaiting);
  return () => messageListeners.delete(fn);
}
export async function refreshMessages() {
  if (!session.signedIn) return;
  try {
    messagesWaiting = (await get('/conversations/unread')).unread;
  } catch {
    return; // the count stays as it was
  }
  messageListeners.forEach((fn) => fn(messagesWaiting));
}
const refreshAll = () => { refreshUnread(); refreshWaiting(); refreshMessages(); };

// Notifications are written by a worker shortly after the event that causes them: look once, a moment after
// events stop arriving (a burst of frames costs one request of each), and every 30 s in case the stream is down.
let recheck = null;
live.on((type) => {
  if (type.startsWith('message.')) refreshMessages(); // written with its event: counted at once
  clearTimeout(recheck);
  recheck = setTimeout(refreshAll, 1200);
});
setInterval(refreshAll, 30000);
