"""A programme's plan for the term in Chromium: a coordinator writes it in the settings; the pairing starts (the
worker follows the mentor's accept) with its copy; the mentee, at phone size, reads this week's step (its agenda and
resource), ticks it done and skips the next with a note; the mentor is told; the coordinator reads the pair's plan
and the programme's progress as a chart with its table. axe on every screen."""

from __future__ import annotations

import time
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from tests.web.conftest import PHONE, Axe, Served, expect, new_page, shot
from tests.web.pages import open_settings, paired_programme, sign_in


def _write_plan(page: Any) -> None:
    """Two steps: week 1's, with an agenda and a resource; session 2's."""
    form = page.get_by_role("form", name="The plan for the term")
    form.get_by_role("button", name="Add a step").click()
    form.get_by_label("Title of step 1").fill("Get to know each other")
    form.get_by_label("Agenda of step 1").fill("- Where you are now\n- Your **hopes** for the term")
    form.get_by_label("Resources of step 1").fill("How to start | https://example.org/start")
    form.get_by_role("button", name="Add a step").click()
    form.get_by_label("Title of step 2").fill("Set a goal")
    form.get_by_label("Step 2 comes at").select_option(label="Session")
    form.get_by_label("Number of step 2").fill("2")
    form.get_by_role("button", name="Save the plan").click()
    expect(form.locator("[role=status]")).to_have_text("2 steps saved.")


def _work_through(plan: Any) -> None:
    """The mentee ticks week 1's step done, then skips session 2's with a note."""
    plan.get_by_role("button", name="Mark \u201cGet to know each other\u201d done").click()
    expect(plan.locator("article.current")).to_contain_text("Set a goal")
    plan.get_by_role("button", name="Skip \u201cSet a goal\u201d").click()
    plan.get_by_label("Why skip \u201cSet a goal\u201d").fill("We agreed one in week 1")
    plan.get_by_role("button", name="Skip \u201cSet a goal\u201d").click()
    expect(plan).to_contain_text("Every step is behind you.")
    plan.locator("summary", has_text="All 2 steps (2 behind)").click()
    expect(plan).to_contain_text("Note: We agreed one in week 1")


def _first_session_shows_its_step(phone: Any, web_server: Served, mentee: dict[str, str]) -> None:
    """The pair's first session (made by the worker once the sessions were accepted) shows week 1's step."""
    for _ in range(40):
        sessions = web_server.call("GET", "/sessions", mentee)["items"]
        if sessions:
            break
        time.sleep(0.25)
    phone.goto(f"/#/sessions/{sessions[0]['id']}")
    step = phone.get_by_role("region", name="This session\u2019s step")
    expect(step).to_contain_text("Get to know each other")
    expect(step).to_contain_text("Done")


def test_a_coordinator_writes_the_plan_and_a_pair_work_through_it(
        web_server: Served, browser: Any, axe: Axe, committed: sessionmaker[Session]) -> None:
    coordinator, people, url, made = paired_programme(web_server, committed)

    page = new_page(browser, web_server, "UTC")
    sign_in(page, "katherine@example.com")
    page.goto(f"/#{url}")
    open_settings(page)
    page.locator("summary", has_text="The plan for the term").click()
    _write_plan(page)
    axe.check(page, "programme: the plan editor")
    shot(page, "plan-01-editor")

    web_server.call("POST", f"/booking-series/{made['series_id']}/accept", people["mentor"])
    for _ in range(40):  # the worker starts it once it follows the accept, copying the plan onto it
        if web_server.call("GET", f"{url}/pairings/{made['id']}", coordinator)["status"] == "active":
            break
        time.sleep(0.25)

    phone = new_page(browser, web_server, "Asia/Tokyo", PHONE)
    sign_in(phone, "lin@example.com")
    phone.goto(f"/#{url}")
    plan = phone.get_by_role("region", name="Plan of Dorothy Vaughan and Lin Chen")
    expect(plan).to_contain_text("This week (week 1)")
    expect(plan.locator("article.current")).to_contain_text("Get to know each other")
    expect(plan.locator("article.current strong")).to_have_text("hopes")
    expect(plan.get_by_role("link", name="How to start")).to_have_attribute("href", "https://example.org/start")
    axe.check(phone, "phone: a pair's step of the week")
    _work_through(plan)
    axe.check(phone, "phone: a pair's plan, every step behind them")
    shot(phone, "plan-02-pair-phone")
    _first_session_shows_its_step(phone, web_server, people["mentee"])
    phone.context.close()

    # The mentor is told of the step done (the worker writes it).
    for _ in range(40):
        told = [n["title"] for n in web_server.call("GET", "/notifications", people["mentor"])["items"]]
        if "A step of your plan is done" in told:
            break
        time.sleep(0.25)
    assert "A step of your plan is done" in told and "A step of your plan is skipped" in told, told

    page.reload()
    progress = page.get_by_role("region", name="Progress through the plan")
    expect(progress).to_contain_text("1 pairing works through the plan: 2 of 2 steps behind them.")
    progress.locator("summary", has_text="Show the numbers as a table").click()
    expect(progress.locator("table")).to_contain_text("1. Get to know each other")
    row = page.locator(f"#pairing-{made['id']}")
    row.locator("summary", has_text="Sessions, goals and action items").click()
    expect(row.get_by_role("region", name="Plan of Dorothy Vaughan and Lin Chen")).to_contain_text("All 2 steps")
    axe.check(page, "programme: the plan's progress and a pair's plan")
    shot(page, "plan-03-coordinator")


def test_a_coordinator_fills_the_library_and_a_mentee_finds_and_reads_it(
        web_server: Served, browser: Any, axe: Axe, committed: sessionmaker[Session]) -> None:
    coordinator, _people, url, _made = paired_programme(web_server, committed)
    page = new_page(browser, web_server, "UTC")
    sign_in(page, "katherine@example.com")
    page.goto(f"/#{url}")
    page.get_by_role("link", name="Library", exact=True).click()
    form = page.get_by_role("form", name="Add a resource")
    form.get_by_label("Title").fill("Giving feedback")
    form.get_by_label("It is").select_option(label="A document")
    form.get_by_label("Document").fill("Be **specific**, and kind.\n\n- What you saw\n- What it did")
    form.get_by_label("Tags").fill("Feedback, first term")
    form.get_by_role("button", name="Save the resource").click()
    expect(page.locator("#main [role=status]")).to_have_text("Saved \u201cGiving feedback\u201d.")
    form.get_by_label("Title").fill("A guide to remote mentoring")
    form.get_by_label("Address").fill("https://example.org/remote")
    form.get_by_role("button", name="Save the resource").click()
    expect(page.get_by_role("list", name="Resources").get_by_role("listitem")).to_have_count(2)
    axe.check(page, "library: a coordinator keeps it")
    shot(page, "library-01-coordinator")
    resources = web_server.call("GET", f"{url}/resources", coordinator)["items"]
    feedback = next(r for r in resources if r["title"] == "Giving feedback")
    web_server.call("PUT", f"{url}/plan", coordinator, {"steps": [
        {"anchor": "week", "number": 1, "title": "Feedback", "resource_ids": [feedback["id"]]}]})

    phone = new_page(browser, web_server, "Asia/Tokyo", PHONE)
    sign_in(phone, "lin@example.com")
    phone.goto(f"/#{url}")
    phone.get_by_role("link", name="Library of resources").click()
    search = phone.get_by_role("search", name="Search the library")
    search.get_by_label("Words").fill("specific")
    search.get_by_role("button", name="Search").click()
    found = phone.get_by_role("list", name="Resources")
    expect(found.get_by_role("listitem")).to_have_count(1)
    found.locator("summary", has_text="Read \u201cGiving feedback\u201d").click()
    expect(found.locator(".agenda strong")).to_have_text("specific")
    expect(phone.get_by_role("form", name="Add a resource")).to_have_count(0)  # the coordinators keep it
    axe.check(phone, "phone: a mentee searches the library")
    shot(phone, "library-02-mentee-phone")
    phone.context.close()
