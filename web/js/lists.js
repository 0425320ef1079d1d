// Lists of any length: read a page at a time, found by a search and filters the server applies.
import { get, qs } from './api.js';
import { h, replace, empty, errorBox, loading } from './ui.js';
import { t } from './words.js';

/** A list read a page at a time: `render(item)` draws one; "Show more" reads the next page. `path` and `params`
 * as for the API; the first page is read at once. */
export function pagedList(path, params, render, { none = t('Nothing here.'), size = 25, tag = 'ul', label = null } = {}) {
  const list = h(tag, { class: 'list', 'aria-label': label });
  const more = h('button', { type: 'button', hidden: true }, t('Show more'));
  const status = h('div', { 'aria-live': 'polite' }, loading());
  const el = h('div', {}, status, list, h('div', { class: 'actions' }, more));
  let cursor = null;
  const read = async () => {
    more.disabled = true;
    try {
      const page = await get(path + qs({ ...params, limit: size, cursor }));
      replace(status, list.children.length || page.items.length ? null : empty(none));
      list.append(...page.items.map(render));
      cursor = page.next_cursor;
      more.hidden = !cursor;
    } catch (err) { replace(status, errorBox(err.message)); } finally { more.disabled = false; }
  };
  more.addEventListener('click', read);
  read();
  return el;
}

/** Every item of a list, page by page (at most `pages` of 100: a select of a programme's people). */
export async function everyItem(path, params = {}, pages = 20) {
  const items = [];
  let cursor = null;
  for (let read = 0; read < pages; read += 1) {
    const page = await get(path + qs({ ...params, limit: 100, cursor }));
    items.push(...page.items);
    cursor = page.next_cursor;
    if (!cursor) break;
  }
  return items;
}

/** A paged list with a search box and filters (`filters`: [name, label, [[value, text], …], its "any" words]), each sent to the
 * server; typing waits for a pause. `set(values)` shows the list for those filters (a funnel's link); `refresh()`
 * reads it again from its first page. */
export function findableList(path, render, { label, filters = [], fixed = {}, none = t('No one matches.'), size = 25 }) {
  const search = h('input', { type: 'search', name: 'q', maxlength: 200, 'aria-label': t('Find in {list}', { list: label }),
    placeholder: t('Find by name or address') });
  const selects = filters.map(([name, text, options, any]) => h('select', { name, 'aria-label': text },
    h('option', { value: '' }, any), options.map(([value, shown]) => h('option', { value }, shown))));
  const form = h('form', { class: 'inline filters', role: 'search', 'aria-label': label }, search, ...selects);
  const listEl = h('div', {});
  const draw = () => replace(listEl, pagedList(path, { ...fixed, q: search.value.trim(),
    ...Object.fromEntries(selects.map((s) => [s.name, s.value])) }, render, { none, size, label }));
  let pause = null;
  search.addEventListener('input', () => { clearTimeout(pause); pause = setTimeout(draw, 300); });
  selects.forEach((s) => s.addEventListener('change', draw));
  form.addEventListener('submit', (event) => { event.preventDefault(); clearTimeout(pause); draw(); });
  draw();
  return {
    el: h('div', { class: 'findable' }, form, listEl),
    refresh: draw,
    set(values) {
      search.value = values.q || '';
      selects.forEach((s) => { s.value = values[s.name] || ''; });
      draw();
      form.scrollIntoView({ block: 'start' });
    },
  };
}
