"""A weekly series in Chromium: the mentee chooses "Every week" on a slot, sees each time checked (one taken, with
why), sends the series; the mentor answers it once on the Requests page, live, and the mentee's My bookings shows it
accepted, live, with the time taken left out."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

from tests.web.conftest import Axe, Served, browser_timezone, expect, new_page, shot, sign_up
from tests.web.pages import LIVE_MS, clinic, local, open_listing, sign_in, slot_button


def test_a_weekly_series_is_requested_with_its_times_checked_and_accepted_once_live(  # noqa: PLR0915
        web_server: Served, browser: Any, axe: Axe) -> None:
    served = web_server
    zone = browser_timezone(datetime.now(UTC))
    grace_page, ada_page = new_page(browser, served, zone), new_page(browser, served, zone)
    sign_up(ada_page, "Ada Lovelace", "ada@example.com")
    listing, slots = clinic(served, zone)
    first = slots[3]
    grace = served.token("grace@example.com")
    # Bob holds the second week's time already.
    bob = served.register("Bob Kahn", "bob@example.com")
    second_week = (datetime.fromisoformat(first["start_time"]) + timedelta(weeks=1)).isoformat()
    taken = served.call("POST", "/bookings", bob, {"listing_id": listing["id"], "start_time": second_week}, status=201)
    served.call("POST", f"/bookings/{taken['id']}/accept", grace)

    sign_in(grace_page, "grace@example.com")
    grace_page.get_by_role("link", name="Requests").click()
    incoming = grace_page.get_by_role("region", name="Incoming requests")
    expect(incoming.get_by_text("No requests waiting.")).to_be_visible()

    open_listing(ada_page, "COBOL clinic", "cobol")
    slot_button(ada_page, local(first, zone)).click()
    form = ada_page.get_by_role("form", name="Request a booking")
    expect(form.get_by_label("How many times")).to_be_hidden()  # a single meeting has no count to give
    form.get_by_label("Repeat").select_option("1")
    form.get_by_label("How many times").fill("4")
    form.get_by_label("How many times").dispatch_event("change")
    times = form.get_by_role("group", name="3 of 4 times are free")
    expect(times).to_be_visible()
    expect(times.get_by_role("listitem").filter(has_text="Not free")).to_contain_text("not available at that time")
    expect(times.get_by_role("checkbox")).to_have_count(3)
    axe.check(ada_page, "a series' times checked before sending")
    shot(ada_page, "series-01-times-checked")
    form.get_by_role("button", name="Request series").click()
    expect(form.get_by_role("status")).to_contain_text("Series requested: 3 meetings")

    # The mentor's open page shows the series as one request, live; one answer accepts its three times.
    series = incoming.get_by_role("group", name="Series request from Ada Lovelace")
    expect(series).to_be_visible(timeout=LIVE_MS * 2)
    expect(incoming.get_by_role("group", name=re.compile("^Request from"))).to_have_count(0)
    axe.check(grace_page, "a series request")
    shot(grace_page, "series-02-request")
    ada_page.get_by_role("link", name="My bookings").click()
    mine = ada_page.get_by_role("region", name="Series")
    expect(mine.get_by_text("Requested", exact=True).first).to_be_visible()
    series.get_by_role("button", name="Accept all 3").click()
    expect(grace_page.get_by_text("Series accepted: 3 meetings.")).to_be_visible()
    expect(mine.get_by_text("Accepted", exact=True).first).to_be_visible(timeout=LIVE_MS * 2)
    expect(mine.get_by_text("Left out")).to_have_count(1)
    shot(ada_page, "series-03-accepted")
    axe.check(ada_page, "my series")

    # Cancelling from the second accepted time on asks first, listing the meetings it cancels and their cost.
    mine.get_by_role("button", name="Cancel this and all following").nth(1).click()
    asking = mine.get_by_role("group", name="Cancel this and all following")
    expect(asking).to_contain_text("This cancels 2 meetings:")
    expect(asking.get_by_role("listitem")).to_have_count(2)
    expect(asking).to_contain_text("No fee: each is more than 24 hours away.")
    times = mine.locator("ul.series-times")
    expect(times.get_by_text("Accepted", exact=True)).to_have_count(3)  # nothing cancelled yet
    axe.check(ada_page, "cancelling a series from a time on, before confirming")
    shot(ada_page, "series-04-cancel-asks")
    asking.get_by_role("button", name="Cancel 2 meetings").click()
    expect(times.get_by_text("Accepted", exact=True)).to_have_count(1)
