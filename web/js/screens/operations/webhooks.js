// Webhook endpoints in trouble (failing now, or disabled) and the messages they failed; an admin sends an endpoint's
// failed messages since a time again, each keeping its webhook-id. A disabled endpoint is enabled by its owner.
import { get, post, qs } from '../../api.js';
import { h, field, replace, messageArea, badge, when, act, disclosure, loading, errorBox, empty } from '../../ui.js';
import { userNames, userName } from './common.js';
import { pagedList } from '../../lists.js';

function failedList(endpoint) {
  const panel = h('div', {}, loading());
  return disclosure('Failed messages', panel, async () => {
    try {
      const page = await get(`/admin/webhook-deliveries${qs({ endpoint_id: endpoint.id, limit: 50 })}`);
      replace(panel, page.items.length ? h('div', { class: 'table-wrap' }, h('table', {},
        h('thead', {}, h('tr', {}, ['Event', 'Made', 'Attempts', 'Last answer'].map((t) => h('th', { scope: 'col' }, t)))),
        h('tbody', {}, page.items.map((m) => h('tr', {}, h('td', {}, m.event_type), h('td', {}, when(m.created_at)),
          h('td', {}, String(m.attempts)), h('td', {}, m.last_status_code ? `HTTP ${m.last_status_code}` : 'no answer'))))))
        : empty('No failed message.'));
    } catch (err) { replace(panel, errorBox(err.message)); }
  });
}

function endpointRow(endpoint, messages, names) {
  const form = h('form', { class: 'inline-form', 'aria-label': 'Send failed messages again' },
    field('Failed since', { type: 'datetime-local', name: 'since', required: true }),
    h('button', { type: 'submit', disabled: !endpoint.enabled }, 'Send them again'));
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    act(form.querySelector('button'), messages, async () => {
      const since = new Date(form.since.value);
      if (Number.isNaN(since.getTime())) throw new Error('Choose when the failures to send again began.');
      const done = await post(`/admin/webhook-endpoints/${endpoint.id}/recover`, { since: since.toISOString() });
      messages.ok(`${done.recovered} message${done.recovered === 1 ? '' : 's'} will be sent again.`);
    }, form);
  });
  return h('li', {}, h('strong', {}, endpoint.url), ' ',
    endpoint.enabled ? badge('Failing', 'expired') : badge('Disabled', 'cancelled'),
    h('p', { class: 'meta' }, 'Owner: ', userName(names, endpoint.owner_user_id)),
    endpoint.failing_since ? h('p', {}, `Failing since ${when(endpoint.failing_since)}, `
      + `${endpoint.consecutive_failures} failure${endpoint.consecutive_failures === 1 ? '' : 's'} in a row`) : null,
    endpoint.enabled ? null : h('p', {}, `Disabled: ${endpoint.disabled_reason || 'no reason given'}. Its owner `
      + 'enables it again before its messages can be sent again.'),
    failedList(endpoint), form);
}

export function webhooksScreen(main) {
  const messages = messageArea();
  const names = userNames();
  main.append(h('p', {}, 'Endpoints failing now or disabled, newest first. An endpoint is disabled after five days '
    + 'of failures, or when it answers 410 Gone.'), messages.el,
  pagedList('/admin/webhook-endpoints', {}, (e) => endpointRow(e, messages, names),
    { none: 'Every webhook endpoint is delivering.' }));
}
