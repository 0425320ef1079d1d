// Series of meetings: the request form's "Repeat" choice (each time checked before sending, a time not free shown
// with why, any time dropped with its box), the mentor's series requests (one answer for all its times), and the
// mentee's series (withdraw, or cancel one time and all following).
import { post } from '../../api.js';
import { all, listing } from '../../state.js';
import { h, field, redraw, empty, errorBox, messageArea, act, confirmPanel, span, badge } from '../../ui.js';
import { cancellationCost, lateFeesText, loadPolicy } from '../../policy.js';
import { answersView } from './questions.js';
import { t, tn } from '../../words.js';

export const MAX_TIMES = 26;
const SERIES_STATUS = { requested: t('Requested'), accepted: t('Accepted'), declined: t('Declined'), withdrawn: t('Withdrawn'), ended: t('Ended') };
const TIME_STATUS = { draft: t('Requested'), accepted: t('Accepted'), declined: t('Declined'), cancelled: t('Cancelled'), expired: t('Expired'),
  rescheduled: t('Moved'), left_out: t('Left out') };
const every = (weeks) => (weeks === 1 ? 'every week' : t('every two weeks'));

/** The request form's repeat choice: how often, how many times, and each time checked (a box to drop it). */
export function repeatChoice(listingId) {
  const often = field(t('Repeat'), { tag: 'select', name: 'repeat' }, [['', t('Once')], ['1', t('Every week')], ['2', t('Every two weeks')]]);
  const count = field(t('How many times'), { type: 'number', name: 'times', min: 2, max: MAX_TIMES, value: 8,
    hint: t('Up to {count}. Each time keeps the mentor\'s local time, across summer time.', { count: MAX_TIMES }) });
  count.hidden = true;
  const timesEl = h('div', { class: 'series-times', 'aria-live': 'polite' });
  let planned = [];
  let shownFor = null;
  const choice = {
    el: h('div', { class: 'repeat' }, often, count, timesEl),
    get weeks() { return Number(often.querySelector('select').value) || 0; },
    get count() { return Math.min(MAX_TIMES, Math.max(2, Number(count.querySelector('input').value) || 2)); },
    /** The times to leave out: those not free, and those whose box was unticked. */
    get excluded() {
      return planned.filter((p, i) => p.free && !timesEl.querySelector(`#series-time-${i}`)?.checked).map((p) => p.start_time);
    },
    get wanted() { return planned.filter((p, i) => p.free && timesEl.querySelector(`#series-time-${i}`)?.checked).length; },
    async check(slot) {
      count.hidden = !choice.weeks;
      if (!choice.weeks || !slot) { planned = []; shownFor = null; redraw(timesEl); return; }
      const key = `${slot.start_time}/${choice.weeks}/${choice.count}`;
      if (key === shownFor) return;
      shownFor = key;
      redraw(timesEl, h('p', { class: 'muted' }, t('Checking each time…')));
      try {
        const body = await post('/booking-series/preview', { listing_id: listingId, first_start: slot.start_time,
          every: choice.weeks, count: choice.count });
        if (shownFor !== key) return;
        planned = body.occurrences;
        const free = planned.filter((p) => p.free).length;
        redraw(timesEl, h('fieldset', {}, h('legend', {}, t('{free} of {length} times are free', { free, length: planned.length })),
          h('ul', { class: 'list' }, planned.map((p, i) => h('li', {}, p.free
            ? h('label', {}, h('input', { type: 'checkbox', id: `series-time-${i}`, checked: true }), ` ${span(p.start_time, p.end_time)}`)
            : [h('span', { class: 'muted' }, span(p.start_time, p.end_time)), ' ', badge(t('Not free'), 'cancelled'),
              h('span', { class: 'meta' }, ` ${p.reason}`)])))));
      } catch (err) { planned = []; redraw(timesEl, errorBox(err.message)); }
    },
    reset() { often.querySelector('select').value = ''; planned = []; shownFor = null; count.hidden = true; redraw(timesEl); },
  };
  return choice;
}

function timesList(series, extra = () => null) {
  return h('ul', { class: 'list series-times' }, series.occurrences.map((time) => h('li', {},
    span(time.start_time, time.end_time), ' ', badge(TIME_STATUS[time.status] || time.status, time.status === 'left_out' ? 'cancelled' : undefined),
    time.reason ? h('span', { class: 'meta' }, ` (${time.reason})`) : null, extra(time))));
}

async function titleOf(listingId) {
  try { return (await listing(listingId)).title; } catch { return t('Listing'); }
}

/** The mentor's series waiting for an answer: each one request, accepted or declined at once; how many. */
export async function seriesRequests(el, pageMessages, reload) {
  const waiting = await all('/booking-series', { role: 'mentor', status: 'requested' }, 1);
  if (!waiting.length) { redraw(el); return 0; }
  const cards = await Promise.all(waiting.map(async (s) => {
    const rowMessages = messageArea();
    const pending = s.occurrences.filter((time) => time.status === 'draft').length;
    const answer = (action) => (e) => act(e.currentTarget, rowMessages, async () => {
      const done = await post(`/booking-series/${s.id}/${action}`, {});
      const accepted = s.pairing
        ? tn('Pairing accepted: {count} meeting.', 'Pairing accepted: {count} meetings.', done.accepted_count)
        : tn('Series accepted: {count} meeting.', 'Series accepted: {count} meetings.', done.accepted_count);
      const skipped = done.skipped_count ? ' ' + tn('{count} time was taken meanwhile and left out.',
        '{count} times were taken meanwhile and left out.', done.skipped_count) : '';
      pageMessages.ok(action === 'accept' ? accepted + skipped
        : s.pairing ? t('Pairing declined.') : t('Series declined.'));
      await reload();
    });
    const who = s.mentee?.display_name || 'a mentee';
    return s.pairing ? pairingProposal(s, who, pending, answer, rowMessages)
      : h('div', { class: 'request series', role: 'group', 'aria-label': t('Series request from {who}', { who }) },
        h('strong', { class: 'mentee' }, who), t(' asks for {pending} meetings ', { pending }), every(s.every_weeks), ' of ',
        h('a', { href: `#/listings/${s.listing_id}` }, await titleOf(s.listing_id)), ' ', badge(t('Series')),
        s.notes ? h('p', { class: 'agenda' }, t('Agenda: {notes}', { notes: s.notes })) : null, answersView(s.answers),
        h('details', {}, h('summary', {}, t('The {length} times', { length: s.occurrences.length })), timesList(s)),
        h('div', { class: 'actions' },
          h('button', { type: 'button', class: 'primary', onclick: answer('accept') }, t('Accept all {pending}', { pending })),
          h('button', { type: 'button', onclick: answer('decline') }, t('Decline series'))),
        rowMessages.el);
  }));
  redraw(el, h('ul', { class: 'list' }, cards.map((card) => h('li', {}, card))));
  return waiting.length;
}

/** A programme's proposed pairing, as its mentor answers it wherever it is shown (Requests, the programme's page):
 * the programme proposes (or, where its mentees choose, the mentee asks), the mentor accepts or declines the
 * pairing, its sessions with it. */
export function pairingProposal(s, who, pending, answer, rowMessages, { inProgramme = false } = {}) {
  const name = s.pairing.programme_name;
  const asks = s.pairing.asked_by_mentee;
  return h('div', { class: 'request series', role: 'group',
    'aria-label': asks ? t('{who} asks you to mentor them in {name}', { who, name }) : t('{name} proposes you mentor {who}', { name, who }) },
  ...(asks ? [h('strong', { class: 'mentee' }, who), t(' asks you to mentor them in '), h('strong', {}, name), ': ']
    : [h('strong', {}, name), t(' proposes you mentor '), h('strong', { class: 'mentee' }, who), ': ']),
    tn('{count} session', '{count} sessions', pending), ' ', every(s.every_weeks), ', ',
    t('from {time}', { time: span(s.start_time, s.end_time) }), ' ', badge(t('Pairing')),
    h('details', {}, h('summary', {}, t('The {length} times', { length: s.occurrences.length })), timesList(s)),
    h('div', { class: 'actions' },
      h('button', { type: 'button', class: 'primary', onclick: answer('accept') }, t('Accept the pairing')),
      h('button', { type: 'button', onclick: answer('decline') }, t('Decline the pairing')),
      inProgramme ? null : h('a', { href: `#/programmes/${s.pairing.programme_id}?pairing=${s.pairing.id}` }, t('See it in the programme'))),
    rowMessages.el);
}

/** Before a series is cancelled from `time` on: each time it cancels, and what the late ones cost (as one by one). */
function confirmCancelFrom(at, series, time, item, { messages, onConfirm }) {
  const from = new Date(time.start_time).getTime();
  const cancelled = series.occurrences.filter((o) => o.status === 'accepted' && new Date(o.start_time).getTime() >= from);
  const fees = item ? cancelled.map((o) => cancellationCost({ startTime: o.start_time, priceCents: item.price_cents, role: 'mentee' }))
    .filter((cost) => cost.late).reduce((sum, cost) => sum + cost.feeCents, 0) : 0;
  const count = tn('{count} meeting', '{count} meetings', cancelled.length);
  confirmPanel(at, {
    label: t('Cancel this and all following'), danger: true, keep: t('Keep them'), messages,
    says: [h('p', {}, t('This cancels {count}:', { count })),
      h('ul', { class: 'list' }, cancelled.map((o) => h('li', {}, span(o.start_time, o.end_time)))),
      item && item.price_cents ? h('p', { class: fees ? 'warning fee' : 'fee' }, lateFeesText(fees, item.currency)) : null],
    confirm: t('Cancel {count}', { count }),
    onConfirm,
  });
}

/** The mentee's series: each with its times; withdraw one waiting, or cancel a time and all following. */
export async function mySeries(el, reload) {
  const [mine] = await Promise.all([all('/booking-series', { role: 'mentee' }, 1), loadPolicy().catch(() => null)]);
  if (!mine.length) { redraw(el, empty(t('No series. Choose "Repeat" when you request a time.'))); return; }
  const now = Date.now();
  const cards = await Promise.all(mine.map(async (s) => {
    const rowMessages = messageArea();
    const item = await listing(s.listing_id).catch(() => null);
    const cancelFrom = (time) => (s.status === 'accepted' && time.status === 'accepted' && new Date(time.start_time).getTime() > now
      ? h('div', { dataset: { confirmFor: `cancel-from-${s.id}-${time.start_time}` } },
        h('button', { type: 'button', onclick: (e) => confirmCancelFrom(e.currentTarget.parentElement, s, time, item, {
          messages: rowMessages,
          onConfirm: async () => {
            await post(`/booking-series/${s.id}/cancel`, { from: time.start_time });
            rowMessages.ok(t('Cancelled from then on. Late cancellations cost as they would one by one.'));
            await reload();
          } }) }, t('Cancel this and all following'))) : null);
    return h('div', { class: 'series', role: 'group', 'aria-label': t('Series of {title}', { title: await titleOf(s.listing_id) }) },
      h('a', { href: `#/listings/${s.listing_id}` }, await titleOf(s.listing_id)), ` · ${every(s.every_weeks)} · `,
      badge(SERIES_STATUS[s.status] || s.status),
      s.reason ? h('span', { class: 'meta' }, ` (${s.reason})`) : null,
      timesList(s, cancelFrom),
      s.status === 'requested' ? h('div', { class: 'actions' }, h('button', { type: 'button', onclick: (e) => act(e.currentTarget, rowMessages, async () => {
        await post(`/booking-series/${s.id}/withdraw`, {});
        await reload();
      }) }, t('Withdraw series'))) : null,
      rowMessages.el);
  }));
  redraw(el, h('ul', { class: 'list' }, cards.map((card) => h('li', {}, card))));
}
