"""Booking questions in Chromium: a mentor asks two questions of a listing; a mentee on a phone answers them with her
request; the mentor reads the answers with the request."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

from tests.web.conftest import PHONE, Axe, Served, browser_timezone, expect, new_page, shot, sign_up
from tests.web.pages import clinic, local, sign_in, slot_button


def test_a_mentor_asks_questions_and_reads_the_answers_with_the_request(web_server: Served, browser: Any,
                                                                        axe: Axe) -> None:
    served = web_server
    zone = browser_timezone(datetime.now(UTC))
    listing, slots = clinic(served, zone)
    mentor = new_page(browser, served, zone)
    sign_in(mentor, "grace@example.com")
    mentor.get_by_role("link", name="Mentor setup").click()
    card = mentor.get_by_role("listitem").filter(has=mentor.get_by_role("link", name="COBOL clinic"))
    card.get_by_text("Booking questions").click()
    form = card.get_by_role("form", name="Booking questions of COBOL clinic")
    form.get_by_role("button", name="Add a question").click()
    form.get_by_label("Question 1", exact=True).fill("What would you like to work on?")
    form.get_by_label("Question 1 must be answered").check()
    form.get_by_role("button", name="Add a question").click()
    form.get_by_label("Question 2", exact=True).fill("Your level")
    form.get_by_label("Kind of question 2").select_option("single")
    form.get_by_label("Choices of question 2").fill("Junior, Mid, Senior")
    expect(form.get_by_label("Choices of question 1")).to_be_hidden()
    form.get_by_role("button", name="Save questions of COBOL clinic").click()
    expect(form.get_by_role("status")).to_have_text("2 questions saved: mentees answer them when booking.")
    shot(mentor, "questions-01-editor")
    axe.check(mentor, "a listing's booking questions, edited")
    asked = served.call("GET", f"/listings/{listing['id']}/questions", served.token("grace@example.com"))["items"]
    assert [(q["label"], q["kind"], q["options"], q["required"]) for q in asked] == [
        ("What would you like to work on?", "text", [], True), ("Your level", "single", ["Junior", "Mid", "Senior"],
                                                                 False)]

    page = new_page(browser, served, zone, PHONE)
    sign_up(page, "Ada Lovelace", "ada@example.com")
    page.goto(f"/#/listings/{listing['id']}")
    slot_button(page, local(slots[2], zone)).click()
    request = page.get_by_role("form", name="Request a booking")
    request.get_by_label("What would you like to work on?").fill("A COBOL parser")
    request.get_by_label("Your level (optional)").select_option("Mid")
    shot(page, "questions-02-answers-phone")
    axe.check(page, "phone: a booking's questions answered")
    request.get_by_role("button", name="Request booking").click()
    expect(request.get_by_role("status")).to_contain_text("Requested")
    page.context.close()
    # A weekly series, asked over the API with its answers.
    (goal, _) = asked
    served.call("POST", "/booking-series", served.token("ada@example.com"), {
        "listing_id": listing["id"], "first_start": slots[5]["start_time"], "every": 1, "count": 2,
        "answers": [{"question_id": goal["id"], "value": "A weekly COBOL review"}]}, status=201)

    mentor.get_by_role("link", name=re.compile("^Requests")).click()
    row = mentor.get_by_role("group", name="Request from Ada Lovelace", exact=True)
    expect(row.locator("dl.answers")).to_contain_text("What would you like to work on?A COBOL parser")
    expect(row.locator("dl.answers")).to_contain_text("Your levelMid")
    series = mentor.get_by_role("group", name="Series request from Ada Lovelace")
    expect(series.locator("dl.answers")).to_contain_text("What would you like to work on?A weekly COBOL review")
    shot(mentor, "questions-03-answers-read")
    axe.check(mentor, "answers read with a request")
    mentor.context.close()
