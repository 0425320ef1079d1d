"""Matching in Chromium: a coordinator sets a criterion and runs the match, which the worker carries out on the
matching queue while the screen's bar follows its progress live; the drafts come with their reasons, one is pinned,
and publishing them proposes the pairings. In a programme whose mentees choose, a mentee at phone size sees the
mentors recommended to them and asks one. axe on every screen, at desktop and phone size."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import update
from sqlalchemy.orm import Session, sessionmaker

from models import User
from tests.web.conftest import PHONE, Axe, Served, expect, new_page, shot
from tests.web.pages import sign_in

WANTS = {"kind": "multiple", "label": "What do you want to learn?", "options": ["Python", "Go", "SQL", "Design"]}
PEOPLE = {"mentor": [("Dorothy Vaughan", ["python", "sql"]), ("Grace Hopper", ["go", "design"])],
          "mentee": [("Lin Chen", ["Python", "SQL"]), ("Bo Park", ["Go", "Design"])]}


def cohort(served: Served, name: str) -> tuple[dict[str, str], str, str]:
    """A programme taking participants, its mentees' intake asking what they want to learn; two mentors (their
    profiles' skills, their hours confirmed) of one place each and two mentees free at any time. The coordinator's
    headers, the programme's path and the id of its intake's question."""
    admin = served.token("mary@example.com")
    coordinator = served.token("katherine@example.com")
    me = served.call("GET", "/me", coordinator)
    programme = served.call("POST", "/programmes", admin, {"name": name, "coordinator_user_ids": [me["id"]]},
                            status=201)
    url = f"/programmes/{programme['id']}"
    served.call("POST", f"{url}/open-enrolment", coordinator)
    question = served.call("PUT", f"{url}/intake-forms/mentee", coordinator, {"items": [WANTS]})["items"][0]["id"]
    expires = (datetime.now(UTC) + timedelta(days=3)).isoformat()
    for role, people in PEOPLE.items():
        link = served.call("POST", f"{url}/join-links", coordinator,
                           {"role": role, "max_uses": 5, "expires_at": expires,
                            **({"capacity": 1} if role == "mentor" else {})}, status=201)
        for person_name, wants in people:
            person = served.token(f"{person_name.split()[0].lower()}@example.com")
            served.call("POST", "/programmes/join", person, {"token": link["token"]})
            all_week = [{"weekday": day, "start_minute": 0, "end_minute": 1440} for day in range(7)]
            if role == "mentee":
                served.call("PUT", f"{url}/intake", person, {
                    "answers": [{"question_id": question, "value": wants}], "timezone": "UTC", "windows": all_week})
            else:  # a mentor confirms their weekly hours before anyone is matched with them
                served.call("PUT", f"{url}/intake", person, {"answers": [], "windows": all_week})
    return coordinator, url, question


def people(served: Served, committed: sessionmaker[Session]) -> None:
    served.register("Mary Jackson", "mary@example.com")
    served.register("Katherine Johnson", "katherine@example.com")
    for role, found in PEOPLE.items():
        for name, skills in found:
            headers = served.register(name, f"{name.split()[0].lower()}@example.com")
            if role == "mentor":
                served.call("POST", "/mentor-profiles", headers,
                            {"headline": "Engineer", "timezone": "UTC", "skills": skills}, status=201)
    with committed() as db, db.begin():
        db.execute(update(User).where(User.email == "mary@example.com").values(is_admin=True))
        # Katherine's address confirmed, as her verification link would: a coordinator's rights need it.
        db.execute(update(User).where(User.email == "katherine@example.com").values(
            email_verified_at=User.created_at))


def test_a_coordinator_runs_the_match_and_publishes_its_drafts_and_a_mentee_chooses(  # noqa: PLR0915
        web_server: Served, browser: Any, axe: Axe, committed: sessionmaker[Session]) -> None:
    people(web_server, committed)
    coordinator, url, _ = cohort(web_server, "Spring cohort")

    page = new_page(browser, web_server, "UTC")
    sign_in(page, "katherine@example.com")
    page.goto(f"/#{url}")
    page.get_by_role("link", name="Matching", exact=True).click()
    expect(page.get_by_role("heading", level=1, name="Matching: Spring cohort")).to_be_visible()
    form = page.get_by_role("form", name="How it pairs, and what counts")
    expect(form.get_by_label("How the programme pairs")).to_have_value("coordinator")
    form.get_by_role("button", name="Add a criterion").click()
    expect(form.get_by_label("Mentee question (criterion 1)")).to_be_focused()
    form.get_by_label("Mentee question (criterion 1)").select_option(label="What do you want to learn?")
    form.get_by_label("Compared with (criterion 1)").select_option(label="The mentor\u2019s skills")
    form.get_by_label("How (criterion 1)").select_option("shared")
    form.get_by_label("Weight (criterion 1)").fill("2")
    form.get_by_role("button", name="Save the settings").click()
    expect(form.get_by_role("status")).to_have_text("Saved: the next run weighs these.")
    expect(page.locator("#main")).to_contain_text("No run yet")

    # The bar follows the worker's frames: it is watched from the page's own live stream.
    page.evaluate("import('/web/js/live.js').then((m) => m.live.on((type, data) => "
                  "(window.seen = window.seen || []).push([type, data.progress])))")
    page.get_by_role("button", name="Run the match").click()
    bar = page.get_by_role("progressbar", name="Progress of the run")
    expect(bar).to_be_visible()
    expect(bar).to_have_attribute("value", "100", timeout=30_000)
    expect(page.locator("#mt-stage")).to_have_text("Done \u00b7 100 %")
    expect(page.get_by_role("button", name="Cancel the run")).to_be_hidden()
    seen = page.evaluate("window.seen")
    assert [t for t, _ in seen if t.startswith("match_run.")][-1] == "match_run.completed", seen
    assert any(t == "match_run.progress" and 0 < p < 100 for t, p in seen), seen
    expect(page.locator("#main")).to_contain_text("2 of 2 mentees matched, with 2 mentors; 100 % of them with one "
                                                  "of their top 3 mentors.")
    expect(page.get_by_role("table", name="Scores of the pairs")).to_be_visible()

    drafts = page.get_by_role("region", name="Drafts")
    table = drafts.get_by_role("table")
    lin = table.locator("tbody tr", has=page.get_by_role("rowheader", name="Lin Chen"))
    expect(lin).to_contain_text("Dorothy Vaughan")
    expect(lin).to_contain_text("2 shared skills \u00b7 ")
    expect(lin).to_contain_text("1 of 1")  # Dorothy's places taken were the drafts published
    bo = table.locator("tbody tr", has=page.get_by_role("rowheader", name="Bo Park"))
    expect(bo).to_contain_text("Grace Hopper")
    # Sorted by score, highest first, by its column's button; the order is said to assistive technology.
    drafts.get_by_role("button", name="Score").click()
    expect(drafts.get_by_role("columnheader", name="Score")).to_have_attribute("aria-sort", "descending")
    expect(drafts.get_by_role("button", name="Score")).to_be_focused()
    # The two intakes side by side, on demand.
    lin.get_by_role("button", name="Compare intakes of Lin Chen and Dorothy Vaughan").click()
    both = drafts.get_by_role("region", name="Intakes of Lin Chen and Dorothy Vaughan")
    expect(both).to_contain_text("Lin Chen, mentee")
    expect(both).to_contain_text("Dorothy Vaughan, mentor")

    def swap() -> None:
        for mentee in ("Lin Chen", "Bo Park"):
            drafts.get_by_label(f"Swap the mentor of {mentee}", exact=True).check()
        drafts.get_by_role("button", name="Swap the mentors of the two chosen").click()
        expect(drafts.get_by_role("status")).to_have_text("Their mentors are swapped.")

    swap()
    expect(lin).to_contain_text("Grace Hopper")
    expect(lin).not_to_contain_text("shared skills")
    # Dorothy's one place is Bo's draft's now: Lin cannot have her back by hand; said in Lin's row.
    lin.get_by_label("Mentor of Lin Chen", exact=True).select_option(label="Dorothy Vaughan")
    lin.get_by_role("button", name="Change the mentor of Lin Chen").click()
    expect(lin.get_by_role("alert")).to_have_text("This pair cannot be made: the mentor has no places left")
    swap()
    lin.get_by_role("button", name="Pin the draft of Lin Chen").click()
    expect(lin.get_by_role("button", name="Unpin the draft of Lin Chen")).to_be_focused()
    expect(lin).to_contain_text("Pinned")
    drafts.get_by_label("Show").select_option(label="Pinned")
    expect(table.locator("tbody tr")).to_have_count(2)  # Lin's row, and her intakes side by side
    drafts.get_by_label("Show").select_option(label="Every mentee")
    # "Never pair" Bo with Grace: said in Bo's row, and listed among the words every later run obeys.
    bo.get_by_role("button", name="Never pair the draft of Bo Park").click()
    expect(bo).to_contain_text("Bo Park and Grace Hopper are kept apart from the next run.")
    words = page.get_by_role("region", name="Words on pairs")
    expect(words.get_by_role("list", name="Words on pairs").get_by_role("listitem")).to_have_count(1)
    expect(words.get_by_role("listitem")).to_contain_text("Never: Bo Park with Grace Hopper")
    axe.check(page, "matching: a run done, its drafts")
    shot(page, "matching-01-coordinator")

    phone = new_page(browser, web_server, "UTC", PHONE)
    sign_in(phone, "katherine@example.com")
    phone.goto(f"/#{url}/matching")
    expect(phone.get_by_role("region", name="Drafts").locator("tbody tr", has_text="Lin Chen").first).to_contain_text(
        "Pinned")
    axe.check(phone, "phone: matching, its drafts")
    shot(phone, "matching-02-coordinator-phone")
    phone.context.close()

    drafts.get_by_role("button", name="Publish the drafts").click()
    expect(drafts.locator("> .messages").get_by_role("status")).to_have_text(
        "2 pairings proposed: their mentors are asked to accept the sessions.", timeout=30_000)
    expect(drafts).to_contain_text("No draft: run the match to draft the pairs.")
    page.get_by_role("link", name="Spring cohort").click()
    expect(page.locator("#main li", has_text="Dorothy Vaughan mentors Lin Chen")).to_contain_text("Proposed")
    expect(page.locator("#main li", has_text="Grace Hopper mentors Bo Park")).to_contain_text("Proposed")

    # A programme whose mentees choose: its run offers each mentee their best mentors.
    coordinator, url, question = cohort(web_server, "Autumn cohort")
    web_server.call("PUT", f"{url}/matching", coordinator, {"pairing_mode": "mentee_choice", "criteria": [
        {"kind": "shared", "mentee_question_id": question, "mentor_question_id": None, "weight": 2}]})
    run = web_server.call("POST", f"{url}/match-runs", coordinator, status=202)
    deadline = time.monotonic() + 30
    while run["status"] != "done" and time.monotonic() < deadline:
        time.sleep(0.2)
        run = web_server.call("GET", f"{url}/match-runs/{run['id']}", coordinator)
    assert run["status"] == "done", run

    page.goto(f"/#{url}/matching")
    expect(page.get_by_role("region", name="Drafts")).to_contain_text("Mentees choose")
    phone = new_page(browser, web_server, "Asia/Tokyo", PHONE)
    sign_in(phone, "lin@example.com")
    phone.goto(f"/#{url}")
    expect(phone.get_by_role("heading", name="Your recommended mentors")).to_be_visible()
    first = phone.locator("#main li", has=phone.get_by_role("button", name="Ask Dorothy Vaughan"))
    expect(first).not_to_contain_text("place")  # a mentor's room is not the mentee's to see
    expect(first).to_contain_text("2 shared skills")
    expect(phone.locator("#main")).not_to_contain_text("the coordinators pair you")
    axe.check(phone, "phone: a mentee's recommended mentors")
    shot(phone, "matching-03-mentee-phone")
    desk = new_page(browser, web_server, "UTC")
    sign_in(desk, "lin@example.com")
    desk.goto(f"/#{url}")
    expect(desk.get_by_role("button", name="Ask Grace Hopper")).to_be_visible()
    axe.check(desk, "a mentee's recommended mentors")
    shot(desk, "matching-04-mentee")
    desk.context.close()

    phone.get_by_role("button", name="Ask Dorothy Vaughan").click()
    expect(phone.locator("#main [role=status]")).to_have_text(
        "Your request was sent to Dorothy Vaughan: the pairing starts once they accept its sessions.")
    mine = phone.locator("#main li", has_text="Dorothy Vaughan mentors Lin Chen")
    expect(mine).to_contain_text("waiting for the mentor to accept the pairing")
    expect(phone.get_by_role("heading", name="Your recommended mentors")).to_have_count(0)
    shot(phone, "matching-05-mentee-asked-phone")
    phone.context.close()
