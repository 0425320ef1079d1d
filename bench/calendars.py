"""``calendar_sync_ratio`` and ``calendar_read_ratio``: the first sync of a mentor's calendar of 1,000 events (100
of them weekly and open-ended, from a year ago: the shape of a Google or Outlook secret address;
``Config.calendar_events``) from a local Radicale over CalDAV, and the same events as one ``.ics`` over HTTP from a
local server, in the same run.

Both reads are what a sync does (``workflows.calendars.sync.read``: the requests, the parsing, the expansion of the
recurring events and the merge of the busy times), on a fresh plan each time (no ctag or ETag known, so every event
is read). ``calendar_sync_ratio`` is CalDAV ÷ ``.ics``: what CalDAV's calendar query costs beyond one plain GET of the
same data. ``calendar_read_ratio`` is the slower of the two ÷ parsing the ``.ics`` text with ``icalendar`` alone (the
least any reader does): a read that grows faster than the calendar cannot hide behind it, as it could behind the first
figure's slow denominator. The milliseconds per 1,000 events are printed beside it.
"""

from __future__ import annotations

import http.server
import statistics
import tempfile
import threading
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import icalendar

from bench.figures import Config, Rep
from devstack.host import free_port
from devstack.radicale import Radicale
from infra.config import Settings, get_settings
from models.calendars import CALDAV, SUBSCRIPTION
from workflows.calendars import sync as calendar_sync

RECURRING_SHARE = 10  # every tenth event is weekly, ten times
STAMP = "%Y%m%dT%H%M%SZ"


def _events(start: datetime, count: int) -> list[str]:
    """``count`` VEVENTs of an hour, one every three hours from ``start``: every tenth weekly, for ever."""
    found = []
    for n in range(count):
        begins = start + timedelta(hours=n * 3 + 1)
        rule = "RRULE:FREQ=WEEKLY\r\n" if n % RECURRING_SHARE == 0 else ""
        found.append(f"BEGIN:VEVENT\r\nUID:bench-{n}\r\nDTSTAMP:20300101T000000Z\r\nDTSTART:{begins:{STAMP}}\r\n"
                     f"DTEND:{begins + timedelta(hours=1):{STAMP}}\r\n{rule}SUMMARY:Busy {n}\r\nEND:VEVENT\r\n")
    return found


def _wrapped(events: list[str]) -> str:
    return "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//bench//EN\r\n" + "".join(events) + "END:VCALENDAR\r\n"


def calendar_sync_ratio(cfg: Config) -> list[Rep]:
    import caldav  # noqa: PLC0415 - a development dependency, as Radicale

    settings = get_settings()
    start = datetime.now(UTC).replace(minute=0, second=0, microsecond=0) - timedelta(days=365)
    events = _events(start, cfg.calendar_events)
    feed = _wrapped(events).encode()

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "text/calendar")
            self.send_header("Content-Length", str(len(feed)))
            self.end_headers()
            self.wfile.write(feed)

        def log_message(self, *_args: object) -> None:
            pass

    with tempfile.TemporaryDirectory() as scratch:
        server = Radicale(Path(scratch) / "radicale", free_port())
        server.start()
        http_server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=http_server.serve_forever, daemon=True).start()
        try:
            calendar = caldav.DAVClient(url=server.url, username=server.user, password=server.password
                                        ).principal().make_calendar(name="Busy")
            for event in events:
                calendar.add_event(_wrapped([event]))
            cfg.progress(f"calendar_sync: {len(events)} events in Radicale and in one .ics of {len(feed) // 1024} KiB")
            zone = ZoneInfo("UTC")
            caldav_plan = calendar_sync.Plan(uuid.uuid4(), CALDAV, {"url": server.url, "username": server.user,
                                                                    "password": server.password}, zone, {},
                                             [(uuid.uuid4(), str(calendar.url), None)])
            ics_url = f"http://127.0.0.1:{http_server.server_port}/basic.ics"
            ics_plan = calendar_sync.Plan(uuid.uuid4(), SUBSCRIPTION, {"url": ics_url}, zone, {},
                                          [(uuid.uuid4(), ics_url, None)])
            return [_rep(cfg, caldav_plan, ics_plan, feed, settings=settings, rep=rep) for rep in range(cfg.reps)]
        finally:
            http_server.shutdown()
            http_server.server_close()
            server.stop()


def _timed(plan: calendar_sync.Plan, settings: Settings, now: datetime) -> tuple[float, int]:
    began = time.perf_counter()
    reads, _validators = calendar_sync.read(plan, settings, now)
    busy = sum(len(r.busy or []) for r in reads)
    return (time.perf_counter() - began) * 1000, busy


def _parsed_ms(feed: bytes) -> float:
    began = time.perf_counter()
    icalendar.Calendar.from_ical(feed)
    return (time.perf_counter() - began) * 1000


def _rep(cfg: Config, caldav_plan: calendar_sync.Plan, ics_plan: calendar_sync.Plan, feed: bytes, *,
         settings: Settings, rep: int) -> Rep:
    """One repetition: each side read five times, and the feed parsed five times, in turn (the order flipped each
    repetition); their medians."""
    now = datetime.now(UTC)
    caldav_ms: list[float] = []
    ics_ms: list[float] = []
    parse_ms: list[float] = []
    counts = set()
    for _ in range(5):
        order: list[tuple[calendar_sync.Plan | None, list[float]]] = [
            (caldav_plan, caldav_ms), (ics_plan, ics_ms), (None, parse_ms)]
        for plan, times in order if rep % 2 == 0 else reversed(order):
            if plan is None:
                times.append(_parsed_ms(feed))
                continue
            elapsed, busy = _timed(plan, settings, now)
            times.append(elapsed)
            counts.add(busy)
    if len(counts) != 1:
        raise RuntimeError(f"the two reads found different busy times: {counts}")
    first, plain, floor = statistics.median(caldav_ms), statistics.median(ics_ms), statistics.median(parse_ms)
    per_thousand = max(first, plain) * 1000 / cfg.calendar_events
    cfg.progress(f"calendar_sync rep {rep + 1}: CalDAV {first:.0f} ms, .ics {plain:.0f} ms "
                 f"(ratio {first / plain:.2f}); icalendar's parse alone {floor:.0f} ms "
                 f"(read ratio {max(first, plain) / floor:.2f}, {per_thousand:.0f} ms per 1,000 events); "
                 f"{counts.pop()} busy intervals")
    return {"caldav_ms": first, "ics_ms": plain, "parse_ms": floor, "read_ms_per_1000_events": per_thousand,
            "ratio": first / plain, "read_ratio": max(first, plain) / floor}
