// One session: meeting link, agenda, countdown; Start, Complete (mentor), Cancel with the
// policy's fee shown first; the mentee's review once it is completed.
import { get, post } from '../api.js';
import { live } from '../live.js';
import { canStartAt, cancellationCost, feeNote, loadPolicy, policy } from '../policy.js';
import { currentUser, listing, profile } from '../state.js';
import { h, field, replace, messageArea, act, money, span, duration, badge, errorBox, SESSION_STATUS } from '../ui.js';

export async function sessionPage(main, { params: [id] }) {
  const me = await currentUser();
  const messages = messageArea();
  const body = h('div', {});
  const heading = h('h1', {}, 'Session');
  main.append(h('p', { class: 'crumbs' }, h('a', { href: '#/bookings' }, 'My bookings')), heading, messages.el, body);
  let gone = false; // the screen was left: a load still under way draws nothing
  let session = null;
  let booking = null;
  let item = null;
  let timer = null;
  let cancelOpen = false;
  // Forms are made once and kept across renders: a live update leaves what is typed in them, and their messages.
  const kept = {};
  const keep = (name, make) => (kept[name] ||= make());

  async function load() {
    try {
      await loadPolicy();
      session = await get(`/sessions/${id}`);
      item = await listing(session.listing_id);
      booking = session.booking_id ? await get(`/bookings/${session.booking_id}`).catch(() => null) : null;
      if (!gone) render();
    } catch (err) { if (!gone) replace(body, errorBox(err.message)); }
  }

  const role = () => (me.mentor_profile_id && me.mentor_profile_id === session.mentor_profile_id ? 'mentor' : 'mentee');

  function render() {
    heading.textContent = item.title;
    const mentor = h('span', {});
    profile(session.mentor_profile_id).then((p) => { mentor.textContent = p.display_name; }).catch(() => {});
    const countdown = h('p', { class: 'countdown' });
    const startButton = h('button', { type: 'button', class: 'primary', onclick: (e) => act(e.currentTarget, messages, async () => {
      session = await post(`/sessions/${id}/start`);
      render();
    }) }, 'Start session');
    const tick = () => {
      const now = Date.now();
      const start = new Date(session.start_time).getTime();
      if (session.status === 'scheduled') {
        countdown.textContent = now < start ? `Starts in ${duration(start - now)}` : 'Starting time has come';
        startButton.disabled = !canStartAt(session, now);
      } else if (session.status === 'in_progress') {
        countdown.textContent = `In progress, ${duration(new Date(session.end_time).getTime() - now)} left`;
      } else countdown.textContent = '';
    };
    clearInterval(timer);
    timer = setInterval(tick, 1000);
    tick();

    const agenda = booking && booking.notes ? h('section', { 'aria-labelledby': 'ag-h' }, h('h2', { id: 'ag-h' }, 'Agenda'), h('p', {}, booking.notes)) : null;
    const price = booking ? booking.price_cents : item.price_cents;
    const currency = booking ? booking.currency : item.currency;
    const other = role() === 'mentor'
      ? (session.mentee ? `Mentee: ${session.mentee.display_name}` : session.kind === 'group' ? `${session.seats_taken} of ${session.capacity} seats taken` : '')
      : null;

    replace(body,
      h('p', { class: 'meta' }, span(session.start_time, session.end_time), ' ', badge(SESSION_STATUS[session.status] || session.status),
        ' · with ', role() === 'mentor' ? (session.mentee ? session.mentee.display_name : 'your group') : mentor,
        session.kind === 'group' ? ` · group session, ${session.seats_taken}/${session.capacity} seats` : ''),
      other ? h('p', {}, other) : null,
      countdown,
      session.meeting_url && ['scheduled', 'in_progress'].includes(session.status)
        ? h('p', {}, 'Meeting link: ', h('a', { href: session.meeting_url, target: '_blank', rel: 'noopener noreferrer' }, session.meeting_url))
        : null,
      agenda,
      session.status === 'scheduled' ? h('div', { class: 'actions' }, startButton,
        h('button', { type: 'button', class: 'danger', 'aria-expanded': String(cancelOpen), onclick: () => { cancelOpen = !cancelOpen; delete kept.cancel; render(); } }, 'Cancel session')) : null,
      session.status === 'scheduled' ? h('p', { class: 'muted' }, `You can start ${policy.start_early_minutes} minutes before the start time.`) : null,
      session.status === 'scheduled' && cancelOpen ? keep('cancel', () => cancelPanel(price, currency)) : null,
      session.status === 'in_progress' && role() === 'mentor' ? keep('complete', completeForm) : null,
      session.status === 'in_progress' && role() === 'mentee' ? h('p', {}, 'The mentor completes the session with notes and action items.') : null,
      session.status === 'completed' ? outcome() : null,
      // The review form until the mentee has reviewed (kept, with its thanks, once they did here).
      session.status === 'completed' && role() === 'mentee' && (session.reviewed === false || kept.review)
        ? keep('review', reviewForm) : null,
      session.reviewed && !kept.review ? h('p', { class: 'ok' }, 'You reviewed this session. Thank you.') : null,
      session.cancellation ? h('p', { class: 'meta' }, `Cancelled by the ${session.cancellation.cancelled_by}: ${session.cancellation.reason}. `,
        session.cancellation.late ? `Late cancellation, fee ${money(session.cancellation.fee_cents, currency)}.` : 'No fee.',
        session.cancellation.credit_refunded ? ' The bundle credit was returned.' : '') : null);
  }

  function cancelPanel(price, currency) {
    const cost = cancellationCost({ startTime: session.start_time, priceCents: price, role: role(), withCredit: Boolean(booking && booking.bundle_purchase_id) });
    const form = h('form', { class: 'card confirm', 'aria-labelledby': 'cx-h' }, h('h2', { id: 'cx-h' }, 'Cancel this session?'),
      feeNote(cost, price, currency),
      field('Reason', { tag: 'textarea', name: 'reason', rows: 2, required: true, maxlength: 1000 }),
      h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'danger' }, 'Confirm cancellation'),
        h('button', { type: 'button', onclick: () => { cancelOpen = false; delete kept.cancel; render(); } }, 'Keep the session')));
    form.addEventListener('submit', (event) => {
      event.preventDefault();
      act(form.querySelector('button[type=submit]'), messages, async () => {
        session = await post(`/sessions/${id}/cancel`, { reason: form.reason.value.trim() });
        cancelOpen = false;
        render();
      });
    });
    return form;
  }

  function completeForm() {
    const form = h('form', { class: 'card', 'aria-labelledby': 'co-h' }, h('h2', { id: 'co-h' }, 'Complete the session'),
      field('Notes', { tag: 'textarea', name: 'notes', rows: 3, maxlength: 10000 }),
      field('Action items', { tag: 'textarea', name: 'action_items', rows: 3, hint: 'One per line.' }),
      h('button', { type: 'submit', class: 'primary' }, 'Complete session'));
    form.addEventListener('submit', (event) => {
      event.preventDefault();
      act(form.querySelector('button[type=submit]'), messages, async () => {
        const items = form.action_items.value.split('\n').map((s) => s.trim()).filter(Boolean);
        session = await post(`/sessions/${id}/complete`, { notes: form.notes.value.trim() || null, action_items: items });
        render();
      });
    });
    return form;
  }

  function outcome() {
    return h('section', { 'aria-labelledby': 'out-h' }, h('h2', { id: 'out-h' }, 'Outcome'),
      session.notes ? h('p', {}, session.notes) : h('p', { class: 'muted' }, 'No notes.'),
      session.action_items && session.action_items.length
        ? h('ul', {}, session.action_items.map((a) => h('li', {}, typeof a === 'string' ? a : JSON.stringify(a)))) : null);
  }

  function reviewForm() {
    const reviewMessages = messageArea();
    const form = h('form', { class: 'card', 'aria-labelledby': 'rv-h' }, h('h2', { id: 'rv-h' }, 'Review this session'),
      field('Rating', { tag: 'select', name: 'rating', required: true }, [['5', '5 – excellent'], ['4', '4 – good'], ['3', '3 – fine'], ['2', '2 – poor'], ['1', '1 – bad']]),
      field('Comment', { tag: 'textarea', name: 'comment', rows: 3, maxlength: 5000 }),
      field('Post as "A mentee" (otherwise your first name and initial)', { type: 'checkbox', name: 'anonymous' }),
      reviewMessages.el, h('button', { type: 'submit', class: 'primary' }, 'Submit review'));
    form.addEventListener('submit', (event) => {
      event.preventDefault();
      act(form.querySelector('button[type=submit]'), reviewMessages, async () => {
        await post(`/sessions/${id}/review`, { rating: Number(form.rating.value), comment: form.comment.value.trim(),
          anonymous: form.anonymous.checked });
        replace(form, h('h2', {}, 'Review this session'), h('p', { class: 'ok', role: 'status' }, 'Thank you: your review is published.'));
      });
    });
    return form;
  }

  const off = live.on((type, data) => {
    if (type === 'reset' || data.id === id || data.session_id === id || (booking && data.id === booking.id)) load();
  });
  await load();
  return () => { gone = true; off(); clearInterval(timer); };
}
