"""The scheduling rules in Chromium: a mentor sets a day of time off and a buffer on their setup page, and the
mentee's open listing page follows each change live; a request a rule refuses in a race says which rule, and
offers the next free times, one of which the mentee then books."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from tests.web.conftest import Axe, Served, browser_timezone, expect, new_page, shot, sign_up
from tests.web.pages import open_listing, slot_button

LIVE_WITHIN_MS = 5000  # the worker relays the event, the stream sends it, the page reloads its slots


def mentor_with_listing(served: Served, page: Any, zone: str) -> tuple[dict[str, str], dict[str, Any]]:
    sign_up(page, "Grace Hopper", "grace@example.com")
    grace = served.token("grace@example.com")
    served.call("POST", "/mentor-profiles", grace, {"headline": "Compilers", "timezone": zone, "skills": ["cobol"]},
                status=201)
    listing = served.call("POST", "/listings", grace, {"title": "COBOL clinic", "skill": "cobol",
                                                       "duration_minutes": 60, "price_cents": 5000}, status=201)
    page.reload()
    page.get_by_role("link", name="Mentor setup").click()
    expect(page.get_by_role("heading", level=1, name="Mentor setup")).to_be_visible()
    return grace, listing


def day_tab(page: Any, day: datetime) -> Any:
    return page.get_by_role("region", name="Free slots").get_by_role(
        "tab", name=re.compile(f"^{day:%a} {day.day} {day:%b} · "))


def test_a_day_of_time_off_takes_its_slots_off_the_mentees_page_live(
        web_server: Served, browser: Any, axe: Axe) -> None:
    served = web_server
    zone = browser_timezone(datetime.now(UTC))
    grace_page, ada_page = new_page(browser, served, zone), new_page(browser, served, zone)
    _grace, _listing = mentor_with_listing(served, grace_page, zone)
    sign_up(ada_page, "Ada Lovelace", "ada@example.com")
    open_listing(ada_page, "COBOL clinic", "cobol")
    away = (datetime.now(UTC) + timedelta(days=2)).astimezone(ZoneInfo(zone))
    expect(day_tab(ada_page, away)).to_be_visible()

    time_off = grace_page.get_by_role("region", name="Time off")
    time_off.get_by_label("Away from").fill(f"{away:%Y-%m-%d}")
    time_off.get_by_label("Back on").fill(f"{away + timedelta(days=1):%Y-%m-%d}")
    time_off.get_by_label("Note").fill("Conference")
    time_off.get_by_role("button", name="Add time off").click()
    expect(time_off.get_by_role("status")).to_have_text("Time off saved.")
    # One day away reads as that day, with its weekday and year, and the day back.
    back = away + timedelta(days=1)
    expect(time_off.get_by_role("listitem")).to_have_text(re.compile(
        f"^{away:%a}, {away.day} {away:%b} {away.year} \\(1 day\\), back {back:%a}, {back.day} {back:%b} {back.year} "
        "· Conference"))  # the page's locale, en-GB
    shot(grace_page, "schedule-01-time-off")
    axe.check(grace_page, "mentor setup with time off")

    # The mentee's page shows that day without free time, without a reload (the week's seven days stay listed); the
    # days around it keep theirs.
    expect(day_tab(ada_page, away)).to_have_accessible_name(re.compile(" · none$"), timeout=LIVE_WITHIN_MS)
    expect(day_tab(ada_page, away + timedelta(days=1))).to_have_accessible_name(re.compile(r" · \d+ free$"))

    # Removed again: the day comes back.
    time_off.get_by_role("button", name=re.compile("^Remove time off")).click()
    expect(time_off.get_by_text("No time off planned.")).to_be_visible()
    expect(day_tab(ada_page, away)).to_have_accessible_name(re.compile(r" · \d+ free$"), timeout=LIVE_WITHIN_MS)


def test_a_buffer_moves_the_slots_live_and_a_refused_request_says_the_mentor_is_not_available_and_the_next_times(
        web_server: Served, browser: Any, axe: Axe) -> None:
    served = web_server
    zone = browser_timezone(datetime.now(UTC))
    grace_page, ada_page = new_page(browser, served, zone), new_page(browser, served, zone)
    grace, listing = mentor_with_listing(served, grace_page, zone)
    card = grace_page.get_by_role("listitem").filter(has=grace_page.get_by_role("link", name="COBOL clinic"))
    card.get_by_text("Scheduling rules").click()
    card.get_by_label("Buffer after (minutes)").fill("30")
    card.get_by_label("Instant bookings one mentee may hold").fill("4")
    card.get_by_role("button", name="Save rules of COBOL clinic").click()
    expect(card.get_by_role("status")).to_have_text("Rules saved: the free slots follow at once.")
    assert served.call("GET", f"/listings/{listing['id']}", grace)["max_instant_bookings_per_mentor"] == 4
    axe.check(grace_page, "mentor setup with a listing's rules open")

    bob = served.register("Bob Kahn", "bob@example.com")
    start = (datetime.now(UTC) + timedelta(days=2)).astimezone(ZoneInfo(zone)).replace(
        hour=10, minute=0, second=0, microsecond=0)
    bob_request = served.call("POST", "/bookings", bob, {"listing_id": listing["id"],
                                                        "start_time": start.isoformat()}, status=201)
    sign_up(ada_page, "Ada Lovelace", "ada@example.com")
    # Ada's page gets no live stream: it polls every 10 s, so a change made now reaches it only on her request.
    ada_page.route("**/api/v1/events/stream*", lambda route: route.abort())
    open_listing(ada_page, "COBOL clinic", "cobol")
    after = start + timedelta(hours=1)
    slot_button(ada_page, after).click()
    expect(ada_page.locator("#selected-slot")).to_contain_text("Selected:")

    served.call("POST", f"/bookings/{bob_request['id']}/accept", grace)
    ada_page.get_by_role("button", name="Request booking").click()
    # A mentee is not told why (another person's session and its buffer are the mentor's): only that the mentor is
    # not available, with the next free times.
    refusal = ada_page.get_by_role("alert").filter(has_text="not available at that time")
    expect(refusal).not_to_contain_text("buffer")
    expect(refusal).to_contain_text("Next free times:")
    shot(ada_page, "schedule-02-refused-by-a-buffer")
    axe.check(ada_page, "a request refused by a buffer")
    # The slot the buffer blocks is gone from the picker; the first time offered is chosen, and booked.
    expect(slot_button(ada_page, after)).to_have_count(0)
    refusal.get_by_role("button").first.click()
    expect(ada_page.locator("#selected-slot")).to_contain_text("Selected:")
    ada_page.get_by_role("button", name="Request booking").click()
    expect(ada_page.get_by_role("status").filter(has_text="The mentor will accept or decline")).to_be_visible()
    ada = served.token("ada@example.com")
    mine = served.call("GET", "/bookings?role=mentee", ada)["items"]
    assert [b["status"] for b in mine] == ["draft"]
