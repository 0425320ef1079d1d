// Notifications (unread first marked), and the mentee's bundle purchases with their credits.
import { live } from '../../live.js';
import { get, post } from '../../api.js';
import { all, listing, markRead, refreshUnread } from '../../state.js';
import { h, redraw, replace, loading, empty, errorBox, messageArea, act, when, money } from '../../ui.js';
import { t, tn } from '../../words.js';

export function notificationsPage(main) {
  const messages = messageArea();
  const listEl = h('div', {}, loading());
  const allRead = h('button', { type: 'button', hidden: true }, t('Mark all read'));
  main.append(h('h1', {}, t('Notifications')), h('div', { class: 'actions' }, allRead), messages.el, listEl);
  let newest = null; // the newest notification shown: "Mark all read" reads up to it, not what came since
  allRead.addEventListener('click', (e) => act(e.currentTarget, messages, async () => {
    await post('/notifications/read-all', newest ? { up_to: newest } : {});
    await refreshUnread();
    await load();
  }));
  const load = async () => {
    try {
      const items = await all('/notifications', {}, 1);
      newest = items.length ? items[0].created_at : null;
      allRead.hidden = !items.some((n) => !n.read_at);
      if (!items.length) { replace(listEl, empty(t('No notifications yet.'))); return; }
      redraw(listEl, h('ul', { class: 'list' }, items.map((n) => h('li', { class: n.read_at ? 'read' : 'unread' },
        h('strong', {}, n.title), n.read_at ? '' : [' ', h('span', { class: 'badge requested' }, t('New'))],
        h('p', { class: 'lines' }, n.body), h('p', { class: 'meta' }, when(n.created_at)),
        h('div', { class: 'actions' }, linkFor(n),
          n.read_at ? null : h('button', { type: 'button', onclick: (e) => act(e.currentTarget, messages, async () => { await markRead(n.id); await load(); }) }, t('Mark read')))))));
    } catch (err) { replace(listEl, errorBox(err.message)); }
  };
  let timer = null;
  const off = live.on(() => { clearTimeout(timer); timer = setTimeout(load, 1500); });
  load();
  refreshUnread();
  return () => { off(); clearTimeout(timer); };
}

// Following a notification's link reads it: marked read on the way (the screen it leads to is what it was for).
function linkFor(n) {
  const data = n.data || {};
  const type = String(data.event_type || '');
  const read = () => { if (!n.read_at) markRead(n.id).catch(() => {}); };
  const to = (href, text) => h('a', { href, onclick: read }, text);
  if (typeof data.link === 'string' && data.link.startsWith('#/')) return to(data.link, linkText(data.link, type));
  const resource = data.resource || {};
  const sessionId = type.startsWith('session.') ? resource.id : resource.session_id;
  if (sessionId) return to(`#/sessions/${sessionId}`, t('Open the session'));
  if (resource.listing_id) return to(`#/listings/${resource.listing_id}`, t('Open the listing'));
  return null;
}

// The account's own pages, named as what they are for.
const LINK_WORDS = { '#/forgot-password': t('Reset your password'), '#/settings': t('Open your settings'), '#/signin': t('Sign in'),
  '#/mentor': t('Open your mentor setup') };

/** What a link does, in words: where it leads, and why for a listing (a seat offered, another time to choose). */
function linkText(link, type) {
  if (link.startsWith('#/sessions/')) return t('Open the session');
  if (link.startsWith('#/announcements/')) return t('Read the announcement');
  if (link.startsWith('#/reports/')) return t('Read the report');
  if (link.startsWith('#/programmes/')) return link.includes('?pairing=') ? t('Open the pairing') : t('Open the programme');
  if (link.startsWith('#/listings/')) {
    if (type === 'waitlist.offered') return t('Take the seat');
    return type.startsWith('waitlist.') ? t('Open the listing') : t('Choose another time');
  }
  return LINK_WORDS[link] || (link === '#/requests' ? t('See your requests') : t('See your bookings'));
}

export async function bundlesPage(main) {
  const listEl = h('div', {}, loading());
  main.append(h('h1', {}, t('My bundles')), listEl);
  try {
    const items = await all('/bundle-purchases', {}, 1);
    if (!items.length) { replace(listEl, empty(t('No bundles bought yet. Listings show the bundles their mentors offer.'))); return; }
    const offers = new Map();
    await Promise.all([...new Set(items.map((p) => p.bundle_id))].map(async (bundleId) => offers.set(bundleId, await get(`/bundles/${bundleId}`))));
    const byListing = new Map();
    for (const p of items) {
      const listingId = offers.get(p.bundle_id).listing_id;
      if (!byListing.has(listingId)) byListing.set(listingId, []);
      byListing.get(listingId).push(p);
    }
    const now = new Date();
    const cards = await Promise.all([...byListing].map(async ([listingId, bought]) => {
      const title = await listing(listingId).then((l) => l.title).catch(() => t('Listing'));
      const left = bought.filter((p) => new Date(p.valid_until) > now).reduce((sum, p) => sum + p.remaining_sessions, 0);
      return h('li', { class: 'card' }, h('h2', {}, h('a', { href: `#/listings/${listingId}` }, title)),
        h('p', { class: 'credits' }, h('strong', {}, tn('{count} credit left', '{count} credits left', left))),
        h('ul', {}, bought.map((p) => h('li', { class: 'meta' }, new Date(p.valid_until) > now
          ? t('Bought {bought} for {price}: {left} left, valid until {until}', { bought: when(p.created_at),
            price: money(p.price_cents, p.currency), left: p.remaining_sessions, until: when(p.valid_until) })
          : t('Bought {bought} for {price}: {left} left, expired {until}', { bought: when(p.created_at),
            price: money(p.price_cents, p.currency), left: p.remaining_sessions, until: when(p.valid_until) })))));
    }));
    replace(listEl, h('ul', { class: 'list' }, cards));
  } catch (err) { replace(listEl, errorBox(err.message)); }
}
