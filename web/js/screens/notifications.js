// Notifications (unread first marked), and the mentee's bundle purchases with their credits.
import { live } from '../live.js';
import { all, markRead, refreshUnread } from '../state.js';
import { h, replace, loading, empty, errorBox, messageArea, act, when, money } from '../ui.js';

export function notificationsPage(main) {
  const messages = messageArea();
  const listEl = h('div', {}, loading());
  main.append(h('h1', {}, 'Notifications'), messages.el, listEl);
  const load = async () => {
    try {
      const items = await all('/notifications', {}, 1);
      if (!items.length) { replace(listEl, empty('No notifications yet.')); return; }
      replace(listEl, h('ul', { class: 'list' }, items.map((n) => h('li', { class: n.read_at ? 'read' : 'unread' },
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
  const resource = data.resource || {};
  const sessionId = String(data.event_type || '').startsWith('session.') ? resource.id : resource.session_id;
  if (sessionId) return h('a', { href: `#/sessions/${sessionId}` }, 'Open session');
  if (resource.listing_id) return h('a', { href: `#/listings/${resource.listing_id}` }, 'Open listing');
  return null;
}

export async function bundlesPage(main) {
  const messages = messageArea();
  const listEl = h('div', {}, loading());
  main.append(h('h1', {}, 'My bundles'), messages.el, listEl);
  try {
    const items = await all('/bundle-purchases', {}, 1);
    if (!items.length) { replace(listEl, empty('No bundles bought yet. Listings show the bundles their mentors offer.')); return; }
    replace(listEl, h('ul', { class: 'list' }, items.map((p) => h('li', {},
      h('strong', {}, `${p.remaining_sessions} credit${p.remaining_sessions === 1 ? '' : 's'} left`),
      ` · bought for ${money(p.price_cents, p.currency)} · valid until ${when(p.valid_until)}`))));
  } catch (err) { replace(listEl, errorBox(err.message)); }
}
