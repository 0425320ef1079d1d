// A listing's team, for its owner: who teaches it, who was invited and has not answered, inviting
// another mentor (found by skill), removing one, and whether the owner teaches it too.
import { get, put, qs } from '../../api.js';
import { currentUser, listing as loadListing } from '../../state.js';
import { h, field, replace, loading, empty, errorBox, messageArea, act } from '../../ui.js';
import { t, tParts } from '../../words.js';

export async function teamPage(main, { params: [id] }) {
  const [item, me] = await Promise.all([loadListing(id), currentUser()]);
  main.append(h('p', { class: 'crumbs' }, h('a', { href: '#/mentor' }, t('Mentor setup')), ' › ', h('a', { href: `#/listings/${id}` }, item.title)),
    h('h1', {}, t('Team of “{title}”', { title: item.title })));
  if (me.mentor_profile_id !== item.mentor_profile_id || item.kind !== 'individual') {
    main.append(h('p', {}, t('Only the owner of a one-to-one listing sets its team.')));
    return;
  }
  const messages = messageArea();
  const teamEl = h('div', {}, loading());
  let team = null;

  const save = (ids, button, done) => act(button, messages, async () => {
    team = await put(`/listings/${id}/team`, { mentor_profile_ids: ids });
    render();
    renderResults();
    messages.ok(done);
  });
  // The team as the API keeps it: the owner if they teach, then the other members and those invited
  // (who join when they accept). An empty list: the owner teaches alone.
  const owner = item.mentor_profile_id;
  const ownerTeaches = () => team.members.some((m) => m.mentor_profile_id === owner);
  const others = () => [...team.members, ...(team.invited || [])].map((m) => m.mentor_profile_id).filter((m) => m !== owner);
  const teamOf = (teaches, ids) => (ids.length ? (teaches ? [owner, ...ids] : ids) : []);

  function row(member, invited) {
    const own = member.mentor_profile_id === owner;
    const name = own ? tParts('{name} (you)', { name: h('bdi', {}, member.display_name) }) : h('bdi', {}, member.display_name);
    return h('li', {}, h('strong', {}, name), h('span', { class: 'meta' }, ` · ${[member.headline, member.timezone].filter(Boolean).join(' · ')}`), ' ',
      invited ? h('span', { class: 'badge requested' }, t('Invited, not answered yet')) : h('span', { class: 'badge accepted' }, t('Teaches')), ' ',
      own ? null : h('button', { type: 'button', 'aria-label': t('Remove {display_name} from the team', { display_name: member.display_name }),
        onclick: (e) => save(teamOf(ownerTeaches(), others().filter((m) => m !== member.mentor_profile_id)), e.currentTarget,
          t('{display_name} is off the team.', { display_name: member.display_name })) },
      t('Remove')));
  }

  function render() {
    const teachToo = h('input', { type: 'checkbox', id: 'owner-teaches', checked: ownerTeaches(), disabled: !others().length });
    teachToo.addEventListener('change', () => {
      save(teamOf(teachToo.checked, others()), teachToo,
        teachToo.checked ? t('You teach this listing too.') : t('You no longer teach this listing; your team does.'));
    });
    replace(teamEl,
      h('ul', { class: 'list' }, team.members.map((m) => row(m, false)), (team.invited || []).map((m) => row(m, true))),
      h('div', { class: 'field checkbox' }, teachToo, h('label', { for: 'owner-teaches' }, t('I teach this listing too'))),
      others().length ? null : h('p', { class: 'muted' }, t('You teach this listing alone. Invite mentors below to make it a team.')));
  }

  const results = h('div', {});
  let found = null;
  function renderResults() {
    if (!found) return;
    const taken = new Set(others());
    replace(results, found.length ? h('ul', { class: 'list' }, found.map((m) => h('li', {},
      h('strong', {}, m.display_name), m.headline ? h('span', { class: 'meta' }, ` · ${m.headline}`) : null, ' ',
      taken.has(m.id) ? h('span', { class: 'muted' }, t('on the team or invited'))
        : h('button', { type: 'button', 'aria-label': t('Invite {display_name}', { display_name: m.display_name }), onclick: (e) => save(
          teamOf(ownerTeaches(), [...others(), m.id]), e.currentTarget,
          t('{display_name} is invited: they teach once they accept.', { display_name: m.display_name })) }, t('Invite'))))) : empty(t('No other mentor matches.')));
  }
  const search = h('form', { class: 'search', role: 'search', 'aria-label': t('Find a mentor to invite') },
    field(t('Name or skill of the mentor to invite'), { type: 'search', name: 'q', value: item.skill }),
    h('button', { type: 'submit' }, t('Find mentors')));
  search.addEventListener('submit', async (event) => {
    event.preventDefault();
    replace(results, loading());
    try {
      found = (await get(`/mentor-profiles${qs({ q: search.q.value.trim(), limit: 20 })}`)).items.filter((m) => m.id !== owner);
      renderResults();
    } catch (err) { replace(results, errorBox(err.message)); }
  });

  main.append(h('p', {}, t('Requests for this listing go to a team member who is free at that time; its free slots are every member’s.')),
    h('section', { 'aria-labelledby': 'tm-h' }, h('h2', { id: 'tm-h' }, t('Who teaches it')), teamEl, messages.el),
    h('section', { 'aria-labelledby': 'ti-h' }, h('h2', { id: 'ti-h' }, t('Invite a mentor')), search, results));
  try {
    team = await get(`/listings/${id}/team`);
    render();
  } catch (err) { replace(teamEl, errorBox(err.message)); }
}
