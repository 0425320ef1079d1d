"""Clashing requests in Chromium: a mentor accepts one of two requests for the same hour; the other is declined
by the system at once, on the mentor's screen and, live, on the other mentee's, who is offered other times."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

from tests.web.conftest import Axe, Served, browser_timezone, expect, new_page, shot, sign_up
from tests.web.pages import LIVE_MS

ANOTHER_ACCEPTED = "the mentor accepted another request for this time"


def test_accepting_one_request_declines_the_clashing_one_and_the_other_mentee_sees_it_live(
        web_server: Served, browser: Any, axe: Axe) -> None:
    served = web_server
    zone = browser_timezone(datetime.now(UTC))
    start = (datetime.now(UTC) + timedelta(days=2)).replace(minute=0, second=0, microsecond=0)
    grace_page, bob_page = new_page(browser, served, zone), new_page(browser, served, zone)
    sign_up(grace_page, "Grace Hopper", "grace@example.com")
    grace = served.token("grace@example.com")
    served.call("POST", "/mentor-profiles", grace, {"headline": "Compilers", "timezone": zone, "skills": ["cobol"]},
                status=201)
    listing = served.call("POST", "/listings", grace, {"title": "COBOL clinic", "skill": "cobol",
                                                       "duration_minutes": 60, "slot_step_minutes": 30,
                                                       "price_cents": 5000}, status=201)
    margaret = served.register("Margaret Hamilton", "margaret@example.com")
    served.call("POST", "/mentor-profiles", margaret, {"headline": "Flight software", "timezone": zone}, status=201)
    other_listing = served.call("POST", "/listings", margaret, {"title": "Apollo guidance", "skill": "cobol",
                                                                "duration_minutes": 60, "slot_step_minutes": 30,
                                                                "price_cents": 5000}, status=201)
    ada = served.register("Ada Lovelace", "ada@example.com")
    sign_up(bob_page, "Bob Kahn", "bob@example.com")
    bob = served.token("bob@example.com")
    ada_request = served.call("POST", "/bookings", ada, {"listing_id": listing["id"],
                                                        "start_time": start.isoformat()}, status=201)
    ada_elsewhere = served.call("POST", "/bookings", ada, {"listing_id": other_listing["id"],
                                                          "start_time": (start + timedelta(minutes=30)).isoformat()},
                                status=201)
    bob_request = served.call("POST", "/bookings", bob, {"listing_id": listing["id"],
                                                        "start_time": (start + timedelta(minutes=30)).isoformat()},
                              status=201)

    bob_page.get_by_role("link", name="My bookings").click()
    expect(bob_page.get_by_role("region", name="Upcoming").get_by_text("Requested")).to_be_visible()
    bob_requests = bob_page.get_by_role("region", name="Cancelled and declined")
    grace_page.reload()
    grace_page.get_by_role("link", name="Requests").click()
    incoming = grace_page.get_by_role("region", name="Incoming requests")
    expect(incoming.get_by_role("group", name=re.compile("^Request from"))).to_have_count(2)
    incoming.get_by_role("group", name="Request from Ada Lovelace").get_by_role("button", name="Accept").click()

    # At once on the mentor's screen: the clashing request is no longer waiting, and reads as declined, with why.
    expect(incoming.get_by_role("group", name=re.compile("^Request from"))).to_have_count(0)
    decided = grace_page.get_by_role("region", name="Decided requests")
    expect(decided.get_by_role("listitem").filter(has_text="Bob Kahn")).to_contain_text(
        f"Declined ({ANOTHER_ACCEPTED})")
    shot(grace_page, "requests-01-clash-declined")
    axe.check(grace_page, "requests after a clash")

    # Live on Bob's screen, with a way to choose another time, and a notification offering the next free times.
    expect(bob_requests.get_by_text("Declined", exact=True)).to_be_visible(timeout=LIVE_MS)
    expect(bob_page.get_by_role("region", name="Upcoming")).to_contain_text("Nothing coming up.")
    expect(bob_requests).to_contain_text(ANOTHER_ACCEPTED)
    bob_requests.get_by_role("link", name="Choose another time").click()
    expect(bob_page.get_by_role("heading", level=1, name="COBOL clinic")).to_be_visible()
    bob_page.get_by_role("button", name=re.compile(r"^Notifications \([1-9]")).click()
    expect(bob_page.get_by_text(re.compile(f"was declined: {ANOTHER_ACCEPTED}. Its next free times: "))).to_be_visible()

    # Ada's own request to another mentor at that hour was withdrawn; and the declined request cannot be accepted.
    withdrawn = served.call("GET", f"/bookings/{ada_elsewhere['id']}", ada)
    assert (withdrawn["status"], withdrawn["cancel_reason"]) == ("cancelled", "you have a session at this time")
    refused = served.http.post(f"/api/v1/bookings/{bob_request['id']}/accept", headers=grace)
    assert refused.status_code == 409 and ANOTHER_ACCEPTED in refused.json()["message"]
    assert served.call("GET", f"/bookings/{ada_request['id']}", ada)["status"] == "accepted"
    for page in (grace_page, bob_page):
        assert page.csp_errors == []
        page.context.close()
