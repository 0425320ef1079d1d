// A listing: its free slots for the next days in the viewer's timezone (live), booking with
// an optimistic "Requested" state, bundles, and for group listings their sessions' seats.
import { get, post, qs } from '../api.js';
import { live } from '../live.js';
import { slotPicker } from '../slot-picker.js';
import { cancellationCost, feeNote, loadPolicy, policyNote } from '../policy.js';
import { all, currentUser, listing as loadListing, profile } from '../state.js';
import {
  append, h, field, replace, loading, empty, errorBox, messageArea, act, money, rating,
  span, tz, badge, bookingBadge,
} from '../ui.js';

const DAYS = 7;

export async function listingPage(main, { params: [id] }) {
  const [item, me] = await Promise.all([loadListing(id), currentUser(), loadPolicy()]);
  const mentor = await profile(item.mentor_profile_id).catch(() => null);
  const mine = me && me.mentor_profile_id === item.mentor_profile_id;
  const messages = messageArea(); // the booking form's, beside its button
  live.watch(id);

  const picker = slotPicker({
    onChoose: (slot) => choose(slot),
    isRequested: (slot) => pending.some((b) => b.start_time === slot.start_time)
      || bookings.some((b) => b.status === 'draft' && sameInstant(b.start_time, slot.start_time)),
    disabled: mine,
  });
  replace(picker.el, loading('Loading free slots…'));
  const requestsEl = h('div', {});
  const bundlesEl = h('div', {}, loading());
  const groupEl = h('div', {}, loading());
  let selected = null; // {start_time, end_time}
  let pending = []; // optimistic bookings not yet confirmed
  let purchases = [];
  let bookings = [];

  const bookingForm = h('form', { class: 'card', 'aria-labelledby': 'book-h' });
  const agenda = field('Agenda (optional)', { tag: 'textarea', name: 'notes', rows: 2, maxlength: 2000,
    hint: 'What you would like to cover; the mentor sees it with your request.' });
  const payWith = h('div', {});
  const policyEl = policyNote(item.price_cents, item.currency);
  const selectedText = h('p', { class: 'muted', id: 'selected-slot' }, 'Choose a free slot above.');
  const requestButton = h('button', { type: 'submit', class: 'primary', disabled: true }, 'Request booking');
  let sending = false;
  bookingForm.append(h('h2', { id: 'book-h' }, 'Request a booking'), selectedText, agenda, payWith, policyEl, messages.el,
    h('div', { class: 'book-bar' }, requestButton));
  bookingForm.addEventListener('submit', (event) => { event.preventDefault(); requestBooking(); });

  append(main, [
    h('p', { class: 'crumbs' }, h('a', { href: '#/' }, 'Mentors'), ' › ', mentor ? h('a', { href: `#/mentors/${mentor.id}` }, mentor.display_name) : 'Mentor'),
    h('h1', {}, item.title),
    h('p', { class: 'lead' }, mentor ? `${mentor.display_name} · ${mentor.headline}` : ''),
    h('p', { class: 'meta' }, mentor ? rating(mentor) : '', ' · ', h('strong', {}, money(item.price_cents, item.currency)),
      ` · ${item.duration_minutes} min · ${item.skill}`, item.kind === 'group' ? ` · group of up to ${item.capacity}` : '',
      item.active ? '' : ' · not taking bookings'),
    item.description ? h('p', {}, item.description) : null,
    item.kind === 'group'
      ? h('section', { 'aria-labelledby': 'group-h' }, h('h2', { id: 'group-h' }, 'Group sessions'), groupEl)
      : [
        h('section', { 'aria-labelledby': 'slots-h', class: 'slots' },
          h('h2', { id: 'slots-h' }, 'Free slots'),
          h('p', { class: 'muted' }, `Next ${DAYS} days, in your timezone (${tz()}).`), picker.el),
        mine ? h('p', { class: 'muted' }, 'This is your listing: mentees book these slots.') : bookingForm,
        mine ? null : h('section', { 'aria-labelledby': 'req-h' }, h('h2', { id: 'req-h' }, 'Your requests for this listing'), requestsEl),
      ],
    h('section', { 'aria-labelledby': 'bundles-h' }, h('h2', { id: 'bundles-h' }, 'Bundles'), bundlesEl)]);

  // --- free slots ---------------------------------------------------------------------------
  async function loadSlots() {
    const from = new Date();
    const to = new Date(from.getTime() + DAYS * 86400000);
    try {
      const body = await get(`/listings/${id}/slots${qs({ from: from.toISOString(), to: to.toISOString() })}`);
      picker.set(body.items);
    } catch (err) {
      replace(picker.el, errorBox(err.message));
    }
  }

  function choose(slot) {
    selected = slot;
    requestButton.disabled = !slot || sending;
    selectedText.textContent = slot ? `Selected: ${span(slot.start_time, slot.end_time)}` : 'Choose a free slot above.';
  }

  // --- my requests --------------------------------------------------------------------------
  async function loadRequests() {
    if (mine) return;
    try {
      bookings = (await all('/bookings', { role: 'mentee' }, 1)).filter((b) => b.listing_id === id);
      renderRequests();
    } catch (err) { replace(requestsEl, errorBox(err.message)); }
  }

  function renderRequests() {
    const rows = [...pending, ...bookings];
    if (!rows.length) { replace(requestsEl, empty('You have not requested this listing yet.')); return; }
    replace(requestsEl, h('ul', { class: 'list' }, rows.map((b) => h('li', { class: b.optimistic ? 'optimistic' : '' },
      span(b.start_time, b.end_time), ' ', bookingBadge(b),
      b.optimistic ? h('span', { class: 'muted' }, ' sending…') : null,
      b.session_id ? [' ', h('a', { href: `#/sessions/${b.session_id}` }, 'Open session')] : null))));
  }

  async function requestBooking() {
    if (!selected || sending) return;
    const slot = selected;
    const credit = payWith.querySelector('select')?.value === 'credit' ? usable()[0] : null;
    const body = { listing_id: id, start_time: slot.start_time, notes: bookingForm.notes.value.trim() };
    if (credit) body.bundle_purchase_id = credit.id;
    // Optimistic: shown as requested at once, rolled back with the API's message if refused. The slot
    // is cleared and the button shows progress, so the same request is not sent twice.
    const temp = { id: `pending-${Date.now()}`, optimistic: true, status: 'draft', start_time: slot.start_time, end_time: slot.end_time };
    pending = [temp, ...pending];
    sending = true;
    picker.clear();
    requestButton.textContent = 'Sending request…';
    renderRequests(); loadSlotsFromCache();
    messages.clear();
    try {
      const booking = await post('/bookings', body);
      bookings = [booking, ...bookings.filter((b) => b.id !== booking.id)];
      messages.ok(`Requested ${span(booking.start_time, booking.end_time)}${credit ? ', paid with a bundle credit' : ''}. The mentor will accept or decline.`);
      bookingForm.notes.value = '';
    } catch (err) {
      if (err.body?.errors?.existing_booking_id) messages.error('You already asked for this time: the request is below, waiting for the mentor.');
      else messages.error(err);
    } finally {
      pending = pending.filter((b) => b !== temp);
      sending = false;
      requestButton.textContent = 'Request booking';
      renderRequests(); loadSlotsFromCache();
      payWithPrice(); // the next request is paid with the price unless the mentee chooses a credit again
      if (credit) loadBundles(); // the credits left, as the API counts them
    }
  }

  const loadSlotsFromCache = () => picker.redraw();

  // --- bundles ------------------------------------------------------------------------------
  let offers = [];
  async function loadBundles() {
    try {
      offers = (await get(`/listings/${id}/bundles`)).items.filter((b) => b.active !== false);
      purchases = (await all('/bundle-purchases', {}, 1)).filter((p) => offers.some((o) => o.id === p.bundle_id));
      renderBundles(); renderPayWith();
    } catch (err) { replace(bundlesEl, errorBox(err.message)); }
  }

  // Credits usable here, the one expiring first first: a request paid with a credit takes from it.
  const usable = () => purchases.filter((p) => p.remaining_sessions > 0 && new Date(p.valid_until) > new Date())
    .sort((x, y) => new Date(x.valid_until) - new Date(y.valid_until));
  const creditsLeft = () => usable().reduce((sum, p) => sum + p.remaining_sessions, 0);

  function renderBundles() {
    const bundleMessages = messageArea();
    const left = creditsLeft();
    replace(bundlesEl,
      offers.length ? h('ul', { class: 'list' }, offers.map((o) => h('li', {},
        `${o.sessions_count} session${o.sessions_count === 1 ? '' : 's'} for ${money(o.price_cents, o.currency)}, valid ${o.valid_days} days `,
        mine ? null : h('button', { type: 'button', onclick: (e) => act(e.currentTarget, bundleMessages, async () => {
          await post(`/bundles/${o.id}/purchase`);
          bundleMessages.ok('Bundle bought: its credits can pay for your bookings of this listing.');
          await loadBundles();
        }) }, `Buy bundle of ${o.sessions_count}`)))) : empty('No bundle offered on this listing.'),
      bundleMessages.el,
      mine ? null : h('p', { class: 'credits' }, left
        ? `Your bundle credits for this listing: ${left} left (the first expire ${new Date(usable()[0].valid_until).toLocaleDateString()}).`
        : 'You have no credits for this listing.'));
  }

  function renderPayWith() {
    const left = creditsLeft();
    const current = payWith.querySelector('select')?.value;
    if (!left) { replace(payWith); return; }
    const fieldEl = field('Pay with', { tag: 'select', name: 'pay_with' }, [
      ['', `Listing price (${money(item.price_cents, item.currency)})`],
      ['credit', `A bundle credit (${left} left)`],
    ]);
    replace(payWith, fieldEl);
    if (current) fieldEl.querySelector('select').value = current;
  }

  function payWithPrice() {
    const select = payWith.querySelector('select');
    if (select) select.value = '';
  }

  // --- group sessions -----------------------------------------------------------------------
  async function loadGroup() {
    const groupMessages = messageArea();
    try {
      const [upcoming, seats] = await Promise.all([
        all(`/listings/${id}/group-sessions`, {}, 1),
        mine ? Promise.resolve([]) : all('/sessions', { role: 'mentee', status: 'scheduled' }, 1),
      ]);
      const held = new Set(seats.filter((s) => s.kind === 'group').map((s) => s.id));
      const list = upcoming.length ? h('ul', { class: 'list' }, upcoming.map((s) => {
        const left = s.capacity - s.seats_taken;
        let action = null;
        if (held.has(s.id)) {
          action = h('button', { type: 'button', onclick: (e) => confirmLeave(e.currentTarget.parentElement, s, groupMessages) }, 'Leave');
        } else if (!mine) {
          action = h('button', { type: 'button', disabled: s.full, onclick: (e) => act(e.currentTarget, groupMessages, async () => {
            await post(`/sessions/${s.id}/join`);
            groupMessages.ok('You have a seat in this group session.');
            await loadGroup();
          }) }, 'Join');
        }
        return h('li', { dataset: { session: s.id } }, span(s.start_time, s.end_time), ' ',
          s.full ? badge('FULL', 'full') : h('span', { class: 'seats' }, `${left} seat${left === 1 ? '' : 's'} left`),
          held.has(s.id) ? [' ', badge('Joined', 'accepted'), ' ', h('a', { href: `#/sessions/${s.id}` }, 'Open session')] : null,
          mine ? [' ', h('a', { href: `#/sessions/${s.id}` }, 'Open session')] : null,
          ' ', action);
      })) : empty('No group session scheduled yet.');
      replace(groupEl, mine ? null : policyNote(item.price_cents, item.currency, 'seat'), list, groupMessages.el,
        mine ? scheduleForm() : null);
    } catch (err) { replace(groupEl, errorBox(err.message)); }
  }

  function confirmLeave(row, s, groupMessages) {
    const cost = cancellationCost({ startTime: s.start_time, priceCents: item.price_cents, role: 'mentee' });
    const panel = h('div', { class: 'confirm', role: 'group', 'aria-label': 'Leave this group session' },
      feeNote(cost, item.price_cents, item.currency),
      h('button', { type: 'button', class: 'danger', onclick: (e) => act(e.currentTarget, groupMessages, async () => {
        await post(`/sessions/${s.id}/cancel`, { reason: 'Left the group session' });
        groupMessages.ok('You left the group session.');
        await loadGroup();
      }) }, 'Confirm leaving'),
      h('button', { type: 'button', onclick: () => panel.remove() }, 'Stay'));
    row.append(panel);
    panel.querySelector('button').focus();
  }

  function scheduleForm() {
    const formMessages = messageArea();
    const form = h('form', { class: 'card' }, h('h3', {}, 'Schedule a group session'),
      field('Start', { type: 'datetime-local', name: 'start', required: true, hint: `In your timezone (${tz()}).` }),
      formMessages.el, h('button', { type: 'submit' }, 'Schedule'));
    form.addEventListener('submit', (event) => {
      event.preventDefault();
      act(form.querySelector('button'), formMessages, async () => {
        if (!form.start.value) throw new Error('Choose when the session starts.');
        await post(`/listings/${id}/group-sessions`, { start_time: new Date(form.start.value).toISOString() });
        await loadGroup();
      });
    });
    return form;
  }

  const reload = () => {
    if (item.kind === 'group') loadGroup(); else { loadSlots(); loadRequests(); }
    loadBundles();
  };
  const off = live.on((type, data) => {
    if (type === 'reset') { reload(); return; }
    if (data.listing_id === id || data.mentor_profile_id === item.mentor_profile_id) {
      if (item.kind === 'group') loadGroup();
      else { loadSlots(); loadRequests(); }
    }
  });
  reload();
  return off;
}

const sameInstant = (a, b) => new Date(a).getTime() === new Date(b).getTime();
