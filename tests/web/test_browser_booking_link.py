"""The cancel link of a confirmation email, in Chromium, signed out on a phone: its page shows the meeting and what
cancelling costs, opening it changes nothing, its button cancels; the link then has nothing left to do."""

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
    token = mailed_link(mailbox.inbox, "ada@example.com", "booking-link")

    page = new_page(browser, served, zone, PHONE)
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
    expect(page.locator("#main .card")).to_contain_text("there is nothing to cancel")
    page.context.close()
