// The outbox's backlog: work not done yet, per handler, how long the oldest has waited (its lag), how much of it
// failed, and the latest error: what /metrics gives operators, for people. Read again every 15 s while open.
import { get } from '../../api.js';
import { h, redraw, messageArea, duration, when, empty, act } from '../../ui.js';

const lag = (since) => (since ? duration(Date.now() - new Date(since).getTime()) : 'none');

export function outboxScreen(main) {
  const messages = messageArea();
  const summary = h('div', {});
  const table = h('div', {});
  const refresh = h('button', { type: 'button' }, 'Read again');
  const load = async () => {
    const report = await get('/admin/outbox');
    redraw(summary, h('dl', { class: 'figures' },
      h('div', {}, h('dt', {}, 'Pending handler rows'), h('dd', {}, String(report.pending))),
      h('div', {}, h('dt', {}, 'Oldest waiting for'), h('dd', {}, lag(report.oldest_pending_at)))),
    h('p', { class: 'meta' }, `Read ${when(new Date().toISOString())}`));
    redraw(table, report.handlers.length ? h('div', { class: 'table-wrap' }, h('table', {},
      h('caption', { class: 'sr-only' }, 'Backlog per handler'),
      h('thead', {}, h('tr', {}, ['Handler', 'Pending', 'Lag', 'Failing', 'Latest error'].map((t) => h('th', { scope: 'col' }, t)))),
      h('tbody', {}, report.handlers.map((b) => h('tr', {}, h('th', { scope: 'row' }, b.handler),
        h('td', {}, String(b.pending)), h('td', {}, lag(b.oldest_pending_at)), h('td', {}, String(b.failing)),
        h('td', {}, b.last_error || '—')))))) : empty('Nothing waiting: every handler is up to date.'));
  };
  refresh.addEventListener('click', (e) => act(e.currentTarget, messages, load));
  main.append(h('div', { class: 'actions' }, refresh), messages.el, summary, table);
  act(null, messages, load);
  const timer = setInterval(() => load().catch((err) => messages.error(err)), 15000);
  return () => clearInterval(timer);
}
