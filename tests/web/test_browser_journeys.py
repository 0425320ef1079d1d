"""The web app in Chromium: a mentee, a mentor and a third viewer, each in their own browser context.

Screenshots of every step go to var/screenshots/ (git-ignored); axe-core checks every screen.
"""

from __future__ import annotations

import re
import time
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from tests.web.conftest import (
    EXPECT_MS,
    PHONE,
    Axe,
    Served,
    browser_timezone,
    expect,
    new_page,
    shot,
    sign_up,
)
from tests.web.pages import LIVE_MS, open_listing, rerendered, sign_in, slot_button, wait_for_session


def test_booking_journey_live_across_mentee_mentor_and_viewer(  # noqa: PLR0915 - one journey, step by step
    browser: Any, web_server: Served, axe: Axe,
) -> None:
    now = datetime.now(UTC)
    zone = browser_timezone(now)
    local = now.astimezone(ZoneInfo(zone))
    # A window opening a few minutes from now: its first 30-minute slot can be started at once.
    opens = (local + timedelta(minutes=7)).replace(second=0, microsecond=0)
    opens -= timedelta(minutes=opens.minute % 5)
    closes = opens + timedelta(hours=2)
    mentor, mentee, viewer = (new_page(browser, web_server, zone) for _ in range(3))

    # The mentor signs up, becomes a mentor, opens a window today and creates a listing.
    mentor.goto("/#/signin")
    shot(mentor, "01-sign-in")
    axe.check(mentor, "sign in")
    sign_up(mentor, "Grace Hopper", "grace@example.com")
    mentor.get_by_role("link", name="Become a mentor").click()
    mentor.get_by_label("Headline").fill("Compiler engineer, COBOL and code review")
    mentor.get_by_label("Skills").fill("python, cobol")
    expect(mentor.get_by_label(re.compile("^Weekdays, 09:00 to 17:00"))).to_be_checked()  # working hours unless chosen
    mentor.get_by_label(re.compile("^Any time, day and night")).check()  # this journey opens a window of its own
    axe.check(mentor, "become a mentor")
    mentor.get_by_role("button", name="Create profile").click()
    expect(mentor.get_by_role("heading", level=1, name="Mentor setup")).to_be_visible()
    weekly = mentor.get_by_role("region", name="Weekly availability")
    weekly.get_by_label("Weekday").select_option(str(opens.weekday()))
    weekly.get_by_label("From").fill(opens.strftime("%H:%M"))
    weekly.get_by_label("To").fill(closes.strftime("%H:%M"))
    weekly.get_by_role("button", name="Add window").click()
    mentor.get_by_role("button", name="Save availability").click()
    expect(mentor.get_by_text("Availability saved.")).to_be_visible()
    mentor.get_by_label("Title").fill("Python code review")
    mentor.get_by_label("Skill", exact=True).fill("python")
    mentor.get_by_label("Duration (minutes)").fill("30")
    mentor.get_by_label("Price").fill("40.00")
    mentor.get_by_role("button", name="Create listing").click()
    expect(mentor.get_by_role("link", name="Python code review", exact=True)).to_be_visible()
    shot(mentor, "02-mentor-setup")
    axe.check(mentor, "mentor setup")
    mentor.get_by_role("link", name="Requests").click()
    expect(mentor.get_by_text("No requests waiting.")).to_be_visible()

    # The mentee and a viewer find the listing: the mentor's name, headline, rating and price.
    sign_up(mentee, "Ada Lovelace", "ada@example.com")
    mentee.get_by_label("Skill").fill("python")
    mentee.get_by_role("button", name="Search").click()
    card = mentee.get_by_role("article").filter(has=mentee.get_by_role("link", name="Python code review"))
    expect(card).to_contain_text("Grace Hopper")
    expect(card).to_contain_text("Compiler engineer")
    expect(card).to_contain_text("No ratings yet")
    expect(card).to_contain_text("40.00")
    shot(mentee, "03-browse")
    axe.check(mentee, "browse")
    card.get_by_role("link", name="Python code review").click()
    first_slot = slot_button(mentee, opens)
    expect(first_slot).to_be_visible()
    sign_up(viewer, "Viewer Three", "viewer@example.com")
    open_listing(viewer, "Python code review", "python")
    expect(slot_button(viewer, opens)).to_be_visible()
    axe.check(mentee, "listing")

    # The mentee requests the first slot: shown as requested at once.
    first_slot.click()
    mentee.get_by_label("Agenda (optional)").fill("Review my parser pull request")
    mentee.get_by_role("button", name="Request booking").click()
    requests = mentee.get_by_role("region", name="Your requests for this listing")
    expect(requests.get_by_text("Requested")).to_be_visible()
    shot(mentee, "04-requested")

    # The mentor sees it live, with the mentee's name when the API gives it, and accepts.
    request = mentor.get_by_role("group", name=re.compile("^Request from"))
    expect(request).to_be_visible(timeout=LIVE_MS)
    booking = web_server.call("GET", "/bookings?role=mentor", web_server.token("grace@example.com"))["items"][0]
    if booking.get("mentee"):
        expect(request).to_contain_text("Ada Lovelace")
    expect(request).to_contain_text("Review my parser pull request")
    shot(mentor, "05-incoming-request")
    axe.check(mentor, "requests")
    request.get_by_role("button", name="Accept").click()

    # The mentee's page shows Accepted and the viewer's slot is gone, both without a reload.
    expect(requests.get_by_text("Accepted")).to_be_visible(timeout=LIVE_MS)
    expect(slot_button(viewer, opens)).to_have_count(0, timeout=LIVE_MS)
    shot(viewer, "06-viewer-slot-gone")
    shot(mentee, "07-accepted")

    # The session (made by the worker) starts within 15 minutes of its start.
    requests.get_by_role("link", name="Open session").click()
    # The meeting is one button away, its host named beside it; and the page says what the session costs.
    join = mentee.get_by_role("link", name="Join the meeting")
    expect(join).to_have_attribute("href", re.compile(r"^https://meet\.jit\.si/mentorship-"))
    expect(mentee.locator("p.join")).to_contain_text("on meet.jit.si")
    expect(mentee.locator("#main p.meta").first).to_contain_text("40.00")
    expect(mentee.get_by_text("Review my parser pull request")).to_be_visible()
    expect(mentee.get_by_text(re.compile("^Starts in"))).to_be_visible()
    shot(mentee, "08-session")
    axe.check(mentee, "session")
    mentee.get_by_role("button", name="Start session").click()
    expect(mentee.get_by_text("In progress", exact=True)).to_be_visible()
    # Started before its time: the page says when the booked time begins, not a longer time "left".
    expect(mentee.locator("p.countdown")).to_contain_text(re.compile(
        r"^In progress, started early: the booked 30 min begin in \d+ min"))

    # The mentor completes it with notes and action items.
    mentor.get_by_role("region", name="My sessions as mentor").get_by_role("link", name="Python code review").click()
    mentor.get_by_label("Notes").fill("Good structure; tests need names.")
    mentor.get_by_label("Action items").fill("Rename the tests\nAdd a fuzzer")
    rerendered(mentor, ".meta")
    expect(mentor.get_by_label("Notes")).to_have_value("Good structure; tests need names.")
    axe.check(mentor, "complete session")
    mentor.get_by_role("button", name="Complete session").click()
    expect(mentor.get_by_text("Completed", exact=True)).to_be_visible()

    # The mentee's page turns completed live; the review is accepted once the worker unlocks it.
    expect(mentee.get_by_label("Rating")).to_be_visible(timeout=LIVE_MS)
    expect(mentee.get_by_text("Rename the tests")).to_be_visible()
    mentee.get_by_label("Rating").select_option("4")
    mentee.get_by_label("Comment").fill("Precise and kind.")
    axe.check(mentee, "review")
    # A live update redraws the page (here a reset frame, as after a gap in the stream) and keeps what is typed.
    rerendered(mentee, ".meta")
    expect(mentee.get_by_label("Comment")).to_have_value("Precise and kind.")
    expect(mentee.get_by_label("Rating")).to_have_value("4")
    # Each try ends in the thanks or in the API's reason, in words (the click clears an earlier one);
    # however long the answer takes, the test waits for it before it tries again.
    thanks = mentee.get_by_text("Thank you: your review is published.")
    deadline = time.monotonic() + 10
    while True:
        mentee.get_by_role("button", name="Submit review").click()
        expect(thanks.or_(mentee.get_by_role("alert")).first).to_be_visible()
        if thanks.is_visible():
            break
        assert time.monotonic() < deadline, "the review was never accepted"
    shot(mentee, "09-reviewed")

    # Notifications: the unread count in the button's name, updated live.
    bell = mentee.get_by_role("button", name=re.compile(r"^Notifications \([1-9]\d* unread\)"))
    expect(bell).to_be_visible(timeout=EXPECT_MS)
    bell.click()
    expect(mentee.get_by_role("heading", level=1, name="Notifications")).to_be_visible()
    expect(mentee.get_by_role("button", name="Mark read").first).to_be_visible()
    shot(mentee, "10-notifications")
    axe.check(mentee, "notifications")
    mentee.get_by_role("link", name="My bookings").click()
    # Each booking once: the completed one under Past, as its session ended, and nothing left upcoming.
    expect(mentee.get_by_role("region", name="Past").get_by_text("Completed")).to_be_visible()
    expect(mentee.get_by_role("region", name="Past").get_by_role("listitem")).to_have_count(1)
    expect(mentee.get_by_role("region", name="Upcoming")).to_contain_text("Nothing coming up.")
    shot(mentee, "11-my-bookings")
    axe.check(mentee, "my bookings")

    viewer.get_by_role("button", name="Sign out").click()
    expect(viewer.get_by_role("button", name="Sign in")).to_be_visible()
    for page in (mentor, mentee, viewer):
        assert page.csp_errors == []
        page.context.close()


def test_bundle_conflict_rolls_back_late_cancel_shows_fee_and_group_fills(  # noqa: PLR0915 - one journey
    browser: Any, web_server: Served, axe: Axe,
) -> None:
    now = datetime.now(UTC)
    zone = browser_timezone(now)
    served = web_server
    # The mentor's side over the API: no windows (any time), a one-to-one listing with a one-session
    # bundle, and a group listing of two seats with a session tomorrow.
    grace = served.register("Grace Hopper", "grace@example.com")
    served.call("POST", "/mentor-profiles", grace, {"headline": "Compilers", "timezone": zone, "skills": ["cobol"]},
                status=201)
    solo = served.call("POST", "/listings", grace, {"title": "COBOL clinic", "skill": "cobol", "duration_minutes": 60,
                                                    "price_cents": 5000, "currency": "USD"}, status=201)
    served.call("POST", f"/listings/{solo['id']}/bundles", grace,
                {"sessions_count": 1, "price_cents": 4000, "valid_days": 30}, status=201)
    group = served.call("POST", "/listings", grace, {"title": "COBOL circle", "skill": "cobol", "duration_minutes": 60,
                                                     "price_cents": 1500, "currency": "USD", "kind": "group",
                                                     "capacity": 2}, status=201)
    starts = (now + timedelta(days=1, hours=3)).replace(minute=0, second=0, microsecond=0)
    circle = served.call("POST", f"/listings/{group['id']}/group-sessions", grace, {"start_time": starts.isoformat()},
                         status=201)
    mentee, viewer = (new_page(browser, served, zone) for _ in range(2))
    sign_up(mentee, "Ada Lovelace", "ada@example.com")
    ada = served.token("ada@example.com")

    # A bundle bought on the page; its one credit spent elsewhere while the page's request is on its way.
    open_listing(mentee, "COBOL clinic", "cobol")
    mentee.get_by_role("button", name="Buy bundle of 1").click()
    mentee.get_by_role("group", name="Buy the bundle of 1").get_by_role("button", name=re.compile("^Pay ")).click()
    expect(mentee.get_by_text(re.compile("^Your bundle credits for this listing: 1 left"))).to_be_visible()
    purchase = served.call("GET", "/bundle-purchases", ada)["items"][0]
    slots = served.call("GET", f"/listings/{solo['id']}/slots?from={(now + timedelta(hours=2)).isoformat()}"
                        f"&to={(now + timedelta(days=2)).isoformat()}".replace("+", "%2B"), ada)["items"]
    # The request is held until the optimistic state has been seen, and the credit spent elsewhere meanwhile (an open
    # page reads its credits anew on a live update: only a request already sent can find it gone).
    held: list[Any] = []
    mentee.route("**/api/v1/bookings", lambda route: held.append(route) if route.request.method == "POST"
                 else route.continue_())
    mentee.get_by_label("Pay with").select_option(label="A bundle credit (1 left)")
    slot_start = datetime.fromisoformat(slots[1]["start_time"]).astimezone(ZoneInfo(zone))
    slot_button(mentee, slot_start).click()
    mentee.get_by_role("button", name="Request booking").click()
    requests = mentee.get_by_role("region", name="Your requests for this listing")
    expect(requests.get_by_text("sending…")).to_be_visible()
    shot(mentee, "12-optimistic")
    assert held, "the booking request never left the page"
    served.call("POST", "/bookings", ada, {"listing_id": solo["id"], "start_time": slots[0]["start_time"],
                                           "bundle_purchase_id": purchase["id"]}, status=201)
    held[0].continue_()
    expect(mentee.get_by_role("alert")).to_have_text(re.compile("^No credits left"))  # a sentence, capitalised
    expect(requests.get_by_text("sending…")).to_have_count(0)
    shot(mentee, "13-conflict-rolled-back")
    axe.check(mentee, "listing after a conflict")
    mentee.unroute("**/api/v1/bookings")

    # A session less than 24 hours away: cancelling it shows the fee before confirming.
    booking = served.call("POST", "/bookings", ada, {"listing_id": solo["id"], "start_time": slots[2]["start_time"]},
                          status=201)
    served.call("POST", f"/bookings/{booking['id']}/accept", grace)
    session_id = wait_for_session(served, ada, booking["id"])
    mentee.goto(f"/#/sessions/{session_id}")
    mentee.get_by_role("button", name="Cancel session").click()
    fee = re.compile(r"late cancellation .* fee of US\$25\.00 \(50% of US\$50\.00\)")
    expect(mentee.get_by_text(fee)).to_be_visible()
    mentee.get_by_label("Reason").fill("A clash at work")
    shot(mentee, "14-late-cancel-fee")
    axe.check(mentee, "cancel session")
    mentee.get_by_role("button", name="Confirm cancellation").click()
    expect(mentee.get_by_text(re.compile(r"Late cancellation, fee US\$25\.00"))).to_be_visible()

    # The group session fills up: both pages follow the seats live, then show FULL.
    open_listing(mentee, "COBOL circle", "cobol")
    sign_up(viewer, "Viewer Three", "viewer@example.com")
    open_listing(viewer, "COBOL circle", "cobol")
    sessions = viewer.get_by_role("region", name="Group sessions")
    expect(sessions.get_by_text("2 seats left")).to_be_visible()
    mentee.get_by_role("region", name="Group sessions").get_by_role("button", name="Join").click()
    # A seat is paid: joining asks first, with the price and what leaving would cost.
    joining = mentee.get_by_role("group", name="Join this group session")
    expect(joining).to_contain_text("Leaving is free until 24 hours before the start.")
    expect(sessions.get_by_text("2 seats left")).to_be_visible()  # nothing taken yet
    joining.get_by_role("button", name=re.compile("^Join for ")).click()
    expect(mentee.get_by_role("button", name="Leave")).to_be_visible()
    expect(sessions.get_by_text("1 seat left")).to_be_visible(timeout=LIVE_MS)
    sessions.get_by_role("button", name="Join").click()
    second = sessions.get_by_role("group", name="Join this group session")
    second.get_by_role("button", name=re.compile("^Join for ")).click()
    expect(sessions.get_by_text("FULL")).to_be_visible()
    expect(mentee.get_by_role("region", name="Group sessions").get_by_text("FULL")).to_be_visible(timeout=LIVE_MS)
    shot(viewer, "15-group-full")
    axe.check(viewer, "group listing")
    # The mentor sees who holds the seats on the session's page, a day before it (no check-in open yet), at phone size.
    host = new_page(browser, served, zone, PHONE)
    sign_in(host, "grace@example.com")
    host.goto(f"/#/sessions/{circle['id']}")
    seated = host.get_by_role("region", name="Participants (2)")
    expect(seated.get_by_role("listitem")).to_have_count(2)
    for name in ("Ada Lovelace", "Viewer Three"):
        expect(seated.get_by_role("listitem").filter(has_text=name)).to_have_count(1)
    axe.check(host, "phone: a group session's participants, for its mentor")
    shot(host, "15b-group-participants-phone")
    expect(host.get_by_role("link", name="My sessions as mentor")).to_have_attribute("href", "#/requests")
    host.context.close()
    # A participant leaves a group session; they do not cancel it.
    mentee.goto(f"/#/sessions/{circle['id']}")
    expect(mentee.get_by_role("button", name="Leave session")).to_be_visible()
    expect(mentee.get_by_role("button", name="Cancel session")).to_have_count(0)
    open_listing(mentee, "COBOL circle", "cobol")
    # Leaving gives the seat back (more than 24 hours ahead: no fee).
    viewer.get_by_role("button", name="Leave").click()
    expect(viewer.get_by_text(re.compile("^Cancelling now is free"))).to_be_visible()
    viewer.get_by_role("button", name="Confirm leaving").click()
    mentee_sessions = mentee.get_by_role("region", name="Group sessions")
    expect(mentee_sessions.get_by_text("1 seat left")).to_be_visible(timeout=LIVE_MS)
    for page in (mentee, viewer):
        assert page.csp_errors == []
        page.context.close()
