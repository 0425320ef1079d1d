"""Booking instantly, in Chromium: a mentor makes a listing booked without approval; a mentee on a phone books a
free time and it is confirmed at once; the mentor is told of a booking, with no request waiting."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from tests.web.conftest import PHONE, Axe, Served, browser_timezone, expect, new_page, shot, sign_up
from tests.web.pages import LIVE_MS, local, slot_button


def test_a_listing_booked_instantly_confirms_a_free_time_at_once(web_server: Served, browser: Any, axe: Axe) -> None:
    served = web_server
    zone = browser_timezone(datetime.now(UTC))
    mentor = new_page(browser, served, zone)
    sign_up(mentor, "Grace Hopper", "grace@example.com")
    mentor.get_by_role("link", name="Become a mentor").click()
    mentor.get_by_label("Headline").fill("Compilers")
    mentor.get_by_label(re.compile("^Any time, day and night")).check()
    mentor.get_by_role("button", name="Create profile").click()
    listings = mentor.get_by_role("region", name="Listings")
    listings.get_by_label("Title").fill("COBOL clinic")
    listings.get_by_label("Skill", exact=True).fill("cobol")
    listings.get_by_label("Book instantly").check()
    listings.get_by_role("button", name="Create listing").click()
    card = listings.get_by_role("listitem").filter(has=mentor.get_by_role("link", name="COBOL clinic"))
    expect(card.get_by_text("Booked instantly")).to_be_visible()
    expect(card.get_by_role("button", name="Approve each request of COBOL clinic")).to_be_visible()
    shot(mentor, "instant-01-mentor-listing")
    axe.check(mentor, "a listing booked instantly, as its mentor sees it")
    listing = served.call("GET", "/listings?skill=cobol", served.token("grace@example.com"))["items"][0]
    assert listing["instant_booking"] is True
    slots = served.call("GET", f"/listings/{listing['id']}/slots?from={datetime.now(UTC).isoformat()}"
                        f"&to={datetime.fromtimestamp(datetime.now(UTC).timestamp() + 2 * 86400, UTC).isoformat()}"
                        .replace("+", "%2B"), served.token("grace@example.com"))["items"]

    page = new_page(browser, served, zone, PHONE)
    sign_up(page, "Ada Lovelace", "ada@example.com")
    page.goto(f"/#/listings/{listing['id']}")
    form = page.get_by_role("form", name="Book a time")
    expect(form).to_contain_text("Booked instantly: a free time is confirmed at once")
    slot_button(page, local(slots[2], zone)).click()
    form.get_by_role("button", name="Book", exact=True).click()
    expect(form.get_by_role("status")).to_contain_text("it is confirmed")
    mine = page.get_by_role("region", name="Your requests for this listing")
    expect(mine.get_by_text("Accepted")).to_be_visible()
    shot(page, "instant-02-booked-phone")
    axe.check(page, "phone: a time booked instantly")
    # Her address is not confirmed yet: one instant booking with this mentor, the next is refused and says why.
    slot_button(page, local(slots[4], zone)).click()
    form.get_by_role("button", name="Book", exact=True).click()
    expect(form.get_by_role("alert")).to_contain_text("confirm your email address")
    its_session_goes_to_a_calendar(page, axe, slots[2])
    page.context.close()

    # The mentor has nothing to approve, and is told of the booking.
    mentor.get_by_role("link", name="Requests").click()
    expect(mentor.get_by_role("region", name="Incoming requests")).to_contain_text("No requests waiting.")
    expect(mentor.get_by_role("region", name="My sessions as mentor")).to_contain_text("COBOL clinic",
                                                                                      timeout=LIVE_MS * 4)
    mentor.get_by_role("button", name=re.compile(r"^Notifications \([1-9]")).click()
    notice = mentor.get_by_role("listitem").filter(has_text="New booking")
    expect(notice).to_contain_text("Ada Lovelace booked \u201cCOBOL clinic\u201d")
    expect(mentor.get_by_role("listitem").filter(has_text="New booking request")).to_have_count(0)
    mentor.context.close()


def its_session_goes_to_a_calendar(page: Any, axe: Axe, slot: dict[str, Any]) -> None:
    """Its session: added to a calendar by link, or as a file."""
    mine = page.get_by_role("region", name="Your requests for this listing")
    mine.get_by_role("link", name="Open session").click(timeout=LIVE_MS * 6)
    # The meeting opens as the session may start (its time is hours away).
    expect(page.get_by_role("button", name="Join the meeting")).to_be_disabled()
    expect(page.locator("p.join")).to_contain_text("opens 15 minutes before the start")
    add = page.get_by_role("region", name="Add to your calendar")
    start = datetime.fromisoformat(slot["start_time"]).astimezone(UTC)
    expect(add.get_by_role("link", name="Google Calendar")).to_have_attribute(
        "href", re.compile(f"^https://calendar\\.google\\.com/.*dates={start:%Y%m%dT%H%M%S}Z%2F"))
    expect(add.get_by_role("link", name="Outlook")).to_have_attribute("href", re.compile("^https://outlook\\.live\\.com/"))
    with page.expect_download() as downloaded:
        add.get_by_role("button", name="Download .ics").click()
    text = Path(downloaded.value.path()).read_text(encoding="utf-8")
    assert "BEGIN:VEVENT" in text and f"DTSTART:{start:%Y%m%dT%H%M%S}Z" in text, text
    shot(page, "instant-03-session-add-to-calendar-phone")
    axe.check(page, "phone: a session to add to a calendar")
