"""Conversations in Chromium: a paired mentee writes to her mentor from the pairing (Enter sends), the mentor on a
phone sees the menu's count, opens the conversation and answers on two lines (Shift+Enter), and the mentee reads it
live without reloading; Arabic reads right to left in its own isolate; a message deleted leaves its place; the
mentee writes to the programme's coordinators and the coordinator finds it in their list. A coordinator's announcement
to the mentees reaches the mentee (not the mentor), who reads it, and the coordinator sees it read. A group session's
mentor and mentees talk from the session's page, and one of them mutes it. axe on every screen."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from tests.web.conftest import PHONE, Axe, Served, expect, new_page, shot
from tests.web.pages import paired_programme, post_announcement, sign_in, write_first_message
from workflows.clock import utcnow
from workflows.programmes import nudges


def test_a_pair_talks_live_and_a_mentee_writes_to_the_coordinators(  # noqa: PLR0915
        web_server: Served, browser: Any, axe: Axe, committed: sessionmaker[Session]) -> None:
    _, _, url, _ = paired_programme(web_server, committed)

    mentee = new_page(browser, web_server, "Asia/Tokyo")
    sign_in(mentee, "lin@example.com")
    mentee.goto(f"/#{url}")
    mentee.get_by_role("button", name="Message Dorothy Vaughan").click()
    expect(mentee.get_by_role("heading", name="Dorothy Vaughan")).to_be_visible()
    expect(mentee.get_by_role("log", name="Messages with Dorothy Vaughan")).to_contain_text("No message yet")
    box = mentee.get_by_label("Message", exact=True)
    box.fill("Hello Dorothy, could we look at *my outline* first?")
    box.press("Enter")
    log = mentee.get_by_role("log", name="Messages with Dorothy Vaughan")
    expect(log.locator("li")).to_have_count(1)
    expect(log.locator("li em")).to_have_text("my outline")
    expect(box).to_have_value("")
    axe.check(mentee, "a conversation: the mentee's first message")

    mentor = new_page(browser, web_server, "Europe/Berlin", PHONE)
    sign_in(mentor, "dorothy@example.com")
    mentor.get_by_role("button", name="Menu").click()
    mentor.get_by_role("link", name="Messages 1 waiting for you").click()
    listed = mentor.locator("#main li", has_text="Lin Chen")
    expect(listed).to_contain_text("1 unread")
    axe.check(mentor, "phone: the conversation list, one unread")
    shot(mentor, "conversation-01-list-phone")
    listed.get_by_role("link", name="Lin Chen").click()
    expect(mentor.get_by_role("log", name="Messages with Lin Chen")).to_contain_text("could we look at my outline")
    answer = mentor.get_by_label("Message", exact=True)
    answer.fill("Of course.")
    answer.press("Shift+Enter")
    answer.type("\u0645\u0631\u062d\u0628\u0627 \u2014 see you Tuesday")
    answer.press("Enter")
    # The mentee reads it live, without reloading.
    expect(log.locator("li")).to_have_count(2)
    reply = log.locator("li").nth(1)
    expect(reply).to_contain_text("Of course.")
    expect(reply.locator(".words")).to_have_attribute("dir", "auto")
    expect(reply.locator("br")).to_have_count(1)  # Shift+Enter: two lines in one message
    expect(mentee.get_by_role("link", name="Messages", exact=True)).to_be_visible()  # read as shown: no count
    axe.check(mentor, "phone: a conversation, answered")
    shot(mentor, "conversation-02-answered-phone")
    shot(mentee, "conversation-03-read-live")

    _dorothy_blocks_lin_and_takes_it_back(mentor, mentee, axe)
    log = mentee.get_by_role("log", name="Messages with Dorothy Vaughan")

    # The mentee deletes her first message: its place stays.
    log.locator("li").first.get_by_role("button", name="Delete").click()
    expect(log.locator("li").first).to_contain_text("This message was deleted.")
    expect(mentor.get_by_role("log", name="Messages with Lin Chen").locator("li").first).to_contain_text(
        "This message was deleted.")

    # And writes to the coordinators, who find her in their list.
    mentee.goto(f"/#{url}")
    mentee.get_by_role("button", name="Message the coordinators").click()
    expect(mentee.get_by_role("heading", name="The coordinators of Autumn cohort")).to_be_visible()
    mentee.get_by_label("Message", exact=True).fill("When is the kick-off?")
    mentee.get_by_role("button", name="Send").click()
    expect(mentee.get_by_role("log", name="Messages with The coordinators of Autumn cohort").locator("li")
           ).to_have_count(1)
    _the_coordinator_finds_it(browser, web_server, axe)

    _she_downloads_her_conversations(mentee)

def _dorothy_blocks_lin_and_takes_it_back(mentor: Any, mentee: Any, axe: Axe) -> None:
    # Dorothy, on her phone, blocks Lin: Lin can no longer write (the conversation stays readable); then unblocks.
    mentor.get_by_text("Block", exact=True).click()
    mentor.get_by_role("button", name="Block Lin Chen").click()
    expect(mentor.locator(".block-state").get_by_role("status")).to_contain_text("You blocked Lin Chen")
    expect(mentor.get_by_role("form", name="Write a message")).to_be_hidden()
    axe.check(mentor, "phone: a conversation, blocked")
    shot(mentor, "conversation-04-blocked-phone")
    mentee.reload()
    expect(mentee.locator(".block-state").get_by_role("status")).to_contain_text("No new message can go between you")
    expect(mentee.get_by_role("form", name="Write a message")).to_be_hidden()
    mentor.get_by_role("button", name="Unblock").click()
    expect(mentor.get_by_role("form", name="Write a message")).to_be_visible()
    mentee.reload()
    expect(mentee.get_by_role("log", name="Messages with Dorothy Vaughan").locator("li")).to_have_count(2)


def _she_downloads_her_conversations(mentee: Any) -> None:
    # She keeps her conversations: the download is a JSON file of them, her words in it.
    mentee.goto("/#/conversations")
    with mentee.expect_download() as saving:
        mentee.get_by_role("button", name="Download your conversations (JSON)").click()
    saved = json.loads(Path(saving.value.path()).read_text())
    assert sorted(one["with"] for one in saved["conversations"]) == ["Dorothy Vaughan",
                                                                     "The coordinators of Autumn cohort"]
    assert any(m["text"] == "When is the kick-off?" for one in saved["conversations"] for m in one["messages"])


def _the_coordinator_finds_it(browser: Any, web_server: Served, axe: Axe) -> None:
    """Katherine finds Lin's message in her list, unread, and by its words."""
    runner = new_page(browser, web_server, "UTC")
    sign_in(runner, "katherine@example.com")
    runner.goto("/#/conversations")
    found = runner.locator("#main li", has_text="Lin Chen, of Autumn cohort")
    expect(found).to_contain_text("1 unread")
    runner.get_by_label("Find in your conversations").fill("kick-off")
    runner.get_by_role("button", name="Find").click()
    expect(runner.locator("#main li")).to_have_count(1)
    found.get_by_role("link").click()
    expect(runner.get_by_role("log")).to_contain_text("When is the kick-off?")
    axe.check(runner, "a coordinator reads a participant's message")


def test_a_coordinator_announces_to_the_mentees_who_read_it_and_she_sees_it_read(
        web_server: Served, browser: Any, axe: Axe, committed: sessionmaker[Session]) -> None:
    _, people, url, _ = paired_programme(web_server, committed)
    runner = new_page(browser, web_server, "UTC")
    sign_in(runner, "katherine@example.com")
    runner.goto(f"/#{url}")
    composer = post_announcement(runner, "The mentees", "The kick-off moved",
                                 "We meet on **Thursday** at 17:00 instead.")
    expect(composer.get_by_role("status")).to_contain_text("Posted “The kick-off moved”")
    listed = runner.locator(".announcements li", has_text="The kick-off moved")
    expect(listed).to_contain_text("to the mentees")
    expect(listed).to_contain_text("told 1 · read by 0")  # the workers told Lin, and only her
    axe.check(runner, "a programme's announcements, one posted")
    shot(runner, "announcement-01-posted")

    mentee = new_page(browser, web_server, "Asia/Tokyo", PHONE)
    sign_in(mentee, "lin@example.com")
    mentee.goto("/#/notifications")
    told = mentee.locator("#main li", has_text="Autumn cohort: The kick-off moved")
    expect(told).to_contain_text("We meet on **Thursday** at 17:00 instead.")
    told.get_by_role("link", name="Read the announcement").click()
    expect(mentee.get_by_role("heading", level=1, name="The kick-off moved")).to_be_visible()
    expect(mentee.locator(".words strong")).to_have_text("Thursday")
    expect(mentee.locator("#main")).to_contain_text("From Katherine Johnson")
    axe.check(mentee, "phone: an announcement read")
    shot(mentee, "announcement-02-read-phone")

    runner.reload()
    expect(runner.locator(".announcements li", has_text="The kick-off moved")).to_contain_text("told 1 · read by 1")
    # Dorothy, a mentor, was not told it, and its page is not hers.
    hers = web_server.call("GET", "/notifications?limit=100", people["mentor"])["items"]
    assert [n["title"] for n in hers if "kick-off" in n["title"]] == []
    announcement = runner.locator(".announcements li a", has_text="The kick-off moved").get_attribute("href")
    web_server.call("GET", announcement.replace("#", ""), people["mentor"], status=404)
    _lin_reports_and_katherine_reads_it(mentee, runner, url, axe)
    _katherine_turns_on_a_reminder(runner, url, committed, axe)


def _katherine_turns_on_a_reminder(runner: Any, url: str, committed: sessionmaker[Session], axe: Axe) -> None:
    """Katherine, on her phone, turns on the pairing's reminder; four days on, Dorothy has been reminded, and the
    panel says so."""
    runner.goto(f"/#{url}")
    runner.get_by_text("Reminders", exact=True).click()
    reminders = runner.get_by_role("form", name="Reminders")
    pairing = reminders.get_by_role("group", name="A pairing not accepted by its mentor")
    pairing.get_by_label("Remind").check()
    pairing.get_by_label("First after (days)").fill("2")
    reminders.get_by_role("button", name="Save the reminders").click()
    expect(reminders.get_by_role("status")).to_contain_text("Saved")
    axe.check(runner, "phone: a programme's reminders")
    with committed() as db:
        assert nudges.send_due(db, now=utcnow() + timedelta(days=4)) == 1
        db.commit()
    runner.reload()
    runner.get_by_text("Reminders", exact=True).click()
    expect(runner.locator("details.reminders li", has_text="Dorothy Vaughan")).to_contain_text(
        "reminded to answer the pairing (first)")
    axe.check(runner, "phone: who was reminded")
    shot(runner, "nudges-01-reminded-phone")


def _lin_reports_and_katherine_reads_it(mentee: Any, runner: Any, url: str, axe: Axe) -> None:
    """Lin reports her conversation with Dorothy; Katherine reads it from the report's notification."""
    write_first_message(mentee, url, "Message Dorothy Vaughan", "Please stop calling me at night.")
    mentee.get_by_text("Report", exact=True).click()
    panel = mentee.get_by_role("form", name="Report this conversation")
    panel.get_by_label("Why").select_option(label="Harassment")
    panel.get_by_label("What happened (optional)").fill("Calls after midnight.")
    panel.get_by_role("button", name="Send the report").click()
    expect(panel.get_by_role("status")).to_contain_text("Reported to the programme's coordinators")
    axe.check(mentee, "phone: a conversation reported")

    runner.goto("/#/notifications")
    told = runner.locator("#main li", has_text="A conversation was reported")
    told.get_by_role("link", name="Read the report").click()
    expect(runner.get_by_role("heading", level=1, name="A reported conversation")).to_be_visible()
    expect(runner.get_by_role("log", name="The reported conversation")).to_contain_text(
        "Please stop calling me at night.")
    expect(runner.locator("blockquote")).to_have_text("Calls after midnight.")
    axe.check(runner, "a report, read by its coordinator")
    shot(runner, "report-01-read")
    # Katherine goes on from her phone: the report, then the programme's announcements and reminders.
    runner.set_viewport_size(PHONE)
    expect(runner.get_by_role("log", name="The reported conversation")).to_be_visible()
    axe.check(runner, "phone: a report, read by its coordinator")
    runner.goto(f"/#{url}")
    expect(runner.get_by_role("form", name="New announcement")).to_be_visible()
    expect(runner.locator(".announcements li", has_text="The kick-off moved")).to_contain_text("read by 1")
    axe.check(runner, "phone: a programme's announcements")
    shot(runner, "announcement-03-list-phone")


def test_a_group_sessions_people_talk_and_one_mutes_it(web_server: Served, browser: Any, axe: Axe) -> None:
    served = web_server
    grace = served.register("Grace Hopper", "grace@example.com")
    served.call("POST", "/mentor-profiles", grace, {"headline": "Compilers", "timezone": "UTC", "skills": ["cobol"]},
                status=201)
    circle = served.call("POST", "/listings", grace, {"title": "COBOL circle", "skill": "cobol", "duration_minutes": 60,
                                                      "price_cents": 0, "currency": "USD", "kind": "group",
                                                      "capacity": 3}, status=201)
    starts = (utcnow() + timedelta(days=2)).replace(minute=0, second=0, microsecond=0)
    session = served.call("POST", f"/listings/{circle['id']}/group-sessions", grace,
                          {"start_time": starts.isoformat()}, status=201)["id"]
    for name, email in (("Ada Lovelace", "ada@example.com"), ("Lin Chen", "lin@example.com")):
        served.call("POST", f"/sessions/{session}/join", served.register(name, email), status=201)

    mentor = new_page(browser, served, "UTC")
    sign_in(mentor, "grace@example.com")
    mentor.goto(f"/#/sessions/{session}")
    mentor.get_by_role("button", name="Message the group").click()
    log = mentor.get_by_role("log", name="Messages with The group of COBOL circle")
    box = mentor.get_by_label("Message", exact=True)
    box.fill("Bring one program each.")
    box.press("Enter")
    expect(log.locator("li")).to_have_count(1)

    ada = new_page(browser, served, "Europe/London", PHONE)
    sign_in(ada, "ada@example.com")
    ada.goto(f"/#/sessions/{session}")
    ada.get_by_role("button", name="Message the group").click()
    hers = ada.get_by_role("log", name="Messages with The group of COBOL circle")
    expect(hers).to_contain_text("Grace Hopper")
    expect(hers).to_contain_text("Bring one program each.")
    answer = ada.get_by_label("Message", exact=True)
    answer.fill("Mine is a payroll.")
    answer.press("Enter")
    expect(log.locator("li")).to_have_count(2)  # Grace reads it live
    expect(log.locator("li").nth(1)).to_contain_text("Ada Lovelace")
    axe.check(ada, "phone: a group session's conversation")
    shot(ada, "conversation-05-group-phone")

    # Lin mutes it: still readable, no longer counted in her menu.
    lin = new_page(browser, served, "Asia/Tokyo")
    sign_in(lin, "lin@example.com")
    expect(lin.get_by_role("link", name="Messages 2 waiting for you")).to_be_visible()
    lin.get_by_role("link", name="Messages 2 waiting for you").click()
    lin.locator("#main li", has_text="The group of COBOL circle").get_by_role("link").click()
    lin.get_by_role("button", name="Mute").click()
    expect(lin.locator(".mute-state").get_by_role("status")).to_contain_text("Muted")
    expect(lin.get_by_role("link", name="Messages", exact=True)).to_be_visible()
    lin.goto("/#/conversations")
    box.fill("See you Thursday.")
    box.press("Enter")
    listed = lin.locator("#main li", has_text="The group of COBOL circle")
    expect(listed).to_contain_text("1 unread")  # listed live, as unread, and muted
    expect(listed).to_contain_text("muted")
    expect(lin.get_by_role("link", name="Messages", exact=True)).to_be_visible()  # counted nowhere else
    assert served.call("GET", "/conversations/unread", served.token("lin@example.com")) == {"unread": 0}
    axe.check(lin, "a muted conversation in the list")
