// The live stream GET /api/v1/events/stream (Server-Sent Events) read with fetch() and a
// ReadableStream, since an EventSource cannot send the Authorization header. It resumes with
// Last-Event-ID after every disconnect, and tells listeners to reload on a `reset` frame.
// When the server has no stream for this tab (429: the account's other tabs hold them all, or
// streams of pages just reloaded not yet noticed gone; 503: the server is full), the tab polls:
// every POLL_MS its listeners get a `reset` and reload what they show, until a stream is admitted.
//
// A person's tabs share one stream: the tab holding the Web Lock `mentorship.live` (the leader) opens it for the
// listings every tab watches, and passes each frame and its mode to the others over a BroadcastChannel; when it
// closes or signs out, the lock goes to the next tab, which opens the stream from the last id seen. Extra tabs cost
// the server no stream. A browser without BroadcastChannel or Web Locks streams in every tab, as before.
import { BASE_URL, refreshTokens, session } from './api.js';

const MAX_WATCHED = 20; // the API accepts up to 20 listing_id parameters
const POLL_MS = 10000;
const MAX_RETRY_MS = 15000;
const listeners = new Set();
const statusListeners = new Set();
let watched = [];
let controller = null;
let running = false;
let connected = false;
let mode = 'reconnecting'; // 'live' | 'polling' | 'reconnecting'
let poller = null;
let lastEventId = '';
let generation = 0;

const channel = typeof BroadcastChannel === 'function' && navigator.locks ? new BroadcastChannel('mentorship.live') : null;
const tabId = `${Date.now().toString(36)}-${Math.random().toString(36).slice(2)}`;
let leading = !channel; // without a channel, every tab streams for itself
let stepDown = null; // ends the leader's hold on the lock
let campaign = null; // the lock request waiting its turn
const othersWatch = new Map(); // as leader: each other tab's watched listings
// oxlint-disable-next-line unicorn/require-post-message-target-origin -- a BroadcastChannel's, to this origin's tabs only
const tell = (message) => channel && channel.postMessage({ ...message, tab: tabId });

const sleep = (ms, signal) => new Promise((resolve) => {
  const timer = setTimeout(resolve, ms);
  if (signal) signal.addEventListener('abort', () => { clearTimeout(timer); resolve(); }, { once: true });
});

function setMode(value) {
  if (leading) tell({ type: 'mode', mode: value });
  connected = value === 'live';
  if (value === 'polling' && !poller) poller = setInterval(() => listeners.forEach((fn) => fn('reset', { reason: 'polling' })), POLL_MS);
  if (value !== 'polling' && poller) { clearInterval(poller); poller = null; }
  if (mode === value) return;
  mode = value;
  statusListeners.forEach((fn) => fn(connected, mode));
}

/** Parse `text/event-stream` bytes into frames {id, event, data}; calls onFrame for each. */
export async function readFrames(body, onFrame) {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  let buffer = '';
  let frame = { id: null, event: 'message', data: [] };
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    buffer += decoder.decode(value, { stream: true });
    let newline;
    while ((newline = buffer.search(/\r\n|\r|\n/)) >= 0) {
      if (newline === buffer.length - 1 && buffer[newline] === '\r') break; // maybe a CR LF cut in two: wait for the rest
      const line = buffer.slice(0, newline);
      buffer = buffer.slice(newline + (buffer[newline] === '\r' && buffer[newline + 1] === '\n' ? 2 : 1));
      if (line === '') {
        if (frame.data.length || frame.id !== null) onFrame({ ...frame, data: frame.data.join('\n') });
        frame = { id: null, event: 'message', data: [] };
        continue;
      }
      if (line.startsWith(':')) continue; // keep-alive comment
      const colon = line.indexOf(':');
      const field = colon < 0 ? line : line.slice(0, colon);
      const valueText = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
      if (field === 'id') frame.id = valueText;
      else if (field === 'event') frame.event = valueText;
      else if (field === 'data') frame.data.push(valueText);
    }
  }
}

function deliver(frame) {
  if (leading) tell({ type: 'frame', frame });
  if (frame.id) lastEventId = frame.id;
  if (frame.event === 'message' && !frame.data) return;
  let data = null;
  try { data = frame.data ? JSON.parse(frame.data) : null; } catch { data = null; }
  listeners.forEach((fn) => fn(frame.event, data || {}));
}

async function loop(myGeneration) {
  let delay = 1000;
  // oxlint-disable-next-line no-unmodified-loop-condition -- stop() and restart() change them while the loop awaits
  while (running && myGeneration === generation) {
    controller = new AbortController();
    const { signal } = controller;
    try {
      const query = streamed().map((id) => `listing_id=${encodeURIComponent(id)}`).join('&');
      const headers = { Accept: 'text/event-stream', Authorization: `Bearer ${session.token}` };
      if (lastEventId) headers['Last-Event-ID'] = lastEventId;
      const res = await fetch(`${BASE_URL}/events/stream${query ? `?${query}` : ''}`, { headers, signal, cache: 'no-store' });
      if (res.status === 401) {
        if (!(await refreshTokens())) { session.clear(); return; }
        continue;
      }
      if (!res.ok || !res.body) {
        const retryAfter = Number(res.headers.get('Retry-After'));
        setMode(res.status === 429 || res.status === 503 ? 'polling' : 'reconnecting');
        await sleep(Number.isFinite(retryAfter) && retryAfter > 0 ? Math.min(retryAfter * 1000, MAX_RETRY_MS) : delay, signal);
        delay = Math.min(delay * 2, MAX_RETRY_MS);
        continue;
      }
      const wasPolling = mode === 'polling';
      setMode('live');
      if (wasPolling) deliver({ id: null, event: 'reset', data: '{}' }); // what changed since the last poll
      delay = 1000;
      await readFrames(res.body, deliver);
      // The server ends each stream after its lifetime: reconnect at once, resuming after the last id.
    } catch {
      if (signal.aborted && myGeneration !== generation) return; // replaced by a newer connection
      if (mode !== 'polling') setMode('reconnecting');
      await sleep(delay, signal);
      delay = Math.min(delay * 2, MAX_RETRY_MS);
    }
  }
}

function restart() {
  generation += 1;
  if (controller) controller.abort();
  if (running && leading) loop(generation);
}

/** The listings the stream follows: this tab's and, as leader, the other tabs' (the latest MAX_WATCHED). */
function streamed() {
  const all = [...new Set([...[...othersWatch.values()].flat(), ...watched])];
  return all.slice(-MAX_WATCHED);
}

/** Wait for the lock; holding it, lead: open the stream for every tab, until this tab stops or closes. */
function runForLeader() {
  if (!channel || campaign) return;
  const ended = new AbortController();
  campaign = ended;
  navigator.locks.request('mentorship.live', { signal: ended.signal }, async () => {
    if (!running) return;
    leading = true;
    tell({ type: 'lead' });
    restart();
    await new Promise((resolve) => { stepDown = resolve; });
    leading = false;
  }).catch(() => { /* stopped while waiting */ }).finally(() => { if (campaign === ended) campaign = null; });
}

if (channel) {
  channel.addEventListener('message', ({ data: message }) => {
    if (!running) return;
    if (leading) {
      if (message.type === 'watch') {
        const before = streamed().join();
        othersWatch.set(message.tab, message.ids);
        if (streamed().join() !== before) restart();
      } else if (message.type === 'bye') othersWatch.delete(message.tab);
      else if (message.type === 'hello') tell({ type: 'mode', mode });
      else if (message.type === 'reconnect') restart();
      return;
    }
    if (message.type === 'frame') deliver(message.frame);
    else if (message.type === 'mode') setMode(message.mode);
    else if (message.type === 'lead') tell({ type: 'watch', ids: watched });
  });
  window.addEventListener('pagehide', () => tell({ type: 'bye' }));
}

export const live = {
  get connected() { return connected; },
  get mode() { return mode; },
  start() {
    if (running) return;
    running = true;
    if (!channel) { restart(); return; }
    tell({ type: 'watch', ids: watched });
    tell({ type: 'hello' });
    runForLeader();
  },
  stop() {
    running = false;
    generation += 1;
    if (controller) controller.abort();
    if (campaign) campaign.abort();
    if (stepDown) { stepDown(); stepDown = null; }
    if (channel) { leading = false; othersWatch.clear(); tell({ type: 'bye' }); }
    lastEventId = '';
    setMode('reconnecting');
  },
  /** Reconnect now, e.g. after becoming a mentor: the stream's audience is fixed when it opens. */
  reconnect() {
    if (!running) return;
    if (leading) restart(); else tell({ type: 'reconnect' });
  },
  /** Also receive slot changes of this listing; the stream reconnects once to add it. */
  watch(listingId) {
    if (watched.includes(listingId)) return;
    watched = [...watched, listingId].slice(-MAX_WATCHED);
    if (!running) return;
    if (leading) restart(); else tell({ type: 'watch', ids: watched });
  },
  /** Whether this tab holds the stream for the others (or for itself alone). */
  get leading() { return leading; },
  /** fn(eventType, data) for every frame; returns the unsubscribe function. */
  on(fn) { listeners.add(fn); return () => listeners.delete(fn); },
  /** fn(connected, mode) when the mode changes: 'live', 'polling' (no stream for this tab) or 'reconnecting'. */
  onStatus(fn) { statusListeners.add(fn); return () => statusListeners.delete(fn); },
};
