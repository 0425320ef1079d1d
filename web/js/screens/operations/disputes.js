// Attendance disputes: the open ones, oldest first, and those decided; an admin decides who was absent, which sets
// the credit and the fee, tells both people, and is kept in the audit log with its note.
import { post } from '../../api.js';
import { h, field, replace, messageArea, badge, when, act } from '../../ui.js';
import { pagedList } from '../../lists.js';

const WHO = { mentee: 'the mentee', mentor: 'the mentor', none: 'nobody' };

function disputeRow(dispute, messages, reload) {
  const open = dispute.status === 'open';
  const form = h('form', { class: 'inline-form', 'aria-label': 'Decide this dispute' },
    field('Who was absent', { tag: 'select', name: 'absent' },
      [['', 'Choose…'], ['mentee', 'The mentee'], ['mentor', 'The mentor'], ['none', 'Nobody']]),
    field('Note (kept in the audit log)', { name: 'note', maxlength: 2000 }),
    h('button', { type: 'submit', class: 'primary' }, 'Decide'));
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    act(form.querySelector('button'), messages, async () => {
      if (!form.absent.value) throw new Error('Choose who was absent.');
      await post(`/admin/disputes/${dispute.id}/resolve`, { absent: form.absent.value, note: form.note.value || null });
      messages.ok('Decided: both people are told.');
      await reload();
    }, form);
  });
  return h('li', {}, badge(open ? 'Open' : 'Decided', open ? 'requested' : 'completed'), ' ',
    `Raised by the ${dispute.raised_by}, who disputes that ${WHO[dispute.attribution_before]} was absent`,
    h('p', {}, dispute.reason), h('p', { class: 'meta' }, `Raised ${when(dispute.created_at)}`),
    open ? form : h('p', {}, `Found: ${WHO[dispute.attribution_after]} was absent`,
      dispute.resolution_note ? ` (${dispute.resolution_note})` : '', ` · ${when(dispute.resolved_at)}`));
}

export function disputesScreen(main) {
  const messages = messageArea();
  const results = h('div', {});
  const form = h('form', { class: 'inline-form', 'aria-label': 'Which disputes' },
    field('Which disputes', { tag: 'select', name: 'status' }, [['open', 'Open (the queue)'], ['resolved', 'Decided'], ['', 'All']]),
    h('button', { type: 'submit' }, 'Show'));
  const load = () => replace(results, pagedList('/admin/disputes', { status: form.status.value || null },
    (d) => disputeRow(d, messages, load), { none: 'No dispute here.' }));
  form.addEventListener('submit', (event) => { event.preventDefault(); messages.clear(); load(); });
  main.append(form, messages.el, results);
  load();
}
