// Reviews: every review, newest first, hidden ones too; an admin hides one from public lists and the mentor's
// rating, with the reason the audit log keeps. A mentor's page links its reviews' mentor here.
import { post } from '../../api.js';
import { h, field, replace, messageArea, badge, when } from '../../ui.js';
import { askReason } from './common.js';
import { pagedList } from '../../lists.js';
import { t } from '../../words.js';

const SHOWN = [['false', t('Shown publicly')], ['true', t('Hidden')], ['', t('All')]];

function reviewRow(review, messages, reload) {
  const actions = h('div', { class: 'actions', 'data-confirm-for': `review-${review.id}` });
  if (!review.hidden_at) {
    actions.append(h('button', { type: 'button', class: 'danger', onclick: () => askReason(actions, {
      label: t('Hide this review'), messages, danger: true, confirm: t('Hide the review'),
      says: t('It leaves the mentor’s public reviews and their rating. Its author is not told.'),
      onConfirm: async (reason) => { await post(`/admin/reviews/${review.id}/hide`, { reason });
        messages.ok(t('The review is hidden.')); await reload(); } }) }, t('Hide…')));
  }
  actions.append(h('a', { href: `#/mentors/${review.mentor_profile_id}` }, t('The mentor’s page')));
  return h('li', {}, h('strong', {}, `${'★'.repeat(review.rating)}${'☆'.repeat(5 - review.rating)}`),
    h('span', { class: 'sr-only' }, ' ', t('{rating} out of 5', { rating: review.rating })), ' ',
    review.hidden_at ? badge(t('Hidden'), 'cancelled') : null,
    h('p', {}, review.comment || h('span', { class: 'muted' }, t('No comment.'))),
    h('p', { class: 'meta' }, when(review.created_at), review.anonymous ? [' · ', t('shown anonymously')] : null),
    review.hidden_at ? h('p', { class: 'meta' }, t('Hidden {when}: {reason}', { when: when(review.hidden_at), reason: review.hidden_reason })) : null,
    actions);
}

export function reviewsScreen(main, { query }) {
  const messages = messageArea();
  const results = h('div', {});
  const mentor = query.get('mentor');
  const form = h('form', { class: 'inline-form', 'aria-label': t('Which reviews') },
    field(t('Which reviews'), { tag: 'select', name: 'hidden' }, SHOWN), h('button', { type: 'submit' }, t('Show')));
  const load = () => replace(results, pagedList('/admin/reviews',
    { hidden: form.hidden.value || null, mentor_profile_id: mentor }, (r) => reviewRow(r, messages, load),
    { none: t('No review here.') }));
  form.addEventListener('submit', (event) => { event.preventDefault(); messages.clear(); load(); });
  if (mentor) main.append(h('p', {}, t('Reviews of one mentor.'), ' ', h('a', { href: '#/admin/reviews' }, t('Every review'))));
  main.append(form, messages.el, results);
  load();
}
