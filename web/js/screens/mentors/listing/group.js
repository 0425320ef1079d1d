// A group listing's sessions: seats left (live), joining with the policy shown first, leaving with its fee
// shown first, and for the mentor, scheduling one.
import { del, get, post } from '../../../api.js';
import { cancellationCost, feeNote, joinCostText, policyNote } from '../../../policy.js';
import { all } from '../../../state.js';
import { h, field, redraw, replace, loading, empty, errorBox, messageArea, act, confirmPanel, money, span, tz, badge } from '../../../ui.js';
import { t, tn } from '../../../words.js';

export function groupPanel({ id, item, mine, start }) {
  const el = h('div', {}, loading());
  const messages = messageArea();
  const schedule = mine ? scheduleForm(id, () => reload()) : null;
  let focusChosen = Boolean(start); // the session chosen on a booking page takes the focus once

  function row(s, held, place) {
    const left = s.seats_left;
    let action = null;
    if (held) {
      action = h('button', { type: 'button', onclick: (e) => confirmLeave(e.currentTarget.parentElement, s) }, t('Leave'));
    } else if (!mine && (s.full || place)) {
      action = waitlistParts(s, place, messages, reload);
    } else if (!mine) {
      action = h('button', { type: 'button', disabled: s.full, onclick: (e) => confirmJoin(e.currentTarget.parentElement, s) }, t('Join'));
    }
    const chosen = start && new Date(start).getTime() === new Date(s.start_time).getTime(); // from a booking page
    return h('li', { dataset: { session: s.id, confirmFor: `join-${s.id}` }, 'aria-current': chosen ? 'true' : null }, span(s.start_time, s.end_time), ' ',
      s.full ? [badge(t('FULL'), 'full'), s.waiting ? h('span', { class: 'meta' }, ' ', tn('{count} waiting', '{count} waiting', s.waiting)) : null]
        : h('span', { class: 'seats' }, tn('{count} seat left', '{count} seats left', left)),
      held ? [' ', badge(t('Joined'), 'accepted'), ' ', h('a', { href: `#/sessions/${s.id}` }, t('Open session'))] : null,
      mine ? [' ', h('a', { href: `#/sessions/${s.id}` }, t('Open session'))] : null,
      ' ', action);
  }

  // The price, and what leaving would cost from now on: inside the late window, leaving at once is already charged.
  function confirmJoin(at, s) {
    const cost = cancellationCost({ startTime: s.start_time, priceCents: item.price_cents, role: 'mentee' });
    confirmPanel(at, {
      label: t('Join this group session'), keep: t('Not now'), messages,
      says: item.price_cents ? [h('p', {}, t('A seat costs {price}.', { price: money(item.price_cents, item.currency) })),
        h('p', { class: cost.late ? 'warning fee' : 'fee' }, joinCostText(cost, item.currency))]
        : h('p', {}, t('A seat is free.')),
      confirm: item.price_cents ? t('Join for {price}', { price: money(item.price_cents, item.currency) }) : t('Join'),
      onConfirm: async () => {
        await post(`/sessions/${s.id}/join`);
        messages.ok(t('You have a seat in this group session.'));
        await reload();
      },
    });
  }

  function confirmLeave(at, s) {
    const cost = cancellationCost({ startTime: s.start_time, priceCents: item.price_cents, role: 'mentee' });
    const panel = h('div', { class: 'confirm', role: 'group', 'aria-label': t('Leave this group session') },
      feeNote(cost, item.price_cents, item.currency),
      h('button', { type: 'button', class: 'danger', onclick: (e) => act(e.currentTarget, messages, async () => {
        await post(`/sessions/${s.id}/cancel`, { reason: t('Left the group session') });
        messages.ok(t('You left the group session.'));
        await reload();
      }) }, t('Confirm leaving')),
      h('button', { type: 'button', onclick: () => panel.remove() }, t('Stay')));
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
      // The viewer's place in line, for each session they could not join: none (404), waiting or offered.
      const places = mine ? [] : await Promise.all(upcoming.map((s) => (held.has(s.id) || !s.full ? null
        : get(`/sessions/${s.id}/waitlist`).then((p) => (['waiting', 'offered'].includes(p.status) ? p : null), () => null))));
      if (places.some((p) => p?.status === 'offered')) messages.clear(); // what was said before the offer is past
      redraw(el, mine ? null : policyNote(item.price_cents, item.currency, 'seat'),
        upcoming.length ? h('ul', { class: 'list' }, upcoming.map((s, i) => row(s, held.has(s.id), places[i]))) : empty(t('No group session scheduled yet.')),
        messages.el, schedule);
      const chosen = focusChosen && el.querySelector('li[aria-current] button');
      if (chosen) { focusChosen = false; chosen.focus(); }
    } catch (err) { replace(el, errorBox(err.message)); }
  }

  return { el: h('section', { 'aria-labelledby': 'group-h' }, h('h2', { id: 'group-h' }, t('Group sessions')), el), reload };
}

/** A full session's line: join it (a freed seat given at once if asked), your place, or the seat held for you with
 * the time left to take it. */
function waitlistParts(s, place, messages, reload) {
  if (place?.status === 'offered') {
    const left = h('span', { class: 'countdown', role: 'timer', 'aria-live': 'off' });
    const tick = () => {
      const ms = new Date(place.offer_expires_at).getTime() - Date.now();
      if (!left.isConnected && left.dataset.started) { clearInterval(timer); return; }
      left.dataset.started = '1';
      const minutes = Math.floor(ms / 60000);
      left.textContent = ms <= 0 ? t('time is up') : minutes >= 60
        ? t('{hours} h {minutes} min left', { hours: Math.floor(minutes / 60), minutes: minutes % 60 })
        : t('{minutes} min {seconds} s left', { minutes, seconds: String(Math.floor(ms / 1000) % 60).padStart(2, '0') });
    };
    const timer = setInterval(tick, 1000);
    tick();
    return h('span', { class: 'offer', role: 'group', 'aria-label': t('A seat is held for you') }, badge(t('Seat held for you'), 'accepted'), ' ', left, ' ',
      h('button', { type: 'button', class: 'primary', onclick: (e) => act(e.currentTarget, messages, async () => {
        await post(`/sessions/${s.id}/join`);
        messages.ok(t('You have a seat in this group session.'));
        await reload();
      }) }, t('Take the seat')), ' ',
      h('button', { type: 'button', onclick: (e) => act(e.currentTarget, messages, async () => {
        await del(`/sessions/${s.id}/waitlist`);
        messages.ok(t('The seat goes to the next in line.'));
        await reload();
      }) }, t('Decline')));
  }
  if (place?.status === 'waiting') {
    return h('span', {}, badge(place.position === 1 ? t('In line: {position} (next)', { position: 1 })
      : t('In line: {position}', { position: place.position }), 'requested'), ' ',
      h('button', { type: 'button', onclick: (e) => act(e.currentTarget, messages, async () => {
        await del(`/sessions/${s.id}/waitlist`);
        messages.ok(t('You left the waitlist.'));
        await reload();
      }) }, t('Leave waitlist')));
  }
  const atOnce = h('input', { type: 'checkbox', id: `at-once-${s.id}` });
  return h('span', {}, h('button', { type: 'button', onclick: (e) => act(e.currentTarget, messages, async () => {
    const placeNow = await post(`/sessions/${s.id}/waitlist`, { take_at_once: atOnce.checked });
    messages.ok(t('You are in line: number {position}.', { position: placeNow.position }) + ' ' + (atOnce.checked
      ? t('A freed seat is booked for you at once.') : t('A freed seat is held for you for a while: you will be told.')));
    await reload();
  }) }, t('Join waitlist')), ' ', h('label', { for: atOnce.id }, atOnce, ' ', t('book a freed seat at once')));
}

function scheduleForm(id, reload) {
  const messages = messageArea();
  const form = h('form', { class: 'card' }, h('h3', {}, t('Schedule a group session')),
    field(t('Start'), { type: 'datetime-local', name: 'start', required: true, hint: t('In your timezone ({zone}).', { zone: tz() }) }),
    messages.el, h('button', { type: 'submit' }, t('Schedule')));
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    act(form.querySelector('button'), messages, async () => {
      if (!form.start.value) throw new Error(t('Choose when the session starts.'));
      const made = await post(`/listings/${id}/group-sessions`, { start_time: new Date(form.start.value).toISOString() });
      messages.ok(t('Scheduled: {time}, {count} seats open to join.', { time: span(made.start_time, made.end_time), count: made.capacity }));
      form.reset();
      await reload();
    }, form);
  });
  return form;
}
