// A listing: who teaches it and what it costs; for a one-to-one listing its free slots, the request form and
// the viewer's requests; for a group listing its sessions' seats; its bundles. Each part redraws itself on a
// live update (ui.js `redraw`); the request form is made once and keeps what is typed.
import { live } from '../../live.js';
import { loadPolicy } from '../../policy.js';
import { currentUser, listing as loadListing, profile } from '../../state.js';
import { append, h, price, rating, skillWord } from '../../ui.js';
import { bookingPanel } from './listing/booking.js';
import { bundlesPanel } from './listing/bundles.js';
import { groupPanel } from './listing/group.js';
import { t } from '../../words.js';

export async function listingPage(main, { params: [id], query }) {
  const [item, me] = await Promise.all([loadListing(id), currentUser(), loadPolicy()]);
  const mentor = await profile(item.mentor_profile_id).catch(() => null);
  const mine = Boolean(me && me.mentor_profile_id === item.mentor_profile_id);
  live.watch(id);
  const bundles = bundlesPanel({ id, mine });
  const part = item.kind === 'group' ? groupPanel({ id, item, mine, start: query.get('start') }) : bookingPanel({ id, item, mine, credits: bundles, start: query.get('start') });

  append(main, [
    h('p', { class: 'crumbs' }, h('a', { href: '#/' }, t('Mentors')), ' › ', mentor ? h('a', { href: `#/mentors/${mentor.id}` }, mentor.display_name) : t('Mentor')),
    h('h1', {}, item.title),
    h('p', { class: 'lead' }, mentor ? [mentor.display_name, mentor.headline].filter(Boolean).join(' · ') : ''),
    h('p', { class: 'meta' }, mentor ? rating(mentor) : '', ' · ', h('strong', {}, price(item.price_cents, item.currency)),
      ' · ', t('{minutes} min', { minutes: item.duration_minutes }), ' · ', skillWord(item.skill),
      item.kind === 'group' ? [' · ', t('group of up to {capacity}', { capacity: item.capacity })] : '',
      item.active ? '' : t(' · not taking bookings')),
    item.description ? h('p', {}, item.description) : null,
    part.els || part.el,
    bundles.el]);

  const off = live.on((type, data) => {
    if (type === 'reset') { part.reload(); bundles.reload(); return; }
    if (data.listing_id === id || data.mentor_profile_id === item.mentor_profile_id) part.reload();
    // A request of this listing answered or ended may give a bundle credit back: the credits are read anew.
    if (data.listing_id === id && type.startsWith('booking.')) bundles.reload();
  });
  part.reload();
  bundles.reload();
  return off;
}
