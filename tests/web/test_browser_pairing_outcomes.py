"""An ended pairing's sessions in Chromium: its coordinator still reads each of them on the programme's page once the
pairing ended, with what became of it (held, or cancelled by whom and why), and the dashboard says "1 session held
(45 min)", the word and the minutes right. At desktop and phone size, with axe."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from models import CancelCause, PairingStatus, ProgrammeCoordinator, SessionStatus
from tests.factories.reports import Cohort
from tests.web.conftest import DESKTOP, PHONE, Axe, Served, expect, new_page, shot
from tests.web.pages import sign_in
from workflows.reports import tallies


def an_ended_pairing(served: Served, seed: Session) -> tuple[str, str]:
    """Katherine's programme: Edsger and Sam, paired three weeks ago and ended a week later; one 45-minute session
    held, the two after the end cancelled by it (a coordinator's). The programme's id and the pairing's."""
    coordinator = served.register("Katherine Johnson", "katherine@example.com")
    me = served.call("GET", "/me", coordinator)
    now = datetime.now(UTC)
    w = datetime(now.year, now.month, now.day, tzinfo=UTC) - timedelta(days=now.weekday(), weeks=3)
    cohort = Cohort(seed)
    seed.add(ProgrammeCoordinator(programme_id=cohort.programme.id, user_id=me["id"]))
    pairing = cohort.pair(w + timedelta(hours=9), status=PairingStatus.ENDED, ended_at=w + timedelta(weeks=1),
                          mentor="Edsger", mentee="Sam")
    cohort.session(pairing, w + timedelta(days=2, hours=17), SessionStatus.COMPLETED, minutes=45)
    for weeks in (1, 2):
        cohort.session(pairing, w + timedelta(weeks=weeks, days=2, hours=17), SessionStatus.CANCELLED,
                       cancelled_by="coordinator", cause=CancelCause.END)
    tallies.rebuild(seed, cohort.programme.id)
    seed.commit()
    return str(cohort.programme.id), str(pairing.id)


def its_sessions_listed(page: Any, programme_id: str, pairing_id: str) -> None:
    page.goto(f"/#/programmes/{programme_id}")
    pair = page.locator(f"#pairing-{pairing_id}")
    expect(pair).to_contain_text("Ended")
    pair.locator("summary", has_text="Sessions, goals and action items").click()
    sessions = pair.locator("ol.list > li")
    expect(sessions).to_have_count(3)
    expect(sessions.nth(0)).to_contain_text("Completed")
    for n in (1, 2):
        expect(sessions.nth(n)).to_contain_text("Cancelled by a coordinator: the pairing ended")


def test_an_ended_pairings_sessions_and_the_dashboards_words(
        web_server: Served, browser: Any, axe: Axe, seed: Session) -> None:
    programme_id, pairing_id = an_ended_pairing(web_server, seed)
    for size, zone in ((DESKTOP, "Europe/Paris"), (PHONE, "Asia/Tokyo")):
        page = new_page(browser, web_server, zone, size)
        sign_in(page, "katherine@example.com")
        its_sessions_listed(page, programme_id, pairing_id)
        axe.check(page, f"an ended pairing's sessions ({size['width']} px)")
        shot(page, f"pairing-ended-sessions-{size['width']}")
        page.goto(f"/#/programmes/{programme_id}/report")
        figures = page.get_by_role("region", name="In the period")
        expect(figures.locator("ul.figures li").first).to_have_text("1 session held (45 min)")
        expect(figures).to_contain_text("2 sessions cancelled")
        axe.check(page, f"dashboard of an ended pairing ({size['width']} px)")
        assert page.csp_errors == []
        page.context.close()
