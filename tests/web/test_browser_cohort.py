"""A coordinator's cohort of 30 in Chromium, from the people seeded through the API to a first session: ten mentors
(two places each) and twenty mentees join by link and answer their intake; the coordinator reads the funnel, finds
people by search, runs the match and reviews its twenty drafts as one table, publishes them, and reads the funnel
again; a mentor accepts their pairing where the programme's page says to; their mentee, at phone size, reads what
comes next and finds the first session in their bookings; the coordinator announces the kick-off to all thirty, the
mentee reads it and writes to her mentor, who finds it waiting. axe and a screenshot on each screen."""

from __future__ import annotations

import re
import time
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from models import User
from tests.factories.programmes import ALL_WEEK
from tests.web.conftest import PASSWORD, PHONE, Axe, Served, expect, new_page, shot
from tests.web.pages import katherines_programme, post_announcement, sign_in, write_first_message
from workflows.accounts.users import hash_password

DEPARTMENT = {"kind": "single", "label": "Department", "options": ["Sales", "Engineering", "Finance", "Design"]}
MENTORS, MENTEES = 10, 20


def _seed(served: Served, committed: sessionmaker[Session]) -> tuple[str, list[str]]:
    """The programme (running, dates from today) with its 30 people joined and their intakes answered: its path
    and the mentors' addresses."""
    today = datetime.now(UTC).date()
    coordinator, url = katherines_programme(served, committed, name="Autumn cohort", starts_on=today.isoformat(),
                                            ends_on=(today + timedelta(weeks=12)).isoformat(), session_count=6)
    question = {role: served.call("PUT", f"{url}/intake-forms/{role}", coordinator,
                                  {"items": [DEPARTMENT]})["items"][0]["id"] for role in ("mentor", "mentee")}
    served.call("PUT", f"{url}/matching", coordinator, {"pairing_mode": "coordinator", "criteria": [
        {"kind": "differ", "mentee_question_id": question["mentee"], "mentor_question_id": question["mentor"]}]})
    expires = (datetime.now(UTC) + timedelta(days=7)).isoformat()
    addresses: dict[str, list[str]] = {"mentor": [], "mentee": []}
    # Thirty accounts at once (registering them over the API would meet its limit per client address).
    password = hash_password(PASSWORD)
    with committed() as db, db.begin():
        db.add_all([User(id=uuid.uuid4(), email=f"{role}{n:02}@example.com", password_hash=password,
                         display_name=f"{role.title()} {n:02}", timezone="Europe/Berlin")
                    for role, count in (("mentor", MENTORS), ("mentee", MENTEES)) for n in range(count)])
    for role, count in (("mentor", MENTORS), ("mentee", MENTEES)):
        link = served.call("POST", f"{url}/join-links", coordinator, {
            "role": role, "max_uses": count, "expires_at": expires, **({"capacity": 2} if role == "mentor" else {})},
                           status=201)
        for n in range(count):
            email = f"{role}{n:02}@example.com"
            person = served.token(email)
            served.call("POST", "/programmes/join", person, {"token": link["token"]})
            department = DEPARTMENT["options"][(n + (1 if role == "mentor" else 0)) % 4]
            served.call("PUT", f"{url}/intake", person, {
                "answers": [{"question_id": question[role], "value": department}], "windows": ALL_WEEK,
                **({"timezone": "Europe/Berlin"} if role == "mentee" else {})})
            addresses[role].append(email)
    served.call("POST", f"{url}/start", coordinator)
    return url, addresses["mentor"]


def _coordinator_matches_and_publishes(page: Any, url: str, axe: Axe) -> None:
    """The funnel read, people found by a search, the match run and its twenty drafts published."""
    page.goto(f"/#{url}")
    expect(page.get_by_role("heading", level=1, name="Autumn cohort")).to_be_visible()
    funnel = page.locator("table.funnel")
    expect(funnel.get_by_role("button", name=f"Intake done: {MENTEES} mentees")).to_be_visible()
    expect(funnel.get_by_role("button", name=f"Intake done: {MENTORS} mentors")).to_be_visible()
    expect(funnel.get_by_role("button", name="Matched: 0 mentees")).to_be_visible()
    people = page.get_by_role("list", name="People taking part")
    expect(people.locator("> li")).to_have_count(25)  # a page at a time
    page.get_by_role("button", name="Show more").first.click()
    expect(people.locator("> li")).to_have_count(MENTORS + MENTEES)
    page.get_by_role("searchbox", name="Find in People taking part").fill("Mentee 07")
    expect(people.locator("> li")).to_have_count(1)
    axe.check(page, "cohort: the programme's page, its funnel and people")
    shot(page, "cohort-01-programme")

    page.get_by_role("link", name="Matching", exact=True).click()
    page.get_by_role("button", name="Run the match").click()
    expect(page.locator("#mt-stage")).to_have_text("Done \u00b7 100 %", timeout=60_000)
    expect(page.locator("#main")).to_contain_text(f"{MENTEES} of {MENTEES} mentees matched, with {MENTORS} mentors")
    drafts = page.get_by_role("region", name="Drafts")
    expect(drafts.get_by_role("table").locator("tbody tr")).to_have_count(MENTEES)
    expect(drafts.get_by_role("table")).not_to_contain_text("3 of 2")  # no mentor past their places
    axe.check(page, "cohort: twenty drafts for review")
    shot(page, "cohort-02-drafts")
    drafts.get_by_role("button", name="Publish the drafts").click()
    expect(drafts.locator("> .messages").get_by_role("status")).to_have_text(
        f"{MENTEES} pairings proposed: their mentors are asked to accept the sessions.", timeout=60_000)
    page.get_by_role("link", name="Autumn cohort").click()
    expect(page.locator("table.funnel").get_by_role("button", name=f"Matched: {MENTEES} mentees")).to_be_visible()


def test_a_cohort_of_30_from_its_people_to_a_first_session(
        web_server: Served, browser: Any, axe: Axe, committed: sessionmaker[Session]) -> None:
    url, mentors = _seed(web_server, committed)
    page = new_page(browser, web_server, "Europe/London")
    sign_in(page, "katherine@example.com")
    _coordinator_matches_and_publishes(page, url, axe)

    # A mentor accepts on the programme's page, where it tells them to.
    mentor = new_page(browser, web_server, "Europe/Berlin")
    sign_in(mentor, mentors[0])
    mentor.goto(f"/#{url}")
    expect(mentor.locator(".next-step")).to_contain_text("Next: accept or decline the pairing with")
    pairing = mentor.locator("li[id^=pairing-]").first
    found = re.search(r"mentors Mentee (\d+)", pairing.inner_text())
    assert found, pairing.inner_text()
    pairing.get_by_role("button", name="Accept the pairing").click()
    expect(pairing).to_contain_text("Active", timeout=30_000)
    axe.check(mentor, "cohort: a mentor accepted their pairing")
    shot(mentor, "cohort-03-mentor")
    mentor.context.close()

    # Their mentee, on a phone, reads what comes next and finds the first session in their bookings.
    phone = new_page(browser, web_server, "Europe/Berlin", PHONE)
    sign_in(phone, f"mentee{found.group(1)}@example.com")
    phone.goto(f"/#{url}")
    expect(phone.locator(".next-step")).to_contain_text("is active: its sessions are in My bookings")
    axe.check(phone, "cohort: the mentee's programme page")
    shot(phone, "cohort-04-mentee-phone")
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:  # the worker makes the sessions of the accepted series
        phone.goto("/#/bookings")
        if phone.locator("#main").get_by_text("Accepted").count():
            break
        time.sleep(0.5)
    expect(phone.locator("#main")).to_contain_text("Accepted")
    axe.check(phone, "cohort: the mentee's first sessions")
    shot(phone, "cohort-05-mentee-bookings-phone")
    _the_cohort_is_told_and_talks(page, phone, browser, web_server, url, mentors[0], axe)


def _the_cohort_is_told_and_talks(page: Any, phone: Any, browser: Any, served: Served, url: str, mentor: str,
                                  axe: Axe) -> None:
    """Katherine announces the kick-off to all thirty; the mentee reads it on her phone and writes to her mentor,
    who finds it waiting; Katherine sees it read."""
    page.goto(f"/#{url}")
    post_announcement(page, "Everyone taking part", "Kick-off on Thursday", "We meet on **Thursday** at 17:00, room 4.")
    listed = page.locator(".announcements li", has_text="Kick-off on Thursday")
    expect(listed).to_contain_text("told 30", timeout=30_000)  # the workers told each of the thirty, once
    axe.check(page, "cohort: an announcement to thirty")

    phone.goto("/#/notifications")
    phone.locator("#main li", has_text="Autumn cohort: Kick-off on Thursday").get_by_role(
        "link", name="Read the announcement").click()
    expect(phone.locator(".words strong")).to_have_text("Thursday")
    write_first_message(phone, url, "Message Mentor 00", "Looking forward to Thursday.")
    axe.check(phone, "cohort: the mentee writes to her mentor")
    shot(phone, "cohort-06-mentee-writes-phone")

    desk = new_page(browser, served, "Europe/Berlin")
    sign_in(desk, mentor)
    desk.get_by_role("link", name="Messages 1 waiting for you").click()
    desk.locator("#main li", has_text="Mentee").get_by_role("link").click()
    expect(desk.get_by_role("log")).to_contain_text("Looking forward to Thursday.")
    page.reload()
    expect(page.locator(".announcements li", has_text="Kick-off on Thursday")).to_contain_text("told 30 · read by 1")
