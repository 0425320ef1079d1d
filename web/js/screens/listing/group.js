// A group listing's sessions: seats left (live), joining with the policy shown first, leaving with its fee
// shown first, and for the mentor, scheduling one.
import { post } from '../../api.js';
import { cancellationCost, feeNote, policyNote } from '../../policy.js';
import { all } from '../../state.js';
import { h, field, redraw, replace, loading, empty, errorBox, messageArea, act, span, tz, badge } from '../../ui.js';

export function groupPanel({ id, item, mine }) {
  const el = h('div', {}, loading());
  const messages = messageArea();
  const schedule = mine ? scheduleForm(id, () => reload()) : null;

  function row(s, held) {
    const left = s.capacity - s.seats_taken;
    let action = null;
    if (held) {
      action = h('button', { type: 'button', onclick: (e) => confirmLeave(e.currentTarget.parentElement, s) }, 'Leave');
    } else if (!mine) {
      action = h('button', { type: 'button', disabled: s.full, onclick: (e) => act(e.currentTarget, messages, async () => {
        await post(`/sessions/${s.id}/join`);
        messages.ok('You have a seat in this group session.');
        await reload();
      }) }, 'Join');
    }
    return h('li', { dataset: { session: s.id } }, span(s.start_time, s.end_time), ' ',
      s.full ? badge('FULL', 'full') : h('span', { class: 'seats' }, `${left} seat${left === 1 ? '' : 's'} left`),
      held ? [' ', badge('Joined', 'accepted'), ' ', h('a', { href: `#/sessions/${s.id}` }, 'Open session')] : null,
      mine ? [' ', h('a', { href: `#/sessions/${s.id}` }, 'Open session')] : null,
      ' ', action);
  }

  function confirmLeave(at, s) {
    const cost = cancellationCost({ startTime: s.start_time, priceCents: item.price_cents, role: 'mentee' });
    const panel = h('div', { class: 'confirm', role: 'group', 'aria-label': 'Leave this group session' },
      feeNote(cost, item.price_cents, item.currency),
      h('button', { type: 'button', class: 'danger', onclick: (e) => act(e.currentTarget, messages, async () => {
        await post(`/sessions/${s.id}/cancel`, { reason: 'Left the group session' });
        messages.ok('You left the group session.');
        await reload();
      }) }, 'Confirm leaving'),
      h('button', { type: 'button', onclick: () => panel.remove() }, 'Stay'));
    at.append(panel);
    panel.querySelector('button').focus();
  }

  async function reload() {
    try {
      const [upcoming, seats] = await Promise.all([
        all(`/listings/${id}/group-sessions`, {}, 1),
        mine ? Promise.resolve([]) : all('/sessions', { role: 'mentee', status: 'scheduled' }, 1),
      ]);
      const held = new Set(seats.filter((s) => s.kind === 'group').map((s) => s.id));
      redraw(el, mine ? null : policyNote(item.price_cents, item.currency, 'seat'),
        upcoming.length ? h('ul', { class: 'list' }, upcoming.map((s) => row(s, held.has(s.id)))) : empty('No group session scheduled yet.'),
        messages.el, schedule);
    } catch (err) { replace(el, errorBox(err.message)); }
  }

  return { el: h('section', { 'aria-labelledby': 'group-h' }, h('h2', { id: 'group-h' }, 'Group sessions'), el), reload };
}

function scheduleForm(id, reload) {
  const messages = messageArea();
  const form = h('form', { class: 'card' }, h('h3', {}, 'Schedule a group session'),
    field('Start', { type: 'datetime-local', name: 'start', required: true, hint: `In your timezone (${tz()}).` }),
    messages.el, h('button', { type: 'submit' }, 'Schedule'));
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    act(form.querySelector('button'), messages, async () => {
      if (!form.start.value) throw new Error('Choose when the session starts.');
      await post(`/listings/${id}/group-sessions`, { start_time: new Date(form.start.value).toISOString() });
      await reload();
    }, form);
  });
  return form;
}
