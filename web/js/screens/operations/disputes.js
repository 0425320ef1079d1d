// Attendance disputes: the open ones, oldest first, and those decided; an admin decides who was absent, which sets
// the credit and the fee, tells both people, and is kept in the audit log with its note.
import { post } from '../../api.js';
import { h, field, replace, messageArea, badge, when, act } from '../../ui.js';
import { pagedList } from '../../lists.js';
import { t } from '../../words.js';

// Each sentence whole: who raised it, and who was found absent before and after (each its own words).
const RAISED = {
  'mentee:mentee': t('Raised by the mentee, who disputes that the mentee was absent'),
  'mentee:mentor': t('Raised by the mentee, who disputes that the mentor was absent'),
  'mentee:none': t('Raised by the mentee, who disputes that nobody was absent'),
  'mentor:mentee': t('Raised by the mentor, who disputes that the mentee was absent'),
  'mentor:mentor': t('Raised by the mentor, who disputes that the mentor was absent'),
  'mentor:none': t('Raised by the mentor, who disputes that nobody was absent'),
};
const FOUND = { mentee: t('Found: the mentee was absent'), mentor: t('Found: the mentor was absent'),
  none: t('Found: nobody was absent') };

function disputeRow(dispute, messages, reload) {
  const open = dispute.status === 'open';
  const form = h('form', { class: 'inline-form', 'aria-label': t('Decide this dispute') },
    field(t('Who was absent'), { tag: 'select', name: 'absent' },
      [['', t('Choose…')], ['mentee', t('The mentee')], ['mentor', t('The mentor')], ['none', t('Nobody')]]),
    field(t('Note (kept in the audit log)'), { name: 'note', maxlength: 2000 }),
    h('button', { type: 'submit', class: 'primary' }, t('Decide')));
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    act(form.querySelector('button'), messages, async () => {
      if (!form.absent.value) throw new Error(t('Choose who was absent.'));
      await post(`/admin/disputes/${dispute.id}/resolve`, { absent: form.absent.value, note: form.note.value || null });
      messages.ok(t('Decided: both people are told.'));
      await reload();
    }, form);
  });
  return h('li', {}, badge(open ? t('Open') : t('Decided'), open ? 'requested' : 'completed'), ' ',
    RAISED[`${dispute.raised_by}:${dispute.attribution_before}`],
    h('p', {}, dispute.reason), h('p', { class: 'meta' }, t('Raised {when}', { when: when(dispute.created_at) })),
    open ? form : h('p', {}, FOUND[dispute.attribution_after],
      dispute.resolution_note ? ` (${dispute.resolution_note})` : '', ` · ${when(dispute.resolved_at)}`));
}

export function disputesScreen(main) {
  const messages = messageArea();
  const results = h('div', {});
  const form = h('form', { class: 'inline-form', 'aria-label': t('Which disputes') },
    field(t('Which disputes'), { tag: 'select', name: 'status' },
      [['open', t('Open (the queue)')], ['resolved', t('Decided')], ['', t('All')]]),
    h('button', { type: 'submit' }, t('Show')));
  const load = () => replace(results, pagedList('/admin/disputes', { status: form.status.value || null },
    (d) => disputeRow(d, messages, load), { none: t('No dispute here.') }));
  form.addEventListener('submit', (event) => { event.preventDefault(); messages.clear(); load(); });
  main.append(form, messages.el, results);
  load();
}
