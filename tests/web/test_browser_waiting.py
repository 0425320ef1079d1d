"""What waits for a person, flagged in Chromium: the menu counts it (My bookings for a mentee, Requests for a
mentor), live; My bookings lists it first (a move to answer, a seat held) and the places in line after."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from tests.web.conftest import Axe, Served, browser_timezone, expect, new_page, shot
from tests.web.pages import LIVE_MS, clinic, sign_in


def test_a_move_to_answer_and_a_place_in_line_wait_for_the_mentee_and_requests_for_the_mentor(
        web_server: Served, browser: Any, axe: Axe) -> None:
    served = web_server
    zone = browser_timezone(datetime.now(UTC))
    listing, slots = clinic(served, zone)
    grace = served.token("grace@example.com")
    ada = served.register("Ada Lovelace", "ada@example.com")
    booking = served.call("POST", "/bookings", ada, {"listing_id": listing["id"], "start_time": slots[3]["start_time"]},
                          status=201)
    served.call("POST", "/bookings", served.register("Bo Svensson", "bo@example.com"),
                {"listing_id": listing["id"], "start_time": slots[5]["start_time"]}, status=201)

    mentor = new_page(browser, served, zone)
    sign_in(mentor, "grace@example.com")
    requests_link = mentor.get_by_role("link", name="Requests 2 waiting for you")
    expect(requests_link).to_be_visible()
    requests_link.click()
    mentor.get_by_role("group", name="Request from Ada Lovelace").get_by_role("button", name="Accept").click()
    expect(mentor.get_by_role("link", name="Requests 1 waiting for you")).to_be_visible(timeout=LIVE_MS * 2)

    # A full circle Ada waits in line for.
    circle = served.call("POST", "/listings", grace, {"title": "COBOL circle", "skill": "cobol",
                                                      "duration_minutes": 60, "price_cents": 1500, "currency": "USD",
                                                      "kind": "group", "capacity": 2}, status=201)
    start = (datetime.now(UTC) + timedelta(days=3)).replace(minute=0, second=0, microsecond=0)
    session = served.call("POST", f"/listings/{circle['id']}/group-sessions", grace,
                          {"start_time": start.isoformat()}, status=201)
    for mentee in (served.token("bo@example.com"), served.register("Cy Young", "cy@example.com")):
        served.call("POST", f"/sessions/{session['id']}/join", mentee, {}, status=201)
    served.call("POST", f"/sessions/{session['id']}/waitlist", ada, {}, status=201)

    page = new_page(browser, served, zone)
    sign_in(page, "ada@example.com")
    expect(page.get_by_role("link", name="My bookings", exact=True)).to_be_visible()  # nothing to act on yet
    page.get_by_role("link", name="My bookings", exact=True).click()
    line = page.get_by_role("region", name="Waitlists")
    expect(line.get_by_role("listitem")).to_have_text([f"COBOL circle · {span_of(start, zone)} · 1st in line"])
    expect(page.get_by_role("region", name="Waiting for you")).to_be_hidden()

    # Grace asks Ada to choose another time: the menu counts it and My bookings lists it first, live.
    served.call("POST", f"/bookings/{booking['id']}/request-reschedule", grace, {"reason": "A conference came up"},
                status=201)
    expect(page.get_by_role("link", name="My bookings 1 waiting for you")).to_be_visible(timeout=LIVE_MS * 2)
    waiting = page.get_by_role("region", name="Waiting for you")
    expect(waiting).to_contain_text("Grace Hopper asks you to choose another time for COBOL clinic")
    shot(page, "waiting-01-my-bookings")
    axe.check(page, "what waits for a mentee")
    waiting.get_by_role("link", name="Answer").click()
    expect(page.get_by_text("The mentor asks you to choose another time")).to_be_visible()
    # Answered (here from another device), it waits no more.
    asked = served.call("GET", f"/bookings/{booking['id']}/reschedule-proposals", ada)["items"][0]
    served.call("POST", f"/reschedule-proposals/{asked['id']}/decline", ada, {})
    # The menu's link, counting nothing now (the session page's own "My bookings" link is not the menu's).
    expect(page.get_by_role("navigation", name="Main").get_by_role("link", name="My bookings", exact=True)
           ).to_be_visible(timeout=LIVE_MS * 2)
    page.context.close()
    mentor.context.close()


def span_of(start: datetime, zone: str) -> str:
    """As the web app writes a one-hour meeting in en-GB: "Sat 28 Nov, 10:00-11:00" (an en dash)."""
    local = start.astimezone(ZoneInfo(zone))
    return f"{local:%a} {local.day} {local:%b}, {local:%H:%M}\u2013{local + timedelta(hours=1):%H:%M}"
