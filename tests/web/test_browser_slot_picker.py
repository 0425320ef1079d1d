"""The slot picker in Chromium: the whole horizon a week or a month at a time, a jump to the first free time, the
chosen day kept in view on a phone, times the viewer cannot take marked, times others asked for counted (and the
mentor told of the collision), and a refusal shown where the person is looking."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from tests.web.conftest import PHONE, Axe, Served, browser_timezone, expect, new_page, shot, sign_up
from tests.web.pages import clinic, local, sign_in, slot_button


def tab_name(day: date) -> re.Pattern[str]:
    return re.compile(f"^{day:%a} {day.day} {day:%b} · ")  # en-GB: "Tue 1 Dec · 3 free"


def in_view(page: Any, locator: Any) -> bool:
    box = locator.bounding_box()
    size = page.viewport_size
    return (box is not None and box["x"] >= 0 and box["x"] + box["width"] <= size["width"]
            and box["y"] >= 0 and box["y"] + box["height"] <= size["height"])


def test_a_phone_browses_the_whole_horizon_and_jumps_to_the_first_free_time(web_server: Served, browser: Any,
                                                                             axe: Axe) -> None:
    zone = browser_timezone(datetime.now(UTC))
    listing, _ = clinic(web_server, zone)
    grace = web_server.token("grace@example.com")
    web_server.call("PATCH", f"/listings/{listing['id']}", grace, {"max_days_ahead": 60})
    today = datetime.now(ZoneInfo(zone)).date()
    back = today + timedelta(days=9)
    web_server.call("PUT", f"/mentor-profiles/{listing['mentor_profile_id']}/time-off", grace,
                    {"time_off": [{"start": f"{today}T00:00", "end": f"{back}T00:00", "note": "Away"}]})
    page = new_page(browser, web_server, zone, PHONE)
    sign_up(page, "Ada Lovelace", "ada@example.com")
    page.goto(f"/#/listings/{listing['id']}")
    region = page.get_by_role("region", name="Free slots")
    days = region.get_by_role("tablist", name="Days")
    # This week is all time off: seven days, none free, and a way to the first free time.
    expect(days.get_by_role("tab")).to_have_count(7)
    expect(region.get_by_text("No free time this week.")).to_be_visible()
    expect(region.get_by_role("button", name="Previous week")).to_be_disabled()
    region.get_by_role("button", name="First free time").click()
    first = days.get_by_role("tab", name=tab_name(back))
    expect(first).to_have_attribute("aria-selected", "true")
    expect(first).to_be_focused()
    expect(region.get_by_role("tabpanel").get_by_role("button").first).to_have_accessible_name(
        re.compile(f"^00:00.*, {back:%a} {back.day} {back:%b}( \\d{{4}})?$"))

    # The last day of the week, tapped on a phone: still shown, selected and on screen; its own times below.
    last = days.get_by_role("tab").last
    last_day = (back - timedelta(days=(back - today).days % 7)) + timedelta(days=6)
    last.click()
    expect(last).to_have_attribute("aria-selected", "true")
    expect(last).to_have_accessible_name(tab_name(last_day))
    assert in_view(page, last), "the chosen day left the screen"
    expect(region.get_by_role("tabpanel").get_by_role("button").first).to_have_accessible_name(
        re.compile(f", {last_day:%a} {last_day.day} {last_day:%b}( \\d{{4}})?$"))
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    shot(page, "picker-01-phone-week")
    axe.check(page, "phone: a week of slots")

    a_month_leads_to_a_day_and_the_horizon_ends_it(page, axe, today)
    assert page.csp_errors == []
    page.context.close()


def a_month_leads_to_a_day_and_the_horizon_ends_it(page: Any, axe: Axe, today: date) -> None:
    """The month: days with free time are buttons; one of next month opens its week with that day chosen."""
    region = page.get_by_role("region", name="Free slots")
    days = region.get_by_role("tablist", name="Days")
    region.get_by_role("button", name="Month view").click()
    month = region.get_by_role("group", name=re.compile("^Days of .* with free time$"))
    expect(month.get_by_role("button")).not_to_have_count(0)
    # Its buttons are exactly its days from the mentor's return (9 days from today) to the horizon (60 days).
    shown = datetime.strptime(region.locator(".range").inner_text() + " +0000", "%B %Y %z").date()
    every = [shown + timedelta(days=n) for n in range(31) if (shown + timedelta(days=n)).month == shown.month]
    free = [str(d.day) for d in every if today + timedelta(days=9) <= d < today + timedelta(days=60)]
    numbers = month.get_by_role("button").evaluate_all("(els) => els.map((el) => el.firstChild.textContent)")
    assert numbers == free, numbers
    shot(page, "picker-02-phone-month")
    axe.check(page, "phone: a month of free days")
    region.get_by_role("button", name="Next month").click()
    # The month shown was the chosen week's (that of the first free day, 9 days from today); the next one's 15th is
    # within the 60 days.
    shown = today + timedelta(days=9)
    target = date(shown.year + (shown.month == 12), shown.month % 12 + 1, 15)
    named = re.compile(f"{target:%A},? {target.day} {target:%B} {target.year}, 24 free")
    month.get_by_role("button", name=named).click()
    chosen = days.get_by_role("tab", name=tab_name(target))
    expect(chosen).to_have_attribute("aria-selected", "true")
    expect(chosen).to_be_focused()
    assert in_view(page, chosen)
    # The horizon ends the browsing: 60 days ahead at most.
    later = region.get_by_role("button", name="Next week")
    for _ in range(12):
        if later.is_disabled():
            break
        later.click()
    expect(later).to_be_disabled()
    tabs = days.get_by_role("tab")
    expect(tabs.last).to_have_accessible_name(tab_name(today + timedelta(days=59)))


def test_the_viewer_sees_times_they_cannot_take_and_times_others_asked_for(web_server: Served, browser: Any,
                                                                           axe: Axe) -> None:
    zone = browser_timezone(datetime.now(UTC))
    listing, slots = clinic(web_server, zone)
    grace = web_server.token("grace@example.com")
    web_server.call("PATCH", f"/listings/{listing['id']}", grace, {"max_active_bookings_per_mentor": 2})
    # Ada already meets Linus at slots[2]'s time; Bo has asked Grace for slots[4].
    linus = web_server.register("Linus Torvalds", "linus@example.com")
    web_server.call("POST", "/mentor-profiles", linus, {"headline": "Kernels", "timezone": zone, "skills": ["c"]},
                    status=201)
    kernel = web_server.call("POST", "/listings", linus, {"title": "Kernel hour", "skill": "c", "duration_minutes": 60,
                                                          "price_cents": 0, "currency": "EUR"}, status=201)
    ada_api = web_server.register("Ada Lovelace", "ada@example.com")
    booked = web_server.call("POST", "/bookings", ada_api, {"listing_id": kernel["id"],
                                                             "start_time": slots[2]["start_time"]}, status=201)
    web_server.call("POST", f"/bookings/{booked['id']}/accept", linus)
    bo = web_server.register("Bo Svensson", "bo@example.com")
    web_server.call("POST", "/bookings", bo, {"listing_id": listing["id"], "start_time": slots[4]["start_time"]},
                    status=201)

    page = new_page(browser, web_server, zone, PHONE)
    sign_in(page, "ada@example.com")
    page.goto(f"/#/listings/{listing['id']}")
    busy = slot_button(page, local(slots[2], zone))
    expect(busy).to_be_disabled()
    expect(busy).to_contain_text("you have a session then")
    asked = slot_button(page, local(slots[4], zone))
    expect(asked).to_contain_text("asked for by someone else")
    expect(slot_button(page, local(slots[3], zone))).not_to_contain_text("asked")
    shot(page, "picker-03-phone-marks")
    axe.check(page, "phone: slots marked for their viewer")
    asked.click()
    page.get_by_role("button", name="Request booking").click()
    form = page.get_by_role("form", name="Request a booking")
    expect(form.get_by_role("status")).to_contain_text(
        "Someone else has asked for this time too: the mentor will accept one request for it.")
    expect(page.get_by_role("region", name="Your requests for this listing")).to_contain_text(
        "Someone else has asked for this time too")

    # A refusal (two pending requests to one mentor at most) lands where the person is looking, focused.
    slot_button(page, local(slots[5], zone)).click()
    page.get_by_role("button", name="Request booking").click()
    expect(form.get_by_role("status")).to_contain_text("Requested")
    slot_button(page, local(slots[6], zone)).click()
    page.get_by_role("button", name="Request booking").click()
    refusal = form.get_by_role("alert")
    expect(refusal).to_contain_text("with this mentor, the most allowed")
    expect(refusal).not_to_contain_text("Next free times")  # another time would not help
    expect(refusal).to_be_focused()
    assert in_view(page, refusal), "the refusal is off screen"
    shot(page, "picker-04-phone-refusal")
    page.context.close()
    the_mentor_sees_the_collision(web_server, browser, axe, zone)


def the_mentor_sees_the_collision(web_server: Served, browser: Any, axe: Axe, zone: str) -> None:
    """Grace sees the two requests for one time side by side, and what accepting one does."""
    mentor = new_page(browser, web_server, zone)
    sign_in(mentor, "grace@example.com")
    mentor.get_by_role("link", name="Requests").click()
    colliding = mentor.get_by_role("group", name=re.compile("^Request from ")).filter(
        has_text="2 requests for this time")
    expect(colliding).to_have_count(2)
    expect(colliding.first).to_contain_text("accepting one declines the others")
    others = mentor.get_by_role("group", name=re.compile("^Request from ")).filter(
        has_not_text="requests for this time")
    expect(others).to_have_count(1)
    shot(mentor, "picker-05-mentor-collision")
    axe.check(mentor, "requests that collide")
    colliding.filter(has_text="Bo Svensson").get_by_role("button", name="Accept").click()
    expect(mentor.get_by_text("2 requests for this time")).to_have_count(0)
    mentor.context.close()
