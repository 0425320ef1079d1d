// Libraries of resources: a programme's (with the platform's), searched by its people and kept by its coordinators,
// and the platform's, kept by administrators. A resource is a link or a short document (HTML rendered and cleaned by
// the server, nh3); a link is followed only when it is a web address.
import { del, get, patch, post } from '../../api.js';
import { currentUser } from '../../state.js';
import { h, field, replace, act, badge, empty, errorBox, loading, messageArea } from '../../ui.js';
import { everyItem } from '../../lists.js';
import { t } from '../../words.js';

/** A document, folded: read whole from the server when first opened. */
function documentOf(base, r) {
  const el = h('div', { class: 'agenda' }, loading());
  const details = h('details', {}, h('summary', {}, t('Read “{title}”', { title: r.title })), el);
  details.addEventListener('toggle', () => {
    if (!details.open || details.dataset.loaded) return;
    details.dataset.loaded = 'yes';
    get(`${base}/${r.id}`).then((whole) => { el.innerHTML = whole.body_html; }, // rendered and cleaned by the server (nh3)
      (err) => replace(el, errorBox(err.message)));
  });
  return details;
}

/** A resource as read: its title (a link for a web address), where it is kept, its tags, its document folded. */
function resourceItem(base, r, { keeps, edit, remove }) {
  const title = r.url && /^https?:\/\//i.test(r.url)
    ? h('a', { href: r.url, rel: 'noopener noreferrer', target: '_blank' }, r.title) : h('strong', {}, r.title);
  return h('li', { id: `resource-${r.id}` }, title, ' ',
    r.library === 'platform' ? badge(t('Shared with every programme'), 'draft') : null,
    r.tags.length ? h('span', { class: 'meta' }, ` ${r.tags.map((tag) => `#${tag}`).join(' ')}`) : null,
    r.kind === 'document' ? documentOf(base, r) : null,
    keeps(r) ? h('div', { class: 'actions' },
      h('button', { type: 'button', class: 'link', onclick: () => edit(r) }, t('Edit “{title}”', { title: r.title })),
      h('button', { type: 'button', class: 'link danger', onclick: (e) => remove(e.currentTarget, r) }, t('Remove “{title}”', { title: r.title })))
      : null);
}

/** The form that adds a resource, or changes `editing`: a title, a link or a document, tags. */
function resourceForm(base, messages, done) {
  let editing = null;
  const kind = field(t('It is'), { tag: 'select', name: 'kind' }, [['link', t('A link')], ['document', t('A document')]]);
  const url = field(t('Address'), { name: 'url', type: 'url', maxlength: 2000, hint: t('An https address: shown as a link, never opened by the service.') });
  const body = field(t('Document'), { tag: 'textarea', name: 'body', rows: 6, maxlength: 20000,
    hint: t('Markdown: *emphasis*, **bold**, [links](https://…), lists.') });
  const show = () => { url.hidden = kind.querySelector('select').value !== 'link'; body.hidden = !url.hidden; };
  kind.querySelector('select').addEventListener('change', show);
  const heading = h('h2', { id: 'lib-form-h' }, t('Add a resource'));
  const form = h('form', { class: 'stack', 'aria-labelledby': 'lib-form-h' }, heading,
    field(t('Title'), { name: 'title', maxlength: 200, required: true }), kind, url, body,
    field(t('Tags'), { name: 'tags', maxlength: 500, hint: t('Separated by commas; ten at most.') }),
    h('button', { type: 'submit', class: 'primary' }, t('Save the resource')));
  show();
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const link = kind.querySelector('select').value === 'link';
    const data = { title: form.title.value, url: link ? form.url.value : null, body: link ? null : form.body.value,
      tags: form.tags.value.split(',').map((tag) => tag.trim()).filter(Boolean) };
    act(form.querySelector('button[type=submit]'), messages, async () => {
      const saved = editing ? await patch(`${base}/${editing.id}`, data) : await post(base, data);
      messages.ok(t('Saved “{title}”.', { title: saved.title }));
      editing = null;
      heading.textContent = t('Add a resource');
      form.reset();
      show();
      await done();
    }, form);
  });
  form.edit = async (summary) => {
    const r = await get(`${base}/${summary.id}`); // with its document
    editing = r;
    heading.textContent = t('Edit “{title}”', { title: r.title });
    form.title.value = r.title;
    kind.querySelector('select').value = r.url ? 'link' : 'document';
    form.url.value = r.url || '';
    form.body.value = r.body || '';
    form.tags.value = r.tags.join(', ');
    show();
    form.title.focus();
  };
  return form;
}

/** A library: `programmeId`'s with the platform's, or the platform's alone (null). */
async function libraryPage(main, programmeId, asked = '') {
  const me = await currentUser();
  const base = programmeId ? `/programmes/${programmeId}/resources` : '/resources';
  const programme = programmeId ? await get(`/programmes/${programmeId}`) : null;
  const keepsProgramme = programme && ['coordinator', 'admin'].includes(programme.viewer_role);
  const keeps = (r) => (r.library === 'platform' ? me.is_admin && !programmeId : keepsProgramme);
  const messages = messageArea();
  const listEl = h('div', {}, loading());
  const search = h('form', { class: 'inline', role: 'search', 'aria-label': t('Search the library') },
    field(t('Words'), { name: 'q', type: 'search', maxlength: 200 }), field(t('Tag'), { name: 'tag', maxlength: 40 }),
    h('button', { type: 'submit' }, t('Search')));
  const mayAdd = programmeId ? keepsProgramme : me.is_admin;
  const form = mayAdd ? resourceForm(base, messages, () => draw()) : null;
  const remove = (button, r) => act(button, messages, async () => {
    await del(`${base}/${r.id}`);
    messages.ok(t('“{title}” is out of the library.', { title: r.title }));
    await draw();
  });
  async function draw() {
    const query = Object.fromEntries([['q', search.q.value.trim()], ['tag', search.tag.value.trim()]].filter(([, v]) => v));
    try {
      const found = await everyItem(base, query);
      replace(listEl, found.length ? h('ul', { class: 'list', 'aria-label': t('Resources') },
        found.map((r) => resourceItem(base, r, { keeps, edit: (one) => form.edit(one).catch((err) => messages.error(err)), remove })))
        : empty(t('No resource matches.')));
    } catch (err) { replace(listEl, errorBox(err.message)); }
  }
  search.addEventListener('submit', (event) => { event.preventDefault(); draw(); });
  search.q.value = asked; // a step's suggestion opens the library at it
  main.append(...[programme ? h('p', { class: 'crumbs' }, h('a', { href: '#/programmes' }, t('Programmes')), ' › ',
    h('a', { href: `#/programmes/${programme.id}` }, programme.name), ' › ', t('Library')) : null,
  h('h1', {}, programme ? t('Library of {name}', { name: programme.name }) : t('The platform’s library')),
  h('p', { class: 'hint' }, programme ? t('Links and short documents its coordinators chose, and those shared with every programme. No file is uploaded.')
    : t('Links and short documents shared with every programme. No file is uploaded.')),
  search, messages.el, listEl, form].filter(Boolean));
  await draw();
}

export const programmeLibrary = (main, { params: [id], query }) => libraryPage(main, id, query.get('q') || '');
export const platformLibrary = (main) => libraryPage(main, null);
