"""A programme's dashboard in Chromium: its coordinator opens it from the programme's page and reads the period's
figures, the sessions per week drawn as stacked bars with the same numbers as a table, the match quality and the pairs
at risk a page at a time, each linked to the pair on the programme's page; another period is chosen. At desktop and
phone size, with axe, and no Content-Security-Policy error."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from models import CancelCause, PairingStatus, ProgrammeCoordinator, SessionStatus
from tests.factories.reports import Cohort
from tests.web.conftest import DESKTOP, PHONE, SCREENSHOTS, Axe, Served, expect, new_page, shot
from tests.web.pages import PAINTED, sign_in
from workflows.reports import tallies

HELD = [0x1D, 0x6B, 0x3A]
QUIET_PAIRS = 20  # paired before the others and never met: the first page of pairs at risk


def a_cohort(served: Served, seed: Session) -> tuple[str, dict[str, str], datetime]:
    """Katherine's programme, six weeks along (W: its first Monday), counted by hand:

    - Ada and Lin (from a match run, her first choice): held W+1d, W+1w+1d, W+2w+1d, then cancelled by the mentee
      W+3w+1d, and nothing since;
    - Grace and Kim (from the run, her fifth choice), paired W+1w: mentee absent W+1w+2d, mentor absent W+2w+2d,
      missed W+3w+2d, held W+4w+2d and rated 1;
    - Edsger and Sam, paired W, ended W+4w: held W+2d (45 minutes);
    - twenty pairs paired a week before W that never met.

    So the weeks from W: held 2, 1, 1, 0, 1; mentee absent in W+1w, mentor absent in W+2w, cancelled by the mentee
    and missed in W+3w. The programme's id, its pairings' ids by mentor, and W."""
    coordinator = served.register("Katherine Johnson", "katherine@example.com")
    me = served.call("GET", "/me", coordinator)
    now = datetime.now(UTC)
    w = datetime(now.year, now.month, now.day, tzinfo=UTC) - timedelta(days=now.weekday(), weeks=6)
    cohort = Cohort(seed)
    seed.add(ProgrammeCoordinator(programme_id=cohort.programme.id, user_id=me["id"]))
    run = cohort.run()
    ada = cohort.pair(w + timedelta(hours=9), run_id=run, rank=1, mentor="Ada", mentee="Lin")
    grace = cohort.pair(w + timedelta(weeks=1, hours=9), run_id=run, rank=5, mentor="Grace", mentee="Kim")
    edsger = cohort.pair(w + timedelta(hours=12), status=PairingStatus.ENDED, ended_at=w + timedelta(weeks=4),
                         mentor="Edsger", mentee="Sam")
    at = lambda weeks, days: w + timedelta(weeks=weeks, days=days, hours=17)  # noqa: E731
    for weeks in range(3):
        cohort.session(ada, at(weeks, 1), SessionStatus.COMPLETED)
    cohort.session(ada, at(3, 1), SessionStatus.CANCELLED, cancelled_by="mentee", cause=CancelCause.REQUEST)
    for weeks, status in ((1, SessionStatus.MENTEE_NO_SHOW), (2, SessionStatus.MENTOR_NO_SHOW),
                          (3, SessionStatus.MISSED)):
        cohort.session(grace, at(weeks, 2), status)
    cohort.session(grace, at(4, 2), SessionStatus.COMPLETED, rating=1)
    cohort.session(edsger, at(0, 2), SessionStatus.COMPLETED, minutes=45)
    for n in range(QUIET_PAIRS):
        cohort.pair(w - timedelta(weeks=1, minutes=n), mentor=f"Mentor {n:02}", mentee=f"Mentee {n:02}")
    tallies.rebuild(seed, cohort.programme.id)
    seed.commit()
    return str(cohort.programme.id), {"Ada": str(ada.id), "Grace": str(grace.id)}, w


def rows(table: Any) -> list[list[str]]:
    return [[cell.strip() for cell in row.locator("th, td").all_inner_texts()]
            for row in table.locator("tbody tr").all()]


def the_weeks_drawn(page: Any, size: dict[str, int], report: dict[str, Any]) -> None:
    """The chart painted, no wider than the screen, and its table holding the API's weeks."""
    section = page.get_by_role("region", name="Sessions per week")
    canvas = section.get_by_role("img", name="Bar chart of the programme's sessions per week")
    expect(canvas).to_be_visible()
    box = canvas.bounding_box()
    assert box and 200 <= box["width"] <= size["width"], box
    assert page.evaluate(PAINTED, [canvas.element_handle(), HELD]) > 50
    assert page.evaluate("document.documentElement.scrollWidth") <= size["width"]
    section.get_by_text("Show the numbers as a table").click()
    table = section.get_by_role("table", name="Sessions per week, by how they ended")
    keys = ("held", "cancelled_by_mentor", "cancelled_by_mentee", "cancelled_by_coordinator", "cancelled_by_admin",
            "cancelled_by_system", "no_show_mentee", "no_show_mentor", "missed")
    assert [row[1:] for row in rows(table)] == [
        [str(week[key]) for key in keys] + [str(sum(week[key] for key in keys))] for week in report["weeks"]]


def pairs_at_risk(page: Any) -> Any:
    """The first page of pairs at risk (the quiet ones, paired first), then the rest, focus on the first loaded."""
    risk = page.get_by_role("region", name="Pairs at risk")
    expect(risk.get_by_role("status")).to_have_text(f"{QUIET_PAIRS} pairs shown, more to load.")
    expect(risk.locator("ul.list > li")).to_have_count(QUIET_PAIRS)
    expect(risk.locator("ul.list > li").first).to_contain_text("no session held for 7 weeks since they were paired")
    risk.get_by_role("button", name="Load more").click()
    expect(risk.locator("ul.list > li")).to_have_count(QUIET_PAIRS + 2)
    expect(risk.get_by_role("button", name="Load more")).to_be_hidden()
    expect(risk.locator("ul.list > li").nth(QUIET_PAIRS)).to_be_focused()
    grace = risk.locator("ul.list > li", has_text="Grace mentors Kim")
    expect(grace).to_contain_text("3 of 4 sessions cancelled at the pair's request or missed")
    expect(grace).to_contain_text("rated 1.0 of 5 on average (1 review)")
    expect(risk.locator("ul.list > li", has_text="Ada mentors Lin")).to_contain_text("no session held for")
    return risk


def another_period(page: Any, url: str, programme_id: str, w: datetime) -> None:
    """The first five weeks chosen (the address says them), then a period the API refuses, said in words."""
    period = page.get_by_role("form", name="Period")
    period.get_by_label("From the week of").fill(f"{w:%Y-%m-%d}")
    period.get_by_label("To the week of").fill(f"{w + timedelta(weeks=4, days=3):%Y-%m-%d}")
    period.get_by_role("button", name="Show").click()
    expect(page).to_have_url(f"{url}/#/programmes/{programme_id}/report?from={w:%Y-%m-%d}"
                             f"&to={w + timedelta(weeks=4, days=3):%Y-%m-%d}")
    section = page.get_by_role("region", name="Sessions per week")
    section.get_by_text("Show the numbers as a table").click()
    table = section.get_by_role("table", name="Sessions per week, by how they ended")
    assert [row[1] for row in rows(table)] == ["2", "1", "1", "0", "1"]
    period.get_by_label("From the week of").fill(f"{w + timedelta(weeks=5):%Y-%m-%d}")
    period.get_by_role("button", name="Show").click()
    expect(page.locator("#main").get_by_role("alert")).to_have_text("`from` comes after `to`")


def downloads_of_the_period(page: Any, report: dict[str, Any]) -> None:
    """Each export one click away, of the period shown: the sessions' file is the API's with the reader's clock beside
    each UTC time; the participants' file has their intake state."""
    downloads = page.get_by_role("region", name="Downloads")
    expect(downloads).to_contain_text("each time in UTC and in America/Los_Angeles")
    with page.expect_download() as started:
        downloads.get_by_role("button", name="Sessions (CSV)").click()
    last = (datetime.fromisoformat(report["to"]) + timedelta(days=6)).date()
    assert started.value.suggested_filename == f"spring-cohort-sessions-{report['from']}-{last}.csv"
    text = Path(started.value.path()).read_text(encoding="utf-8-sig")
    header, *held = list(csv.reader(io.StringIO(text)))
    assert header[5:9] == ["start_time", "start_time (America/Los_Angeles)", "end_time",
                           "end_time (America/Los_Angeles)"]
    first = datetime.fromisoformat(held[0][5])
    assert held[0][6] == first.astimezone(ZoneInfo("America/Los_Angeles")).strftime("%Y-%m-%d %H:%M")
    expect(downloads.locator("[role=status]")).to_have_text(f"Sessions: {started.value.suggested_filename} is "
                                                           "downloaded.")
    with page.expect_download() as people:
        downloads.get_by_role("button", name="Participants (CSV)").click()
    rows = list(csv.DictReader(io.StringIO(Path(people.value.path()).read_text(encoding="utf-8-sig"))))
    assert {row["role"] for row in rows} == {"mentor", "mentee"} and all(row["status"] == "active" for row in rows)


def test_a_coordinator_reads_the_dashboard_and_follows_a_pair_at_risk(
        web_server: Served, browser: Any, axe: Axe, seed: Session) -> None:
    programme_id, pairings, w = a_cohort(web_server, seed)
    report = web_server.call("GET", f"/programmes/{programme_id}/report", web_server.token("katherine@example.com"))
    first_weeks = {week["week"]: week["held"] for week in report["weeks"]}
    assert [first_weeks[f"{w + timedelta(weeks=n):%Y-%m-%d}"] for n in range(5)] == [2, 1, 1, 0, 1]

    page = new_page(browser, web_server, "America/Los_Angeles")
    sign_in(page, "katherine@example.com")
    page.goto(f"/#/programmes/{programme_id}")
    page.get_by_role("link", name="Dashboard", exact=True).click()
    expect(page.get_by_role("heading", level=1, name="Dashboard: Spring cohort")).to_be_visible()
    figures = page.get_by_role("region", name="In the period")
    expect(figures.locator("ul.figures li").first).to_have_text("5 sessions held (4 h 45 min)")
    expect(figures).to_contain_text("62.5% attendance")  # 5 held of 8 whose time came
    expect(figures).to_contain_text("28.6% no-shows")  # 2 of 7
    expect(figures).to_contain_text("Pairs now: 22 active, 0 paused, 0 proposed, 1 ended.")
    expect(page.get_by_role("region", name="Match quality")).to_contain_text(
        "2 pairs came from a match run; 1 of them (50%) with one of their mentee's three best mentors.")
    the_weeks_drawn(page, DESKTOP, report)
    # A week is labelled as its Monday's date, not the evening before as it is in Los Angeles at that instant.
    expect(page.get_by_role("table", name="Sessions per week, by how they ended")).to_contain_text(
        f"{w.day} {w:%B %Y}")

    risk = pairs_at_risk(page)
    downloads_of_the_period(page, report)
    axe.check(page, "programme dashboard")
    shot(page, "programme-dashboard-desktop")
    for region in ("In the period", "Pairs at risk"):
        page.get_by_role("region", name=region).screenshot(
            path=str(SCREENSHOTS / f"programme-dashboard-{region.lower().replace(' ', '-')}.png"))
    assert page.csp_errors == []

    risk.get_by_role("link", name="Ada mentors Lin").click()
    expect(page.locator(f"#pairing-{pairings['Ada']}")).to_be_focused()
    page.go_back()
    another_period(page, web_server.url, programme_id, w)
    # The period chosen is kept: the dashboard opened again from the programme's page shows it.
    page.goto(f"/#/programmes/{programme_id}")
    page.get_by_role("link", name="Dashboard", exact=True).click()
    expect(page.get_by_role("form", name="Period").get_by_label("From the week of")).to_have_value(f"{w:%Y-%m-%d}")
    page.context.close()


def test_the_dashboard_at_phone_size(web_server: Served, browser: Any, axe: Axe, seed: Session) -> None:
    programme_id, _pairings, w = a_cohort(web_server, seed)
    report = web_server.call("GET", f"/programmes/{programme_id}/report", web_server.token("katherine@example.com"))
    page = new_page(browser, web_server, "Asia/Tokyo", PHONE)
    sign_in(page, "katherine@example.com")
    page.goto(f"/#/programmes/{programme_id}/report")
    expect(page.get_by_role("heading", level=1, name="Dashboard: Spring cohort")).to_be_visible()
    the_weeks_drawn(page, PHONE, report)
    expect(page.get_by_role("region", name="Pairs at risk").locator("ul.list > li")).to_have_count(QUIET_PAIRS)
    axe.check(page, "programme dashboard (phone)")
    shot(page, "programme-dashboard-phone")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    for region in ("In the period", "Sessions per week"):
        page.get_by_role("region", name=region).screenshot(
            path=str(SCREENSHOTS / f"programme-dashboard-phone-{region.lower().replace(' ', '-')}.png"))
    assert page.csp_errors == []
    # A programme with dates opens on its own period (from its first week), not the last twelve weeks.
    web_server.call("PATCH", f"/programmes/{programme_id}", web_server.token("katherine@example.com"),
                    {"starts_on": f"{w - timedelta(weeks=8):%Y-%m-%d}"})
    page.reload()
    expect(page.get_by_role("form", name="Period").get_by_label("From the week of")).to_have_value(
        f"{w - timedelta(weeks=8):%Y-%m-%d}")
    page.context.close()
