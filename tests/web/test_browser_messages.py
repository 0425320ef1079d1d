"""Messages where the eye is, in Chromium: an API field error once, under its field, in words; a list's error
naming the item; a request's answer beside its button; and the agenda a Tab away from the chosen slot."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

from tests.web.conftest import PHONE, Axe, Served, browser_timezone, expect, new_page, shot, sign_up
from tests.web.pages import clinic, local, open_listing, sign_in, slot_button


def test_field_errors_sit_under_their_field_once_in_words(web_server: Served, browser: Any, axe: Axe) -> None:
    page = new_page(browser, web_server, "UTC")
    sign_up(page, "Grace Hopper", "grace@example.com")
    page.get_by_role("link", name="Become a mentor").click()
    page.get_by_label("Headline").fill("Compilers")
    page.get_by_label(re.compile("^Any time, day and night")).check()
    page.get_by_role("button", name="Create profile").click()
    expect(page.get_by_role("heading", level=1, name="Mentor setup")).to_be_visible()

    # A window the API refuses: named as the window, in words, beside Save, once.
    availability = page.get_by_role("region", name="Weekly availability")
    availability.get_by_label("Weekday").select_option("0")
    availability.get_by_label("From").fill("17:00")
    availability.get_by_label("To").fill("09:00")
    availability.get_by_role("button", name="Add window").click()
    availability.get_by_role("button", name="Save availability").click()
    expect(availability.get_by_role("alert")).to_have_text("Monday 17:00\u201309:00: End must be after start")
    expect(page.get_by_text("must be after start")).to_have_count(1)
    expect(page.get_by_text("windows.0")).to_have_count(0)

    # A field the API refuses: under that field, marked invalid, and not repeated above it.
    listing = page.get_by_role("region", name="Listings")
    listing.get_by_label("Title").fill("COBOL clinic")
    listing.get_by_label("Skill", exact=True).fill("cobol")
    # A new listing's currency is the mentor's, offered from the browser's region when they became one (en-GB
    # here); its capacity is asked of a group only.
    expect(listing.get_by_role("form", name="Currency of new listings").get_by_label("Currency of new listings")
           ).to_have_value("GBP")
    expect(listing.get_by_label("Currency", exact=True)).to_have_value("GBP")
    expect(listing.get_by_label("Capacity")).to_be_hidden()
    listing.get_by_label("Kind").select_option("group")
    expect(listing.get_by_label("Capacity")).to_be_visible()
    listing.get_by_label("Kind").select_option("individual")
    expect(listing.get_by_label("Capacity")).to_be_hidden()
    listing.get_by_label("Currency", exact=True).fill("US")
    listing.get_by_role("button", name="Create listing").click()
    currency = listing.get_by_label("Currency", exact=True)
    expect(currency).to_have_attribute("aria-invalid", "true")
    expect(currency).to_be_focused()
    note = page.locator(f"#{currency.get_attribute('aria-errormessage')}")
    expect(note).to_have_text("Currency: ISO 4217 code")
    under_its_field = ("(el) => el.closest('.field')"
                       ".contains(document.getElementById(el.getAttribute('aria-errormessage')))")
    assert currency.evaluate(under_its_field)
    expect(page.get_by_text("ISO 4217 code")).to_have_count(1)
    expect(listing.get_by_role("alert")).to_have_text("Check the fields marked above.")
    axe.check(page, "mentor setup with field errors")
    currency.fill("EUR")
    listing.get_by_role("button", name="Create listing").click()
    expect(listing.get_by_role("status")).to_have_text("Listing “COBOL clinic” created.")
    expect(currency).not_to_have_attribute("aria-invalid", "true")
    expect(listing.locator(".field-error")).to_have_count(0)
    page.context.close()


def test_the_agenda_is_a_tab_away_from_the_chosen_slot_and_the_answer_beside_the_button(
        web_server: Served, browser: Any) -> None:
    zone = browser_timezone(datetime.now(UTC))
    _, slots = clinic(web_server, zone)
    page = new_page(browser, web_server, zone)
    sign_up(page, "Ada Lovelace", "ada@example.com")
    open_listing(page, "COBOL clinic", "cobol")
    days = page.get_by_role("tablist", name="Days")
    expect(days.get_by_role("tab")).not_to_have_count(0)
    slot = slot_button(page, local(slots[3], zone))
    slot.click()
    presses = 0
    agenda = page.get_by_label("Agenda (optional)")
    while not agenda.evaluate("(el) => el === document.activeElement") and presses < 10:
        page.keyboard.press("Tab")
        presses += 1
    assert presses == 1, presses
    # Back to the slots: one Tab stop for the days, one for the slots; the arrow keys move within them.
    page.keyboard.press("Shift+Tab")
    expect(slot).to_be_focused()
    page.keyboard.press("ArrowRight")
    expect(slot_button(page, local(slots[4], zone))).to_be_focused()
    page.keyboard.press("Enter")
    page.keyboard.press("Tab")
    agenda.fill("My parser")
    form = page.get_by_role("form", name="Request a booking")
    form.get_by_role("button", name="Request booking").click()
    expect(form.get_by_role("status")).to_contain_text("The mentor will accept or decline.")
    page.context.close()


def test_weekly_hours_not_saved_say_so_and_leaving_the_page_asks_first(web_server: Served, browser: Any, axe: Axe
                                                                         ) -> None:
    page = new_page(browser, web_server, "UTC")
    sign_up(page, "Grace Hopper", "grace@example.com")
    page.get_by_role("link", name="Become a mentor").click()
    page.get_by_label("Headline").fill("Compilers")
    page.get_by_role("button", name="Create profile").click()
    # A new mentor has working hours unless they chose otherwise: weekdays, 09:00 to 17:00.
    availability = page.get_by_role("region", name="Weekly availability")
    expect(availability.get_by_role("listitem")).to_have_count(5)
    expect(availability.get_by_role("listitem").first).to_contain_text("Monday 09:00\u201317:00")
    unsaved = availability.get_by_role("status").filter(has_text="Unsaved changes")
    expect(unsaved).to_have_count(0)
    availability.get_by_label("Weekday").select_option("5")
    availability.get_by_role("button", name="Add window").click()  # Saturday 09:00 to 17:00, not saved
    expect(unsaved).to_be_visible()
    asked: list[str] = []
    page.once("dialog", lambda dialog: (asked.append(dialog.message), dialog.dismiss()))
    with page.expect_event("dialog"):
        page.get_by_role("link", name="Requests").click()
    expect(page.get_by_role("heading", level=1, name="Mentor setup")).to_be_visible()
    assert asked == ["Your weekly availability has changes not saved. Leave this page anyway?"], asked
    expect(availability.get_by_role("listitem")).to_have_count(6)  # kept, as added
    availability.get_by_role("button", name="Save availability").click()
    expect(availability.get_by_role("status").filter(has_text="Availability saved.")).to_be_visible()
    expect(unsaved).to_have_count(0)
    page.get_by_role("link", name="Requests").click()  # saved: no question
    expect(page.get_by_role("heading", level=1, name="Requests")).to_be_visible()
    assert len(asked) == 1
    page.context.close()

    # At phone size: a window added and not saved says so under the form.
    phone = new_page(browser, web_server, "UTC", PHONE)
    sign_in(phone, "grace@example.com")
    phone.goto("/#/mentor")
    weekly = phone.get_by_role("region", name="Weekly availability")
    weekly.get_by_label("Weekday").select_option("6")
    weekly.get_by_role("button", name="Add window").click()
    expect(weekly.get_by_role("status").filter(has_text="Unsaved changes")).to_be_visible()
    axe.check(phone, "phone: mentor setup with an unsaved window")
    # A checkbox under its label starts where the label starts, not in the middle of the screen.
    unavailable = phone.get_by_label("Not available that day")
    label = phone.locator("label", has_text="Not available that day")
    box, words = unavailable.bounding_box(), label.bounding_box()
    assert box is not None and words is not None and abs(box["x"] - words["x"]) < 8, (box, words)
    shot(phone, "messages-01-unsaved-window-phone")
    phone.context.close()
