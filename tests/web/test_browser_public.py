"""Public pages and booking links, in Chromium: a mentor makes their page public and finds each listing's booking
link; a visitor on a phone starts at `/` (the public directory, not a sign-in form), opens the link, reads the free
times in their own timezone, chooses one, signs up and lands back on that time, chosen, to book it; someone with an
account on a desktop signs in from the same link and lands on their time too."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit
from zoneinfo import ZoneInfo

from icalendar import Calendar

from tests.mail import Mailbox
from tests.web.conftest import DESKTOP, PASSWORD, PHONE, Axe, Served, browser_timezone, expect, new_page, shot
from tests.web.pages import clinic, mailed_link, sign_in, wait_for_session


def test_a_visitor_books_from_a_public_booking_link_through_sign_up(web_server: Served, browser: Any,
                                                                    axe: Axe) -> None:
    served = web_server
    zone = browser_timezone(datetime.now(UTC))
    listing, _ = clinic(served, "Europe/Paris")
    the_mentor_shares_a_booking_link(served, browser, axe, zone, listing)
    visitor = new_page(browser, served, zone, PHONE)
    visitor.goto("/")
    expect(visitor).to_have_url(re.compile("/mentors$"))
    expect(visitor.get_by_role("heading", level=1, name="Find a mentor")).to_be_visible()
    shot(visitor, "public-00-directory-phone")
    axe.check(visitor, "phone: the public directory")
    visitor.get_by_role("link", name="Grace Hopper").click()
    expect(visitor.get_by_role("heading", level=1, name="Grace Hopper")).to_be_visible()
    shot(visitor, "public-00-mentor-phone")
    axe.check(visitor, "phone: a public mentor's page")
    visitor.get_by_role("link", name="COBOL clinic").click()
    # The server wrote the times in the visitor's zone (the page asked for it by its address).
    expect(visitor).to_have_url(re.compile(f"/book/{listing['slug']}\\?tz="))
    times = visitor.get_by_role("region", name=re.compile("^Free times from"))
    expect(times.get_by_text(f"Times in {zone}.")).to_contain_text("come straight back to it")
    chosen = times.get_by_role("link").filter(has_text=re.compile(r"^\d\d:\d\d")).nth(2)
    start = datetime.fromisoformat(re.search(r"start=([^&]+)", chosen.get_attribute("href"))  # type: ignore[union-attr]
                                   .group(1).replace("%3A", ":"))
    expect(chosen).to_contain_text(f"{start.astimezone(ZoneInfo(zone)):%H:%M}\u2013")
    shot(visitor, "public-02-booking-page-phone")
    axe.check(visitor, "phone: a public booking page")
    assert not visitor.csp_errors, visitor.csp_errors

    chosen.click()
    expect(visitor.get_by_role("heading", level=1, name="Sign in")).to_be_visible()
    visitor.get_by_role("link", name="Create an account").click()
    visitor.get_by_label("Display name").fill("Ada Lovelace")
    visitor.get_by_label("Email").fill("ada@example.com")
    visitor.get_by_label("Password").fill(PASSWORD)
    visitor.get_by_role("button", name="Sign up").click()
    booked_time(visitor, start, zone)
    form = visitor.get_by_role("form", name="Request a booking")
    form.get_by_role("button", name="Request booking").click()
    expect(form.get_by_role("status")).to_contain_text("Requested")
    shot(visitor, "public-03-back-at-the-time-phone")
    axe.check(visitor, "phone: back from sign-up at the chosen time")
    visitor.context.close()

    someone_with_an_account_signs_in_from_the_link(served, browser, axe, zone, listing)


def someone_with_an_account_signs_in_from_the_link(served: Served, browser: Any, axe: Axe, zone: str,
                                                   listing: dict[str, Any]) -> None:
    """On a desktop, from the directory's search to the booking page, then signed in back at the time chosen."""
    served.register("Bo Chen", "bo@example.com")
    desk = new_page(browser, served, zone, DESKTOP)
    desk.goto("/mentors?q=cobol")
    expect(desk.get_by_role("link", name="Grace Hopper")).to_be_visible()
    axe.check(desk, "the public directory, searched")
    desk.goto(f"/book/{listing['slug']}")
    times = desk.get_by_role("region", name=re.compile("^Free times from"))
    expect(times.get_by_text(f"Times in {zone}.")).to_contain_text("come straight back to it")
    shot(desk, "public-04-booking-page-desktop")
    axe.check(desk, "a public booking page")
    other = times.get_by_role("link").filter(has_text=re.compile(r"^\d\d:\d\d")).nth(3)
    later = datetime.fromisoformat(re.search(r"start=([^&]+)", other.get_attribute("href"))  # type: ignore[union-attr]
                                   .group(1).replace("%3A", ":"))
    other.click()
    desk.get_by_label("Email").fill("bo@example.com")
    desk.get_by_label("Password").fill(PASSWORD)
    desk.get_by_role("button", name="Sign in").click()
    booked_time(desk, later, zone)
    desk.context.close()


def the_mentor_shares_a_booking_link(served: Served, browser: Any, axe: Axe, zone: str,
                                     listing: dict[str, Any]) -> None:
    mentor = new_page(browser, served, zone)
    sign_in(mentor, "grace@example.com")
    mentor.goto("/#/mentor")
    public = mentor.get_by_role("form", name="Public page")
    public.get_by_label("Show my profile and listings to visitors").check()
    public.get_by_role("button", name="Save public page").click()
    link = mentor.get_by_role("link", name=f"{served.url}/book/{listing['slug']}")
    expect(link).to_be_visible()
    expect(mentor.get_by_role("form", name="Public page").get_by_label(
        "Show my profile and listings to visitors")).to_be_checked()
    shot(mentor, "public-01-mentor-shares")
    axe.check(mentor, "mentor setup: the public page and a booking link")
    mentor.context.close()


def booked_time(page: Any, start: datetime, zone: str) -> None:
    """The listing's screen, with the time chosen on the public page chosen in the picker."""
    expect(page.get_by_role("heading", level=1, name="COBOL clinic")).to_be_visible()
    local = start.astimezone(ZoneInfo(zone))
    chosen = page.get_by_role("region", name="Free slots").locator("button.slot[aria-pressed=true]")
    expect(chosen).to_contain_text(f"{local:%H:%M}")
    expect(page.locator("#selected-slot")).to_contain_text(f"{local:%H:%M}")


def test_signed_out_app_screens_still_ask_to_sign_in(web_server: Served, browser: Any) -> None:
    """Only `/` opens the public directory: another screen of the app asks a visitor to sign in, as before."""
    web_server.register("Bo Chen", "bo@example.com")
    page = new_page(browser, web_server, "UTC")
    page.goto("/#/bookings")
    expect(page.get_by_role("heading", level=1, name="Sign in")).to_be_visible()
    page.get_by_label("Email").fill("bo@example.com")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", level=1, name="My bookings")).to_be_visible()
    page.context.close()


def test_a_group_session_chosen_on_a_booking_page_is_the_one_shown_after_sign_in(web_server: Served,
                                                                                 browser: Any, axe: Axe) -> None:
    served = web_server
    zone = browser_timezone(datetime.now(UTC))
    grace = served.register("Grace Hopper", "grace@example.com")
    profile = served.call("POST", "/mentor-profiles", grace, {"headline": "Compilers", "timezone": zone,
                                                              "skills": ["cobol"]}, status=201)
    served.call("PATCH", f"/mentor-profiles/{profile['id']}", grace, {"public": True})
    listing = served.call("POST", "/listings", grace, {
        "title": "COBOL circle", "skill": "cobol", "duration_minutes": 60, "price_cents": 1500, "currency": "EUR",
        "kind": "group", "capacity": 4}, status=201)
    starts = [datetime.now(UTC).replace(minute=0, second=0, microsecond=0) + timedelta(hours=h) for h in (5, 7)]
    for start in starts:
        served.call("POST", f"/listings/{listing['id']}/group-sessions", grace,
                    {"start_time": start.isoformat()}, status=201)
    served.register("Bo Chen", "bo@example.com")
    page = new_page(browser, served, zone, PHONE)
    page.goto(f"/book/{listing['slug']}")
    sessions = page.get_by_role("region", name=re.compile("^Sessions from"))
    later = f"{starts[1].astimezone(ZoneInfo(zone)):%H:%M}"
    sessions.get_by_role("link", name=re.compile(f"^{later}.*4 seats left$")).click()
    page.get_by_label("Email").fill("bo@example.com")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    chosen = page.get_by_role("region", name="Group sessions").locator("li[aria-current=true]")
    expect(chosen).to_contain_text(later)
    expect(chosen.get_by_role("button", name="Join")).to_be_focused()
    shot(page, "public-05-group-session-chosen-phone")
    axe.check(page, "phone: the group session chosen on a booking page")
    page.context.close()


def test_a_visitor_who_books_at_once_from_a_link_gets_the_confirmation_once_their_address_is(
        mailbox: Mailbox, web_server: Served, browser: Any, axe: Axe) -> None:
    """A listing booked instantly: the visitor books before opening the confirmation link, hears nothing of the
    booking until they open it, then gets "Booking confirmed" with its invite, whose links open the session."""
    served = web_server
    zone = browser_timezone(datetime.now(UTC))
    listing, _ = clinic(served, zone)
    grace = served.token("grace@example.com")
    served.call("PATCH", f"/listings/{listing['id']}", grace, {"instant_booking": True})
    served.call("PATCH", f"/mentor-profiles/{served.call('GET', '/me', grace)['mentor_profile_id']}", grace,
                {"public": True})
    visitor = new_page(browser, served, zone, PHONE)
    visitor.goto(f"/book/{listing['slug']}")
    times = visitor.get_by_role("region", name=re.compile("^Free times from"))
    times.get_by_role("link").filter(has_text=re.compile(r"^\d\d:\d\d")).nth(1).click()
    visitor.get_by_role("link", name="Create an account").click()
    visitor.get_by_label("Display name").fill("Ada Lovelace")
    visitor.get_by_label("Email").fill("ada@example.com")
    visitor.get_by_label("Password").fill(PASSWORD)
    visitor.get_by_role("button", name="Sign up").click()
    form = visitor.get_by_role("form", name="Book a time")
    form.get_by_role("button", name="Book", exact=True).click()
    expect(form.get_by_role("status")).to_contain_text("it is confirmed")
    ada = served.token("ada@example.com")
    (booking,) = served.call("GET", "/bookings?role=mentee", ada)["items"]
    wait_for_session(served, ada, booking["id"])
    confirm = mailed_link(mailbox.inbox, "ada@example.com", "verify-email")
    assert [m["Subject"] for m in mailbox.inbox.to("ada@example.com")] == ["Confirm your email address"]

    visitor.goto(f"/#/verify-email?token={confirm}")
    expect(visitor.locator("#main").get_by_role("status")).to_contain_text("ada@example.com is confirmed")
    shot(visitor, "public-06-confirmed-after-booking-phone")
    axe.check(visitor, "phone: an address confirmed after booking at once")
    mailed_link(mailbox.inbox, "ada@example.com", "booking-link", "Cancel it")  # the confirmation came
    (confirmation,) = [m for m in mailbox.inbox.to("ada@example.com") if m["Subject"] == "Booking confirmed"]
    (invite,) = [part for part in confirmation.walk() if part.get_content_type() == "text/calendar"]
    (event,) = Calendar.from_ical(invite.get_payload(decode=True)).walk("VEVENT")
    assert (str(event["ORGANIZER"].params["CN"]), str(event["ATTENDEE"])) == ("Grace Hopper", "mailto:ada@example.com")
    assert "grace@example.com" not in invite.get_payload(decode=True).decode()
    text = next(p for p in confirmation.walk() if p.get_content_type() == "text/plain").get_payload(decode=True)
    google = re.search(r"Add it to Google Calendar: (\S+)", text.decode())
    assert google is not None
    session = re.search(r"#/sessions/([\w-]+)", parse_qs(urlsplit(google.group(1)).query)["details"][0])
    assert session is not None
    visitor.goto(f"/#/sessions/{session.group(1)}")
    expect(visitor.get_by_role("heading", level=1)).to_contain_text("COBOL clinic")
    visitor.context.close()
