"""The booking journey at phone size (390 by 844) in Chromium: a folded menu, a day-by-day slot picker, the
request button always in reach, and nothing wider than the screen on any screen."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from tests.web.conftest import PHONE, Axe, Served, browser_timezone, expect, new_page, shot, sign_up
from tests.web.pages import clinic, local, slot_button


def fits_the_screen(page: Any, screen: str) -> None:
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"{screen}: {width} px wide on a {PHONE['width']} px screen"


def in_view(locator: Any) -> bool:
    box = locator.bounding_box()
    return box is not None and box["y"] >= 0 and box["y"] + box["height"] <= PHONE["height"]


def go(page: Any, link: str) -> None:
    menu = page.get_by_role("button", name="Menu")
    menu.click()
    expect(menu).to_have_attribute("aria-expanded", "true")
    page.get_by_role("link", name=link, exact=True).click()
    expect(menu).to_have_attribute("aria-expanded", "false")


def test_the_booking_journey_at_phone_size(web_server: Served, browser: Any, axe: Axe) -> None:
    zone = browser_timezone(datetime.now(UTC))
    listing, slots = clinic(web_server, zone)
    page = new_page(browser, web_server, zone, PHONE)
    sign_up(page, "Ada Lovelace", "ada@example.com")
    # An earlier time requested before (elsewhere): the listing's requests read in date order, whatever came first.
    web_server.call("POST", "/bookings", web_server.token("ada@example.com"),
                    {"listing_id": listing["id"], "start_time": slots[0]["start_time"]}, status=201)

    # The header is one short row: the menu is folded behind its button.
    header = page.locator("header.top").bounding_box()
    assert header is not None and header["height"] <= 0.1 * PHONE["height"], header
    expect(page.get_by_role("link", name="My bookings")).to_be_hidden()
    fits_the_screen(page, "browse")
    axe.check(page, "phone: browse")

    go(page, "Mentors")
    page.get_by_label("Skill").fill("cobol")
    page.get_by_role("button", name="Search").click()
    page.get_by_role("link", name="COBOL clinic").click()
    expect(page.get_by_role("heading", level=1, name="COBOL clinic")).to_be_visible()
    slot = slot_button(page, local(slots[2], zone))
    slot.click()
    request = page.get_by_role("button", name="Request booking")
    assert in_view(request), "the request button is out of reach once a slot is chosen"
    fits_the_screen(page, "listing")
    shot(page, "phone-01-listing")
    axe.check(page, "phone: listing")
    request.click()
    expect(page.get_by_role("form", name="Request a booking").get_by_role("status")).to_contain_text("Requested")
    assert in_view(page.get_by_role("button", name="Request booking"))
    mine = page.get_by_role("region", name="Your requests for this listing").get_by_role("listitem")
    expect(mine).to_have_count(2)
    for index, slot in enumerate((slots[0], slots[2])):
        expect(mine.nth(index)).to_contain_text(f", {local(slot, zone):%H:%M}\u2013")  # its start

    go(page, "My bookings")
    expect(page.get_by_role("region", name="Upcoming").get_by_text("Requested")).to_have_count(2)
    fits_the_screen(page, "my bookings")
    go(page, "Settings")
    expect(page.get_by_role("heading", level=1, name="Settings")).to_be_visible()
    fits_the_screen(page, "settings")
    shot(page, "phone-02-settings")
    axe.check(page, "phone: settings")
    assert page.csp_errors == []
    page.context.close()
