// Reports: anyone in a conversation reports it to those who look after it (its programme's coordinators, else the
// administrators); they read it from the report, and each read is written in the audit trail.
import { get, post } from '../../api.js';
import { h, field, replace, empty, messageArea, act, when } from '../../ui.js';
import { t } from '../../words.js';

const REASONS = [['harassment', t('Harassment')], ['spam', t('Spam')], ['inappropriate', t('Something inappropriate')],
  ['safety', t('Someone\'s safety')], ['other', t('Another reason')]];
const SAID = Object.fromEntries(REASONS);

/** A conversation's "Report" panel: a reason and words, sent to those who look after it. */
export function reportPanel(conversationId) {
  const said = messageArea();
  const form = h('form', { class: 'stack', 'aria-label': t('Report this conversation'), novalidate: true },
    field(t('Why'), { tag: 'select', name: 'reason' }, REASONS),
    field(t('What happened (optional)'), { tag: 'textarea', name: 'words', rows: 3, maxlength: 1000 }),
    said.el, h('button', { type: 'submit', class: 'danger' }, t('Send the report')));
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    act(form.querySelector('button[type=submit]'), said, async () => {
      const made = await post(`/conversations/${conversationId}/report`, { reason: form.reason.value, words: form.words.value });
      form.words.value = '';
      said.ok(made.programme_id ? t('Reported to the programme\'s coordinators: they can now read this conversation.')
        : t('Reported to the administrators: they can now read this conversation.'));
    }, form);
  });
  return h('details', { class: 'report' }, h('summary', {}, t('Report')),
    h('p', { class: 'muted' }, t('Those who look after this conversation are told and can read it; each of their reads is recorded.')), form);
}

/** A report, as one who looks after it reads it: the conversation's latest messages, read-only (the read is audited). */
export async function reportPage(main, { params: [id] }) {
  const report = await get(`/conversation-reports/${id}`);
  const list = report.messages.length ? h('ul', { class: 'list conversation' }, report.messages.map((m) => {
    const words = m.deleted_at ? h('p', { class: 'muted' }, t('This message was deleted.')) : h('div', { class: 'words', dir: 'auto' });
    if (!m.deleted_at) words.innerHTML = m.html; // rendered and cleaned by the server (nh3)
    return h('li', { class: report.message_id === m.id ? 'reported' : '' },
      h('p', { class: 'meta' }, h('bdi', {}, m.sender_name), ` · ${when(m.created_at)}`, report.message_id === m.id ? [' · ', t('the message reported')] : ''), words);
  })) : empty(t('No message.'));
  replace(main, h('h1', {}, t('A reported conversation')),
    h('p', {}, t('Between '), report.people.map((name, i) => [i ? ', ' : '', h('bdi', {}, name)]), '.'),
    h('p', {}, h('strong', {}, SAID[report.reason] || report.reason), ' · reported by ', h('bdi', {}, report.reporter_name),
      ` · ${when(report.created_at)}`),
    report.words ? h('blockquote', { dir: 'auto' }, report.words) : null,
    h('p', { class: 'muted' }, t('Your reading is recorded in the audit trail, naming you and this report.')),
    h('div', { role: 'log', 'aria-label': t('The reported conversation') }, list));
}
