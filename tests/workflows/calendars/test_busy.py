"""Reading what makes a mentor busy from hostile iCalendar text (``workflows/calendars/busy.py``): a rule repeating
every second, a weekly rule thirty years old, one event of 20,001 occurrences, a rule that never matches, time zones
whose rules would expand for ever, one mentor's time zone leaking into another's read; and a calendar of thousands of
events read in linear work (counted: occurrences generated and expansions run, never seconds)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from dateutil import rrule as dateutil_rrule
from recurring_ical_events.series import rrule as series_rrule

from infra.calendar_http import CalendarFault
from tests.calendar_servers import ics, vevent
from workflows.calendars import busy as calendar_busy

NOW = datetime(2030, 3, 20, 12, tzinfo=UTC)
START, END = NOW - timedelta(days=1), NOW + timedelta(days=180)
PARIS = ZoneInfo("Europe/Paris")


calendar, event = ics, vevent


@dataclass
class Work:
    """What an expansion did: occurrences dateutil generated, and series expanded over a span."""

    generated: int = 0
    expansions: int = 0


@contextmanager
def counted() -> Iterator[Work]:
    """The work done inside the block."""
    work = Work()
    iterate, between = dateutil_rrule.rrule._iter, series_rrule.Series.between

    def counting_iter(rule: Any) -> Iterator[datetime]:
        for occurrence in iterate(rule):
            work.generated += 1
            yield occurrence

    def counting_between(series: Any, *args: Any) -> Any:
        work.expansions += 1
        return between(series, *args)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(dateutil_rrule.rrule, "_iter", counting_iter)
        patch.setattr(series_rrule.Series, "between", counting_between)
        yield work


def read(*objects: bytes, limit: int = 20_000, cpu: float = 10.0) -> list[tuple[datetime, datetime]]:
    return calendar_busy.busy_times(list(objects), PARIS, START, END, limit, cpu_seconds=cpu)


def test_a_rule_repeating_every_second_is_refused_before_anything_is_expanded() -> None:
    sixty_days_ago = NOW - timedelta(days=60)
    for frequency in ("SECONDLY", "MINUTELY", "HOURLY"):
        with counted() as work, pytest.raises(CalendarFault, match=f"more often than daily \\(FREQ={frequency}\\)"):
            read(calendar(event("fast", sixty_days_ago, f"FREQ={frequency}", minutes=1)))
        assert work.generated == 0


def test_a_weekly_rule_thirty_years_old_is_read_from_just_before_the_window() -> None:
    began = datetime(2000, 3, 21, 17, tzinfo=UTC)  # a Tuesday, 18:00 in Paris in winter
    body = ("BEGIN:VEVENT\r\nUID:choir\r\nDTSTAMP:20000101T000000Z\r\nDTSTART;TZID=Europe/Paris:20000321T180000\r\n"
            "DTEND;TZID=Europe/Paris:20000321T190000\r\nRRULE:FREQ=WEEKLY\r\n"
            "EXDATE;TZID=Europe/Paris:20300402T180000\r\nSUMMARY:Choir\r\nEND:VEVENT\r\n")
    with counted() as work:
        busy = read(calendar(body))
    assert began.weekday() == 1
    # Every Tuesday at 18:00 in Paris (17:00Z in winter, 16:00Z in summer from 31 March), but 2 April.
    assert busy[:3] == [(datetime(2030, 3, 19, 17, tzinfo=UTC), datetime(2030, 3, 19, 18, tzinfo=UTC)),
                        (datetime(2030, 3, 26, 17, tzinfo=UTC), datetime(2030, 3, 26, 18, tzinfo=UTC)),
                        (datetime(2030, 4, 9, 16, tzinfo=UTC), datetime(2030, 4, 9, 17, tzinfo=UTC))]
    assert len(busy) == 25  # the Tuesdays of the window's 180 days, 2 April left out
    # About the window's weeks, not the 1,560 since 2000.
    assert work.generated < 40


def test_one_event_of_twenty_thousand_and_one_occurrences_is_refused() -> None:
    every_minute = "FREQ=DAILY;COUNT=20001;BYHOUR=" + ",".join(map(str, range(24))) + ";BYMINUTE=" + \
        ",".join(map(str, range(60)))
    # The same count spread over events: each occurrence counts, however many events hold them.
    daily = [event(f"daily-{n}", NOW + timedelta(minutes=n), "FREQ=DAILY") for n in range(120)]
    for text in (calendar(event("many", NOW, every_minute, minutes=1)), calendar(*daily)):
        with counted() as work, pytest.raises(CalendarFault, match="repeat more than 20000 times"):
            read(text)
        assert work.generated == 0


def test_a_rule_that_never_matches_is_ended_by_the_cpu_budget() -> None:
    never = event("never", NOW, "FREQ=DAILY;BYMONTH=2;BYMONTHDAY=30")  # dateutil would count days to 9999
    with pytest.raises(CalendarFault, match=r"takes more than 0\.3 s to read"):
        read(calendar(never), cpu=0.3)


def test_a_time_zones_rules_are_bounded_before_icalendar_expands_them() -> None:
    def zone(name: str, rule: str) -> str:
        return (f"BEGIN:VTIMEZONE\r\nTZID:{name}\r\nBEGIN:STANDARD\r\nDTSTART:19000101T000000\r\n"
                f"TZOFFSETFROM:+0100\r\nTZOFFSETTO:+0100\r\nRRULE:{rule}\r\nEND:STANDARD\r\nEND:VTIMEZONE\r\n")

    use = ("BEGIN:VEVENT\r\nUID:tz\r\nDTSTAMP:20300101T000000Z\r\nDTSTART;TZID=Mine:20300325T100000\r\n"
           "DTEND;TZID=Mine:20300325T110000\r\nEND:VEVENT\r\n")
    with counted() as work:
        with pytest.raises(CalendarFault, match="more often than daily"):
            read(calendar(zone("Mine", "FREQ=SECONDLY"), use))
        with pytest.raises(CalendarFault, match="repeat more than"):
            read(calendar(zone("Mine", "FREQ=DAILY"), use))  # 50,000 days to 2038
    assert work.generated == 0


def test_one_mentors_time_zone_is_never_another_ones() -> None:
    def customised(offset: str) -> bytes:
        return calendar(
            "BEGIN:VTIMEZONE\r\nTZID:Customized Time Zone\r\nBEGIN:STANDARD\r\nDTSTART:16010101T000000\r\n"
            f"TZOFFSETFROM:{offset}\r\nTZOFFSETTO:{offset}\r\nEND:STANDARD\r\nEND:VTIMEZONE\r\n"
            "BEGIN:VEVENT\r\nUID:x\r\nDTSTAMP:20300101T000000Z\r\nDTSTART;TZID=Customized Time Zone:20300325T100000"
            "\r\nDTEND;TZID=Customized Time Zone:20300325T110000\r\nEND:VEVENT\r\n")

    assert read(customised("+0100")) == [(datetime(2030, 3, 25, 9, tzinfo=UTC), datetime(2030, 3, 25, 10, tzinfo=UTC))]
    assert read(customised("-0500")) == [(datetime(2030, 3, 25, 15, tzinfo=UTC), datetime(2030, 3, 25, 16, tzinfo=UTC))]


def _events(count: int) -> list[str]:
    """``count`` events of an hour, one every three hours from a year ago: every tenth weekly, open-ended, as a
    Google or Outlook address holds years of them."""
    began = NOW - timedelta(days=365)
    return [event(f"e{n}", began + timedelta(hours=3 * n), "FREQ=WEEKLY" if n % 10 == 0 else "")
            for n in range(count)]


@pytest.mark.parametrize("shape", ["one feed", "one object each"])
def test_a_big_calendar_is_read_in_linear_work(shape: str) -> None:
    done = {}
    for count in (1_000, 5_000):
        events = _events(count)
        objects = [calendar(*events)] if shape == "one feed" else [calendar(one) for one in events]
        with counted() as work:
            busy = read(*objects)
        assert busy, "the weekly events fall in the window"
        done[count] = work
    # Five times the events (and the series), five times the work: a pass over the window per series.
    assert done[5_000].expansions == 5 * done[1_000].expansions
    assert done[5_000].generated <= 5.5 * done[1_000].generated


def test_the_parser_is_icalendars_own() -> None:
    # calendar_busy builds icalendar's parser itself to bound time zones before they expand: the same result.
    import icalendar

    text = calendar(event("a", NOW), event("b", NOW + timedelta(days=1), "FREQ=DAILY;COUNT=3"))
    assert calendar_busy._parse(text, calendar_busy._Budget(100, END, PARIS)).to_ical() == \
        icalendar.Calendar.from_ical(text).to_ical()


def test_an_old_series_moved_to_the_window_keeps_every_occurrence_of_the_window() -> None:
    # Rules of every frequency and interval, started years ago in other zones (DST changes included), read with the
    # series moved and ended at the window and plainly: the same busy times.
    import random

    import icalendar
    import recurring_ical_events

    chance = random.Random(20301)  # noqa: S311 - cases, not secrets
    shapes = ["FREQ=DAILY", "FREQ=DAILY;BYDAY=MO,WE,FR", "FREQ=WEEKLY", "FREQ=WEEKLY;BYDAY=TU,TH",
              "FREQ=WEEKLY;WKST=SU;BYDAY=SU,SA", "FREQ=MONTHLY", "FREQ=MONTHLY;BYDAY=1MO",
              "FREQ=MONTHLY;BYMONTHDAY=15,28", "FREQ=MONTHLY;BYDAY=MO,TU,WE,TH,FR;BYSETPOS=-1", "FREQ=YEARLY",
              "FREQ=YEARLY;BYMONTH=4,6;BYDAY=2WE"]
    zones = ["Europe/Paris", "America/New_York", "Asia/Tokyo", "Australia/Sydney"]
    for case in range(120):
        zone = chance.choice(zones)
        began = datetime(chance.randint(1995, 2029), chance.randint(1, 12), chance.randint(1, 28),  # noqa: DTZ001
                         chance.randint(0, 23), chance.choice((0, 15, 30)))  # a wall-clock time in ``zone``
        rule = f"{chance.choice(shapes)};INTERVAL={chance.randint(1, 3)}"
        text = calendar(f"BEGIN:VEVENT\r\nUID:c{case}\r\nDTSTAMP:20300101T000000Z\r\n"
                        f"DTSTART;TZID={zone}:{began:%Y%m%dT%H%M%S}\r\n"
                        f"DTEND;TZID={zone}:{began + timedelta(minutes=90):%Y%m%dT%H%M%S}\r\nRRULE:{rule}\r\n"
                        "END:VEVENT\r\n")
        plain = calendar_busy.merged(
            (max(a, START), min(b, END)) for a, b in (
                (calendar_busy._instant(e["DTSTART"].dt, PARIS), calendar_busy._instant(e["DTEND"].dt, PARIS))
                for e in recurring_ical_events.of(icalendar.Calendar.from_ical(text)).between(START, END))
            if b > a)
        assert read(text) == plain, (zone, began, rule)
