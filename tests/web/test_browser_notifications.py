"""Notifications people can read, in Chromium: the other person by name, the listing, the time in the reader's own
timezone, a link to it; each booking once in My bookings; a session page that names the other party, and a
review form offered until the review is given."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from tests.api_calls import next_quarter_hour
from tests.concurrency import wait_until
from tests.web.conftest import PASSWORD, Axe, Served, expect, new_page, shot, sign_up
from tests.web.pages import wait_for_session


def test_notifications_name_the_other_person_in_the_readers_time_and_each_booking_shows_once(  # noqa: PLR0915
        web_server: Served, browser: Any, axe: Axe) -> None:
    served = web_server
    grace = served.register("Grace Hopper", "grace@example.com")
    served.call("POST", "/mentor-profiles", grace, {"headline": "Compilers", "timezone": "Europe/Paris"}, status=201)
    listing = served.call("POST", "/listings", grace, {"title": "Python code review", "skill": "python",
                                                       "duration_minutes": 30, "slot_step_minutes": 15,
                                                       "price_cents": 4000}, status=201)
    page = new_page(browser, served, "Asia/Tokyo")
    sign_up(page, "Ada Lovelace", "ada@example.com")
    page.get_by_role("link", name="Settings").click()
    account = page.get_by_role("form", name="Account")
    account.get_by_label("Timezone").select_option("Asia/Tokyo")
    account.get_by_role("button", name="Save account").click()
    expect(account.get_by_role("status")).to_have_text("Saved.")
    ada = served.token("ada@example.com")

    # A session soon (to start and complete), and a request withdrawn.
    soon = next_quarter_hour()  # the listing's next slot
    booking = served.call("POST", "/bookings", ada, {"listing_id": listing["id"], "start_time": soon.isoformat()},
                          status=201)
    later = soon + timedelta(days=3)
    withdrawn = served.call("POST", "/bookings", ada, {"listing_id": listing["id"], "start_time": later.isoformat()},
                            status=201)
    served.call("POST", f"/bookings/{withdrawn['id']}/cancel", ada, {})
    served.call("POST", f"/bookings/{booking['id']}/accept", grace)
    session_id = wait_for_session(served, ada, booking["id"])

    # The acceptance, in Tokyo's time and naming it (changed on purpose: a reader's own zone went unnamed), naming
    # the mentor and the listing, with a link to it.
    tokyo = soon.astimezone(ZoneInfo("Asia/Tokyo"))
    words = (f"Grace Hopper accepted your request for \u201cPython code review\u201d on "
             f"{tokyo:%a} {tokyo.day} {tokyo:%b}, {tokyo:%H:%M} (Asia/Tokyo).")
    page.get_by_role("button", name=re.compile(r"^Notifications \([1-9]")).click()
    notice = page.get_by_role("listitem").filter(has_text="Booking accepted")
    expect(notice).to_contain_text(words)
    opens = notice.get_by_role("link", name="See your bookings")  # the link says where it leads, apart from the button
    expect(opens).to_have_attribute("href", "#/bookings")
    expect(notice.get_by_role("button", name="Mark read")).to_be_visible()
    shot(page, "notifications-01-in-words")
    axe.check(page, "notifications in words")

    # Following it reads it. My bookings: the session once, upcoming; the withdrawn request apart, reading Withdrawn.
    opens.click()
    upcoming = page.get_by_role("region", name="Upcoming")
    expect(upcoming.get_by_role("listitem")).to_have_count(1)
    expect(upcoming).to_contain_text("Python code review")
    ended = page.get_by_role("region", name="Cancelled and declined")
    expect(ended.get_by_role("listitem")).to_have_count(1)
    expect(ended.get_by_role("listitem")).to_contain_text("Withdrawn")
    expect(ended.get_by_role("listitem")).not_to_contain_text("Cancelled")

    def unread() -> list[str]:
        return [n["type"] for n in served.call("GET", "/notifications?unread=true", ada)["items"]]

    wait_until(lambda: "booking.accepted" not in unread(), 5, "the followed notification read")
    # Two requests declined: "Mark all read" reads every notification shown, at once.
    for days in (4, 5):
        declined = served.call("POST", "/bookings", ada, {"listing_id": listing["id"],
                                                           "start_time": (soon + timedelta(days=days)).isoformat()},
                               status=201)
        served.call("POST", f"/bookings/{declined['id']}/decline", grace, {"reason": "Away that day"})
    wait_until(lambda: unread().count("booking.declined") == 2, 10, "both declines told")
    page.get_by_role("button", name=re.compile(r"^Notifications \(")).click()
    items = page.get_by_role("main").get_by_role("listitem")
    expect(items.filter(has_text="Booking declined")).to_have_count(2)
    expect(items.filter(has_text="Booking accepted").get_by_text("New", exact=True)).to_have_count(0)
    expect(items.filter(has_text="Booking declined").first.get_by_role("link", name="Choose another time")
           ).to_be_visible()
    page.get_by_role("button", name="Mark all read").click()
    expect(page.get_by_role("main").get_by_text("New", exact=True)).to_have_count(0)
    expect(page.get_by_role("button", name="Mark all read")).to_be_hidden()
    expect(page.get_by_role("button", name="Notifications (0 unread)")).to_be_visible()
    assert unread() == []

    # The mentor's session page names the mentee, never the mentor themselves.
    mentor_page = new_page(browser, served, "Europe/Paris")
    mentor_page.goto("/#/signin")
    mentor_page.get_by_label("Email").fill("grace@example.com")
    mentor_page.get_by_label("Password").fill(PASSWORD)
    mentor_page.get_by_role("button", name="Sign in").click()
    # Signed in (the sign-in screen then goes to its next page): only now open the session.
    expect(mentor_page.get_by_role("button", name="Sign out", include_hidden=True)).to_be_attached()
    mentor_page.goto(f"/#/sessions/{session_id}")
    meta = mentor_page.locator("#main p.meta").first
    expect(meta).to_contain_text("with Ada Lovelace")
    expect(meta).not_to_contain_text("Grace Hopper")

    # Completed and reviewed: the review form is not offered again.
    served.call("POST", f"/sessions/{session_id}/start", ada)
    served.call("POST", f"/sessions/{session_id}/complete", grace, {"notes": "Good work."})
    page.goto(f"/#/sessions/{session_id}")
    expect(page.locator("#main p.meta").first).to_contain_text("with Grace Hopper")
    page.get_by_label("Rating").select_option("5")
    deadline = datetime.now(UTC) + timedelta(seconds=10)
    thanks = page.get_by_text("Thank you: your review is published.")
    while True:  # the review opens once the worker has unlocked it
        page.get_by_role("button", name="Submit review").click()
        expect(thanks.or_(page.get_by_role("alert")).first).to_be_visible()
        if thanks.is_visible():
            break
        assert datetime.now(UTC) < deadline, "the review was never accepted"
    page.reload()
    expect(page.get_by_text("You reviewed this session. Thank you.")).to_be_visible()
    expect(page.get_by_role("button", name="Submit review")).to_have_count(0)
    for each in (page, mentor_page):
        assert each.csp_errors == []
        each.context.close()
