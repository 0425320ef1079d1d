"""The coordinators' pair form in Chromium, at desktop and phone size: a pairing made says so beside the form, the
mentee list then marks the mentee paired (with whom) and offers them no more (nor a mentor who has not given their
hours), and a pair across the programme's "never the same department" rule is refused with the rule, then made with
a reason. Then the items a mentor writes on completing a session of a pairing wait on the pairing's page. axe on each
state."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from models import Booking, MentorshipSession, SessionStatus, User
from tests.concurrency import wait_until
from tests.factories.programmes import ALL_WEEK
from tests.web.conftest import PHONE, Axe, Served, expect, new_page, shot
from tests.web.pages import sign_in

DEPARTMENTS = ["Sales", "Engineering", "Finance"]


def _cohort(web_server: Served, committed: sessionmaker[Session]) -> str:
    """A programme whose hard rule is "never the same department": two mentors (Sales, Finance) and two mentees (both
    in Sales), joined and answered (the mentors with their hours); its page's address."""
    admin = web_server.register("Mary Jackson", "mary@example.com")
    coordinator = web_server.register("Katherine Johnson", "katherine@example.com")
    with committed() as db, db.begin():
        db.execute(update(User).where(User.email == "mary@example.com").values(is_admin=True))
        # Katherine's address confirmed, as her verification link would: a coordinator's rights need it.
        db.execute(update(User).where(User.email == "katherine@example.com").values(
            email_verified_at=User.created_at))
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
        # A mentor's intake is finished once their hours are confirmed (here, the whole week).
        hours = {"windows": ALL_WEEK} if role == "mentor" else {}
        web_server.call("PUT", f"{url}/intake", person, {"answers": [
            {"question_id": questions[role]["id"], "value": department}], **hours})
    # A mentor who joined and has not given their hours yet: offered, marked, not chosen.
    web_server.call("POST", "/programmes/join", web_server.register("Annie Easley", "annie@example.com"),
                    {"token": links["mentor"]})
    return url


def test_the_pair_form_says_what_it_did_marks_the_paired_and_asks_a_reason_to_cross_a_rule(
        web_server: Served, browser: Any, axe: Axe, committed: sessionmaker[Session]) -> None:
    url = _cohort(web_server, committed)
    page = new_page(browser, web_server, "UTC")
    sign_in(page, "katherine@example.com")
    page.goto(f"/#{url}")
    form = page.get_by_role("form", name="Pair a mentor and a mentee")
    waiting = form.get_by_label("Mentor").locator("option", has_text="Annie Easley")
    expect(waiting).to_have_text("Annie Easley (hours not given yet)")
    expect(waiting).to_be_disabled()
    form.get_by_label("Mentor").select_option(label="Grace Hopper")
    form.get_by_label("Mentee").select_option(label="Lin Chen")
    # Their first time, chosen by the coordinator (in their own zone, UTC here): the rest follow it.
    chosen = (datetime.now(UTC) + timedelta(days=8)).replace(hour=10, minute=0, second=0, microsecond=0)
    form.get_by_label("First session (optional)").fill(chosen.strftime("%Y-%m-%dT%H:%M"))
    form.get_by_role("button", name="Pair them").click()
    expect(form.get_by_role("status")).to_contain_text("Grace Hopper and Lin Chen are paired")
    made = web_server.call("GET", f"{url}/pairings", web_server.token("katherine@example.com"))["items"]
    assert [datetime.fromisoformat(p["first_start"]) for p in made] == [chosen]
    expect(page.locator("table.funnel").get_by_role("button", name="Matched: 1 mentees")).to_be_visible()
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


def test_items_written_on_completing_a_session_wait_on_the_pairings_page(
        web_server: Served, browser: Any, axe: Axe, committed: sessionmaker[Session]) -> None:
    url = _cohort(web_server, committed)
    coordinator = web_server.token("katherine@example.com")
    people = {p["display_name"]: p["id"] for p in web_server.call("GET", f"{url}/participants?limit=100",
                                                                  coordinator)["items"]}
    pairing = web_server.call("POST", f"{url}/pairings", coordinator, {
        "mentor_participant_id": people["Grace Hopper"], "mentee_participant_id": people["Lin Chen"]}, status=201)
    web_server.call("POST", f"/booking-series/{pairing['series_id']}/accept", web_server.token("grace@example.com"))
    first: list[uuid.UUID] = []

    def made() -> bool:  # the worker makes the sessions of the accepted times
        with committed() as db:
            first[:] = list(db.scalars(select(MentorshipSession.id).join(
                Booking, Booking.id == MentorshipSession.booking_id).where(
                Booking.series_id == uuid.UUID(pairing["series_id"])).order_by(MentorshipSession.start_time)))
        return bool(first)

    wait_until(made, 30, "the pairing's sessions made")
    with committed() as db, db.begin():  # under way, as its start would make it
        db.execute(update(MentorshipSession).where(MentorshipSession.id == first[0]).values(
            status=SessionStatus.IN_PROGRESS, started_at=datetime.now(UTC)))

    page = new_page(browser, web_server, "UTC")
    sign_in(page, "grace@example.com")
    page.goto(f"/#/sessions/{first[0]}")
    done = page.get_by_role("form", name="Complete the session")
    done.get_by_label("Action items").fill("Draft the outline\n\nBook a room")
    done.get_by_role("button", name="Complete session").click()
    outcome = page.get_by_role("region", name="Outcome")
    expect(outcome.locator("li")).to_have_text(["Draft the outline", "Book a room"])
    axe.check(page, "session: completed, its action items the pairing's")

    phone = new_page(browser, web_server, "Asia/Tokyo", PHONE)
    sign_in(phone, "lin@example.com")
    phone.goto(f"/#{url}")
    mine = phone.locator("#main li", has_text="Grace Hopper mentors Lin Chen")
    mine.locator("summary", has_text="action items").click()
    expect(mine).to_contain_text("Draft the outline")
    expect(mine).to_contain_text("Book a room")
    expect(mine).not_to_contain_text("Nothing waits")
    axe.check(phone, "phone: a pairing's action items, written on completing its session")
    shot(phone, "pair-form-04-items-phone")
    phone.context.close()
