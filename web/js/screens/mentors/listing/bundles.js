// A listing's bundle offers, buying one, and the viewer's credits for the listing: one number, counted from the
// purchases usable now, the same here, in the "Pay with" choice and in My bundles.
import { get, post } from '../../../api.js';
import { all } from '../../../state.js';
import { h, redraw, replace, loading, empty, errorBox, messageArea, confirmPanel, money, dayLabel } from '../../../ui.js';
import { t, tn } from '../../../words.js';

export function bundlesPanel({ id, mine }) {
  const el = h('div', {}, loading());
  const messages = messageArea();
  const listeners = new Set();
  let offers = [];
  let purchases = [];

  // Credits usable here, the one expiring first first: a request paid with a credit takes from it.
  const usable = () => purchases.filter((p) => p.remaining_sessions > 0 && new Date(p.valid_until) > new Date())
    .sort((x, y) => new Date(x.valid_until) - new Date(y.valid_until));
  const left = () => usable().reduce((sum, p) => sum + p.remaining_sessions, 0);

  function render() {
    const count = left();
    redraw(el,
      offers.length ? h('ul', { class: 'list' }, offers.map((o) => h('li', { dataset: { confirmFor: `buy-${o.id}` } },
        tn('{count} session for {price}, valid {days} days', '{count} sessions for {price}, valid {days} days', o.sessions_count,
          { price: money(o.price_cents, o.currency), days: o.valid_days }), ' ',
        mine ? null : h('button', { type: 'button', onclick: (e) => confirmPanel(e.currentTarget.parentElement, {
          label: t('Buy the bundle of {count}', { count: o.sessions_count }), keep: t('Not now'), messages,
          says: h('p', {}, tn('You pay {price} now for {count} session credit for this listing, to use within {days} days.',
            'You pay {price} now for {count} session credits for this listing, to use within {days} days.', o.sessions_count,
            { price: money(o.price_cents, o.currency), days: o.valid_days })),
          confirm: t('Pay {price}', { price: money(o.price_cents, o.currency) }),
          onConfirm: async () => {
            await post(`/bundles/${o.id}/purchase`);
            messages.ok(t('Bundle bought: its credits can pay for your bookings of this listing.'));
            await reload();
          } }) }, t('Buy bundle of {count}', { count: o.sessions_count }))))) : empty(t('No bundle offered on this listing.')),
      messages.el,
      mine ? null : h('p', { class: 'credits' }, count
        ? t('Your bundle credits for this listing: {count} left (the first expire {day}).', { count,
          day: dayLabel(new Date(usable()[0].valid_until)) })
        : t('You have no credits for this listing.')));
  }

  async function reload() {
    try {
      offers = (await get(`/listings/${id}/bundles`)).items.filter((b) => b.active !== false);
      purchases = (await all('/bundle-purchases', {}, 1)).filter((p) => offers.some((o) => o.id === p.bundle_id));
      render();
      listeners.forEach((fn) => fn());
    } catch (err) { replace(el, errorBox(err.message)); }
  }

  return {
    el: h('section', { 'aria-labelledby': 'bundles-h' }, h('h2', { id: 'bundles-h' }, t('Bundles')), el),
    usable, left, reload,
    /** fn() once the credits are read anew. */
    onChange(fn) { listeners.add(fn); },
  };
}
