"""Enrolment in Chromium: a coordinator invites from a CSV file (a refused row shown with its line) and makes a join
link; the worker mails the invitation to a real SMTP server; a new person registers from its link at phone size and
lands in the programme as its mentee; an account joins by the link as a mentor; the coordinator sees them and takes
one off. axe on every screen."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import update
from sqlalchemy.orm import Session, sessionmaker

from models import User
from tests.concurrency import wait_until
from tests.factories.programmes import ALL_WEEK
from tests.mail import Mailbox
from tests.web.conftest import PASSWORD, PHONE, Axe, Served, expect, new_page, shot
from tests.web.pages import katherines_programme, mailed_link, sign_in


def test_a_coordinator_invites_from_a_file_and_people_join_by_mail_and_by_link(  # noqa: PLR0915
        mailbox: Mailbox, web_server: Served, browser: Any, axe: Axe, tmp_path: Any,
        committed: sessionmaker[Session]) -> None:
    admin = web_server.register("Mary Jackson", "mary@example.com")
    coordinator = web_server.register("Katherine Johnson", "katherine@example.com")
    web_server.register("Dorothy Vaughan", "dorothy@example.com")
    with committed() as db, db.begin():
        db.execute(update(User).where(User.email == "mary@example.com").values(is_admin=True))
        # Katherine's address confirmed, as her verification link would: a coordinator's rights need it.
        db.execute(update(User).where(User.email == "katherine@example.com").values(
            email_verified_at=User.created_at))
    me = web_server.call("GET", "/me", coordinator)
    programme = web_server.call("POST", "/programmes", admin, {
        "name": "Spring cohort", "description": "Twelve weeks, one mentor each.",
        "coordinator_user_ids": [me["id"]]}, status=201)
    web_server.call("POST", f"/programmes/{programme['id']}/open-enrolment", coordinator)

    page = new_page(browser, web_server, "UTC")
    sign_in(page, "katherine@example.com")
    page.goto(f"/#/programmes/{programme['id']}")
    expect(page.get_by_role("heading", level=1, name="Spring cohort")).to_be_visible()
    cohort = tmp_path / "cohort.csv"
    cohort.write_text("name,email,role\nLin Chen,lin@example.com,mentee\nNo Address,nobody,mentee\n")
    upload = page.get_by_role("form", name="Invite from a file")
    upload.get_by_label("CSV file").set_input_files(str(cohort))
    upload.get_by_role("button", name="Invite from the file").click()
    expect(page.locator("#main")).to_contain_text("1 invited, 0 already invited or taking part, 1 refused.")
    expect(page.get_by_role("list", name="Refused rows")).to_have_text(
        "Line 3 (nobody): not an email address: nobody")
    expect(page.locator("#main")).to_contain_text("lin@example.com \u00b7 mentee")
    links = page.get_by_role("form", name="New join link")
    links.get_by_label("Joins as").select_option(label="Mentor")
    links.get_by_label("Uses").fill("5")
    links.get_by_role("button", name="Make a join link").click()
    link_box = page.get_by_role("textbox", name="Join link for mentors")
    expect(link_box).to_be_visible()
    join_url = link_box.input_value()
    axe.check(page, "programme: its people, an upload's report and a join link")
    shot(page, "enrolment-01-coordinator")

    # Lin has no account: the mailed link lets her make one, at phone size, and she is in.
    token = mailed_link(mailbox.inbox, "lin@example.com", "programme-invitation")
    # Sent again so soon, it is refused beside the button, saying when it may go.
    page.reload()
    lin_invitation = page.get_by_role("list", name="Invitations").locator("li", has_text="lin@example.com")
    expect(lin_invitation).to_contain_text("mailed")
    lin_invitation.get_by_role("button", name="Send again").click()
    expect(lin_invitation.get_by_role("alert")).to_contain_text("Mailed less than a day ago: it may go again from")
    phone = new_page(browser, web_server, "UTC", PHONE)
    phone.goto(f"/#/programme-invitation?token={token}")
    expect(phone.get_by_role("heading", level=1, name="Your invitation")).to_be_visible()
    expect(phone.locator("#main")).to_contain_text("You are invited to Spring cohort as a mentee.")
    assert token not in phone.url
    expect(phone.get_by_label("Your name")).to_have_value("Lin Chen")
    axe.check(phone, "phone: an invitation, registering from it")
    phone.get_by_label("Password").fill("a longer passphrase nobody has seen")
    phone.get_by_role("button", name="Create my account and join").click()
    expect(phone.get_by_role("heading", level=1, name="Spring cohort")).to_be_visible()
    expect(phone.locator("#main")).to_contain_text("You take part as a mentee.")
    axe.check(phone, "phone: a programme, as its mentee")
    shot(phone, "enrolment-02-mentee-phone")
    # The invitation's page again (a reload, the back button): it says the link was used, not a field's error.
    phone.goto(f"{web_server.url}/#/programme-invitation")
    phone.reload()
    expect(phone.get_by_role("alert")).to_have_text(
        "This invitation can no longer be answered: ask the programme\u2019s coordinators.")
    phone.context.close()
    stranger = new_page(browser, web_server, "UTC", PHONE)
    stranger.goto("/#/programme-invitation")
    expect(stranger.get_by_role("alert")).to_have_text(
        "This page opens from the link in your mail: open that link again.")
    stranger.context.close()

    # Dorothy has an account: the join link, opened signed out, names the programme; signed in, she joins as a mentor.
    dorothy = new_page(browser, web_server, "UTC")
    dorothy.goto(join_url.replace(web_server.url, ""))
    expect(dorothy.get_by_role("heading", level=1, name="Join Spring cohort")).to_be_visible()
    expect(dorothy.locator("#main")).to_contain_text("You join as a mentor. Sign in or create an account to join.")
    axe.check(dorothy, "a join link, signed out")
    dorothy.locator("#main").get_by_role("link", name="Sign in", exact=True).click()
    dorothy.get_by_label("Email").fill("dorothy@example.com")
    dorothy.get_by_label("Password").fill(PASSWORD)
    dorothy.get_by_role("button", name="Sign in").click()
    expect(dorothy.get_by_role("button", name="Join", exact=True)).to_be_visible()  # back on the link's page
    expect(dorothy.get_by_role("heading", level=1, name="Join Spring cohort")).to_be_visible()
    axe.check(dorothy, "a join link")
    dorothy.get_by_role("button", name="Join", exact=True).click()
    expect(dorothy.locator("#main")).to_contain_text("You take part as a mentor.")
    expect(dorothy.get_by_label("Mentees at once")).to_have_value("2")
    dorothy.get_by_text("Who takes part", exact=True).click()  # folded: a programme may have hundreds
    expect(dorothy.get_by_role("list", name="People taking part")).to_contain_text("Lin Chen \u00b7 mentee")
    dorothy.context.close()

    page.reload()
    # The funnel counts each step, and a count lists its people.
    funnel = page.locator("table.funnel")
    expect(funnel.get_by_role("button", name="Joined: 1 mentors")).to_be_visible()
    expect(funnel.get_by_role("button", name="Joined: 1 mentees")).to_be_visible()
    funnel.get_by_role("button", name="Matched: 0 mentees").click()
    people = page.get_by_role("list", name="People taking part")
    expect(page.get_by_role("search", name="People taking part").locator("select[name=step]")).to_have_value("matched")
    expect(page.locator("#main")).to_contain_text("No one matches.")
    funnel.get_by_role("button", name="Joined: 1 mentors").click()
    expect(people).to_contain_text("Dorothy Vaughan (dorothy@example.com) \u00b7 mentor")
    expect(people).not_to_contain_text("Lin Chen")
    # Found by a part of the address, on the server (the role the funnel chose, cleared).
    page.get_by_role("search", name="People taking part").locator("select[name=role]").select_option("")
    page.get_by_role("searchbox", name="Find in People taking part").fill("lin@")
    expect(people).to_contain_text("Lin Chen (lin@example.com) \u00b7 mentee")
    expect(people).not_to_contain_text("Dorothy")
    page.get_by_role("searchbox", name="Find in People taking part").fill("")
    dorothy_row = people.locator("li", has_text="Dorothy Vaughan (dorothy@example.com)")
    capacity = dorothy_row.get_by_role("form", name="Mentees at once for Dorothy Vaughan")
    capacity.get_by_label("Mentees at once").fill("3")
    capacity.get_by_role("button", name="Save").click()
    expect(page.locator("#main")).to_contain_text("Dorothy Vaughan takes up to 3 mentees at once.")
    axe.check(page, "programme: the funnel, the people found by a search")
    shot(page, "enrolment-03-funnel-and-people")
    dorothy_row.get_by_role("button", name="Take off").click()
    asked = page.get_by_role("group", name="Take Dorothy Vaughan off")
    expect(asked).to_be_visible()
    asked.get_by_role("button", name="Take them off").click()
    expect(people).not_to_contain_text("Dorothy Vaughan")  # the list shows those taking part, as the funnel chose
    page.get_by_role("search", name="People taking part").locator("select[name=status]").select_option("removed")
    expect(people.locator("li", has_text="Dorothy Vaughan")).to_contain_text("mentor Taken off")
    expect(funnel.get_by_role("button", name="Joined: 0 mentors")).to_be_visible()


def test_a_mentee_leaves_saying_why_and_the_coordinator_and_mentor_read_it(
        web_server: Served, browser: Any, axe: Axe, committed: sessionmaker[Session]) -> None:
    coordinator, url = katherines_programme(web_server, committed, name="Spring cohort")
    expires = (datetime.now(UTC) + timedelta(days=3)).isoformat()
    ids = {}
    for name, email, role in (("Dorothy Vaughan", "dorothy@example.com", "mentor"),
                              ("Lin Chen", "lin@example.com", "mentee")):
        link = web_server.call("POST", f"{url}/join-links", coordinator,
                               {"role": role, "max_uses": 1, "expires_at": expires}, status=201)
        person = web_server.register(name, email)
        ids[role] = web_server.call("POST", "/programmes/join", person, {"token": link["token"]})["id"]
        if role == "mentor":
            web_server.call("PUT", f"{url}/intake", person, {"answers": [], "windows": ALL_WEEK})
    web_server.call("POST", f"{url}/pairings", coordinator, {"mentor_participant_id": ids["mentor"],
                                                             "mentee_participant_id": ids["mentee"]}, status=201)

    page = new_page(browser, web_server, "UTC", PHONE)
    sign_in(page, "lin@example.com")
    page.goto(f"/#{url}")
    expect(page.locator(".next-step")).to_contain_text("Dorothy Vaughan is asked to accept your pairing")
    page.get_by_role("button", name="Leave the programme").click()
    asked = page.get_by_role("group", name="Leave the programme")
    expect(asked).to_contain_text("Your pairing ends and its coming sessions are cancelled")
    asked.get_by_label("Why? (optional: its coordinators and your mentor or mentee read it)").fill("I changed teams")
    axe.check(page, "phone: leaving a programme, asked why")
    asked.get_by_role("button", name="Leave", exact=True).click()
    expect(page.get_by_role("heading", level=1, name="Programmes")).to_be_visible()
    page.context.close()

    def told(email: str, words: str) -> bool:
        items = web_server.call("GET", "/notifications", web_server.token(email))["items"]
        return any(words in item["body"] for item in items)

    why = "Lin Chen left \u201cSpring cohort\u201d: \u201cI changed teams\u201d"
    wait_until(lambda: told("katherine@example.com", why), 30, "the coordinator told why")
    wait_until(lambda: told("dorothy@example.com", "I changed teams"), 30, "the mentor told why")
