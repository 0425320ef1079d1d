// "Calendars" on the mentor's setup page: connect a CalDAV account (iCloud, Fastmail, Nextcloud…: a server, a user
// and an app password) or a secret iCalendar address (Google, Outlook); per calendar, whether its events make you busy
// and which one receives your sessions; when each was last read and what went wrong last; disconnect.
import { del, get, patch, post } from '../../api.js';
import { h, field, replace, empty, errorBox, messageArea, act, when, badge } from '../../ui.js';
import { t, tn } from '../../words.js';

export function calendarsSection() {
  const messages = messageArea();
  const listEl = h('div', {});
  // A connection not read yet, or changed, is read by a worker within seconds: look again every 2 s (30 times at
  // most) until each was read after the change, so its "Last read" shows without a reload.
  let timer = null;
  let since = 0;
  let looks = 0;
  const reload = async ({ changed = false } = {}) => {
    clearTimeout(timer);
    if (changed) { since = Date.now(); looks = 0; }
    try {
      const { items } = await get('/calendar-connections');
      replace(listEl, items.length ? h('ul', { class: 'list' }, items.map((c) => connectionItem(c, messages, reload)))
        : empty(t('No calendar connected: mentees see every free slot of your availability.')));
      const behind = items.some((c) => c.status === 'active'
        && (!c.busy_synced_at || new Date(c.busy_synced_at).getTime() < since - 1000));
      if (behind && looks < 30 && (looks === 0 || listEl.isConnected)) {
        looks += 1;
        timer = setTimeout(() => reload(), 2000);
      }
    } catch (err) { replace(listEl, errorBox(err.message)); }
  };
  const form = connectForm(messages, reload);
  reload();
  return h('section', { 'aria-labelledby': 'cal-h', class: 'card' }, h('h2', { id: 'cal-h' }, t('Calendars')),
    h('p', { class: 'muted' }, t('Times your own calendar is busy are never offered to mentees; your sessions can be '
      + 'written to one of your calendars. The address and password are kept encrypted and never shown again.')),
    listEl, form, messages.el);
}

function connectForm(messages, reload) {
  const form = h('form', { 'aria-labelledby': 'cal-add-h' }, h('h3', { id: 'cal-add-h' }, t('Connect a calendar')),
    field(t('Kind'), { tag: 'select', name: 'kind' }, [['caldav', t('CalDAV account (iCloud, Fastmail, Nextcloud…)')],
      ['ics', t('Secret iCalendar address (Google, Outlook): read-only')]]),
    field(t('Server or address'), { name: 'url', type: 'url', required: true, maxlength: 2048,
      placeholder: 'https://caldav.fastmail.com/' }),
    field(t('User name'), { name: 'username', maxlength: 200, autocomplete: 'off' }),
    field(t('App password'), { name: 'password', type: 'password', maxlength: 500, autocomplete: 'new-password' }),
    h('button', { type: 'submit', class: 'primary' }, t('Connect')));
  const account = () => form.kind.value === 'caldav';
  const sync = () => { for (const name of ['username', 'password']) form[name].closest('.field').hidden = !account(); };
  form.kind.addEventListener('change', sync);
  sync();
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    act(form.querySelector('button[type=submit]'), messages, async () => {
      const body = { kind: form.kind.value, url: form.url.value.trim() };
      if (account()) Object.assign(body, { username: form.username.value.trim(), password: form.password.value });
      const made = await post('/calendar-connections', body);
      form.reset();
      sync();
      messages.ok(tn('Connected to {host}: {count} calendar found, all counted as busy. Choose below.',
        'Connected to {host}: {count} calendars found, all counted as busy. Choose below.', made.calendars.length, { host: made.host }));
      await reload({ changed: true });
    }, form);
  });
  return form;
}

function connectionItem(connection, messages, reload) {
  const save = (choice) => async (e) => act(e.currentTarget, messages, async () => {
    await patch(`/calendar-connections/${connection.id}`, { calendars: [choice] });
    messages.ok(t('Saved: your free slots follow the next sync.'));
    await reload({ changed: true });
  });
  const rows = connection.calendars.map((cal) => h('li', {},
    h('label', {}, h('input', { type: 'checkbox', checked: cal.busy, onchange: (e) => save({ id: cal.id, busy: e.currentTarget.checked })(e) }),
      ' ', t('{calendar} makes me busy', { calendar: cal.name })), ' ',
    cal.writable ? h('label', {}, h('input', { type: 'radio', name: 'session-target', checked: cal.target,
      onchange: (e) => save({ id: cal.id, target: true })(e) }), ' ', t('sessions go here')) : h('span', { class: 'muted' }, t('(read-only)')),
    cal.target ? [' ', h('button', { type: 'button', onclick: save({ id: cal.id, target: false }) },
      t('Stop writing sessions here'))] : null,
    cal.writes_owed ? h('p', { class: 'meta' },
      tn('{count} session not written here yet', '{count} sessions not written here yet', cal.writes_owed),
      ' · ', cal.last_write_error ? t('last error: {error}', { error: cal.last_write_error }) : t('on its way')) : null));
  const status = connection.status === 'broken' ? badge(t('Needs a new password'), 'cancelled') : badge(t('Connected'), 'accepted');
  return h('li', {}, h('div', { role: 'group', 'aria-label': t('Calendar at {host}', { host: connection.host }) },
    h('strong', {}, connection.host), ' ', status,
    h('p', { class: 'meta' }, connection.busy_synced_at ? t('Last read {at}', { at: when(connection.busy_synced_at) }) : t('Not read yet'),
      connection.last_error ? [' · ', t('last error: {error}', { error: connection.last_error })] : ''),
    h('ul', { class: 'calendars' }, rows),
    h('div', { class: 'actions' }, h('button', { type: 'button', class: 'danger', onclick: (e) => act(e.currentTarget, messages, async () => {
      await del(`/calendar-connections/${connection.id}`);
      messages.ok(t('Disconnected from {host}: its busy times are gone.', { host: connection.host }));
      await reload();
    }) }, t('Disconnect {host}', { host: connection.host })))));
}
