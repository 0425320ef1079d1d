"""Moving a session and attendance in Chromium: a mentee proposes another time on the session's page, the mentor
accepts it in another window, and both pages move to the new session live; a mentee who checked in reports the mentor
absent (at phone size), reads that they pay nothing, and gets their bundle credit back."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session, sessionmaker

from tests.web.conftest import PHONE, Axe, Served, browser_timezone, expect, new_page, shot, sign_up
from tests.web.pages import LIVE_MS, clinic, sign_in, wait_for_session
from workflows.sessions import attendance

MOVED_WITHIN_MS = 8000  # the accept, the worker's new session, the stream's frames, each page's reload


def booked_session(served: Served, zone: str, ada: dict[str, str], *, bundle: bool) -> tuple[dict[str, Any], str]:
    """Grace's clinic, a slot of it Ada requested (with a credit of a bundle she bought, if asked) and Grace
    accepted: the listing and the session's id, once the worker made it."""
    listing, slots = clinic(served, zone, bundle_of=2 if bundle else None)
    grace = served.token("grace@example.com")
    body = {"listing_id": listing["id"], "start_time": slots[0]["start_time"]}
    if bundle:
        offer = served.call("GET", f"/listings/{listing['id']}/bundles", ada)["items"][0]
        body["bundle_purchase_id"] = served.call("POST", f"/bundles/{offer['id']}/purchase", ada, {}, status=201)["id"]
    booking = served.call("POST", "/bookings", ada, body, status=201)
    served.call("POST", f"/bookings/{booking['id']}/accept", grace)
    return listing, wait_for_session(served, ada, booking["id"])


def test_a_move_proposed_by_the_mentee_and_accepted_by_the_mentor_moves_both_pages_live(
        web_server: Served, browser: Any, axe: Axe) -> None:
    served = web_server
    zone = browser_timezone(datetime.now(UTC))
    grace_page, ada_page = new_page(browser, served, zone), new_page(browser, served, zone)
    sign_up(ada_page, "Ada Lovelace", "ada@example.com")
    _listing, session_id = booked_session(served, zone, served.token("ada@example.com"), bundle=False)
    sign_in(grace_page, "grace@example.com")
    for page in (ada_page, grace_page):
        page.goto(f"/#/sessions/{session_id}")
        expect(page.get_by_role("heading", level=1, name="COBOL clinic")).to_be_visible()

    moves = ada_page.get_by_role("region", name="Another time")
    moves.get_by_role("button", name="Propose another time").click()
    slots = moves.get_by_role("region", name="Free slots")
    first = slots.get_by_role("button", name=re.compile(r"^\d\d:\d\d")).nth(2)
    chosen_label = first.get_attribute("data-start")
    first.click()
    moves.get_by_label("Message (optional)").fill("A meeting moved into my morning.")
    moves.get_by_role("button", name="Send proposal").click()
    expect(moves.get_by_role("group", name="Your proposal")).to_contain_text("Waiting for the mentor")
    shot(ada_page, "moves-01-proposed")

    # The mentor's page shows it without a reload, and takes it.
    offer = grace_page.get_by_role("group", name="Proposal to move")
    expect(offer).to_contain_text("A meeting moved into my morning.", timeout=LIVE_MS * 3)
    axe.check(grace_page, "session page with a proposal to move it")
    shot(grace_page, "moves-02-offered")
    offer.get_by_role("button", name=re.compile("^Move to ")).click()

    # Both pages follow the meeting to its new session, which starts at the chosen time.
    for page in (grace_page, ada_page):
        expect(page).not_to_have_url(re.compile(f"{session_id}$"), timeout=MOVED_WITHIN_MS)
        expect(page.get_by_role("heading", level=1, name="COBOL clinic")).to_be_visible()
    new_id = ada_page.url.rsplit("/", 1)[-1]
    assert grace_page.url.endswith(new_id)
    ada = served.token("ada@example.com")
    moved = served.call("GET", f"/sessions/{new_id}", ada)
    assert (moved["status"], moved["start_time"]) == ("scheduled", datetime.fromisoformat(
        str(chosen_label)).astimezone(UTC).isoformat())
    assert served.call("GET", f"/sessions/{session_id}", ada)["cancellation"]["fee_cents"] == 0
    shot(ada_page, "moves-03-moved")

    # The session a move replaced reads "Moved", not a red "Cancelled", in the mentor's list at desk and phone size
    # (its own page follows the meeting to the new session).
    grace_page.get_by_role("link", name="Requests").click()
    mine = grace_page.get_by_role("region", name="My sessions as mentor")
    expect(mine.get_by_role("listitem")).to_have_count(2)
    expect(mine.get_by_role("listitem").filter(has=grace_page.locator(f'a[href="#/sessions/{session_id}"]'))
           ).to_contain_text("Moved")
    expect(mine.get_by_text("Cancelled", exact=True)).to_have_count(0)
    axe.check(grace_page, "the mentor's sessions with a moved one")
    phone = new_page(browser, served, zone, PHONE)
    sign_in(phone, "grace@example.com")
    phone.goto("/#/requests")
    listed = phone.get_by_role("region", name="My sessions as mentor").get_by_role("listitem")
    expect(listed.filter(has=phone.locator(f'a[href="#/sessions/{session_id}"]'))).to_contain_text("Moved")
    axe.check(phone, "phone: the mentor's sessions with a moved one")
    shot(phone, "moves-04-old-session-phone")
    phone.context.close()


def test_a_mentee_who_came_reports_the_mentor_absent_and_gets_the_credit_back_at_phone_size(
        web_server: Served, browser: Any, axe: Axe, committed: sessionmaker[Session]) -> None:
    served = web_server
    zone = browser_timezone(datetime.now(UTC))
    ada_page = new_page(browser, served, zone, PHONE)
    sign_up(ada_page, "Ada Lovelace", "ada@example.com")
    ada = served.token("ada@example.com")
    _listing, session_id = booked_session(served, zone, ada, bundle=True)
    assert served.call("GET", "/bundle-purchases", ada)["items"][0]["remaining_sessions"] == 1
    # The session started 15 minutes ago (its times moved back, as if the test had waited for it).
    with committed() as db:
        db.execute(text("UPDATE sessions SET start_time = now() - interval '15 minutes', "
                        "end_time = now() + interval '45 minutes' WHERE id = :id"), {"id": session_id})
        db.execute(text("UPDATE bookings SET start_time = s.start_time, end_time = s.end_time FROM sessions s "
                        "WHERE s.id = :id AND bookings.id = s.booking_id"), {"id": session_id})
        db.commit()

    # Grace watches the session's page at her desk (she never checks in): what Ada does shows there live.
    grace_page = new_page(browser, served, zone)
    sign_in(grace_page, "grace@example.com")
    for page in (ada_page, grace_page):
        page.goto(f"/#/sessions/{session_id}")
    watched = grace_page.get_by_role("region", name="Attendance")
    expect(watched.get_by_role("listitem").filter(has_text="Ada Lovelace")).to_contain_text("not checked in yet")
    present = ada_page.get_by_role("region", name="Attendance")
    expect(present.get_by_role("listitem").filter(has_text="Grace Hopper")).to_contain_text("not checked in yet")
    present.get_by_role("button", name="I'm here").click()
    expect(present.get_by_role("listitem").filter(has_text="You")).to_contain_text("checked in at")
    expect(watched.get_by_role("listitem").filter(has_text="Ada Lovelace")).to_contain_text("checked in at",
                                                                                          timeout=LIVE_MS * 3)
    present.get_by_role("button", name="The mentor did not come…").click()
    expect(present).to_contain_text("you pay nothing, and a bundle credit you booked with comes back")
    axe.check(ada_page, "session page reporting an absence")
    present.get_by_role("button", name="Report the absence").click()

    # Ada's word alone: nothing moves until Grace's window to dispute it is over (the beat makes it final then).
    expect(ada_page.get_by_text("Mentor absent", exact=True)).to_be_visible()
    expect(present).to_contain_text("nothing to pay once")
    expect(present).to_contain_text("has passed without a dispute")
    expect(present.get_by_role("link", name="Book another time")).to_be_visible()
    shot(ada_page, "attendance-01-mentor-absent-phone")
    expect(grace_page.get_by_text("Mentor absent", exact=True)).to_be_visible(timeout=LIVE_MS * 3)
    expect(watched.get_by_role("button", name="Dispute this…")).to_be_visible()
    shot(grace_page, "attendance-02-found-absent-desktop")
    assert served.call("GET", "/bundle-purchases", ada)["items"][0]["remaining_sessions"] == 1
    grace = served.token("grace@example.com")
    shown = served.call("GET", f"/sessions/{session_id}", grace)["attendance"]
    assert [(a["role"], a["no_show"], a["no_show_final"]) for a in shown] == [
        ("mentor", None, None), ("mentee", "mentor", False)]
    # The window passes undisputed: final, the credit is back, and Ada's open page says so.
    with committed() as db:
        db.execute(text("UPDATE bookings SET no_show_at = now() - interval '49 hours' FROM sessions s "
                        "WHERE s.id = :id AND bookings.id = s.booking_id"), {"id": session_id})
        assert attendance.confirm_due(db) == 1
        db.commit()
    ada_page.reload()
    expect(ada_page.get_by_role("region", name="Attendance")).to_contain_text(
        "(final): nothing to pay, and the bundle credit is back")
    shot(ada_page, "attendance-03-final-phone")
    assert served.call("GET", "/bundle-purchases", ada)["items"][0]["remaining_sessions"] == 2
