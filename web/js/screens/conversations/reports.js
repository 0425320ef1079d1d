// Reports: anyone in a conversation reports it to those who look after it (its programme's coordinators, else the
// administrators); they read it from the report, and each read is written in the audit trail.
import { get, post } from '../../api.js';
import { h, field, replace, empty, messageArea, act, when } from '../../ui.js';

const REASONS = [['harassment', 'Harassment'], ['spam', 'Spam'], ['inappropriate', 'Something inappropriate'],
  ['safety', "Someone's safety"], ['other', 'Another reason']];
const SAID = Object.fromEntries(REASONS);

/** A conversation's "Report" panel: a reason and words, sent to those who look after it. */
export function reportPanel(conversationId) {
  const said = messageArea();
  const form = h('form', { class: 'stack', 'aria-label': 'Report this conversation', novalidate: true },
    field('Why', { tag: 'select', name: 'reason' }, REASONS),
    field('What happened (optional)', { tag: 'textarea', name: 'words', rows: 3, maxlength: 1000 }),
    said.el, h('button', { type: 'submit', class: 'danger' }, 'Send the report'));
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    act(form.querySelector('button[type=submit]'), said, async () => {
      const made = await post(`/conversations/${conversationId}/report`, { reason: form.reason.value, words: form.words.value });
      form.words.value = '';
      said.ok(made.programme_id ? "Reported to the programme's coordinators: they can now read this conversation."
        : 'Reported to the administrators: they can now read this conversation.');
    }, form);
  });
  return h('details', { class: 'report' }, h('summary', {}, 'Report'),
    h('p', { class: 'muted' }, 'Those who look after this conversation are told and can read it; each of their reads is recorded.'), form);
}

/** A report, as one who looks after it reads it: the conversation's latest messages, read-only (the read is audited). */
export async function reportPage(main, { params: [id] }) {
  const report = await get(`/conversation-reports/${id}`);
  const list = report.messages.length ? h('ul', { class: 'list conversation' }, report.messages.map((m) => {
    const words = m.deleted_at ? h('p', { class: 'muted' }, 'This message was deleted.') : h('div', { class: 'words', dir: 'auto' });
    if (!m.deleted_at) words.innerHTML = m.html; // rendered and cleaned by the server (nh3)
    return h('li', { class: report.message_id === m.id ? 'reported' : '' },
      h('p', { class: 'meta' }, h('bdi', {}, m.sender_name), ` · ${when(m.created_at)}${report.message_id === m.id ? ' · the message reported' : ''}`), words);
  })) : empty('No message.');
  replace(main, h('h1', {}, 'A reported conversation'),
    h('p', {}, 'Between ', report.people.map((name, i) => [i ? ', ' : '', h('bdi', {}, name)]), '.'),
    h('p', {}, h('strong', {}, SAID[report.reason] || report.reason), ' · reported by ', h('bdi', {}, report.reporter_name),
      ` · ${when(report.created_at)}`),
    report.words ? h('blockquote', { dir: 'auto' }, report.words) : null,
    h('p', { class: 'muted' }, 'Your reading is recorded in the audit trail, naming you and this report.'),
    h('div', { role: 'log', 'aria-label': 'The reported conversation' }, list));
}
