// Reviews: every review, newest first, hidden ones too; an admin hides one from public lists and the mentor's
// rating, with the reason the audit log keeps. A mentor's page links its reviews' mentor here.
import { post } from '../../api.js';
import { h, field, replace, messageArea, badge, when } from '../../ui.js';
import { askReason } from './common.js';
import { pagedList } from '../../lists.js';

const SHOWN = [['false', 'Shown publicly'], ['true', 'Hidden'], ['', 'All']];

function reviewRow(review, messages, reload) {
  const actions = h('div', { class: 'actions', 'data-confirm-for': `review-${review.id}` });
  if (!review.hidden_at) {
    actions.append(h('button', { type: 'button', class: 'danger', onclick: () => askReason(actions, {
      label: 'Hide this review', messages, danger: true, confirm: 'Hide the review',
      says: 'It leaves the mentor’s public reviews and their rating. Its author is not told.',
      onConfirm: async (reason) => { await post(`/admin/reviews/${review.id}/hide`, { reason });
        messages.ok('The review is hidden.'); await reload(); } }) }, 'Hide…'));
  }
  actions.append(h('a', { href: `#/mentors/${review.mentor_profile_id}` }, 'The mentor’s page'));
  return h('li', {}, h('strong', {}, `${'★'.repeat(review.rating)}${'☆'.repeat(5 - review.rating)}`),
    h('span', { class: 'sr-only' }, ` ${review.rating} out of 5`), ' ',
    review.hidden_at ? badge('Hidden', 'cancelled') : null,
    h('p', {}, review.comment || h('span', { class: 'muted' }, 'No comment.')),
    h('p', { class: 'meta' }, `${when(review.created_at)}${review.anonymous ? ' · shown anonymously' : ''}`),
    review.hidden_at ? h('p', { class: 'meta' }, `Hidden ${when(review.hidden_at)}: ${review.hidden_reason}`) : null,
    actions);
}

export function reviewsScreen(main, { query }) {
  const messages = messageArea();
  const results = h('div', {});
  const mentor = query.get('mentor');
  const form = h('form', { class: 'inline-form', 'aria-label': 'Which reviews' },
    field('Which reviews', { tag: 'select', name: 'hidden' }, SHOWN), h('button', { type: 'submit' }, 'Show'));
  const load = () => replace(results, pagedList('/admin/reviews',
    { hidden: form.hidden.value || null, mentor_profile_id: mentor }, (r) => reviewRow(r, messages, load),
    { none: 'No review here.' }));
  form.addEventListener('submit', (event) => { event.preventDefault(); messages.clear(); load(); });
  if (mentor) main.append(h('p', {}, 'Reviews of one mentor. ', h('a', { href: '#/admin/reviews' }, 'Every review')));
  main.append(form, messages.el, results);
  load();
}
