// A one-to-one listing's booking: the free slots (live, in a day-by-day picker), the request form (made once:
// a live update never touches what is typed in it) and the viewer's requests of the listing, shown as
// requested at once (optimistic) and rolled back with the API's words if refused.
import { get, post, qs } from '../../../api.js';
import { policyNote } from '../../../policy.js';
import { slotPicker } from '../../../slot-picker.js';
import { answerFields } from '../../bookings/questions.js';
import { repeatChoice } from '../../bookings/series.js';
import { all } from '../../../state.js';
import { h, field, redraw, replace, empty, errorBox, messageArea, money, span, tz, bookingBadge } from '../../../ui.js';
import { t, tn } from '../../../words.js';

const sameInstant = (a, b) => new Date(a).getTime() === new Date(b).getTime();

export function bookingPanel({ id, item, mine, credits, start }) {
  const state = { pending: [], bookings: [] };
  const picker = slotPicker({
    onChoose: (slot) => form?.show(slot),
    isRequested: (slot) => state.pending.some((b) => b.start_time === slot.start_time)
      || state.bookings.some((b) => b.status === 'draft' && sameInstant(b.start_time, slot.start_time)),
    fetchSlots: async (from, to) => (await get(`/listings/${id}/slots${qs({ from: from.toISOString(), to: to.toISOString() })}`)).items,
    firstFree: async () => (await get(`/listings/${id}/slots/first`)).slot,
    horizonDays: item.max_days_ahead || 365,
    disabled: mine,
    initial: start,
  });
  const requestsEl = h('div', {});
  const drawRequests = () => redraw(requestsEl, state.pending.length + state.bookings.length
    ? h('ul', { class: 'list' }, [...state.pending, ...state.bookings]
      .sort((a, b) => new Date(a.start_time) - new Date(b.start_time)).map((b) => h('li', { class: b.optimistic ? 'optimistic' : '' },
      span(b.start_time, b.end_time), ' ', bookingBadge(b), b.optimistic ? h('span', { class: 'muted' }, ` ${t('sending…')}`) : null,
      b.competing_requests ? h('span', { class: 'meta' }, ` · ${othersAsked(b.competing_requests)}`) : null,
      b.session_id ? [' ', h('a', { href: `#/sessions/${b.session_id}` }, t('Open session'))] : null)))
    : empty(t('You have not requested this listing yet.')));
  const form = mine ? null : requestForm({ id, item, picker, credits, state, reload: () => reload(),
    drawn: () => { drawRequests(); picker.redraw(); } });

  async function reload() {
    await picker.reload();
    if (mine) return;
    try {
      state.bookings = (await all('/bookings', { role: 'mentee' }, 1)).filter((b) => b.listing_id === id);
      drawRequests();
    } catch (err) { replace(requestsEl, errorBox(err.message)); }
  }

  return {
    els: [
      h('section', { 'aria-labelledby': 'slots-h', class: 'slots' }, h('h2', { id: 'slots-h' }, t('Free slots')),
        h('p', { class: 'muted' }, t('Times in your timezone ({zone}).', { zone: tz() })), picker.el),
      mine ? h('p', { class: 'muted' }, t('This is your listing: mentees book these slots.')) : form.el,
      mine ? null : h('section', { 'aria-labelledby': 'req-h' }, h('h2', { id: 'req-h' }, t('Your requests for this listing')), requestsEl),
    ],
    reload,
  };
}

function requestForm({ id, item, picker, credits, state, reload, drawn }) {
  const messages = messageArea(); // beside the button
  const payWith = h('div', {});
  const selectedText = h('p', { class: 'muted', id: 'selected-slot' }, t('Choose a free slot above.'));
  // A listing booked instantly: a free time is confirmed at once, without the mentor's approval.
  const instant = item.instant_booking;
  const words = instant ? { one: t('Book'), series: t('Book series'), title: t('Book a time') }
    : { one: t('Request booking'), series: t('Request series'), title: t('Request a booking') };
  const button = h('button', { type: 'submit', class: 'primary', disabled: true }, words.one);
  const repeat = repeatChoice(id);
  const questions = answerFields(id);
  const el = h('form', { class: 'card', 'aria-labelledby': 'book-h' }, h('h2', { id: 'book-h' }, words.title),
    instant ? h('p', { class: 'meta' }, t('Booked instantly: a free time is confirmed at once, no approval needed.')) : null, selectedText,
    field(t('Agenda (optional)'), { tag: 'textarea', name: 'notes', rows: 2, maxlength: 2000,
      hint: t('What you would like to cover; the mentor sees it with your request.') }),
    questions.el, repeat.el,
    payWith, policyNote(item.price_cents, item.currency), messages.el, h('div', { class: 'book-bar' }, button));
  let sending = false;
  const label = () => (repeat.weeks ? words.series : words.one);
  const show = (slot) => {
    button.disabled = !slot || sending;
    button.textContent = label();
    const time = slot ? { time: span(slot.start_time, slot.end_time) } : null;
    selectedText.textContent = slot ? (repeat.weeks ? t('First time: {time}', time) : t('Selected: {time}', time))
      : t('Choose a free slot above.');
    repeat.check(slot);
  };
  repeat.el.addEventListener('change', (event) => {
    if (event.target.type !== 'checkbox') show(picker.selected);
  });
  // The credits as the API counts them, after every read: the choice stays unless no credit is left.
  credits.onChange(() => {
    const current = payWith.querySelector('select')?.value;
    if (!credits.left()) { redraw(payWith); return; }
    const choice = field(t('Pay with'), { tag: 'select', name: 'pay_with' }, [['', t('Listing price ({price})', { price: money(item.price_cents, item.currency) })],
      ['credit', t('A bundle credit ({count} left)', { count: credits.left() })]]);
    redraw(payWith, choice);
    if (current) choice.querySelector('select').value = current;
  });

  el.addEventListener('submit', async (event) => {
    event.preventDefault();
    const slot = picker.selected;
    if (!slot || sending) return;
    const credit = payWith.querySelector('select')?.value === 'credit' ? credits.usable()[0] : null;
    if (repeat.weeks) { await requestSeries(slot, credit); return; }
    const body = { listing_id: id, start_time: slot.start_time, notes: el.notes.value.trim(), answers: questions.answers() };
    if (credit) body.bundle_purchase_id = credit.id;
    // Shown as requested at once; the slot cleared and the button busy, so the same request is not sent twice.
    const temp = { id: `pending-${Date.now()}`, optimistic: true, status: 'draft', start_time: slot.start_time, end_time: slot.end_time };
    state.pending = [temp, ...state.pending];
    sending = true;
    picker.clear();
    button.textContent = t('Sending request…');
    drawn();
    messages.clear();
    try {
      const booking = await post('/bookings', body);
      state.bookings = [booking, ...state.bookings.filter((b) => b.id !== booking.id)];
      const time = { time: span(booking.start_time, booking.end_time) };
      const others = booking.competing_requests;
      messages.ok(booking.status === 'accepted'
        ? (credit ? t('Booked {time}, paid with a bundle credit: it is confirmed. It is in My bookings.', time)
          : t('Booked {time}: it is confirmed. It is in My bookings.', time))
        : [credit ? t('Requested {time}, paid with a bundle credit.', time) : t('Requested {time}.', time), ' ',
          !others ? t('The mentor will accept or decline.') : others === 1
            ? t('Someone else has asked for this time too: the mentor will accept one request for it.')
            : t('{count} others have asked for this time too: the mentor will accept one request for it.', { count: others })]
          .join(''));
      el.notes.value = '';
      questions.reset();
    } catch (err) {
      if (err.body?.errors?.rule) {
        // A scheduling rule refused it (someone took the time meanwhile, say): its words, and the next free times.
        await reload();
        offerNext(messages, err.message, picker, !NOT_ABOUT_THE_TIME.has(err.body.errors.rule));
      } else {
        messages.error(err.body?.errors?.existing_booking_id ? t('You already asked for this time: the request is below, waiting for the mentor.') : err);
        messages.el.querySelector('.error')?.focus();
      }
    } finally {
      state.pending = state.pending.filter((b) => b !== temp);
      sending = false;
      button.textContent = words.one;
      drawn();
      const select = payWith.querySelector('select');
      if (select) select.value = ''; // the next request is paid with the price unless a credit is chosen again
      if (credit) credits.reload();
    }
  });
  // A series: its times as checked, less those unticked; one request the mentor answers once.
  async function requestSeries(slot, credit) {
    const body = { listing_id: id, first_start: slot.start_time, every: repeat.weeks, count: repeat.count,
      exclude: repeat.excluded, notes: el.notes.value.trim(), answers: questions.answers() };
    if (credit) body.bundle_purchase_id = credit.id;
    sending = true;
    button.disabled = true;
    button.textContent = t('Sending series…');
    messages.clear();
    try {
      const made = await post('/booking-series', body);
      const asked = made.occurrences.filter((time) => time.status === 'draft' || time.status === 'accepted').length;
      const when = { time: span(made.start_time, made.end_time) };
      messages.ok(made.status === 'accepted' ? tn('Series booked: {count} meeting from {time}, confirmed.',
        'Series booked: {count} meetings from {time}, confirmed.', asked, when)
        : tn('Series requested: {count} meeting from {time}. The mentor answers them at once.',
          'Series requested: {count} meetings from {time}. The mentor answers them at once.', asked, when));
      el.notes.value = '';
      questions.reset();
      repeat.reset();
      picker.clear();
      await reload();
    } catch (err) {
      messages.error(err);
    } finally {
      sending = false;
      show(picker.selected);
      if (credit) credits.reload();
    }
  }
  return { el, show };
}

/** The refusal, and the next free slots as buttons that choose one. */
// Refusals another time would not help with: the mentee's own count of requests or instant bookings with the mentor.
const NOT_ABOUT_THE_TIME = new Set(['max_active_bookings_per_mentor', 'max_instant_bookings_per_mentor']);

function offerNext(messages, said, picker, withTimes) {
  const next = withTimes ? picker.next(3) : [];
  messages.clear();
  const box = h('div', { class: 'error', role: 'alert', tabindex: '-1' }, h('p', {}, `${said[0].toUpperCase()}${said.slice(1)}.`),
    next.length ? h('p', {}, t('Next free times: '), next.map((slot) => [h('button', { type: 'button', class: 'slot', onclick: () => { picker.pick(slot); messages.clear(); } },
      span(slot.start_time, slot.end_time)), ' '])) : withTimes ? h('p', {}, t('No other free time this week.')) : null);
  messages.el.append(box);
  box.focus(); // where the person looks next: scrolled into view, and read out
}

/** Other people's pending requests for the same time, in words (never who). */
const othersAsked = (count) => (count === 1 ? t('Someone else has asked for this time too')
  : t('{count} others have asked for this time too', { count }));
