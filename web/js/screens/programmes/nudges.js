// A programme's reminders: its coordinators turn on, per step left undone (an invitation not answered, an intake not
// finished, a pairing not accepted, a first session not booked), when the first goes, how often the next, and how
// many; and see who was reminded.
import { api, get } from '../../api.js';
import { h, field, replace, empty, errorBox, loading, messageArea, act, when } from '../../ui.js';
import { t } from '../../words.js';

const STEPS = { invitation: t('An invitation not answered'), intake: t('An intake not finished (a mentor\'s hours too)'),
  pairing: t('A pairing not accepted by its mentor'),
  first_session: t('A first session not booked (the mentee, and the mentor told)') };
const WHAT = { invitation: t('invitation mailed again'), intake: t('reminded to finish the intake'),
  pairing: t('reminded to answer the pairing'), first_session: t('reminded to book a first session') };
// What was sent, and which time: the first, or a reminder after it.
const sentWhat = (one) => (one.round === 1 ? t('{what} (first)', { what: WHAT[one.step] })
  : t('{what} (reminder {round})', { what: WHAT[one.step], round: one.round }));

export function nudgesSection(programmeId) {
  const url = `/programmes/${programmeId}/nudges`;
  const body = h('div', {}, loading());
  const sentEl = h('div', {});
  const said = messageArea();
  const drawSent = async () => {
    const { items } = await get(`${url}/sent`);
    replace(sentEl, h('h3', {}, t('Who was reminded')), items.length ? h('ul', { class: 'list' }, items.map((one) => h('li', {},
      h('bdi', {}, one.to), ` · ${sentWhat(one)} · ${when(one.sent_at)}`)))
      : empty(t('No one yet.')));
  };
  const load = async () => {
    try {
      const { items } = await get(url);
      const form = h('form', { class: 'stack', 'aria-label': t('Reminders'), novalidate: true }, items.map((one) => h('fieldset', {},
        h('legend', {}, STEPS[one.step]),
        field(t('Remind'), { type: 'checkbox', name: `${one.step}-enabled`, checked: one.enabled }),
        field(t('First after (days)'), { type: 'number', name: `${one.step}-after`, min: 1, max: 60, value: one.after_days }),
        field(t('Then every (days)'), { type: 'number', name: `${one.step}-every`, min: 1, max: 60, value: one.every_days }),
        field(t('At most'), { type: 'number', name: `${one.step}-most`, min: 1, max: 10, value: one.at_most }))),
      said.el, h('button', { type: 'submit' }, t('Save the reminders')));
      form.addEventListener('submit', (event) => {
        event.preventDefault();
        act(form.querySelector('button[type=submit]'), said, async () => {
          await api('PUT', url, { items: items.map((one) => ({ step: one.step, enabled: form[`${one.step}-enabled`].checked,
            after_days: Number(form[`${one.step}-after`].value), every_days: Number(form[`${one.step}-every`].value),
            at_most: Number(form[`${one.step}-most`].value) })) });
          said.ok(t('Saved: each reminder goes once, and stops as soon as the person acts.'));
        }, form);
      });
      replace(body, form);
      await drawSent();
    } catch (err) { replace(body, errorBox(err.message)); }
  };
  load();
  return h('details', { class: 'panel reminders' }, h('summary', {}, h('h2', { id: 'pg-nudge-h' }, t('Reminders'))),
    h('p', { class: 'muted' }, t('Remind people of what they left undone, by their notification and email settings.')), body, sentEl);
}
