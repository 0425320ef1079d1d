// The mentor's setup: their numbers (screens/reports/numbers.js), profile, weekly availability (in their own timezone),
// time off, date overrides and limits (screens/scheduling/schedule.js), their own calendars (screens/calendars/calendars.js), listings with their scheduling rules and bundle offers, and webhook
// endpoints with their delivery log and a test button.
import { del, fieldErrors, get, patch, post, put } from '../../api.js';
import { live } from '../../live.js';
import { all, currentUser, rememberProfile } from '../../state.js';
import { h, field, replace, loading, empty, errorBox, messageArea, act, money, price, skillWord, when, tz, badge, guardUnsaved } from '../../ui.js';
import { calendarsSection } from '../calendars/calendars.js';
import { numbersSection } from '../reports/numbers.js';
import { questionsEditor } from '../bookings/questions.js';
import { limitsSection, listingRules, overridesSection, timeOffSection } from '../scheduling/schedule.js';
import { formatTag, t } from '../../words.js';

// Monday to Sunday in the reader's language (1 January 2024 was a Monday).
const WEEKDAYS = [0, 1, 2, 3, 4, 5, 6].map((day) => new Date(Date.UTC(2024, 0, 1 + day))
  .toLocaleDateString(formatTag(), { weekday: 'long', timeZone: 'UTC' }));
// The currency of the browser's region, offered when one becomes a mentor (their profile keeps it for new listings);
// else US dollars.
const CURRENCIES = { US: 'USD', GB: 'GBP', CA: 'CAD', AU: 'AUD', NZ: 'NZD', JP: 'JPY', CN: 'CNY', IN: 'INR', CH: 'CHF',
  SE: 'SEK', NO: 'NOK', DK: 'DKK', PL: 'PLN', CZ: 'CZK', BR: 'BRL', MX: 'MXN', SG: 'SGD', KR: 'KRW', ZA: 'ZAR' };
const EURO = new Set(['AT', 'BE', 'CY', 'DE', 'EE', 'ES', 'FI', 'FR', 'GR', 'HR', 'IE', 'IT', 'LT', 'LU', 'LV', 'MT', 'NL',
  'PT', 'SI', 'SK']);
function localCurrency() {
  let region = '';
  try { region = new Intl.Locale(navigator.language).maximize().region || ''; } catch { region = ''; }
  return EURO.has(region) ? 'EUR' : CURRENCIES[region] || 'USD';
}

/** A new mentor's hours unless they choose otherwise: weekdays, 09:00 to 17:00 in their own timezone. */
const WORKING_HOURS = [0, 1, 2, 3, 4].map((weekday) => ({ weekday, start: '09:00', end: '17:00' }));
const splitList = (text) => text.split(',').map((s) => s.trim()).filter(Boolean);

export async function mentorSetup(main) {
  const me = await currentUser(true);
  if (!me.mentor_profile_id) { becomeMentor(main); return undefined; }
  const mentor = await get(`/mentor-profiles/${me.mentor_profile_id}`);
  rememberProfile(mentor);
  main.append(h('h1', {}, t('Mentor setup')),
    h('p', { class: 'lead' }, [mentor.display_name, mentor.headline].filter(Boolean).join(' · ')),
    h('p', { class: 'meta' }, t('Timezone {zone} · skills: {skills}', { zone: mentor.timezone, skills: mentor.skills.join(', ') || t('none') }), ' · ',
      h('a', { href: `#/mentors/${mentor.id}` }, t('See your profile'))),
    numbersSection(mentor), publicSection(mentor), availabilitySection(mentor), timeOffSection(mentor), overridesSection(mentor), limitsSection(mentor),
    calendarsSection(), listingsSection(mentor), webhooksSection());
  return undefined;
}

// Visitors without an account see a public mentor's page and listings, each with a booking link to share.
function publicSection(mentor) {
  const messages = messageArea();
  const form = h('form', { class: 'card', 'aria-labelledby': 'pub-h' }, h('h2', { id: 'pub-h' }, t('Public page')),
    field(t('Show my profile and listings to visitors'), { type: 'checkbox', name: 'public', checked: mentor.public,
      hint: t('Anyone can see them and your free times (never who booked), and book once signed in. Off: only signed-in people.') }),
    field(t('Sites that may embed your pages'), { name: 'embed', value: mentor.embed_origins.join(', '),
      hint: t('https addresses, comma separated, e.g. https://mentoring.example.edu; none: no site.') }),
    mentor.public ? h('p', {}, t('Your page: '), h('a', { href: `/mentors/${mentor.id}` }, `${location.origin}/mentors/${mentor.id}`)) : null,
    messages.el, h('button', { type: 'submit' }, t('Save public page')));
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    act(form.querySelector('button[type=submit]'), messages, async () => {
      await patch(`/mentor-profiles/${mentor.id}`, { public: form.public.checked, embed_origins: splitList(form.embed.value) });
      window.dispatchEvent(new HashChangeEvent('hashchange'));
    }, form);
  });
  return form;
}

function becomeMentor(main) {
  const messages = messageArea();
  const form = h('form', { class: 'card narrow' },
    field(t('Headline'), { name: 'headline', required: true, maxlength: 200, placeholder: t('Staff engineer, distributed systems') }),
    field(t('Bio'), { tag: 'textarea', name: 'bio', rows: 3, maxlength: 5000 }),
    field(t('Timezone'), { name: 'timezone', required: true, value: tz(), hint: t('IANA name, e.g. Europe/Paris. Your availability is in this timezone.') }),
    field(t('Skills'), { name: 'skills', hint: t('Comma separated, e.g. python, postgresql') }),
    field(t('Currency'), { name: 'currency', value: localCurrency(), maxlength: 3, required: true,
      hint: t('What your listings are priced in (three letters, e.g. EUR, GBP, USD); each listing may say otherwise.') }),
    // Working hours by default: "any time" is a choice made knowingly, with what it means said beside it.
    h('fieldset', {}, h('legend', {}, t('When mentees can book you')),
      h('div', { class: 'field checkbox' }, h('input', { type: 'radio', id: 'hours-work', name: 'hours', value: 'work', checked: true }),
        h('label', { for: 'hours-work' }, t('Weekdays, 09:00 to 17:00 in your timezone (change them once set up)'))),
      h('div', { class: 'field checkbox' }, h('input', { type: 'radio', id: 'hours-any', name: 'hours', value: 'any' }),
        h('label', { for: 'hours-any' }, t('Any time, day and night: every hour of every day can be booked, 3 AM included')))),
    messages.el, h('button', { type: 'submit', class: 'primary' }, t('Create profile')));
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    act(form.querySelector('button[type=submit]'), messages, async () => {
      const made = await post('/mentor-profiles', { headline: form.headline.value.trim(), bio: form.bio.value.trim(),
        timezone: form.timezone.value.trim(), skills: splitList(form.skills.value),
        currency: form.currency.value.trim().toUpperCase() });
      if (form.hours.value === 'work') await put(`/mentor-profiles/${made.id}/availability`, { windows: WORKING_HOURS });
      await currentUser(true);
      live.reconnect(); // the stream now carries the mentor's requests too
      window.dispatchEvent(new HashChangeEvent('hashchange'));
    }, form);
  });
  main.append(h('h1', {}, t('Become a mentor')), h('p', {}, t('Mentees find you by your skills and book your listings.')), form);
}

function availabilitySection(mentor) {
  const messages = messageArea();
  let windows = mentor.availability.map((w) => ({ ...w }));
  let saved = JSON.stringify(windows);
  const changed = () => JSON.stringify(windows) !== saved;
  const listEl = h('div', {});
  const pending = h('p', { class: 'warning', role: 'status' });
  const render = () => {
    pending.textContent = changed() ? t('Unsaved changes: mentees see your hours once you save them.') : '';
    replace(listEl, windows.length ? h('ul', { class: 'list' }, windows.map((w, i) => h('li', {},
      `${WEEKDAYS[w.weekday]} ${w.start}–${w.end} `,
      h('button', { type: 'button', 'aria-label': t('Remove {day} {start}–{end}', { day: WEEKDAYS[w.weekday], start: w.start, end: w.end }), onclick: () => { windows.splice(i, 1); render(); } }, t('Remove')))))
      : [empty(t('No windows: mentees may book you at any time, day and night (3 AM included).')),
        h('button', { type: 'button', onclick: () => { windows = WORKING_HOURS.map((w) => ({ ...w })); render(); } },
          t('Use weekdays, 09:00 to 17:00'))]);
  };
  const form = h('form', { class: 'inline-form' },
    field(t('Weekday'), { tag: 'select', name: 'weekday' }, WEEKDAYS.map((d, i) => [String(i), d])),
    field(t('From'), { type: 'time', name: 'start', value: '09:00', required: true }),
    field(t('To'), { type: 'time', name: 'end', value: '17:00', required: true }),
    h('button', { type: 'submit' }, t('Add window')));
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    windows.push({ weekday: Number(form.weekday.value), start: form.start.value, end: form.end.value === '00:00' ? '24:00' : form.end.value });
    windows.sort((a, b) => a.weekday - b.weekday || a.start.localeCompare(b.start));
    render();
  });
  // The API names a window by its place in the list: the mentee reads it as the window itself.
  const inWords = (err) => {
    const fields = fieldErrors(err.body);
    if (!fields.length) return err;
    const said = fields.map(({ path, text }) => {
      const w = path[0] === 'windows' ? windows[Number(path[1])] : null;
      return w ? `${WEEKDAYS[w.weekday]} ${w.start}–${w.end}: ${text}` : text;
    });
    return new Error([...new Set(said)].join(' '));
  };
  const save = h('button', { type: 'button', class: 'primary', onclick: (e) => act(e.currentTarget, messages, async () => {
    const answer = await put(`/mentor-profiles/${mentor.id}/availability`, { windows }).catch((err) => { throw inWords(err); });
    windows = answer.availability.map((w) => ({ ...w }));
    saved = JSON.stringify(windows);
    render();
    messages.ok(t('Availability saved.'));
  }) }, t('Save availability'));
  render();
  guardUnsaved(listEl, () => (changed() ? t('Your weekly availability has changes not saved.') : null));
  return h('section', { 'aria-labelledby': 'av-h', class: 'card' }, h('h2', { id: 'av-h' }, t('Weekly availability')),
    h('p', { class: 'muted' }, t('Times are in your profile\'s timezone, {zone}.', { zone: mentor.timezone })), listEl, form, pending,
    messages.el, save);
}

function listingsSection(mentor) {
  const messages = messageArea();
  const listEl = h('div', {}, loading());
  const load = async () => {
    try {
      const items = await all('/listings', { mentor_profile_id: mentor.id }, 1);
      if (!items.length) { replace(listEl, empty(t('No listings yet: create one below.'))); return; }
      replace(listEl, h('ul', { class: 'list' }, items.map((l) => listingCard(l, load, mentor.public))));
    } catch (err) { replace(listEl, errorBox(err.message)); }
  };
  const form = h('form', { class: 'card' }, h('h3', {}, t('New listing')),
    field(t('Title'), { name: 'title', required: true, maxlength: 200 }),
    field(t('Skill'), { name: 'skill', required: true, value: mentor.skills[0] || '' }),
    field(t('Description'), { tag: 'textarea', name: 'description', rows: 2 }),
    h('div', { class: 'row' },
      field(t('Duration (minutes)'), { type: 'number', name: 'duration_minutes', min: 15, max: 480, value: 60, required: true }),
      field(t('Price'), { type: 'number', name: 'price', min: 0, step: '0.01', value: '50.00', required: true }),
      field(t('Currency'), { name: 'currency', value: mentor.currency, maxlength: 3, required: true,
        hint: t('Three letters, e.g. EUR, GBP, USD: your profile’s unless you change it here.') })),
    h('div', { class: 'row' },
      field(t('Kind'), { tag: 'select', name: 'kind' }, [['individual', t('One-to-one')], ['group', t('Group')]]),
      field(t('Capacity'), { type: 'number', name: 'capacity', min: 2, max: 500, value: 8, hint: t('How many mentees at once.') })),
    field(t('Book instantly'), { type: 'checkbox', name: 'instant',
      hint: t('A request for a free time is confirmed at once, without your approval. Off: you accept or decline each.') }),
    messages.el, h('button', { type: 'submit', class: 'primary' }, t('Create listing')));
  // A one-to-one listing has no capacity to give; a group's seats are always taken at once.
  const showCapacity = () => {
    form.capacity.closest('.field').hidden = form.kind.value !== 'group';
    form.instant.closest('.field').hidden = form.kind.value === 'group';
  };
  form.kind.addEventListener('change', showCapacity);
  form.addEventListener('reset', () => setTimeout(showCapacity));
  showCapacity();
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    act(form.querySelector('button[type=submit]'), messages, async () => {
      const body = { title: form.title.value.trim(), skill: form.skill.value.trim(), description: form.description.value.trim(),
        duration_minutes: Number(form.duration_minutes.value), price_cents: Math.round(Number(form.price.value) * 100),
        currency: form.currency.value.trim().toUpperCase(), kind: form.kind.value };
      if (body.kind === 'group') body.capacity = Number(form.capacity.value);
      else body.instant_booking = form.instant.checked;
      const created = await post('/listings', body);
      messages.ok(t('Listing “{title}” created.', { title: created.title }));
      form.reset();
      await load();
    }, form);
  });
  // The profile's currency: what new listings are priced in (those made before keep theirs).
  const said = messageArea();
  const currency = h('form', { class: 'inline compact', 'aria-label': t('Currency of new listings') },
    field(t('Currency of new listings'), { name: 'currency', value: mentor.currency, maxlength: 3, required: true }),
    h('button', { type: 'submit' }, t('Save')), said.el);
  currency.addEventListener('submit', (event) => {
    event.preventDefault();
    act(currency.querySelector('button'), said, async () => {
      const saved = await patch(`/mentor-profiles/${mentor.id}`, { currency: currency.currency.value.trim() });
      mentor.currency = saved.currency;
      form.currency.value = saved.currency;
      said.ok(t('New listings are priced in {currency}.', { currency: saved.currency }));
    }, currency);
  });
  form.addEventListener('reset', () => setTimeout(() => { form.currency.value = mentor.currency; }));
  load();
  return h('section', { 'aria-labelledby': 'ls-h' }, h('h2', { id: 'ls-h' }, t('Listings')), currency, listEl, form);
}

function listingCard(l, reload, shared) {
  const messages = messageArea();
  return h('li', { class: 'card' },
    h('h3', {}, h('a', { href: `#/listings/${l.id}` }, l.title)),
    h('p', { class: 'meta' }, [price(l.price_cents, l.currency), t('{minutes} min', { minutes: l.duration_minutes }),
      skillWord(l.skill), l.kind === 'group' ? t('group of up to {capacity}', { capacity: l.capacity }) : t('One-to-one')]
      .join(' · '), ' ', badge(l.active ? t('Active') : t('Paused'), l.active ? 'accepted' : 'cancelled'),
      l.instant_booking ? [' ', badge(t('Booked instantly'), 'scheduled')] : null),
    shared && l.active ? h('p', {}, t('Booking link: '), h('a', { href: `/book/${l.slug}` }, `${location.origin}/book/${l.slug}`)) : null,
    h('button', { type: 'button', onclick: (e) => act(e.currentTarget, messages, async () => { await patch(`/listings/${l.id}`, { active: !l.active }); await reload(); }) },
      l.active ? t('Pause {title}', { title: l.title }) : t('Resume {title}', { title: l.title })),
    l.kind === 'individual' ? [' ', h('button', { type: 'button', onclick: (e) => act(e.currentTarget, messages, async () => {
      await patch(`/listings/${l.id}`, { instant_booking: !l.instant_booking });
      messages.ok(l.instant_booking ? t('Requests now wait for your approval.') : t('Free times are now booked at once, without your approval.'));
      await reload();
    }) }, l.instant_booking ? t('Approve each request of {title}', { title: l.title }) : t('Book {title} instantly', { title: l.title }))] : null,
    l.kind === 'individual' ? [' ', h('a', { href: `#/listings/${l.id}/team` }, t('Team of {title}', { title: l.title }))] : null,
    messages.el, listingRules(l), l.kind === 'individual' ? questionsEditor(l) : null, bundleOffers(l));
}

function bundleOffers(l) {
  const messages = messageArea();
  const listEl = h('div', {}, loading());
  const load = async () => {
    try {
      const offers = (await get(`/listings/${l.id}/bundles`)).items;
      replace(listEl, offers.length ? h('ul', {}, offers.map((o) => h('li', {}, t('{sessions_count} sessions for {price}, valid {valid_days} days', { sessions_count: o.sessions_count, price: money(o.price_cents, o.currency), valid_days: o.valid_days }))))
        : empty(t('No bundle offered.')));
    } catch (err) { replace(listEl, errorBox(err.message)); }
  };
  const form = h('form', { class: 'inline-form', 'aria-label': t('Offer a bundle of {title}', { title: l.title }) },
    field(t('Sessions'), { type: 'number', name: 'count', min: 2, value: 5, required: true }),
    field(t('Bundle price'), { type: 'number', name: 'price', min: 0, step: '0.01', value: ((l.price_cents * 4) / 100).toFixed(2), required: true }),
    field(t('Valid days'), { type: 'number', name: 'days', min: 1, value: 90, required: true }),
    h('button', { type: 'submit' }, t('Offer bundle')));
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    act(form.querySelector('button'), messages, async () => {
      await post(`/listings/${l.id}/bundles`, { sessions_count: Number(form.count.value),
        price_cents: Math.round(Number(form.price.value) * 100), valid_days: Number(form.days.value) });
      await load();
    }, form);
  });
  load();
  return h('details', {}, h('summary', {}, t('Bundle offers')), listEl, form, messages.el);
}

function webhooksSection() {
  const messages = messageArea();
  const formMessages = messageArea();
  const listEl = h('div', {}, loading());
  const secretEl = h('div', {});
  const load = async () => {
    try {
      const endpoints = await all('/webhook-endpoints', {}, 1);
      if (!endpoints.length) { replace(listEl, empty(t('No webhook endpoints.'))); return; }
      replace(listEl, h('ul', { class: 'list' }, endpoints.map((ep) => endpointItem(ep, messages, load))));
    } catch (err) { replace(listEl, errorBox(err.message)); }
  };
  const form = h('form', { class: 'card' }, h('h3', {}, t('New endpoint')),
    field(t('URL'), { type: 'url', name: 'url', required: true, placeholder: 'https://example.com/webhooks' }),
    field(t('Event types'), { name: 'event_types', value: '*', hint: t('Comma separated, e.g. booking.accepted, session.completed; * for all.') }),
    field(t('Description'), { name: 'description', maxlength: 500 }),
    formMessages.el, h('button', { type: 'submit', class: 'primary' }, t('Add endpoint')));
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    act(form.querySelector('button'), formMessages, async () => {
      const created = await post('/webhook-endpoints', { url: form.url.value.trim(), event_types: splitList(form.event_types.value),
        description: form.description.value.trim() });
      replace(secretEl, h('p', { class: 'ok', role: 'status' }, t('Signing secret (shown once; keep it safe): '), h('code', {}, created.secret)));
      form.reset();
      await load();
    }, form);
  });
  load();
  return h('section', { 'aria-labelledby': 'wh-h' }, h('h2', { id: 'wh-h' }, t('Webhook endpoints')), messages.el, secretEl, listEl, form);
}

function endpointItem(ep, messages, reload) {
  const log = h('div', {});
  const loadLog = async () => {
    replace(log, loading(t('Loading deliveries…')));
    try {
      const items = (await get(`/webhook-endpoints/${ep.id}/deliveries?limit=20`)).items;
      replace(log, items.length ? h('div', { class: 'table-wrap' }, h('table', {}, h('caption', {}, t('Deliveries to {url}', { url: ep.url })),
        h('thead', {}, h('tr', {}, [t('Event'), t('Status'), t('Attempts'), t('Last HTTP status'), t('Created')].map((label) => h('th', { scope: 'col' }, label)))),
        h('tbody', {}, items.map((d) => h('tr', {}, h('td', {}, d.event_type), h('td', {}, d.status), h('td', {}, String(d.attempt_count)),
          h('td', {}, d.last_status_code ? String(d.last_status_code) : '—'), h('td', {}, when(d.created_at)))))))
        : empty(t('No deliveries yet.')));
    } catch (err) { replace(log, errorBox(err.message)); }
  };
  loadLog();
  return h('li', { class: 'card' },
    h('p', {}, h('code', {}, ep.url), ' ', badge(ep.enabled ? t('Enabled') : t('Disabled'), ep.enabled ? 'accepted' : 'cancelled'),
      ep.disabled_reason ? ` (${ep.disabled_reason})` : ''),
    h('p', { class: 'meta' }, t('Events: {events}', { events: ep.event_types.join(', ') }), ep.description ? ` · ${ep.description}` : ''),
    h('div', { class: 'actions' },
      h('button', { type: 'button', onclick: (e) => act(e.currentTarget, messages, async () => {
        await post(`/webhook-endpoints/${ep.id}/test`);
        messages.ok(t('Test delivery sent: it appears in the log below.'));
        setTimeout(loadLog, 1500);
        await loadLog();
      }) }, t('Send test')),
      h('button', { type: 'button', onclick: loadLog }, t('Refresh log')),
      h('button', { type: 'button', class: 'danger', 'aria-label': t('Delete endpoint {url}', { url: ep.url }), onclick: (e) => act(e.currentTarget, messages, async () => {
        await del(`/webhook-endpoints/${ep.id}`);
        await reload();
      }) }, t('Delete'))),
    log);
}
