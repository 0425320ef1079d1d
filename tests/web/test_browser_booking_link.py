"""The links of a confirmation email, in Chromium, signed out on a phone. The move link's page offers free times and
its button proposes the one chosen, which the mentor accepts in the app. The cancel link's page shows the meeting and
what cancelling costs, opening it changes nothing, its button cancels; the link then has nothing left to do."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from tests.mail import Mailbox
from tests.web.conftest import PHONE, Axe, Served, browser_timezone, expect, new_page, shot
from tests.web.pages import clinic, mailed_link, wait_for_session


def test_a_mailed_link_cancels_the_meeting_only_from_its_button(mailbox: Mailbox, web_server: Served, browser: Any,
                                                                 axe: Axe) -> None:
    served = web_server
    zone = browser_timezone(datetime.now(UTC))
    listing, slots = clinic(served, zone)
    grace = served.token("grace@example.com")
    ada = served.register("Ada Lovelace", "ada@example.com")
    confirm = mailed_link(mailbox.inbox, "ada@example.com", "verify-email")
    assert served.http.post("/api/v1/auth/verify-email", json={"token": confirm}).status_code < 300
    later = slots[-1]  # more than a day ahead: cancelling is free
    booking = served.call("POST", "/bookings", ada, {"listing_id": listing["id"], "start_time": later["start_time"]},
                          status=201)
    served.call("POST", f"/bookings/{booking['id']}/accept", grace)
    session_id = wait_for_session(served, ada, booking["id"])
    token = mailed_link(mailbox.inbox, "ada@example.com", "booking-link", "Cancel it")
    move = mailed_link(mailbox.inbox, "ada@example.com", "booking-link", "Move it")

    page = new_page(browser, served, zone, PHONE)
    page.goto(f"/#/booking-link?token={move}")
    expect(page.get_by_role("heading", level=1, name="Move a meeting")).to_be_visible()
    card = page.locator("#main .card")
    expect(card).to_contain_text("Moving is free for both of you")
    propose = card.get_by_role("button", name="Propose this time")
    expect(propose).to_be_disabled()
    times = card.get_by_role("group", name="Free times").get_by_role("button")
    expect(times).to_have_count(12)
    times.nth(1).click()
    expect(times.nth(1)).to_have_attribute("aria-pressed", "true")
    shot(page, "booking-link-00-move-phone")
    axe.check(page, "phone: a mailed move link")
    propose.click()
    expect(card.get_by_role("status")).to_contain_text("Grace Hopper is asked to accept it")
    (proposal,) = served.call("GET", f"/bookings/{booking['id']}/reschedule-proposals", grace)["items"]
    assert (proposal["proposed_by"], proposal["status"]) == ("mentee", "open")
    served.call("POST", f"/reschedule-proposals/{proposal['id']}/decline", grace)

    page.goto(f"/#/booking-link?token={token}")
    card = page.locator("#main .card")
    expect(card).to_contain_text("COBOL clinic with Grace Hopper")
    expect(card).to_contain_text("Cancelling now costs nothing.")
    assert "token" not in page.url  # kept out of the address bar and the history
    shot(page, "booking-link-01-phone")
    axe.check(page, "phone: a mailed cancel link")
    # Opening the page changed nothing.
    assert served.call("GET", f"/sessions/{session_id}", ada)["status"] == "scheduled"
    card.get_by_role("button", name="Cancel the meeting").click()
    expect(card.get_by_role("status")).to_have_text("Cancelled. Grace Hopper is told.")
    assert served.call("GET", f"/sessions/{session_id}", ada)["status"] == "cancelled"
    page.goto(f"/#/booking-link?token={token}")
    expect(page.locator("#main .card")).to_contain_text("there is nothing to do")
    page.context.close()
