// Browse and search mentors and listings by skill; a mentor's own page.
import { get, qs } from '../../api.js';
import { all, profile, rememberListing, rememberProfile } from '../../state.js';
import { h, field, replace, loading, empty, errorBox, price, rating, skillWord, when } from '../../ui.js';
import { t } from '../../words.js';

function listingCard(item, mentor) {
  return h('article', { class: 'card listing' },
    h('h3', {}, h('a', { href: `#/listings/${item.id}` }, item.title)),
    h('p', { class: 'meta' },
      mentor ? h('a', { href: `#/mentors/${mentor.id}` }, mentor.display_name || t('Mentor')) : t('Mentor'),
      mentor?.headline ? ` · ${mentor.headline}` : ''),
    h('p', { class: 'meta' }, mentor ? rating(mentor) : '', ' · ',
      h('strong', {}, price(item.price_cents, item.currency)), ' · ',
      t('{minutes} min', { minutes: item.duration_minutes }),
      item.kind === 'group' ? [' · ', t('group of up to {capacity}', { capacity: item.capacity })] : '', ' · ', skillWord(item.skill)));
}

// Search words (`q`): the API ranks listings and mentors by skill, title, name and headline, typos forgiven.
export async function browse(main, { query, go }) {
  const words = query.get('q') || query.get('skill') || '';
  const form = h('form', { class: 'search', role: 'search' },
    field(t('Skill, title or mentor'), { type: 'search', name: 'q', value: words, placeholder: t('e.g. python, postgres, Grace') }),
    h('button', { type: 'submit' }, t('Search')));
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const value = form.q.value.trim();
    go(value ? `/?q=${encodeURIComponent(value)}` : '/');
  });
  const mentorsEl = h('div', {}, loading());
  const listingsEl = h('div', {}, loading());
  main.append(h('h1', {}, words ? t('Mentors for “{words}”', { words }) : t('Find a mentor')), form,
    h('section', { 'aria-labelledby': 'listings-h' }, h('h2', { id: 'listings-h' }, t('Listings')), listingsEl),
    h('section', { 'aria-labelledby': 'mentors-h' }, h('h2', { id: 'mentors-h' }, t('Mentors')), mentorsEl));

  let mentors = [];
  try {
    mentors = (await get(`/mentor-profiles${qs({ q: words, limit: 50 })}`)).items;
    mentors.forEach(rememberProfile);
    if (!mentors.length) replace(mentorsEl, empty(words ? t('No mentor matches “{words}” yet.', { words }) : t('No mentors yet.')));
    else replace(mentorsEl, h('ul', { class: 'grid' }, mentors.map((m) => h('li', {}, h('article', { class: 'card' },
      h('h3', {}, h('a', { href: `#/mentors/${m.id}` }, m.display_name || t('Mentor'))),
      m.headline ? h('p', {}, m.headline) : null,
      h('p', { class: 'meta' }, rating(m), ' · ', m.skills.map(skillWord).join(', ') || t('no skills listed')))))));
  } catch (err) {
    replace(mentorsEl, errorBox(err.message));
  }
  try {
    const items = (await get(`/listings${qs({ q: words, active: 'true', limit: 50 })}`)).items;
    items.forEach(rememberListing);
    if (!items.length) { replace(listingsEl, empty(words ? t('No listing matches “{words}” yet.', { words }) : t('No listings yet.'))); return; }
    const owners = await Promise.all(items.map((item) => profile(item.mentor_profile_id).catch(() => null)));
    replace(listingsEl, h('ul', { class: 'grid' }, items.map((item, i) => h('li', {}, listingCard(item, owners[i])))));
  } catch (err) {
    replace(listingsEl, errorBox(err.message));
  }
}

export async function mentorPage(main, { params: [id] }) {
  const mentor = await profile(id);
  const listingsEl = h('div', {}, loading());
  const reviewsEl = h('div', {}, loading());
  main.append(
    h('h1', {}, mentor.display_name || t('Mentor')),
    mentor.headline ? h('p', { class: 'lead' }, mentor.headline) : '',
    h('p', { class: 'meta' }, rating(mentor), ' · ', t('timezone {zone}', { zone: mentor.timezone }), ' · ',
      mentor.skills.map(skillWord).join(', ')),
    mentor.bio ? h('p', {}, mentor.bio) : '', // (an element's append writes null as "null")
    h('section', { 'aria-labelledby': 'ml-h' }, h('h2', { id: 'ml-h' }, t('Listings')), listingsEl),
    h('section', { 'aria-labelledby': 'mr-h' }, h('h2', { id: 'mr-h' }, t('Reviews')), reviewsEl));
  try {
    const items = await all('/listings', { mentor_profile_id: id, active: 'true' }, 1);
    items.forEach(rememberListing);
    replace(listingsEl, items.length
      ? h('ul', { class: 'grid' }, items.map((item) => h('li', {}, listingCard(item, mentor))))
      : empty(t('This mentor has no active listing.')));
  } catch (err) { replace(listingsEl, errorBox(err.message)); }
  try {
    const reviews = (await get(`/mentor-profiles/${id}/reviews?limit=20`)).items;
    replace(reviewsEl, reviews.length
      ? h('ul', { class: 'list' }, reviews.map((r) => h('li', {}, h('strong', {}, `${'★'.repeat(r.rating)}${'☆'.repeat(5 - r.rating)}`),
        ` ${r.comment || ''}`, h('span', { class: 'meta' }, ` — ${r.reviewer}, ${when(r.created_at)}`))))
      : empty(t('No reviews yet.')));
  } catch (err) { replace(reviewsEl, errorBox(err.message)); }
}
