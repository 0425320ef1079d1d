"""A coordinator named by address in Chromium: an admin names someone with no account from the console; the worker
mails the invitation to a real SMTP server; they open its link at phone size, make their account, and land on the
programme's page as its coordinator. axe on each screen."""

from __future__ import annotations

from typing import Any

from sqlalchemy import update
from sqlalchemy.orm import Session, sessionmaker

from models import User
from tests.mail import Mailbox
from tests.web.conftest import PHONE, Axe, Served, expect, new_page, shot
from tests.web.pages import mailed_link, sign_in


def test_an_admin_names_a_coordinator_by_address_who_registers_from_the_mail(
        mailbox: Mailbox, web_server: Served, browser: Any, axe: Axe, committed: sessionmaker[Session]) -> None:
    admin = web_server.register("Mary Jackson", "mary@example.com")
    with committed() as db, db.begin():
        db.execute(update(User).where(User.email == "mary@example.com").values(is_admin=True))
    web_server.call("POST", "/programmes", admin, {"name": "Spring cohort", "coordinator_user_ids": []}, status=201)

    page = new_page(browser, web_server, "UTC")
    sign_in(page, "mary@example.com")
    page.goto("/#/admin/programmes")
    page.get_by_text("Coordinators of Spring cohort").click()
    page.get_by_role("button", name="Name a coordinator…").click()
    asked = page.get_by_role("group", name="Name a coordinator")
    asked.get_by_label("Their email").fill("grace@example.com")
    asked.get_by_label("Reason (kept in the audit log)").fill("Runs the spring cohort")
    asked.get_by_role("button", name="Name them").click()
    expect(page.locator("#main [role=status]")).to_have_text(
        "grace@example.com is invited: they coordinate Spring cohort once their address is confirmed.")
    axe.check(page, "admin: a coordinator invited by address")
    shot(page, "coordinator-invitation-01-admin")

    token = mailed_link(mailbox.inbox, "grace@example.com", "coordinator-invitation")
    phone = new_page(browser, web_server, "UTC", PHONE)
    phone.goto(f"/#/coordinator-invitation?token={token}")
    expect(phone.get_by_role("heading", level=1, name="Coordinate a programme")).to_be_visible()
    expect(phone.locator("#main")).to_contain_text("You are invited to coordinate Spring cohort, as grace@example.com.")
    assert token not in phone.url
    axe.check(phone, "phone: an invitation to coordinate")
    phone.get_by_label("Your name").fill("Grace Hopper")
    phone.get_by_label("Password").fill("a longer passphrase nobody has seen")
    phone.get_by_role("button", name="Create my account and coordinate").click()
    expect(phone.get_by_role("heading", level=1, name="Spring cohort")).to_be_visible()
    expect(phone.locator("#main")).to_contain_text("Run by Grace Hopper.")
    expect(phone.get_by_role("button", name="Open enrolment")).to_be_visible()  # she runs it
    axe.check(phone, "phone: the programme, as its new coordinator")
    shot(phone, "coordinator-invitation-02-coordinator-phone")
    phone.context.close()
