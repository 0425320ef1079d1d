// Notifications (unread first marked), and the mentee's bundle purchases with their credits.
import { live } from '../live.js';
import { get } from '../api.js';
import { all, listing, markRead, refreshUnread } from '../state.js';
import { h, redraw, replace, loading, empty, errorBox, messageArea, act, when, money } from '../ui.js';

export function notificationsPage(main) {
  const messages = messageArea();
  const listEl = h('div', {}, loading());
  main.append(h('h1', {}, 'Notifications'), messages.el, listEl);
  const load = async () => {
    try {
      const items = await all('/notifications', {}, 1);
      if (!items.length) { replace(listEl, empty('No notifications yet.')); return; }
      redraw(listEl, h('ul', { class: 'list' }, items.map((n) => h('li', { class: n.read_at ? 'read' : 'unread' },
        h('strong', {}, n.title), n.read_at ? '' : h('span', { class: 'badge requested' }, 'New'),
        h('p', {}, n.body), h('span', { class: 'meta' }, when(n.created_at)), ' ',
        linkFor(n),
        n.read_at ? null : h('button', { type: 'button', onclick: (e) => act(e.currentTarget, messages, async () => { await markRead(n.id); await load(); }) }, 'Mark read')))));
    } catch (err) { replace(listEl, errorBox(err.message)); }
  };
  let timer = null;
  const off = live.on(() => { clearTimeout(timer); timer = setTimeout(load, 1500); });
  load();
  refreshUnread();
  return () => { off(); clearTimeout(timer); };
}

function linkFor(n) {
  const data = n.data || {};
  if (typeof data.link === 'string' && data.link.startsWith('#/')) return h('a', { href: data.link }, linkText(data.link));
  const resource = data.resource || {};
  const sessionId = String(data.event_type || '').startsWith('session.') ? resource.id : resource.session_id;
  if (sessionId) return h('a', { href: `#/sessions/${sessionId}` }, 'Open session');
  if (resource.listing_id) return h('a', { href: `#/listings/${resource.listing_id}` }, 'Open listing');
  return null;
}

// Credits are counted per listing, as its page counts them: the credits usable now, of every purchase.
const linkText = (link) => (link.startsWith('#/sessions/') ? 'Open session' : link.startsWith('#/listings/') ? 'Choose another time'
  : link === '#/requests' ? 'Open the request' : 'Go to your bookings');

export async function bundlesPage(main) {
  const listEl = h('div', {}, loading());
  main.append(h('h1', {}, 'My bundles'), listEl);
  try {
    const items = await all('/bundle-purchases', {}, 1);
    if (!items.length) { replace(listEl, empty('No bundles bought yet. Listings show the bundles their mentors offer.')); return; }
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
      const title = await listing(listingId).then((l) => l.title).catch(() => 'Listing');
      const left = bought.filter((p) => new Date(p.valid_until) > now).reduce((sum, p) => sum + p.remaining_sessions, 0);
      return h('li', { class: 'card' }, h('h2', {}, h('a', { href: `#/listings/${listingId}` }, title)),
        h('p', { class: 'credits' }, h('strong', {}, `${left} credit${left === 1 ? '' : 's'} left`)),
        h('ul', {}, bought.map((p) => h('li', { class: 'meta' }, `Bought ${when(p.created_at)} for ${money(p.price_cents, p.currency)}: `
          + `${p.remaining_sessions} left, ${new Date(p.valid_until) > now ? 'valid until' : 'expired'} ${when(p.valid_until)}`))));
    }));
    replace(listEl, h('ul', { class: 'list' }, cards));
  } catch (err) { replace(listEl, errorBox(err.message)); }
}
