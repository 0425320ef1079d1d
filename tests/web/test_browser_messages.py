"""Messages where the eye is, in Chromium: an API field error once, under its field, in words; a list's error
naming the item; a request's answer beside its button; and the agenda a Tab away from the chosen slot."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from tests.web.conftest import Axe, Served, browser_timezone, expect, new_page, sign_up
from tests.web.pages import clinic, local, open_listing, slot_button


def test_field_errors_sit_under_their_field_once_in_words(web_server: Served, browser: Any, axe: Axe) -> None:
    page = new_page(browser, web_server, "UTC")
    sign_up(page, "Grace Hopper", "grace@example.com")
    page.get_by_role("link", name="Become a mentor").click()
    page.get_by_label("Headline").fill("Compilers")
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
    listing.get_by_label("Currency").fill("US")
    listing.get_by_role("button", name="Create listing").click()
    currency = listing.get_by_label("Currency")
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
