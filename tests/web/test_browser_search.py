"""Search that finds, in Chromium: a prefix, a typo and a mentor's name; and a decline's reason, typed by the mentor
and kept across a live redraw, shown to the mentee."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

from tests.web.conftest import Axe, Served, expect, new_page, sign_up
from tests.web.pages import LIVE_MS, rerendered


def listings_found(page: Any, words: str) -> Any:
    page.get_by_label("Skill, title or mentor").fill(words)
    page.get_by_role("button", name="Search").click()
    expect(page.get_by_role("heading", level=1, name=f"Mentors for “{words}”")).to_be_visible()
    region = page.get_by_role("region", name="Listings")
    answered = region.get_by_role("article").or_(region.get_by_text(re.compile("^No listing matches")))
    expect(answered).not_to_have_count(0)
    return region


def test_a_prefix_a_typo_and_a_name_find_what_the_mentee_means(web_server: Served, browser: Any, axe: Axe) -> None:
    served = web_server
    grace = served.register("Grace Hopper", "grace@example.com")
    served.call("POST", "/mentor-profiles", grace, {"headline": "Databases", "timezone": "UTC",
                                                    "skills": ["postgresql", "python"]}, status=201)
    for title, skill in (("Query tuning", "postgresql"), ("Code review", "python"), ("Punch cards", "cobol")):
        served.call("POST", "/listings", grace, {"title": title, "skill": skill, "duration_minutes": 60,
                                                 "price_cents": 5000}, status=201)
    page = new_page(browser, served, "UTC")
    sign_up(page, "Ada Lovelace", "ada@example.com")

    found = listings_found(page, "postgres")
    expect(found.get_by_role("article")).to_have_count(1)
    expect(found.get_by_role("link", name="Query tuning")).to_be_visible()
    found = listings_found(page, "pyhton")
    expect(found.get_by_role("article")).to_have_count(1)
    expect(found.get_by_role("link", name="Code review")).to_be_visible()
    axe.check(page, "search results")
    found = listings_found(page, "grac")  # a mentor's name finds the mentor and what she offers
    expect(page.get_by_role("region", name="Mentors").get_by_role("link", name="Grace Hopper")).to_be_visible()
    expect(found.get_by_role("article")).to_have_count(3)
    found = listings_found(page, "haskell")
    expect(found.get_by_text("No listing matches “haskell” yet.")).to_be_visible()
    page.context.close()


def test_a_decline_reason_is_kept_while_typed_and_shown_to_the_mentee(web_server: Served, browser: Any) -> None:
    served = web_server
    mentor_page, mentee_page = new_page(browser, served, "UTC"), new_page(browser, served, "UTC")
    sign_up(mentor_page, "Grace Hopper", "grace@example.com")
    grace = served.token("grace@example.com")
    served.call("POST", "/mentor-profiles", grace, {"headline": "Compilers", "timezone": "UTC"}, status=201)
    listing = served.call("POST", "/listings", grace, {"title": "COBOL clinic", "skill": "cobol",
                                                       "duration_minutes": 60, "price_cents": 5000}, status=201)
    sign_up(mentee_page, "Ada Lovelace", "ada@example.com")
    ada = served.token("ada@example.com")
    start = (datetime.now(UTC) + timedelta(days=2)).replace(minute=0, second=0, microsecond=0)
    served.call("POST", "/bookings", ada, {"listing_id": listing["id"], "start_time": start.isoformat()}, status=201)
    mentee_page.get_by_role("link", name="My bookings").click()

    mentor_page.reload()
    mentor_page.get_by_role("link", name="Requests").click()
    request = mentor_page.get_by_role("group", name="Request from Ada Lovelace")
    request.get_by_role("button", name="Decline…").click()
    reason = request.get_by_label("Reason (optional; the mentee sees it)")
    expect(reason).to_be_focused()
    reason.fill("I am travelling that week; any day the week after works")
    rerendered(mentor_page, ".request")  # a live update redraws the list: the form and its text stay
    expect(request.get_by_label("Reason (optional; the mentee sees it)")).to_have_value(
        "I am travelling that week; any day the week after works")
    request.get_by_role("button", name="Confirm decline").click()
    expect(mentor_page.get_by_role("region", name="Decided requests")).to_contain_text(
        "Declined (I am travelling that week; any day the week after works)")
    requests = mentee_page.get_by_role("region", name="Cancelled and declined")
    expect(requests).to_contain_text("Declined (I am travelling that week; any day the week after works)",
                                     timeout=LIVE_MS)
    for page in (mentor_page, mentee_page):
        page.context.close()
