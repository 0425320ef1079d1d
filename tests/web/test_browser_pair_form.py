"""The coordinators' pair form in Chromium, at desktop and phone size: a pairing made says so beside the form, the
mentee list then marks the mentee paired (with whom) and offers them no more, and a pair across the programme's
"never the same department" rule is refused with the rule, then made with a reason. axe on each state."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import update
from sqlalchemy.orm import Session, sessionmaker

from models import User
from tests.web.conftest import PHONE, Axe, Served, expect, new_page, shot
from tests.web.pages import sign_in

DEPARTMENTS = ["Sales", "Engineering", "Finance"]


def _cohort(web_server: Served, committed: sessionmaker[Session]) -> str:
    """A programme whose hard rule is "never the same department": two mentors (Sales, Finance) and two mentees (both
    in Sales), joined and answered; its page's address."""
    admin = web_server.register("Mary Jackson", "mary@example.com")
    coordinator = web_server.register("Katherine Johnson", "katherine@example.com")
    with committed() as db, db.begin():
        db.execute(update(User).where(User.email == "mary@example.com").values(is_admin=True))
    me = web_server.call("GET", "/me", coordinator)
    programme = web_server.call("POST", "/programmes", admin, {"name": "Spring cohort", "session_count": 4,
                                                               "coordinator_user_ids": [me["id"]]}, status=201)
    url = f"/programmes/{programme['id']}"
    web_server.call("POST", f"{url}/open-enrolment", coordinator)
    form = [{"kind": "single", "label": "Department", "options": DEPARTMENTS}]
    questions = {role: web_server.call("PUT", f"{url}/intake-forms/{role}", coordinator, {"items": form})["items"][0]
                 for role in ("mentor", "mentee")}
    web_server.call("PUT", f"{url}/matching", coordinator, {"pairing_mode": "manual", "criteria": [
        {"kind": "differ", "mentee_question_id": questions["mentee"]["id"],
         "mentor_question_id": questions["mentor"]["id"]}]})
    expires = (datetime.now(UTC) + timedelta(days=3)).isoformat()
    links = {role: web_server.call("POST", f"{url}/join-links", coordinator,
                                   {"role": role, "max_uses": 5, "expires_at": expires}, status=201)["token"]
             for role in ("mentor", "mentee")}
    for name, email, role, department in (("Dorothy Vaughan", "dorothy@example.com", "mentor", "Sales"),
                                          ("Grace Hopper", "grace@example.com", "mentor", "Finance"),
                                          ("Lin Chen", "lin@example.com", "mentee", "Sales"),
                                          ("Ada Lovelace", "ada@example.com", "mentee", "Sales")):
        person = web_server.register(name, email)
        web_server.call("POST", "/programmes/join", person, {"token": links[role]})
        web_server.call("PUT", f"{url}/intake", person, {"answers": [
            {"question_id": questions[role]["id"], "value": department}]})
    return url


def test_the_pair_form_says_what_it_did_marks_the_paired_and_asks_a_reason_to_cross_a_rule(
        web_server: Served, browser: Any, axe: Axe, committed: sessionmaker[Session]) -> None:
    url = _cohort(web_server, committed)
    page = new_page(browser, web_server, "UTC")
    sign_in(page, "katherine@example.com")
    page.goto(f"/#{url}")
    form = page.get_by_role("form", name="Pair a mentor and a mentee")
    form.get_by_label("Mentor").select_option(label="Grace Hopper")
    form.get_by_label("Mentee").select_option(label="Lin Chen")
    form.get_by_role("button", name="Pair them").click()
    expect(form.get_by_role("status")).to_contain_text("Grace Hopper and Lin Chen are paired")
    paired = form.get_by_label("Mentee").locator("option", has_text="Lin Chen")
    expect(paired).to_have_text("Lin Chen (paired with Grace Hopper)")
    expect(paired).to_be_disabled()
    expect(page.locator("#main li", has_text="Grace Hopper mentors Lin Chen")).to_contain_text("Proposed")
    axe.check(page, "programme: a pairing made, its mentee marked paired")
    shot(page, "pair-form-01-paired")

    phone = new_page(browser, web_server, "Asia/Tokyo", PHONE)
    sign_in(phone, "katherine@example.com")
    phone.goto(f"/#{url}")
    form = phone.get_by_role("form", name="Pair a mentor and a mentee")
    expect(form.get_by_label("Mentee").locator("option", has_text="Lin Chen")).to_be_disabled()
    form.get_by_label("Mentor").select_option(label="Dorothy Vaughan")
    form.get_by_label("Mentee").select_option(label="Ada Lovelace")
    form.get_by_role("button", name="Pair them", exact=True).click()
    expect(form.get_by_role("alert")).to_contain_text("the same answer to “Department”")
    expect(phone.locator("#main li", has_text="Dorothy Vaughan mentors Ada Lovelace")).to_have_count(0)
    axe.check(phone, "phone: a pair refused by the programme's rule")
    shot(phone, "pair-form-02-refused-phone")
    form.get_by_role("button", name="Pair them all the same").click()
    expect(form.get_by_role("alert")).to_contain_text("Give a reason")
    form.get_by_label("Why pair them all the same?").fill("Ada moves to Engineering next month")
    form.get_by_role("button", name="Pair them all the same").click()
    expect(form.get_by_role("status")).to_contain_text("Dorothy Vaughan and Ada Lovelace are paired")
    expect(form.get_by_role("status")).to_contain_text("across the rule: the same answer to “Department”")
    expect(form.get_by_label("Mentee").locator("option", has_text="Ada Lovelace")).to_have_text(
        "Ada Lovelace (paired with Dorothy Vaughan)")
    axe.check(phone, "phone: a pair made across the rule, with a reason")
    shot(phone, "pair-form-03-overridden-phone")
    phone.context.close()
