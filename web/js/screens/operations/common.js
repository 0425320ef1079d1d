// What the admin screens share: asking for the reason an action is recorded with, and people's names.
import { get, qs } from '../../api.js';
import { h, field, confirmPanel, guardUnsaved, messageArea } from '../../ui.js';
import { t } from '../../words.js';

/** Asks, in a panel in `at`, for the reason an admin action is recorded with, then `onConfirm(reason)`. A refusal
 * is said in the panel, by the reason asked for; what was typed and not sent holds the screen (leaving asks first). */
export function askReason(at, { label, says, confirm, danger = false, onConfirm, extra = null }) {
  const box = field(t('Reason (kept in the audit log)'), { tag: 'textarea', name: 'reason', rows: 2, maxlength: 1000,
    required: true });
  const input = box.querySelector('textarea');
  const local = messageArea();
  const panel = confirmPanel(at, { label, danger, keep: t('Cancel'), messages: local, confirm,
    says: h('div', {}, h('p', {}, says), extra, box, local.el),
    onConfirm: async () => {
      const reason = input.value.trim();
      if (!reason) { input.focus(); throw new Error(t('Give a reason: every admin action is kept with one.')); }
      await onConfirm(reason);
      input.value = '';
    } });
  guardUnsaved(panel, () => (input.value.trim() ? t('A reason you typed has not been sent.') : null));
  input.addEventListener('input', () => local.clear());
  (extra?.querySelector('input, select, textarea') || input).focus();
  return panel;
}

/** "Ada Lovelace (ada@example.com)" for a user id, read once per screen. */
export function userNames() {
  const known = new Map();
  return (id) => {
    if (!id) return Promise.resolve(t('someone whose account is gone'));
    if (!known.has(id)) {
      known.set(id, get(`/admin/users${qs({ id, limit: 1 })}`).then(
        (page) => (page.items[0] ? `${page.items[0].display_name} (${page.items[0].email})` : id), () => id));
    }
    return known.get(id);
  };
}

/** A span filled with a user's name once it is known. */
export function userName(names, id) {
  const el = h('span', {}, id ? '…' : t('someone whose account is gone'));
  names(id).then((text) => { el.textContent = text; });
  return el;
}
