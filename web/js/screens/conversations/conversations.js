// Conversations: one's list (the latest message first, unread marked, found by words or names), and one
// conversation: its messages in order, live; Enter sends, Shift+Enter starts a new line; one's own message may be
// changed within 15 minutes or deleted. People's words are shown isolated (`<bdi>`, `dir="auto"`), as the server
// rendered and cleaned them.
import { api, del, get, post } from '../../api.js';
import { live } from '../../live.js';
import { currentUser, refreshMessages } from '../../state.js';
import { h, field, replace, empty, errorBox, loading, messageArea, act, when } from '../../ui.js';
import { reportPanel } from './reports.js';
import { t, tn, tParts } from '../../words.js';

const EDIT_MS = 15 * 60 * 1000;

/** A button that opens (or finds) the caller's conversation with someone (`{ user_id }`, `{ mentor_profile_id }`),
 * with a programme's coordinators (`{ programme_id }`) or a group session's people (`{ session_id }`) and goes to it;
 * a refusal is said beside it. */
export function talkButton(label, body) {
  const said = messageArea();
  const button = h('button', { type: 'button', onclick: (e) => act(e.currentTarget, said, async () => {
    location.hash = `/conversations/${(await post('/conversations', body)).id}`;
  }) }, label);
  return h('span', { class: 'talk' }, button, said.el);
}

export function conversationsPage(main) {
  const listEl = h('div', {}, loading());
  const search = h('input', { type: 'search', name: 'q', maxlength: 200, 'aria-label': t('Find in your conversations') });
  const form = h('form', { class: 'inline', role: 'search' }, search, h('button', { type: 'submit' }, t('Find')));
  const saved = messageArea();
  const download = h('button', { type: 'button', onclick: (e) => act(e.currentTarget, saved, async () => {
    const data = await get('/conversations/export');
    const link = h('a', { href: URL.createObjectURL(new Blob([JSON.stringify(data, null, 2)], { type: 'application/json' })),
      download: `conversations-${data.exported_at.slice(0, 10)}.json` });
    link.click();
    URL.revokeObjectURL(link.href);
    saved.ok(tn('Saved {count} conversation.', 'Saved {count} conversations.', data.conversations.length));
  }) }, t('Download your conversations (JSON)'));
  main.append(h('h1', {}, t('Messages')), form, listEl, h('div', { class: 'actions' }, download), saved.el);
  async function draw() {
    try {
      const q = search.value.trim();
      const { items } = await get(`/conversations${q ? `?q=${encodeURIComponent(q)}` : ''}`);
      replace(listEl, items.length ? h('ul', { class: 'list' }, items.map((c) => h('li', { class: c.unread ? 'unread' : 'read' },
        h('a', { href: `#/conversations/${c.id}` }, h('bdi', {}, c.title)),
        c.unread ? [' ', h('span', { class: 'count-badge' }, `${c.unread}`, h('span', { class: 'sr-only' }, ` ${t('unread')}`))] : null,
        h('p', { class: 'meta' }, c.last_message_at ? t('Last message {time}', { time: when(c.last_message_at) }) : t('No message yet'),
          c.muted ? [' · ', t('muted')] : ''))))
        : empty(q ? t('No conversation holds these words.') : t('No conversation yet: open one from a booking, a session or your programme.')));
    } catch (err) { replace(listEl, errorBox(err.message)); }
  }
  form.addEventListener('submit', (event) => { event.preventDefault(); draw(); });
  const off = live.on((type) => { if (type.startsWith('message.')) draw(); });
  draw();
  return off;
}

function messageItem(m, mine, messages, redraw, base) {
  const words = m.deleted_at ? h('p', { class: 'muted' }, t('This message was deleted.'))
    : h('div', { class: 'words', dir: 'auto' });
  if (!m.deleted_at) words.innerHTML = m.html; // rendered and cleaned by the server (nh3)
  const canEdit = mine && !m.deleted_at && Date.now() - new Date(m.created_at).getTime() < EDIT_MS;
  const actions = mine && !m.deleted_at ? h('div', { class: 'actions' },
    canEdit ? h('button', { type: 'button', onclick: () => {
      const box = h('textarea', { name: 'body', rows: 2, maxlength: 4000, 'aria-label': t('Change your message') });
      box.value = m.body;
      const save = h('button', { type: 'button', class: 'primary', onclick: (e) => act(e.currentTarget, messages, async () => {
        await api('PATCH', `${base}/${m.id}`, { body: box.value });
        await redraw();
      }) }, t('Save the change'));
      words.replaceWith(h('div', { class: 'stack' }, box, save));
      box.focus();
    } }, t('Change')) : null,
    h('button', { type: 'button', onclick: (e) => act(e.currentTarget, messages, async () => {
      await del(`${base}/${m.id}`);
      await redraw();
    }) }, t('Delete'))) : null;
  return h('li', { id: `message-${m.seq}`, class: mine ? 'mine' : 'theirs' },
    h('p', { class: 'meta' }, h('bdi', {}, m.sender_name), ` · ${when(m.created_at)}${m.edited_at ? ' · edited' : ''}`),
    words, actions);
}

export async function conversationPage(main, { params: [id] }) {
  const [listed, me] = await Promise.all([get(`/conversations/${id}`), currentUser()]);
  const base = `/conversations/${id}/messages`;
  const messages = messageArea();
  const list = h('ul', { class: 'list conversation' });
  const log = h('div', { role: 'log', 'aria-label': t('Messages with {title}', { title: listed.title }) }, list);
  const compose = field(t('Message'), { tag: 'textarea', name: 'body', rows: 3, maxlength: 4000, required: true,
    hint: t('Enter sends; Shift+Enter starts a new line. *Emphasis*, [links](https://…), lists and `code` are kept.') });
  const box = compose.querySelector('textarea');
  const form = h('form', { class: 'stack compose', 'aria-label': t('Write a message') }, compose,
    h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'primary' }, t('Send'))), messages.el);
  const blockEl = h('div', { class: 'block-state' });
  // Between two people: one may block the other (no new message either way; it stays readable), and take it back.
  const drawBlock = (state) => {
    if (!state.other_user_id || state.kind !== 'pair') { replace(blockEl); return; }
    form.hidden = Boolean(state.blocked);
    const toggle = (method, label) => h('button', { type: 'button', class: method === 'POST' ? 'danger' : '',
      onclick: (e) => act(e.currentTarget, messages, async () => drawBlock(await api(method, `/conversations/${id}/block`))) }, label);
    replace(blockEl, state.blocked === 'by_you'
      ? [h('p', { role: 'status' }, tParts('You blocked {person}: no new message goes between you.', { person: h('bdi', {}, state.title) })),
        toggle('DELETE', t('Unblock'))]
      : state.blocked === 'by_them' ? h('p', { role: 'status' }, t('No new message can go between you.'))
        : h('details', {}, h('summary', {}, t('Block')), h('p', {}, t('No new message goes between you, either way; this conversation stays readable, ' +
          'and your bookings and pairings stand. Where you are paired in a programme, its coordinators are told.')),
        toggle('POST', t('Block {person}', { person: state.title }))));
  };
  // Muted: it stays readable here, but is neither emailed nor counted in the menu.
  const muteEl = h('div', { class: 'mute-state' });
  const drawMute = (state) => replace(muteEl, state.muted ? h('p', { role: 'status' }, t('Muted: not emailed to you, not counted in your messages.')) : null,
    h('button', { type: 'button', 'aria-pressed': String(state.muted), onclick: (e) => act(e.currentTarget, messages, async () => {
      drawMute(await api(state.muted ? 'DELETE' : 'POST', `/conversations/${id}/mute`));
      refreshMessages();
    }) }, state.muted ? t('Unmute') : t('Mute')));
  main.append(h('p', {}, h('a', { href: '#/conversations' }, t('All messages'))), h('h1', {}, h('bdi', {}, listed.title)), log, form,
    h('div', { class: 'actions' }, muteEl), blockEl, messages.el, reportPanel(id));
  drawBlock(listed);
  drawMute(listed);
  let last = 0;
  async function redraw() {
    const { items } = await get(`${base}?limit=100`);
    replace(list, items.length ? items.map((m) => messageItem(m, m.sender_user_id === me.id, messages, redraw, base))
      : h('li', {}, empty(t('No message yet: say hello.'))));
    last = items.length ? items[items.length - 1].seq : 0;
    if (last) { await post(`/conversations/${id}/read`, { seq: last }); refreshMessages(); }
    list.lastElementChild?.scrollIntoView({ block: 'end' });
  }
  // One key per message written: a retry after a lost answer sends it once.
  let key = crypto.randomUUID();
  const send = () => act(form.querySelector('button[type=submit]'), messages, async () => {
    if (!box.value.trim()) return;
    await api('POST', base, { body: box.value }, { headers: { 'Idempotency-Key': key } });
    key = crypto.randomUUID();
    box.value = '';
    await redraw();
    box.focus();
  }, form);
  form.addEventListener('submit', (event) => { event.preventDefault(); send(); });
  box.addEventListener('keydown', (event) => {
    if (event.key === 'Enter' && !event.shiftKey && !event.isComposing) { event.preventDefault(); send(); }
  });
  await redraw();
  // A frame of a message this screen shows already (one's own, drawn on sending) draws nothing more.
  const off = live.on((type, data) => {
    if (!type.startsWith('message.') || data.conversation_id !== id) return;
    if (type === 'message.created' && data.seq <= last) return;
    redraw();
  });
  return off;
}
