"""A mentor's numbers in Chromium: on their own screen, "Your numbers" draws their sessions per month as stacked bars
and their ratings as bars, each with a table of the same numbers, and the figures beside them; at desktop and phone
size, with axe, and no Content-Security-Policy error from the chart library."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from models import MentorProfile
from tests.factories.numbers import month_start, past_year
from tests.web.conftest import DESKTOP, PHONE, SCREENSHOTS, Axe, Served, expect, new_page, shot
from tests.web.pages import PAINTED, sign_in

ZONE = "Asia/Tokyo"
GREEN, BLUE = [0x1D, 0x6B, 0x3A], [0x1F, 0x5F, 0xBF]


def a_busy_mentor(served: Served, seed: Session) -> None:
    headers = served.register("Grace Hopper", "grace@example.com")
    made = served.call("POST", "/mentor-profiles", headers, {"headline": "Compilers", "timezone": ZONE,
                                                             "skills": ["cobol"]}, status=201)
    past_year(seed.get_one(MentorProfile, made["id"]))
    seed.commit()


def rows(table: Any) -> list[list[str]]:
    return [[cell.strip() for cell in row.locator("th, td").all_inner_texts()]
            for row in table.locator("tbody tr").all()]


def numbers_on_screen(page: Any, size: dict[str, int]) -> Any:
    page.goto("/#/mentor")
    section = page.get_by_role("region", name="Your numbers")
    expect(section.get_by_role("img", name="Bar chart of your sessions per month")).to_be_visible()
    expect(section.get_by_role("img", name="Bar chart of your reviews by their stars")).to_be_visible()
    for name, colour in (("sessions per month", GREEN), ("reviews by their stars", BLUE)):
        canvas = section.get_by_role("img", name=f"Bar chart of your {name}")
        assert canvas.evaluate("(c) => c.tagName") == "CANVAS"
        box = canvas.bounding_box()
        assert box and 200 <= box["width"] <= size["width"], box
        assert page.evaluate(PAINTED, [canvas.element_handle(), colour]) > 50, name
    assert page.evaluate("document.documentElement.scrollWidth") <= size["width"]
    return section


def test_a_mentor_sees_their_numbers_drawn_with_the_numbers_as_tables(
        web_server: Served, browser: Any, axe: Axe, seed: Session) -> None:
    a_busy_mentor(web_server, seed)
    last, third = (f"{month_start(ZONE, back):%B %Y}" for back in (1, 3))
    for size, name in ((DESKTOP, "desktop"), (PHONE, "phone")):
        page = new_page(browser, web_server, "Europe/London", size)
        sign_in(page, "grace@example.com")
        section = numbers_on_screen(page, size)
        figures = section.locator("ul.figures li").all_inner_texts()
        assert [" ".join(f.split()) for f in figures] == [
            "5 sessions completed", "3 mentees", "1 came back for another session", "2 sessions with someone absent",
            "4.7 ★ average of 3 reviews"], figures
        expect(section).to_contain_text("In 12 months: 5 completed, 1 cancelled, 2 with someone absent, 1 that "
                                         f"nobody came to. Most completed in {last} (3).")
        expect(section).to_contain_text("3 reviews, 4.7 of 5 on average; the most gave 5 stars.")
        for summary in section.get_by_text("Show the numbers as a table").all():
            summary.click()
        months = section.get_by_role("table", name="Your sessions per month, by how they ended")
        expect(months.locator("thead th")).to_have_text(["Month", "Completed", "Cancelled", "Someone absent",
                                                         "Nobody came", "Total"])
        by_month = {row[0]: row[1:] for row in rows(months)}
        assert len(by_month) == 12
        assert by_month.pop(last) == ["3", "1", "0", "0", "4"] and by_month.pop(third) == ["2", "0", "2", "1", "5"]
        assert all(row == ["0"] * 5 for row in by_month.values()), by_month
        stars = section.get_by_role("table", name="Your reviews by stars")
        assert rows(stars) == [["1 star", "0"], ["2 stars", "0"], ["3 stars", "0"], ["4 stars", "1"], ["5 stars", "2"]]
        axe.check(page, f"mentor numbers ({name})")
        section.scroll_into_view_if_needed()
        shot(page, f"mentor-numbers-{name}")
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        section.screenshot(path=str(SCREENSHOTS / f"mentor-numbers-section-{name}.png"))
        assert page.csp_errors == []
        if size == DESKTOP:  # a narrower window: the charts follow their box
            page.set_viewport_size({"width": 600, "height": 900})
            page.wait_for_function("() => [...document.querySelectorAll('canvas[role=img]')]"
                                   ".every((c) => c.getBoundingClientRect().width <= 600 - 40)")
        page.context.close()

