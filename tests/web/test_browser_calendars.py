"""A mentor's own calendar in Chromium, against a real Radicale: connected on the setup page, an event added there
takes the slot off a mentee's open listing page at the next sync, without a reload; the calendar chosen for
sessions receives an accepted one, and gives it up when sessions stop going there; disconnecting gives the slot
back, live."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from celery import Celery

from tests.calendar_servers import PASSWORD, USER, client, radicale
from tests.concurrency import wait_until
from tests.web.conftest import Axe, Served, browser_timezone, expect, new_page, shot, sign_up
from tests.web.pages import LIVE_MS, clinic, local, open_listing, sign_in, slot_button, wait_for_session

STAMP = "%Y%m%dT%H%M%SZ"


def test_a_connected_calendar_takes_busy_slots_away_live_and_receives_the_sessions(
        web_server: Served, browser: Any, axe: Axe, celery_app: Celery, tmp_path: Path) -> None:
    served = web_server
    zone = browser_timezone(datetime.now(UTC))
    grace_page, ada_page = new_page(browser, served, zone), new_page(browser, served, zone)
    sign_up(ada_page, "Ada Lovelace", "ada@example.com")
    listing, slots = clinic(served, zone)
    taken, booked = slots[2], slots[5]
    grace = served.token("grace@example.com")
    sign_in(grace_page, "grace@example.com")
    grace_page.get_by_role("link", name="Mentor setup").click()
    calendars = grace_page.get_by_role("region", name="Calendars")
    expect(calendars.get_by_text("No calendar connected")).to_be_visible()

    with radicale(tmp_path) as server:
        personal = client(server).principal().make_calendar(name="Personal")
        # A secret address is read-only and needs no account: its form asks for none.
        calendars.get_by_label("Kind").select_option("ics")
        expect(calendars.get_by_label("User name")).to_be_hidden()
        expect(calendars.get_by_label("App password")).to_be_hidden()
        calendars.get_by_label("Kind").select_option("caldav")
        calendars.get_by_label("Server or address").fill(server.url)
        calendars.get_by_label("User name").fill(USER)
        calendars.get_by_label("App password").fill(PASSWORD)
        calendars.get_by_role("button", name="Connect").click()
        expect(calendars.get_by_role("status")).to_contain_text("Connected to 127.0.0.1: 1 calendar found")
        connection = calendars.get_by_role("group", name="Calendar at 127.0.0.1")
        connection.get_by_label("sessions go here").check()
        expect(calendars.get_by_role("status")).to_contain_text("Saved")
        expect(connection).to_contain_text("Last read", timeout=LIVE_MS * 6)  # the worker's first sync, no reload
        axe.check(grace_page, "mentor setup with a calendar connected")
        shot(grace_page, "calendars-01-connected")

        open_listing(ada_page, "COBOL clinic", "cobol")
        start = local(taken, zone)
        expect(slot_button(ada_page, start)).to_be_visible()
        begins = datetime.fromisoformat(taken["start_time"]).astimezone(UTC)
        personal.add_event(f"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//tests//EN\r\nBEGIN:VEVENT\r\nUID:dentist\r\n"
                           f"DTSTAMP:20300101T000000Z\r\nDTSTART:{begins:{STAMP}}\r\n"
                           f"DTEND:{begins + timedelta(minutes=30):{STAMP}}\r\nSUMMARY:Dentist\r\nEND:VEVENT\r\n"
                           "END:VCALENDAR\r\n")
        connection_id = served.call("GET", "/calendar-connections", grace)["items"][0]["id"]
        celery_app.send_task("calendars.sync", args=[connection_id])  # what the beat sends every few minutes
        expect(slot_button(ada_page, start)).to_have_count(0, timeout=LIVE_MS * 6)

        # A session accepted now is written to Grace's calendar, with the mentee's name.
        ada = served.token("ada@example.com")
        request = served.call("POST", "/bookings", ada, {"listing_id": listing["id"],
                                                         "start_time": booked["start_time"]}, status=201)
        served.call("POST", f"/bookings/{request['id']}/accept", grace)
        wait_for_session(served, ada, request["id"])
        wait_until(lambda: any(request["id"] in item.data for item in personal.events()), 20,
                   "the session reaching the calendar")
        written = next(item.data for item in personal.events() if request["id"] in item.data)
        assert re.search(r"SUMMARY:COBOL clinic with Ada Lovelace", written)

        # Sessions no longer written there: the event of the session to come is taken away.
        connection.get_by_role("button", name="Stop writing sessions here").click()
        expect(calendars.get_by_role("status")).to_contain_text("Saved")
        expect(connection.get_by_label("sessions go here")).not_to_be_checked()
        wait_until(lambda: not any(request["id"] in item.data for item in personal.events()), 20,
                   "the session's event taken away from the calendar")

        # Disconnected: its busy times go, and the slot comes back on the mentee's open page.
        grace_page.get_by_role("button", name="Disconnect 127.0.0.1").click()
        expect(calendars.get_by_text("No calendar connected")).to_be_visible()
        expect(slot_button(ada_page, start)).to_be_visible(timeout=LIVE_MS * 6)
