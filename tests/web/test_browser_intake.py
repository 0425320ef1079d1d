"""A programme's intake in Chromium: a coordinator writes the mentees' form (one question answered by the
organisation's directory); a mentee answers it at phone size with a
weekly window in their zone; the coordinator reads the answers with the people. axe on every screen."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from infra import sealing
from infra.config import get_settings
from models import IdentityProvider, ScimUser, User
from tests.web.conftest import PHONE, Axe, Served, expect, new_page, shot
from tests.web.pages import open_settings, sign_in


def _enrolling(web_server: Served, committed: sessionmaker[Session], role: str) -> tuple[str, dict[str, Any]]:
    """A programme an admin made and its coordinator (Katherine) opened, and a join link for ``role``: the
    programme's address, the link."""
    admin = web_server.register("Mary Jackson", "mary@example.com")
    coordinator = web_server.register("Katherine Johnson", "katherine@example.com")
    with committed() as db, db.begin():
        db.execute(update(User).where(User.email == "mary@example.com").values(is_admin=True))
        # Katherine's address confirmed, as her verification link would: a coordinator's rights need it.
        db.execute(update(User).where(User.email == "katherine@example.com").values(
            email_verified_at=User.created_at))
    me = web_server.call("GET", "/me", coordinator)
    programme = web_server.call("POST", "/programmes", admin, {"name": "Spring cohort",
                                                               "coordinator_user_ids": [me["id"]]}, status=201)
    url = f"/programmes/{programme['id']}"
    web_server.call("POST", f"{url}/open-enrolment", coordinator)
    link = web_server.call("POST", f"{url}/join-links", coordinator, {
        "role": role, "max_uses": 5, "expires_at": (datetime.now(UTC) + timedelta(days=3)).isoformat()}, status=201)
    return url, link


def _in_the_directory(committed: sessionmaker[Session], email: str, department: str) -> None:
    """The person's account as an organisation's SCIM client provisioned it, with their department."""
    with committed() as db, db.begin():
        provider = IdentityProvider(id=uuid.uuid4(), display_name="Org", issuer="https://org.example/idp",
                                    client_id="mentorship", client_secret=sealing.seal(get_settings(), "s"))
        db.add(provider)
        db.flush()
        user_id = db.scalars(select(User.id).where(User.email == email)).one()
        db.add(ScimUser(id=uuid.uuid4(), provider_id=provider.id, user_id=user_id, user_name=email,
                        attributes={"department": department}))


def _write_mentees_form(page: Any) -> None:
    """Three questions: one required, one choice, and the department the directory gives."""
    form = page.get_by_role("form", name="Intake form for mentees")
    form.get_by_role("button", name="Add a question").click()
    form.get_by_label("Question 1", exact=True).fill("What do you want to work on?")
    form.get_by_label("Question 1 must be answered").check()
    form.get_by_role("button", name="Add a question").click()
    form.get_by_label("Question 2", exact=True).fill("Department")
    form.get_by_label("Kind of question 2").select_option(label="One choice")
    form.get_by_label("Choices of question 2").fill("Engineering, Design")
    # The organisation's directory (SCIM) answers the third: Lin's department as her IT department sent it.
    form.get_by_role("button", name="Add a question").click()
    form.get_by_label("Question 3", exact=True).fill("Department in the directory")
    form.get_by_label("Who answers question 3").select_option(label="The directory: their department")
    expect(form.get_by_label("Question 3 must be answered")).to_be_hidden()
    form.get_by_role("button", name="Save the mentees\u2019 form").click()
    expect(form.locator("[role=status]")).to_have_text("3 questions saved: mentees answer them.")


def test_a_coordinator_writes_the_intake_and_a_mentee_answers_it(
        web_server: Served, browser: Any, axe: Axe, committed: sessionmaker[Session]) -> None:
    url, link = _enrolling(web_server, committed, "mentee")
    mentee = web_server.register("Lin Chen", "lin@example.com")
    web_server.call("POST", "/programmes/join", mentee, {"token": link["token"]})

    page = new_page(browser, web_server, "UTC")
    sign_in(page, "katherine@example.com")
    page.goto(f"/#{url}")
    open_settings(page)
    page.locator("summary", has_text="The mentees\u2019 form").click()
    _write_mentees_form(page)
    _in_the_directory(committed, "lin@example.com", "Research")
    axe.check(page, "programme: the intake forms")

    phone = new_page(browser, web_server, "Asia/Tokyo", PHONE)
    sign_in(phone, "lin@example.com")
    phone.goto(f"/#{url}")
    intake = phone.get_by_role("form", name="Your intake")
    expect(intake.get_by_label("What do you want to work on?")).to_be_visible()
    intake.get_by_label("What do you want to work on?").fill("Public speaking")
    intake.get_by_label("Department (optional)").select_option("Design")
    expect(intake).to_contain_text("Research (from your organisation\u2019s directory)")
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
    expect(read).to_contain_text("Research (from the directory)")
    expect(read).to_contain_text("Free (Asia/Tokyo): Tuesday 19:00\u201321:00")
    axe.check(page, "programme: a participant's intake, read by a coordinator")
    shot(page, "intake-02-coordinator")


def test_a_mentor_confirms_their_weekly_hours_in_the_intake_and_the_matching_page_names_who_has_not(
        web_server: Served, browser: Any, axe: Axe, committed: sessionmaker[Session]) -> None:
    url, link = _enrolling(web_server, committed, "mentor")
    mentors = [web_server.register(name, f"{name.split()[0].lower()}@example.com")
               for name in ("Dorothy Vaughan", "Grace Hopper")]
    for mentor in mentors:
        web_server.call("POST", "/programmes/join", mentor, {"token": link["token"]})

    # The coordinators read who is left out of the match, and why.
    page = new_page(browser, web_server, "UTC")
    sign_in(page, "katherine@example.com")
    page.goto(f"/#{url}/matching")
    expect(page.locator("#main")).to_contain_text("Left out of the match: 2 mentors have not given their hours.")
    left = page.get_by_role("list", name="Left out of the match")
    expect(left).to_contain_text("Dorothy Vaughan (mentor) has not given their hours")
    axe.check(page, "matching: mentors left out until they give their hours")

    # Dorothy, at her desk: weekdays 09:00-17:00 suggested, the same hours as her public listings'.
    desk = new_page(browser, web_server, "UTC")
    sign_in(desk, "dorothy@example.com")
    desk.goto(f"/#{url}")
    intake = desk.get_by_role("form", name="Your intake")
    hours = intake.get_by_role("group", name="Your weekly hours (UTC)")
    expect(hours).to_contain_text("the same hours serve your public listings")
    expect(intake).to_contain_text("Not finished: confirm your weekly hours")
    expect(hours.get_by_label("Day of window 5")).to_have_value("4")
    expect(hours.get_by_label("From (window 1)")).to_have_value("09:00")
    expect(hours.get_by_label("To (window 1)")).to_have_value("17:00")
    axe.check(desk, "a mentor's intake: their weekly hours suggested")
    hours.get_by_role("button", name="Remove window 5").click()
    hours.get_by_label("To (window 1)").fill("12:00")
    intake.get_by_role("button", name="Save my intake and confirm my hours").click()
    expect(desk.locator("#main [role=status]")).to_have_text(
        "Your intake is saved and your weekly hours are confirmed.")
    expect(intake).to_contain_text("Finished: you can be paired.")
    shot(desk, "intake-03-mentor-hours")
    desk.context.close()

    # Grace, on her phone: the same, at phone size.
    phone = new_page(browser, web_server, "UTC", PHONE)
    sign_in(phone, "grace@example.com")
    phone.goto(f"/#{url}")
    intake = phone.get_by_role("form", name="Your intake")
    expect(intake.get_by_role("group", name="Your weekly hours (UTC)")).to_be_visible()
    axe.check(phone, "phone: a mentor's intake with their weekly hours")
    intake.get_by_role("button", name="Save my intake and confirm my hours").click()
    expect(phone.locator("#main [role=status]")).to_have_text(
        "Your intake is saved and your weekly hours are confirmed.")
    shot(phone, "intake-04-mentor-hours-phone")
    phone.context.close()

    page.reload()
    expect(page.locator("#main")).to_contain_text("Everyone taking part has finished their intake.")
    dorothy = web_server.call("GET", f"{url}/intake", mentors[0])
    assert [(w["weekday"], w["start_minute"], w["end_minute"]) for w in dorothy["windows"]] == [
        (0, 540, 720), (1, 540, 1020), (2, 540, 1020), (3, 540, 1020)]
