"""Screens keep what people type, where their focus is and how far they scrolled, across live updates, in
Chromium: every redraw goes through ui.js ``redraw``, and forms are made once and kept."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from tests.web.conftest import Served, browser_timezone, expect, new_page, sign_up
from tests.web.pages import clinic, local, open_listing, rerendered, slot_button


def test_a_live_update_keeps_typed_words_focus_choice_and_scroll(web_server: Served, browser: Any) -> None:
    served = web_server
    zone = browser_timezone(datetime.now(UTC))
    listing, slots = clinic(served, zone)
    page = new_page(browser, served, zone, {"width": 1200, "height": 500})
    sign_up(page, "Ada Lovelace", "ada@example.com")
    open_listing(page, "COBOL clinic", "cobol")

    # The listing: a slot chosen, words typed, the page scrolled, the focus in the agenda.
    slot = slot_button(page, local(slots[1], zone))
    slot.click()
    agenda = page.get_by_label("Agenda (optional)")
    agenda.fill("My parser")
    agenda.focus()
    page.evaluate("window.scrollTo(0, 260)")
    scrolled = page.evaluate("window.scrollY")
    assert scrolled > 0
    rerendered(page, ".slot-row")
    expect(agenda).to_have_value("My parser")
    expect(agenda).to_be_focused()
    expect(slot).to_have_attribute("aria-pressed", "true")
    assert page.evaluate("window.scrollY") == scrolled
    # The focus on a slot comes back to the same slot in the new row.
    slot.focus()
    rerendered(page, ".slot-row")
    expect(slot).to_be_focused()

    # My bookings: the focus on one request's button stays on that request's button.
    ada = served.token("ada@example.com")
    for index in (2, 3):
        served.call("POST", "/bookings", ada, {"listing_id": listing["id"], "start_time": slots[index]["start_time"]},
                    status=201)
    page.get_by_role("link", name="My bookings").click()
    upcoming = page.get_by_role("region", name="Upcoming")
    expect(upcoming.get_by_role("button", name="Withdraw request")).to_have_count(2)
    second = upcoming.get_by_role("listitem").nth(1).get_by_role("button", name="Withdraw request")
    second.focus()
    rerendered(page, "#main ul.list")
    expect(upcoming.get_by_role("listitem").nth(1).get_by_role("button", name="Withdraw request")).to_be_focused()
    page.context.close()
