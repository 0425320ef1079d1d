"""A programme's intake in Chromium: a coordinator writes the mentees' form; a mentee answers it at phone size with a
weekly window in their zone; the coordinator reads the answers with the people. axe on every screen."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import update
from sqlalchemy.orm import Session, sessionmaker

from models import User
from tests.web.conftest import PHONE, Axe, Served, expect, new_page, shot
from tests.web.pages import sign_in


def test_a_coordinator_writes_the_intake_and_a_mentee_answers_it(  # noqa: PLR0915
        web_server: Served, browser: Any, axe: Axe, committed: sessionmaker[Session]) -> None:
    admin = web_server.register("Mary Jackson", "mary@example.com")
    coordinator = web_server.register("Katherine Johnson", "katherine@example.com")
    mentee = web_server.register("Lin Chen", "lin@example.com")
    with committed() as db, db.begin():
        db.execute(update(User).where(User.email == "mary@example.com").values(is_admin=True))
    me = web_server.call("GET", "/me", coordinator)
    programme = web_server.call("POST", "/programmes", admin, {"name": "Spring cohort",
                                                               "coordinator_user_ids": [me["id"]]}, status=201)
    url = f"/programmes/{programme['id']}"
    web_server.call("POST", f"{url}/open-enrolment", coordinator)
    link = web_server.call("POST", f"{url}/join-links", coordinator, {
        "role": "mentee", "max_uses": 5, "expires_at": (datetime.now(UTC) + timedelta(days=3)).isoformat()}, status=201)
    web_server.call("POST", "/programmes/join", mentee, {"token": link["token"]})

    page = new_page(browser, web_server, "UTC")
    sign_in(page, "katherine@example.com")
    page.goto(f"/#{url}")
    page.locator("summary", has_text="The mentees\u2019 form").click()
    form = page.get_by_role("form", name="Intake form for mentees")
    form.get_by_role("button", name="Add a question").click()
    form.get_by_label("Question 1", exact=True).fill("What do you want to work on?")
    form.get_by_label("Question 1 must be answered").check()
    form.get_by_role("button", name="Add a question").click()
    form.get_by_label("Question 2", exact=True).fill("Department")
    form.get_by_label("Kind of question 2").select_option(label="One choice")
    form.get_by_label("Choices of question 2").fill("Engineering, Design")
    form.get_by_role("button", name="Save the mentees\u2019 form").click()
    expect(form.locator("[role=status]")).to_have_text("2 questions saved: mentees answer them.")
    axe.check(page, "programme: the intake forms")

    phone = new_page(browser, web_server, "Asia/Tokyo", PHONE)
    sign_in(phone, "lin@example.com")
    phone.goto(f"/#{url}")
    intake = phone.get_by_role("form", name="Your intake")
    expect(intake.get_by_label("What do you want to work on?")).to_be_visible()
    intake.get_by_label("What do you want to work on?").fill("Public speaking")
    intake.get_by_label("Department (optional)").select_option("Design")
    expect(intake.get_by_role("group", name="When you are free each week (Asia/Tokyo)")).to_be_visible()
    intake.get_by_role("button", name="Add a time").click()
    intake.get_by_label("Day of window 1").select_option(label="Tuesday")
    intake.get_by_label("From (window 1)").fill("19:00")
    intake.get_by_label("To (window 1)").fill("21:00")
    intake.get_by_role("button", name="Save my intake").click()
    expect(phone.locator("#main [role=status]")).to_have_text("Your intake is saved.")
    axe.check(phone, "phone: a mentee's intake")
    shot(phone, "intake-01-mentee-phone")
    phone.reload()
    expect(phone.get_by_label("What do you want to work on?")).to_have_value("Public speaking")
    phone.context.close()

    page.reload()
    page.get_by_text("Intake of Lin Chen").click()
    read = page.locator("#main details", has_text="Intake of Lin Chen")
    expect(read).to_contain_text("Public speaking")
    expect(read).to_contain_text("Free (Asia/Tokyo): Tuesday 19:00\u201321:00")
    axe.check(page, "programme: a participant's intake, read by a coordinator")
    shot(page, "intake-02-coordinator")
