// Announcements: a programme's coordinators tell its people (everyone, the mentors, the mentees, or the pairs not
// yet active), and an administrator everyone with an account (a notice, in the admin console); they see how many
// were told and read it; each recipient reads it on its own page (which counts it read). The words are shown as the server rendered and cleaned them, isolated (`dir="auto"`).
import { get, post } from '../../api.js';
import { h, field, replace, empty, errorBox, loading, messageArea, act, when } from '../../ui.js';
import { t, tParts } from '../../words.js';

const AUDIENCES = [['everyone', t('Everyone taking part')], ['mentors', t('The mentors')], ['mentees', t('The mentees')],
  ['not_active', t('The pairs not yet active')]];
// Whom an announcement went to, inside a sentence ("to the mentors"): words of their own, never lower-cased (a
// language's nouns may keep their capitals).
const TO = { everyone: t('everyone taking part'), mentors: t('the mentors'), mentees: t('the mentees'),
  not_active: t('the pairs not yet active') };
const POLLS = 20; // how many times a list looks again for an announcement still being delivered (every 3 s)

function words(html) {
  const el = h('div', { class: 'words', dir: 'auto' });
  el.innerHTML = html; // rendered and cleaned by the server (nh3)
  return el;
}

function reach(a) {
  if (a.recipients === null) return t('being delivered…');
  if (a.read === null || a.read === undefined) return t('told {count}', { count: a.recipients });
  return t('told {count} · read by {read}', { count: a.recipients, read: a.read });
}

/** A programme's announcements for its coordinators (or, with no programme, the notices to everyone for an
 * administrator): the composer and the list with how far each went. */
export function announcementsSection(programmeId) {
  const url = programmeId ? `/programmes/${programmeId}/announcements` : '/announcements';
  const listEl = h('div', {}, loading());
  const said = messageArea();
  let polls = 0;
  const load = async () => {
    try {
      const { items } = await get(url);
      replace(listEl, items.length ? h('ul', { class: 'list announcements' }, items.map((a) => h('li', {},
        h('a', { href: `#/announcements/${a.id}` }, h('bdi', {}, a.title)),
        h('span', { class: 'meta' }, ' · ', t('to {whom}', { whom: programmeId ? TO[a.audience] : t('everyone') }),
          ` · ${when(a.created_at)} · ${reach(a)}`))))
        : empty(programmeId ? t('No announcement yet.') : t('No notice yet.')));
      if (items.some((a) => a.recipients === null) && polls++ < POLLS && listEl.isConnected !== false) setTimeout(load, 3000);
    } catch (err) { replace(listEl, errorBox(err.message)); }
  };
  const form = h('form', { class: 'stack', 'aria-label': programmeId ? t('New announcement') : t('New notice to everyone'), novalidate: true },
    programmeId ? field(t('To'), { tag: 'select', name: 'audience' }, AUDIENCES) : null,
    field(t('Title'), { name: 'title', required: true, maxlength: 200, autocomplete: 'off' }),
    field(t('Announcement'), { tag: 'textarea', name: 'body', required: true, maxlength: 4000, rows: 4,
      hint: t('Markdown: *emphasis*, **bold**, [links](https://…), lists, `code`. Each is told in the app, live, and by email as they chose.') }),
    said.el, h('button', { type: 'submit', class: 'primary' }, programmeId ? t('Post the announcement') : t('Post the notice')));
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    act(form.querySelector('button[type=submit]'), said, async () => {
      const made = await post(url, { audience: programmeId ? form.audience.value : 'everyone', title: form.title.value, body: form.body.value });
      form.title.value = '';
      form.body.value = '';
      said.ok(t('Posted “{title}”: its people are being told.', { title: made.title }));
      polls = 0;
      await load();
    }, form);
  });
  load();
  if (!programmeId) return h('div', {}, h('p', { class: 'muted' }, t('A notice reaches everyone with an account: in the app, live, and by email as each chose for announcements.')), form, listEl);
  return h('section', { 'aria-labelledby': 'pg-ann-h' }, h('h2', { id: 'pg-ann-h' }, t('Announcements')), form, listEl);
}

/** One announcement, as its recipients read it (opening it counts it read), with its counts for its coordinators. */
export async function announcementPage(main, { params: [id] }) {
  const a = await get(`/announcements/${id}`);
  main.append(
    a.programme_id ? h('p', { class: 'crumbs' }, h('a', { href: `#/programmes/${a.programme_id}` }, t('The programme')), ' › ', t('Announcement')) : null,
    h('h1', {}, h('bdi', {}, a.title)),
    h('p', { class: 'meta' }, a.author_name ? [tParts('From {author}', { author: h('bdi', {}, a.author_name) }), ` · ${when(a.created_at)}`] : when(a.created_at),
      a.read !== null && a.read !== undefined ? [' · ', t('to {whom}', { whom: TO[a.audience] }), ` · ${reach(a)}`] : ''),
    words(a.html));
}
