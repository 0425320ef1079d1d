"""What makes a mentor busy, read from the iCalendar text of their own calendar: every cost bounded before it is paid.

A mentor's calendar is the most hostile input the service reads: one line of ``RRULE`` can ask for millions of
occurrences, a rule that never matches keeps ``dateutil`` counting days to the year 9999, and a ``VTIMEZONE`` is
expanded to 2038. So, before anything is expanded:

* events are counted in the raw text (more than ``max_events`` VEVENTs: refused before parsing);
* a rule repeating more often than daily (``FREQ=HOURLY``, ``MINUTELY``, ``SECONDLY``) refuses the calendar;
* an old series without a ``COUNT`` starts again just before the window, on its own lattice (whole periods of its
  ``INTERVAL``), and stops just after it (its ``UNTIL``), so a weekly event since 1996 costs what one since last
  month does;
* what each rule will then generate is bounded from above (periods to its end times occurrences per period, or its
  ``COUNT``), and the sum over every rule (those of time zones too) and every ``RDATE`` counts against
  ``max_events``;
* the whole read runs under a budget of CPU time (``cpu_seconds``, a profiling timer where the caller's thread can
  take a signal: a worker's task), which ends what the bounds above could not foresee (a rule that never matches).

Then every calendar object is expanded once over the window (``recurring-ical-events``' ``between``): linear in the
calendar's size. A refusal is a :class:`CalendarFault` whose message the mentor reads; the last good sync stands.
"""

from __future__ import annotations

import math
import re
import signal
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from types import FrameType
from typing import Any
from zoneinfo import ZoneInfo

import icalendar
import recurring_ical_events
from dateutil.relativedelta import relativedelta
from icalendar.parser.ical.component import ComponentIcalParser
from icalendar.timezone import tzp

from infra.calendar_http import CalendarFault
from workflows.calendar_owed import UID_DOMAIN

_OURS = f"@{UID_DOMAIN}"
_VEVENT_LINE = re.compile(rb"^BEGIN:VEVENT\r?$", re.IGNORECASE | re.MULTILINE)
SUB_DAILY = frozenset({"SECONDLY", "MINUTELY", "HOURLY"})
# The shortest length of each period (a month has at least 28 days): periods in a span are at most span / this + 1.
_PERIOD_DAYS = {"DAILY": 1, "WEEKLY": 7, "MONTHLY": 28, "YEARLY": 365}
TIMEZONE_RULES_END = datetime(2038, 12, 31, tzinfo=UTC)  # where icalendar stops a time zone's open-ended rules
_SLACK = timedelta(days=2)


class _OutOfTime(BaseException):
    """Raised by the CPU timer's signal wherever the read is."""


@contextmanager
def cpu_budget(seconds: float) -> Iterator[None]:
    """End the block with :class:`CalendarFault` once this process has spent ``seconds`` of CPU in it. Only where a
    signal can reach the caller (the main thread: a prefork worker's task, a script); elsewhere the count bounds
    stand alone."""
    if seconds <= 0 or threading.current_thread() is not threading.main_thread():
        yield
        return

    def expired(_signum: int, _frame: FrameType | None) -> None:
        raise _OutOfTime

    previous = signal.signal(signal.SIGPROF, expired)
    signal.setitimer(signal.ITIMER_PROF, seconds)
    try:
        yield
    except _OutOfTime:
        raise CalendarFault(f"the calendar takes more than {seconds:g} s to read: it is not read") from None
    finally:
        signal.setitimer(signal.ITIMER_PROF, 0)
        signal.signal(signal.SIGPROF, previous)


def busy_times(objects: Iterable[bytes], zone: ZoneInfo, start: datetime, end: datetime, max_events: int, *,
               cpu_seconds: float = 0.0) -> list[tuple[datetime, datetime]]:
    """What makes the mentor busy in [start, end) in these iCalendar objects, merged and in order; ``CalendarFault``
    for an object that is not iCalendar, or one whose events would cost more than ``max_events`` occurrences."""
    found: list[tuple[datetime, datetime]] = []
    budget = _Budget(max_events, end, zone)
    with cpu_budget(cpu_seconds), _own_time_zones():
        calendars = _parsed(objects, budget)
        for calendar in calendars:
            budget.bound(calendar, start, end)
        for calendar in calendars:
            try:
                occurrences = recurring_ical_events.of(calendar, components=_BUSY).between(start, end)
            except Exception as exc:  # noqa: BLE001 - any malformed rule or date: the calendar is refused
                raise CalendarFault(f"the calendar's events cannot be read ({type(exc).__name__})") from None
            for occurrence in occurrences:
                interval = _busy(occurrence, zone)
                if interval is not None and interval[1] > interval[0]:
                    found.append((max(interval[0], start), min(interval[1], end)))
    return merged(found)


@dataclass
class _Occurrence:
    """An occurrence as a busy time is read from it: its start and end, and the event it comes from (the master, or
    the modification of that occurrence)."""

    start: date | datetime
    end: date | datetime
    event: Any

    def __setitem__(self, _name: str, _value: object) -> None:
        """The SEQUENCE an occurrence would be given: not read here."""


class _BusyAdapter(recurring_ical_events.EventAdapter):  # type: ignore[misc]
    """recurring-ical-events' event adapter, whose occurrences are :class:`_Occurrence` instead of a copy of the
    event each (what most of an expansion cost)."""

    def as_component(self, start: Any = None, stop: Any = None, keep_recurrence_attributes: bool = True,  # noqa: FBT001, FBT002
                     ) -> _Occurrence:
        return _Occurrence(self.start if start is None else start, self.end if stop is None else stop,
                           self._component)


_BUSY = [recurring_ical_events.ComponentsWithName("VEVENT", _BusyAdapter)]


@contextmanager
def _own_time_zones() -> Iterator[None]:
    """icalendar keeps the time zones a calendar defines (``VTIMEZONE``) in one cache per process, by name: one
    mentor's "Customized Time Zone" would be another's. Each read starts and ends with none kept."""
    tzp.use_zoneinfo()
    try:
        yield
    finally:
        tzp.use_zoneinfo()


def _parsed(objects: Iterable[bytes], budget: _Budget) -> list[icalendar.Calendar]:
    calendars, seen = [], 0
    for data in objects:
        # Counted before parsing: a calendar far too large is refused without building it in memory.
        seen += sum(1 for _ in _VEVENT_LINE.finditer(data))
        if seen > budget.limit:
            raise CalendarFault(f"the calendar holds more than {budget.limit} events: it is not read")
        try:
            calendars.append(_parse(data, budget))
        except CalendarFault:
            raise
        except ValueError:
            raise CalendarFault("the calendar is not valid iCalendar") from None
    return calendars


class _Parser(ComponentIcalParser):
    """icalendar's parser, but a ``VTIMEZONE``'s rules are bounded before icalendar expands them (which it does as
    soon as it has read one whose name it does not know, to 2038)."""

    budget: _Budget

    def handle_end_component(self, vals: str) -> None:
        if vals.upper() == "VTIMEZONE" and self._stack:
            self.budget.time_zone(self._stack[-1])
        super().handle_end_component(vals)


def _parse(data: bytes, budget: _Budget) -> icalendar.Calendar:
    """``icalendar.Calendar.from_ical(data)`` through :class:`_Parser` (tests/workflows/calendars/test_busy.py fails
    if icalendar stops building its parser this way)."""
    parser = _Parser(data, icalendar.Calendar._get_component_factory(),
                     icalendar.Calendar.types_factory)
    parser.budget = budget
    found = parser.parse()
    if len(found) != 1 or not isinstance(found[0], icalendar.Calendar):
        raise CalendarFault("the calendar is not valid iCalendar")
    return found[0]


class _Budget:
    """The occurrences the expansion may generate, counted from above before it runs."""

    def __init__(self, limit: int, end: datetime, zone: ZoneInfo) -> None:
        self.limit = limit
        self.end = end
        self.zone = zone
        self.spent = 0
        self.time_zones: set[str] = set()

    def spend(self, count: int) -> None:
        self.spent += count
        if self.spent > self.limit:
            raise CalendarFault(f"the calendar's events repeat more than {self.limit} times before "
                                f"{self.end:%Y-%m-%d}: it is not read")

    def bound(self, calendar: icalendar.Calendar, start: datetime, end: datetime) -> None:
        """Bound each event's rules (an old series moved to the window, each ended after it), and count them."""
        with _readable():
            for component in calendar.walk("VEVENT"):
                self._event(component, self.zone, start, end)

    def time_zone(self, component: Any) -> None:
        """Count a time zone's rules once per name (icalendar expands each name once), before they are expanded."""
        with _readable():
            name = str(component.get("TZID", ""))
            if name in self.time_zones:
                return
            self.time_zones.add(name)
            for part in component.subcomponents:
                begins = part.get("DTSTART")
                for rule in _rules(part):
                    if begins is None:
                        raise CalendarFault("a time zone's rule has no start: the calendar is not read")
                    self.spend(_most(rule, _instant(begins.dt, self.zone), TIMEZONE_RULES_END, self.zone))
                self.spend(_rdates(part))

    def _event(self, component: Any, zone: ZoneInfo, start: datetime, end: datetime) -> None:
        _slim(component)
        rules = _rules(component)
        self.spend(1 + _rdates(component))
        begins = component.get("DTSTART")
        if not rules or begins is None or "RECURRENCE-ID" in component:
            return
        first = begins.dt
        length = _length(component, first, zone)
        if all("COUNT" not in rule for rule in rules):
            shift = _rebase(rules, _instant(first, zone), start - length - _SLACK)
            if shift:
                _move(component, shift)
                first = component["DTSTART"].dt
            for rule in rules:
                _clamp_until(rule, first, end + length + _SLACK, zone)
        since = _instant(first, zone)
        for rule in rules:
            self.spend(_most(rule, since, end + length + _SLACK, zone))


@contextmanager
def _readable() -> Iterator[None]:
    try:
        yield
    except CalendarFault:
        raise
    except Exception as exc:  # noqa: BLE001 - a rule or date that cannot be read: the calendar is refused
        raise CalendarFault(f"the calendar's events cannot be read ({type(exc).__name__})") from None


# What an occurrence's busy time is read from: the rest of an event (its description, attendees, alarms) is dropped
# before the expansion copies the event once per occurrence.
_KEPT = frozenset({"UID", "DTSTART", "DTEND", "DURATION", "RRULE", "RDATE", "EXDATE", "RECURRENCE-ID", "SEQUENCE",
                   "TRANSP", "STATUS"})


def _slim(component: Any) -> None:
    for name in [name for name in component if name not in _KEPT]:
        del component[name]
    component.subcomponents.clear()


def _rules(component: Any) -> list[icalendar.vRecur]:
    found = component.get("RRULE")
    rules = [] if found is None else found if isinstance(found, list) else [found]
    for rule in rules:
        if not isinstance(rule, icalendar.vRecur) or not rule.get("FREQ"):
            raise CalendarFault("a rule of the calendar cannot be read: the calendar is not read")
        frequency = str(rule["FREQ"][0]).upper()
        if frequency in SUB_DAILY:
            raise CalendarFault(f"an event repeats more often than daily (FREQ={frequency}): the calendar is not read")
        if frequency not in _PERIOD_DAYS:
            raise CalendarFault(f"a rule of the calendar has no known frequency ({frequency[:20]}): it is not read")
    return rules


def _rdates(component: Any) -> int:
    found = component.get("RDATE")
    return sum(len(one.dts) for one in ([] if found is None else found if isinstance(found, list) else [found]))


def _length(component: Any, first: date | datetime, zone: ZoneInfo) -> timedelta:
    ends, lasts = component.get("DTEND"), component.get("DURATION")
    if ends is not None:
        return max(timedelta(0), _instant(ends.dt, zone) - _instant(first, zone))
    if lasts is not None and isinstance(lasts.dt, timedelta):
        return max(timedelta(0), lasts.dt)
    return timedelta(days=1)


def _interval(rule: icalendar.vRecur) -> int:
    return max(1, int(rule.get("INTERVAL", [1])[0]))


def _most(rule: icalendar.vRecur, since: datetime, until: datetime, zone: ZoneInfo) -> int:
    """At most how many occurrences the rule generates from ``since`` to ``until`` (or its own end)."""
    frequency = str(rule["FREQ"][0]).upper()
    if rule.get("UNTIL"):
        until = min(until, _instant(rule["UNTIL"][0], zone))
    span = max(0.0, (until - since).total_seconds() / 86_400)
    periods = math.floor(span / (_PERIOD_DAYS[frequency] * _interval(rule))) + 1

    def many(part: str) -> int:
        return len(rule.get(part, [])) or 1

    def month_days() -> int:  # at most, in one month
        return min(31, len(rule.get("BYMONTHDAY", [])) + 5 * len(rule.get("BYDAY", []))) \
            if rule.get("BYMONTHDAY") or rule.get("BYDAY") else 1

    days = 1
    if frequency == "WEEKLY":
        days = min(7, many("BYDAY"))
    elif frequency == "MONTHLY":
        days = month_days()
    elif frequency == "YEARLY" and rule.get("BYYEARDAY"):
        days = len(rule["BYYEARDAY"])
    elif frequency == "YEARLY" and rule.get("BYWEEKNO"):
        days = 7 * len(rule["BYWEEKNO"])
    elif frequency == "YEARLY" and rule.get("BYMONTH"):
        days = len(rule["BYMONTH"]) * month_days()
    elif frequency == "YEARLY" and (rule.get("BYMONTHDAY") or rule.get("BYDAY")):
        days = min(366, 12 * len(rule.get("BYMONTHDAY", [])) + 53 * len(rule.get("BYDAY", [])))
    each = days * many("BYHOUR") * many("BYMINUTE") * many("BYSECOND")
    if rule.get("BYSETPOS"):
        each = min(each, len(rule["BYSETPOS"]))
    most = periods * each
    if rule.get("COUNT"):
        most = min(most, max(0, int(rule["COUNT"][0])))
    return most


def _rebase(rules: list[icalendar.vRecur], first: datetime, before: datetime) -> timedelta | relativedelta | None:
    """The whole periods of every rule to move an old series' start forward by, to just before ``before``: the same
    occurrences from there on (its lattice kept: days, weekdays, the day of the month, the time of day)."""
    if first >= before:
        return None
    frequencies = {str(rule["FREQ"][0]).upper() for rule in rules}
    intervals = {_interval(rule) for rule in rules}
    if len(frequencies) != 1 or len(intervals) != 1:
        return None
    frequency, interval = frequencies.pop(), intervals.pop()
    days = (before - first).days
    if frequency in ("DAILY", "WEEKLY"):
        step = _PERIOD_DAYS[frequency] * interval
        return timedelta(days=days // step * step) if days >= step else None
    local = first  # the day of the month and the month are kept: only when every month (or year) has them
    if frequency == "MONTHLY" and local.day <= 28:  # noqa: PLR2004 - every month has a 28th
        months = days // 31 // interval * interval
        return relativedelta(months=months) if months else None
    if frequency == "YEARLY" and (local.month, local.day) != (2, 29):
        years = days // 366 // interval * interval
        return relativedelta(years=years) if years else None
    return None


def _move(component: Any, shift: timedelta | relativedelta) -> None:
    """Move the event's start (and end) by ``shift`` of wall-clock time, in its own time zone."""
    for name in ("DTSTART", "DTEND"):
        if name in component:
            moved = component[name].dt + shift
            params = component[name].params
            component[name] = icalendar.vDDDTypes(moved)
            component[name].params.update({k: v for k, v in params.items() if k != "VALUE"})


def _clamp_until(rule: icalendar.vRecur, first: date | datetime, last: datetime, zone: ZoneInfo) -> None:
    """End the rule at ``last`` (if it ended later or never), in the form its start needs (a date, a floating time,
    or UTC)."""
    if rule.get("UNTIL") and _instant(rule["UNTIL"][0], zone) <= last:
        return
    if not isinstance(first, datetime):
        rule["UNTIL"] = [last.astimezone(zone).date()]
    elif first.tzinfo is None:
        rule["UNTIL"] = [last.astimezone(zone).replace(tzinfo=None, microsecond=0)]
    else:
        rule["UNTIL"] = [last.astimezone(UTC).replace(microsecond=0)]


def _instant(value: date | datetime, zone: ZoneInfo) -> datetime:
    if isinstance(value, datetime):
        return (value if value.tzinfo is not None else value.replace(tzinfo=zone)).astimezone(UTC)
    return datetime.combine(value, time(), zone).astimezone(UTC)  # an all-day event: the mentor's local midnight


def _busy(occurrence: _Occurrence, zone: ZoneInfo) -> tuple[datetime, datetime] | None:
    """The instants an occurrence makes the mentor busy, or ``None`` (transparent, cancelled, ours)."""
    event = occurrence.event
    if str(event.get("TRANSP", "OPAQUE")).upper() == "TRANSPARENT":
        return None
    if str(event.get("STATUS", "")).upper() == "CANCELLED" or str(event.get("UID", "")).endswith(_OURS):
        return None
    return _instant(occurrence.start, zone), _instant(occurrence.end, zone)


def merged(intervals: Iterable[tuple[datetime, datetime]]) -> list[tuple[datetime, datetime]]:
    out: list[tuple[datetime, datetime]] = []
    for begins, ends in sorted(intervals):
        if out and begins <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], ends))
        elif ends > begins:
            out.append((begins, ends))
    return out
