// What the admin screens share: asking for the reason an action is recorded with, and lists read a page at a time.
import { get, qs } from '../../api.js';
import { h, field, replace, empty, errorBox, confirmPanel, guardUnsaved, loading, messageArea } from '../../ui.js';

/** Asks, in a panel in `at`, for the reason an admin action is recorded with, then `onConfirm(reason)`. A refusal
 * is said in the panel, by the reason asked for; what was typed and not sent holds the screen (leaving asks first). */
export function askReason(at, { label, says, confirm, danger = false, onConfirm, extra = null }) {
  const box = field('Reason (kept in the audit log)', { tag: 'textarea', name: 'reason', rows: 2, maxlength: 1000,
    required: true });
  const input = box.querySelector('textarea');
  const local = messageArea();
  const panel = confirmPanel(at, { label, danger, keep: 'Cancel', messages: local, confirm,
    says: h('div', {}, h('p', {}, says), extra, box, local.el),
    onConfirm: async () => {
      const reason = input.value.trim();
      if (!reason) { input.focus(); throw new Error('Give a reason: every admin action is kept with one.'); }
      await onConfirm(reason);
      input.value = '';
    } });
  guardUnsaved(panel, () => (input.value.trim() ? 'A reason you typed has not been sent.' : null));
  input.addEventListener('input', () => local.clear());
  (extra?.querySelector('input, select, textarea') || input).focus();
  return panel;
}

/** A list read a page at a time: `render(item)` draws one; "Show more" reads the next page. `path` and `params`
 * as for the API; the first page is read at once. */
export function pagedList(path, params, render, { none = 'Nothing here.', size = 25, tag = 'ul' } = {}) {
  const list = h(tag, { class: 'list' });
  const more = h('button', { type: 'button', hidden: true }, 'Show more');
  const status = h('div', {}, loading());
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

/** "Ada Lovelace (ada@example.com)" for a user id, read once per screen. */
export function userNames() {
  const known = new Map();
  return (id) => {
    if (!id) return Promise.resolve('someone whose account is gone');
    if (!known.has(id)) {
      known.set(id, get(`/admin/users${qs({ id, limit: 1 })}`).then(
        (page) => (page.items[0] ? `${page.items[0].display_name} (${page.items[0].email})` : id), () => id));
    }
    return known.get(id);
  };
}

/** A span filled with a user's name once it is known. */
export function userName(names, id) {
  const el = h('span', {}, id ? '…' : 'someone whose account is gone');
  names(id).then((text) => { el.textContent = text; });
  return el;
}
