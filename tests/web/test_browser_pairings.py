"""Pairings in Chromium: a coordinator pairs a mentor and a mentee; the mentor accepts the sessions asked for and the
worker starts the pairing; the mentee sees it at phone size, sets a goal and an action item, reaches the goal, ends
the pairing and says how it went; the mentor reads the end once, with the sessions it cancelled. A coordinator pauses
a pairing until a day from the pairing a link led to (drawn again after the move), the mentee reads the day on a
phone, and on that day the system resumes it. axe on every screen."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import update
from sqlalchemy.orm import Session, sessionmaker

from models import User
from tests.web.conftest import PHONE, Axe, Served, expect, new_page, shot
from tests.web.pages import paired_programme, sign_in
from workflows.programmes import pausing


def _told(page: Any, title: str) -> Any:
    """The notification titled so on the page's reader's list, once the workers wrote it."""
    found = page.get_by_role("listitem").filter(has_text=title)
    for _ in range(20):  # the workers write it once they follow the move
        page.goto("/#/notifications")
        if found.count():
            break
        page.wait_for_timeout(500)
    return found


def test_a_coordinator_pairs_two_people_and_the_pair_follow_it(  # noqa: PLR0915
        web_server: Served, browser: Any, axe: Axe, committed: sessionmaker[Session]) -> None:
    admin = web_server.register("Mary Jackson", "mary@example.com")
    coordinator = web_server.register("Katherine Johnson", "katherine@example.com")
    mentor = web_server.register("Dorothy Vaughan", "dorothy@example.com")
    mentee = web_server.register("Lin Chen", "lin@example.com")
    with committed() as db, db.begin():
        db.execute(update(User).where(User.email == "mary@example.com").values(is_admin=True))
        # Katherine's address confirmed, as her verification link would: a coordinator's rights need it.
        db.execute(update(User).where(User.email == "katherine@example.com").values(
            email_verified_at=User.created_at))
    me = web_server.call("GET", "/me", coordinator)
    programme = web_server.call("POST", "/programmes", admin, {"name": "Spring cohort", "session_count": 6,
                                                               "coordinator_user_ids": [me["id"]]}, status=201)
    url = f"/programmes/{programme['id']}"
    web_server.call("POST", f"{url}/open-enrolment", coordinator)
    expires = (datetime.now(UTC) + timedelta(days=3)).isoformat()
    for person, role in ((mentor, "mentor"), (mentee, "mentee")):
        link = web_server.call("POST", f"{url}/join-links", coordinator,
                               {"role": role, "max_uses": 5, "expires_at": expires}, status=201)
        web_server.call("POST", "/programmes/join", person, {"token": link["token"]})
        if role == "mentor":  # their weekly hours, confirmed before anyone pairs them
            web_server.call("PUT", f"{url}/intake", person, {"answers": [], "windows": [
                {"weekday": day, "start_minute": 0, "end_minute": 1440} for day in range(7)]})

    page = new_page(browser, web_server, "UTC")
    sign_in(page, "katherine@example.com")
    page.goto(f"/#{url}")
    form = page.get_by_role("form", name="Pair a mentor and a mentee")
    form.get_by_label("Mentor").select_option(label="Dorothy Vaughan")
    form.get_by_label("Mentee").select_option(label="Lin Chen")
    form.get_by_role("button", name="Pair them").click()
    expect(page.locator("#main [role=status]")).to_contain_text("Dorothy Vaughan and Lin Chen are paired")
    expect(page.locator("#main")).to_contain_text("waiting for the mentor to accept the pairing")
    axe.check(page, "programme: its pairings, one proposed")
    shot(page, "pairing-01-proposed")

    pairing = web_server.call("GET", f"{url}/pairings", coordinator)["items"][0]
    # The mentor is told where: the menu counts one request (the pairing's six sessions are one answer), Requests
    # words it as the programme's proposal, and the programme's page says it is theirs to answer, with the buttons.
    answering = new_page(browser, web_server, "Europe/Berlin")
    sign_in(answering, "dorothy@example.com")
    expect(answering.get_by_role("link", name="Requests 1 waiting for you")).to_be_visible()
    answering.get_by_role("link", name="Requests 1 waiting for you").click()
    proposal = answering.get_by_role("group", name="Spring cohort proposes you mentor Lin Chen")
    expect(proposal).to_contain_text("Spring cohort proposes you mentor Lin Chen: 6 sessions every week")
    expect(proposal.get_by_role("button", name="Accept the pairing")).to_be_visible()
    axe.check(answering, "requests: a programme's proposed pairing")
    shot(answering, "pairing-02-requests")
    proposal.get_by_role("link", name="See it in the programme").click()
    expect(answering.locator("#main .next-step")).to_have_text(
        "Next: accept or decline the pairing with Lin Chen below.")
    axe.check(answering, "programme: a mentor's proposed pairing")
    shot(answering, "pairing-03-mentor-answers")
    answering.get_by_role("group", name="Spring cohort proposes you mentor Lin Chen").get_by_role(
        "button", name="Accept the pairing").click()
    expect(answering.locator("#main .next-step")).to_have_text(
        "Your pairing with Lin Chen is active: its sessions are in Requests.")
    expect(answering.get_by_role("link", name="Requests", exact=True)).to_be_visible()  # nothing waits: no count

    phone = new_page(browser, web_server, "Asia/Tokyo", PHONE)
    sign_in(phone, "lin@example.com")
    phone.goto(f"/#{url}")
    expect(phone.get_by_role("heading", name="Your pairing")).to_be_visible()
    mine = phone.locator("#main li", has_text="Dorothy Vaughan mentors Lin Chen")
    for _ in range(20):  # the worker starts it once it follows the accept
        if "Active" in mine.inner_text():
            break
        phone.wait_for_timeout(500)
        phone.reload()
    expect(mine).to_contain_text("Active")
    expect(mine).to_contain_text("every week, 6 sessions of 60 minutes")
    mine.locator("summary", has_text="Goals and action items").click()
    goal = phone.get_by_role("form", name="New goal of Lin Chen")
    goal.get_by_label("Goal").fill("Give a talk at a meetup")
    goal.get_by_role("button", name="Add the goal").click()
    expect(mine.locator("li", has_text="Give a talk at a meetup")).to_be_visible()
    item = phone.get_by_role("form", name="New action item of Lin Chen")
    item.get_by_label("Action item").fill("Draft the outline")
    item.get_by_role("button", name="Add the item").click()
    expect(mine).to_contain_text("Draft the outline")
    mine.get_by_role("button", name="Mark \u201cGive a talk at a meetup\u201d reached").click()
    expect(mine.locator("li", has_text="Give a talk at a meetup")).to_contain_text("done")
    axe.check(phone, "phone: a mentee's pairing, active, with its goals")
    shot(phone, "pairing-02-active-phone")
    mine.get_by_role("button", name="End the pairing").click()
    asked = phone.get_by_role("group", name="End the pairing of Dorothy Vaughan and Lin Chen")
    asked.get_by_label("Why? (optional: the pair and the coordinators read it)").fill("The talk is given.")
    asked.get_by_role("button", name="End it").click()
    expect(phone.locator("#main li", has_text="Dorothy Vaughan mentors Lin Chen")).to_contain_text(
        "ended: The talk is given.")
    survey = phone.get_by_role("form", name="How it went")
    survey.get_by_label("Your rating, 1 to 5").fill("5")
    survey.get_by_label("A few words").fill("Dorothy helped me plan my first talk.")
    axe.check(phone, "phone: a closing survey")
    survey.get_by_role("button", name="Send").click()
    expect(phone.locator("#main")).to_contain_text("You rated it 5 of 5. Thank you.")
    phone.context.close()

    page.reload()
    expect(page.locator("#main li", has_text="Dorothy Vaughan mentors Lin Chen")).to_contain_text("Surveys: mentee 5/5")

    # The mentor reads the end once: the sessions it cancelled, one a line, and a link that opens the pairing.
    reader = new_page(browser, web_server, "UTC")
    sign_in(reader, "dorothy@example.com")
    ended = _told(reader, "Pairing ended")
    expect(ended).to_have_count(1)
    expect(ended).to_contain_text("Your pairing with Lin Chen in \u201cSpring cohort\u201d has ended")
    expect(ended).to_contain_text("The 6 coming sessions are cancelled")
    expect(reader.get_by_role("listitem").filter(has_text="Session cancelled")).to_have_count(0)
    lines = ended.locator("p.lines")
    assert lines.inner_text().count("\n- ") == 6  # one a line
    opens = ended.get_by_role("link", name="Open the pairing")
    expect(opens).to_have_attribute("href", f"#{url}?pairing={pairing['id']}")
    axe.check(reader, "notifications: a pairing ended, with the sessions it cancelled")
    shot(reader, "pairing-03-ended-told-once")
    opens.click()
    expect(reader.locator("#main li", has_text="Dorothy Vaughan mentors Lin Chen")).to_contain_text("Ended")


def test_a_coordinator_pauses_a_pairing_until_a_day_and_the_system_resumes_it_then(
        web_server: Served, browser: Any, axe: Axe, committed: sessionmaker[Session]) -> None:
    coordinator, people, url, made = paired_programme(web_server, committed)
    web_server.call("POST", f"/booking-series/{made['series_id']}/accept", people["mentor"])
    one = f"{url}/pairings/{made['id']}"
    for _ in range(40):  # the worker starts it once it follows the accept
        if web_server.call("GET", one, coordinator)["status"] == "active":
            break
        time.sleep(0.25)

    page = new_page(browser, web_server, "UTC")
    sign_in(page, "katherine@example.com")
    page.goto(f"/#{url}?pairing={made['id']}")
    row = page.locator(f"#pairing-{made['id']}")
    expect(row).to_contain_text("Active")
    row.get_by_role("button", name="Pause the pairing of Lin Chen").click()
    asked = page.get_by_role("group", name="Pause the pairing of Dorothy Vaughan and Lin Chen")
    day = datetime.now(UTC).date() + timedelta(days=14)
    asked.get_by_label("Why? (optional: the pair and the coordinators read it)").fill("Lin is on leave")
    asked.get_by_label("Goes on by itself on (optional)").fill(day.isoformat())
    axe.check(page, "programme: pausing a pairing until a day")
    asked.get_by_role("button", name="Pause it").click()
    written = day.strftime("%-d %B %Y")  # en-GB's long date
    expect(row).to_contain_text(f"goes on by itself on {written}")
    expect(row).to_contain_text("Paused")
    shot(page, "pairing-04-paused-until")

    # The mentee reads it on a phone, with the day; on that day the system resumes it, and both read it.
    phone = new_page(browser, web_server, "Asia/Tokyo", PHONE)
    sign_in(phone, "lin@example.com")
    told = _told(phone, "Pairing paused")
    expect(told).to_contain_text("is on hold: \u201cLin is on leave\u201d.")
    expect(told).to_contain_text(f"It goes on by itself on {written}")
    axe.check(phone, "phone: a pause told with its day")
    with committed() as db, db.begin():
        assert pausing.resume_due(db, now=datetime.combine(day, datetime.min.time(), UTC)) == 1
    page.reload()
    expect(page.locator(f"#pairing-{made['id']}")).to_contain_text("Proposed")
    expect(page.locator(f"#pairing-{made['id']}")).not_to_contain_text("goes on by itself")
    resumed = _told(phone, "Pairing resumed")
    expect(resumed).to_contain_text("goes on: its remaining sessions are asked for from")
    shot(phone, "pairing-05-resumed-on-its-day")
