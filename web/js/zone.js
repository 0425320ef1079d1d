// The public pages are written by the server in the timezone of their address (`tz`): without one, the browser's.
const url = new URL(location.href);
const zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
if (document.getElementById('zone-note') && !url.searchParams.has('tz') && zone && zone !== 'UTC') {
  url.searchParams.set('tz', zone);
  location.replace(url);
}
