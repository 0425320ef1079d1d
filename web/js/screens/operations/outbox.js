// The outbox's backlog: work not done yet, per handler, how long the oldest has waited (its lag), how much of it
// failed, and the latest error: what /metrics gives operators, for people. Read again every 15 s while open.
import { get } from '../../api.js';
import { h, redraw, messageArea, duration, when, empty, act } from '../../ui.js';
import { t } from '../../words.js';

const lag = (since) => (since ? duration(Date.now() - new Date(since).getTime()) : t('none'));

export function outboxScreen(main) {
  const messages = messageArea();
  const summary = h('div', {});
  const table = h('div', {});
  const refresh = h('button', { type: 'button' }, t('Read again'));
  const load = async () => {
    const report = await get('/admin/outbox');
    redraw(summary, h('dl', { class: 'figures' },
      h('div', {}, h('dt', {}, t('Pending handler rows')), h('dd', {}, String(report.pending))),
      h('div', {}, h('dt', {}, t('Oldest waiting for')), h('dd', {}, lag(report.oldest_pending_at)))),
    h('p', { class: 'meta' }, t('Read {when}', { when: when(new Date().toISOString()) })));
    redraw(table, report.handlers.length ? h('div', { class: 'table-wrap' }, h('table', {},
      h('caption', { class: 'sr-only' }, t('Backlog per handler')),
      h('thead', {}, h('tr', {}, [t('Handler'), t('Pending'), t('Lag'), t('Failing'), t('Latest error')].map((text) => h('th', { scope: 'col' }, text)))),
      h('tbody', {}, report.handlers.map((b) => h('tr', {}, h('th', { scope: 'row' }, b.handler),
        h('td', {}, String(b.pending)), h('td', {}, lag(b.oldest_pending_at)), h('td', {}, String(b.failing)),
        h('td', {}, b.last_error || '—')))))) : empty(t('Nothing waiting: every handler is up to date.')));
  };
  refresh.addEventListener('click', (e) => act(e.currentTarget, messages, load));
  main.append(h('div', { class: 'actions' }, refresh), messages.el, summary, table);
  act(null, messages, load);
  const timer = setInterval(() => load().catch((err) => messages.error(err)), 15000);
  return () => clearInterval(timer);
}
