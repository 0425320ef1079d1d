"""A full group session's waitlist in Chromium: a mentee joins the line and sees her place; a seat freed elsewhere
is held for her, live, with the time left to take it; she takes it, and holds the seat."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from tests.web.conftest import PHONE, Axe, Served, browser_timezone, expect, new_page, shot, sign_up
from tests.web.pages import LIVE_MS


def test_a_mentee_waits_for_a_full_group_session_and_takes_the_seat_offered_live(
        web_server: Served, browser: Any, axe: Axe) -> None:
    served = web_server
    zone = browser_timezone(datetime.now(UTC))
    grace = served.register("Grace Hopper", "grace@example.com")
    served.call("POST", "/mentor-profiles", grace, {"headline": "Compilers", "timezone": zone, "skills": ["cobol"]},
                status=201)
    listing = served.call("POST", "/listings", grace, {"title": "COBOL circle", "skill": "cobol",
                                                       "duration_minutes": 60, "price_cents": 1500, "currency": "USD",
                                                       "kind": "group", "capacity": 2}, status=201)
    start = (datetime.now(UTC) + timedelta(days=2)).replace(minute=0, second=0, microsecond=0)
    session = served.call("POST", f"/listings/{listing['id']}/group-sessions", grace,
                          {"start_time": start.isoformat()}, status=201)
    seated = [served.register(name, f"{name.split()[0].lower()}@example.com") for name in ("Bob Kahn", "Vint Cerf")]
    for mentee in seated:
        served.call("POST", f"/sessions/{session['id']}/join", mentee, {}, status=201)

    page = new_page(browser, served, zone, viewport=PHONE)
    sign_up(page, "Ada Lovelace", "ada@example.com")
    page.goto(f"/#/listings/{listing['id']}")
    group = page.get_by_role("region", name="Group sessions")
    expect(group.get_by_text("FULL")).to_be_visible()
    group.get_by_role("button", name="Join waitlist").click()
    expect(group.get_by_text("In line: 1 (next)")).to_be_visible()
    axe.check(page, "a place in a waitlist")
    shot(page, "waitlist-01-in-line-phone")

    # Bob leaves: the seat is held for Ada, on her open page, with the time left to take it.
    served.call("POST", f"/sessions/{session['id']}/cancel", seated[0], {"reason": "Travelling"})
    offer = group.get_by_role("group", name="A seat is held for you")
    expect(offer).to_be_visible(timeout=LIVE_MS * 2)
    expect(offer.get_by_role("timer")).to_contain_text("min")
    shot(page, "waitlist-02-offer-phone")
    axe.check(page, "a seat held from the waitlist")
    offer.get_by_role("button", name="Take the seat").click()
    expect(group.get_by_text("Joined")).to_be_visible()
    place = served.call("GET", f"/sessions/{session['id']}/waitlist", served.token("ada@example.com"))
    assert place["status"] == "promoted" and place["booking_id"]
