"""A listing's booking form in Chromium: credits shown once and spent only when chosen, the policy shown before
a request, and a request that cannot be sent twice."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from tests.web.conftest import Axe, Served, browser_timezone, expect, new_page, sign_up
from tests.web.pages import LIVE_MS, clinic, local, open_listing, sign_in, slot_button


def test_credits_are_one_number_and_a_second_request_is_paid_with_the_price(  # noqa: PLR0915
        web_server: Served, browser: Any, axe: Axe) -> None:
    served = web_server
    zone = browser_timezone(datetime.now(UTC))
    listing, slots = clinic(served, zone, bundle_of=3)
    page = new_page(browser, served, zone)
    sign_up(page, "Ada Lovelace", "ada@example.com")
    ada = served.token("ada@example.com")
    open_listing(page, "COBOL clinic", "cobol")
    form = page.get_by_role("form", name="Request a booking")
    # The policy, as GET /bookings/policy states it, before any request.
    expect(form).to_contain_text("Cancellation policy: cancelling is free until 24 hours before the start; cancelling "
                                 "less than 24 hours before the start costs 50% of the price (US$25.00)")
    page.get_by_role("button", name="Buy bundle of 3").click()
    # Paying asks first, with the price and what it buys; nothing is bought until confirmed.
    buying = page.get_by_role("group", name="Buy the bundle of 3")
    expect(buying).to_contain_text("3 session credits for this listing")
    expect(page.locator("p.credits")).to_contain_text("You have no credits for this listing.")
    axe.check(page, "buying a bundle, before paying")
    buying.get_by_role("button", name=re.compile(r"^Pay US\$")).click()
    left = page.locator("p.credits")
    expect(left).to_contain_text("Your bundle credits for this listing: 3 left")
    pay_with = form.get_by_label("Pay with")
    expect(pay_with.locator("option")).to_have_text(["Listing price (US$50.00)", "A bundle credit (3 left)"])
    axe.check(page, "listing with credits")

    # The first request is paid with a credit, chosen; the choice then returns to the price.
    pay_with.select_option(label="A bundle credit (3 left)")
    slot_button(page, local(slots[0], zone)).click()
    form.get_by_role("button", name="Request booking").click()
    expect(form.get_by_role("status")).to_contain_text("paid with a bundle credit")
    expect(left).to_contain_text("Your bundle credits for this listing: 2 left")
    expect(pay_with.locator("option")).to_have_text(["Listing price (US$50.00)", "A bundle credit (2 left)"])
    expect(pay_with).to_have_value("")

    # The second, with nothing chosen, is paid with the price: no credit is spent behind the mentee's back.
    slot_button(page, local(slots[1], zone)).click()
    form.get_by_role("button", name="Request booking").click()
    expect(form.get_by_role("status")).to_contain_text("The mentor will accept or decline.")
    mine = served.call("GET", "/bookings?role=mentee", ada)["items"]
    bookings = {datetime.fromisoformat(b["start_time"]): b for b in mine}
    first, second = (bookings[datetime.fromisoformat(s["start_time"])] for s in slots[:2])
    assert first["bundle_purchase_id"] is not None
    assert second["bundle_purchase_id"] is None
    assert served.call("GET", "/bundle-purchases", ada)["items"][0]["remaining_sessions"] == 2
    expect(left).to_contain_text("2 left")
    # The mentor declines the credit-paid request: its credit comes back, and the open page says so at once.
    served.call("POST", f"/bookings/{first['id']}/decline", served.token("grace@example.com"), {})
    expect(left).to_contain_text("3 left", timeout=LIVE_MS)

    # My bundles counts the same way: one number per listing.
    page.get_by_role("link", name="Bundles").click()
    card = page.get_by_role("listitem").filter(has=page.get_by_role("heading", name="COBOL clinic"))
    expect(card.locator("p.credits")).to_have_text("3 credits left")
    axe.check(page, "my bundles")

    # Joining a group session shows its policy first.
    grace = served.token("grace@example.com")
    served.call("POST", "/listings", grace, {"title": "COBOL circle", "skill": "cobol", "duration_minutes": 60,
                                             "price_cents": 1500, "currency": "USD", "kind": "group", "capacity": 3},
                status=201)
    open_listing(page, "COBOL circle", "cobol")
    expect(page.get_by_role("region", name="Group sessions")).to_contain_text(
        "Cancellation policy: leaving the session is free until 24 hours before its start; leaving less than 24 "
        "hours before the start costs 50% of the price (US$7.50).")
    # The mentor schedules one from the listing's page: told what was scheduled, and the mentee's page shows it live.
    host = new_page(browser, served, zone)
    sign_in(host, "grace@example.com")
    open_listing(host, "COBOL circle", "cobol")
    starts = (datetime.now(UTC) + timedelta(days=3)).astimezone(ZoneInfo(zone)).replace(
        hour=10, minute=0, second=0, microsecond=0)
    scheduling = host.locator("form").filter(has=host.get_by_role("heading", name="Schedule a group session"))
    scheduling.get_by_label("Start").fill(f"{starts:%Y-%m-%dT%H:%M}")
    scheduling.get_by_role("button", name="Schedule").click()
    expect(scheduling.get_by_role("status")).to_contain_text(f"Scheduled: {starts:%a} {starts.day} {starts:%b}, 10:00")
    expect(scheduling.get_by_role("status")).to_contain_text("3 seats open to join")
    axe.check(host, "a group session scheduled")
    expect(page.get_by_role("region", name="Group sessions").get_by_role("button", name="Join")).to_be_visible(
        timeout=LIVE_MS)
    host.context.close()
    assert listing["id"] and page.csp_errors == []
    page.context.close()


def test_a_request_clears_its_slot_shows_progress_and_a_repeat_reads_in_words(
        web_server: Served, browser: Any) -> None:
    served = web_server
    zone = browser_timezone(datetime.now(UTC))
    _, slots = clinic(served, zone)
    page = new_page(browser, served, zone)
    sign_up(page, "Ada Lovelace", "ada@example.com")
    ada = served.token("ada@example.com")
    open_listing(page, "COBOL clinic", "cobol")
    form = page.get_by_role("form", name="Request a booking")
    button = form.get_by_role("button", name=re.compile("^(Request booking|Sending request…)$"))

    held: list[Any] = []
    page.route("**/api/v1/bookings", lambda route: held.append(route) if route.request.method == "POST"
               else route.continue_())
    slot = slot_button(page, local(slots[0], zone))
    slot.click()
    form.get_by_role("button", name="Request booking").click()
    # While it is sent: the button says so and cannot be pressed, and no slot is chosen any more.
    expect(button).to_have_text("Sending request…")
    expect(button).to_be_disabled()
    expect(slot).to_have_attribute("aria-pressed", "false")
    expect(page.locator("#selected-slot")).to_have_text("Choose a free slot above.")
    for _ in range(100):  # the route's handler runs as Playwright reads the page's events
        if held:
            break
        page.wait_for_timeout(50)
    assert len(held) == 1
    held[0].continue_()
    expect(form.get_by_role("status")).to_contain_text("Requested")
    expect(button).to_have_text("Request booking")
    expect(button).to_be_disabled()  # enabled again only once a slot is chosen
    page.unroute("**/api/v1/bookings")

    # The same time again: the API's 409 reads as what it means, beside the button.
    slot.click()
    form.get_by_role("button", name="Request booking").click()
    expect(form.get_by_role("alert")).to_have_text(
        "You already asked for this time: the request is below, waiting for the mentor.")
    assert len(served.call("GET", "/bookings?role=mentee", ada)["items"]) == 1
    assert page.csp_errors == []
    page.context.close()
