"""Programmes in Chromium: an administrator creates one naming its coordinator by email; the coordinator finds it
in the menu, opens enrolment, saves its pairings' settings and closes it (at phone size), each move in its
history; axe on every screen."""

from __future__ import annotations

from typing import Any

from sqlalchemy import update
from sqlalchemy.orm import Session, sessionmaker

from models import User
from tests.web.conftest import PHONE, Axe, Served, expect, new_page, shot
from tests.web.pages import open_settings, sign_in


def test_an_admin_creates_a_programme_and_its_coordinator_runs_it(  # noqa: PLR0915
        web_server: Served, browser: Any, axe: Axe, committed: sessionmaker[Session]) -> None:
    web_server.register("Mary Jackson", "mary@example.com")
    web_server.register("Katherine Johnson", "katherine@example.com")
    with committed() as db, db.begin():
        db.execute(update(User).where(User.email == "mary@example.com").values(is_admin=True))
        # Katherine's address confirmed, as her verification link would: a coordinator's rights need it.
        db.execute(update(User).where(User.email == "katherine@example.com").values(
            email_verified_at=User.created_at))

    admin = new_page(browser, web_server, "UTC")
    sign_in(admin, "mary@example.com")
    admin.get_by_role("link", name="Programmes").click()
    expect(admin.get_by_role("heading", level=1, name="Programmes")).to_be_visible()
    expect(admin.locator("#main")).to_contain_text("No programme yet: create one below.")
    form = admin.get_by_role("form", name="New programme")
    form.get_by_label("Name").fill("Spring cohort")
    form.get_by_label("First day").fill("2031-03-02")
    form.get_by_label("Last day").fill("2031-05-24")
    # A confirmed account's address runs it at once; an address with no account is invited by mail.
    form.get_by_label("Coordinators\u2019 email addresses").fill("Katherine@Example.com, nobody@example.com")
    axe.check(admin, "programmes: an administrator's list and form")
    form.get_by_role("button", name="Create the programme").click()
    expect(admin.get_by_role("heading", level=1, name="Spring cohort")).to_be_visible()
    expect(admin.locator("#main")).to_contain_text("Run by Katherine Johnson.")
    expect(admin.locator("#main")).to_contain_text("Draft 2031-03-02 to 2031-05-24")
    admin.context.close()

    phone = new_page(browser, web_server, "UTC", PHONE)
    sign_in(phone, "katherine@example.com")
    expect(phone.get_by_role("link", name="Programmes", include_hidden=True)).to_be_attached()
    phone.goto("/#/programmes")
    phone.get_by_role("link", name="Spring cohort").click()
    expect(phone.get_by_role("heading", level=1, name="Spring cohort")).to_be_visible()
    phone.get_by_role("button", name="Open enrolment").click()
    expect(phone.locator("#main [role=status]")).to_have_text("The programme is enrolling.")
    expect(phone.get_by_role("button", name="Open enrolment")).to_have_count(0)
    open_settings(phone)  # a panel of its own, folded
    settings = phone.get_by_role("form", name="What its pairings agree")
    settings.get_by_label("Meets every").select_option(label="two weeks")
    settings.get_by_label("Sessions per pairing").fill("8")
    settings.get_by_role("button", name="Save the settings").click()
    expect(settings.get_by_role("status")).to_have_text("Saved: new pairings take these settings.")
    axe.check(phone, "phone: a programme's page, enrolling")
    shot(phone, "programme-01-enrolling-phone")
    phone.get_by_role("button", name="Close", exact=True).click()
    asked = phone.get_by_role("group", name="Close the programme")
    expect(asked).to_contain_text("Closing keeps its record, and it changes no more")
    axe.check(phone, "phone: closing a programme, asked first")
    asked.get_by_role("button", name="Close the programme").click()
    expect(phone.locator("#main [role=status]")).to_have_text("The programme is closed.")
    expect(phone.locator("#main")).to_contain_text("A closed programme keeps its record and changes no more.")
    history = phone.get_by_role("region", name="History")
    # Each line names who acted (it once read "Created by the admin", "Enrolment opened by the coordinator").
    for entry in ("Mary Jackson created the programme", "Katherine Johnson opened enrolment",
                  "Katherine Johnson closed the programme"):
        expect(history).to_contain_text(entry)
    coordinator = web_server.token("katherine@example.com")
    (shown,) = web_server.call("GET", "/programmes", coordinator)["items"]
    assert (shown["status"], shown["cadence_weeks"], shown["session_count"]) == ("closed", 2, 8)
    assert phone.csp_errors == []
    phone.context.close()
