// Webhook endpoints in trouble (failing now, or disabled) and the messages they failed; an admin sends an endpoint's
// failed messages since a time again, each keeping its webhook-id. A disabled endpoint is enabled by its owner.
import { get, post, qs } from '../../api.js';
import { h, field, replace, messageArea, badge, when, act, disclosure, loading, errorBox, empty } from '../../ui.js';
import { userNames, userName } from './common.js';
import { pagedList } from '../../lists.js';
import { t, tn, tParts } from '../../words.js';

function failedList(endpoint) {
  const panel = h('div', {}, loading());
  return disclosure(t('Failed messages'), panel, async () => {
    try {
      const page = await get(`/admin/webhook-deliveries${qs({ endpoint_id: endpoint.id, limit: 50 })}`);
      replace(panel, page.items.length ? h('div', { class: 'table-wrap' }, h('table', {},
        h('thead', {}, h('tr', {}, [t('Event'), t('Made'), t('Attempts'), t('Last answer')].map((text) => h('th', { scope: 'col' }, text)))),
        h('tbody', {}, page.items.map((m) => h('tr', {}, h('td', {}, m.event_type), h('td', {}, when(m.created_at)),
          h('td', {}, String(m.attempts)), h('td', {}, m.last_status_code ? t('HTTP {code}', { code: m.last_status_code }) : t('no answer')))))))
        : empty(t('No failed message.')));
    } catch (err) { replace(panel, errorBox(err.message)); }
  });
}

function endpointRow(endpoint, messages, names) {
  const form = h('form', { class: 'inline-form', 'aria-label': t('Send failed messages again') },
    field(t('Failed since'), { type: 'datetime-local', name: 'since', required: true }),
    h('button', { type: 'submit', disabled: !endpoint.enabled }, t('Send them again')));
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    act(form.querySelector('button'), messages, async () => {
      const since = new Date(form.since.value);
      if (Number.isNaN(since.getTime())) throw new Error(t('Choose when the failures to send again began.'));
      const done = await post(`/admin/webhook-endpoints/${endpoint.id}/recover`, { since: since.toISOString() });
      messages.ok(tn('{count} message will be sent again.', '{count} messages will be sent again.', done.recovered));
    }, form);
  });
  return h('li', {}, h('strong', {}, endpoint.url), ' ',
    endpoint.enabled ? badge(t('Failing'), 'expired') : badge(t('Disabled'), 'cancelled'),
    h('p', { class: 'meta' }, tParts('Owner: {person}', { person: userName(names, endpoint.owner_user_id) })),
    endpoint.failing_since ? h('p', {}, tn('Failing since {when}, {count} failure in a row',
      'Failing since {when}, {count} failures in a row', endpoint.consecutive_failures, { when: when(endpoint.failing_since) })) : null,
    endpoint.enabled ? null : h('p', {}, endpoint.disabled_reason
      ? t('Disabled: {reason}. Its owner enables it again before its messages can be sent again.', { reason: endpoint.disabled_reason })
      : t('Disabled: no reason given. Its owner enables it again before its messages can be sent again.')),
    failedList(endpoint), form);
}

export function webhooksScreen(main) {
  const messages = messageArea();
  const names = userNames();
  main.append(h('p', {}, t('Endpoints failing now or disabled, newest first. An endpoint is disabled after five days of failures, or when it answers 410 Gone.')), messages.el,
  pagedList('/admin/webhook-endpoints', {}, (e) => endpointRow(e, messages, names),
    { none: t('Every webhook endpoint is delivering.') }));
}
