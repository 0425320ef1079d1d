"""Pairings through the API: a coordinator pairs a mentor and a mentee, their sessions asked for at once as a series
at the first time both are free; the mentor's accept makes the pairing active (the handler of the series' events);
capacity and one live pairing per pair hold; pausing, resuming and ending move the sessions by the usual rules; the
pair answer a closing survey; a programme's listing is its people's only; two coordinators acting at once take
turns."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from itertools import pairwise
from typing import Any
from zoneinfo import ZoneInfo

from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from models import Booking, BookingStatus, OutboxEvent, Pairing
from tests.concurrency import concurrently
from tests.factories.accounts import Caller, UserFactory, as_caller
from tests.factories.programmes import BASE, create, joined, running_programme
from tests.servers import live_app
from workflows.programmes import following

SERIES = "/api/v1/booking-series"


def _tuesday_evenings(client: FlaskClient, mentee: Caller, programme: dict[str, Any]) -> None:
    answer = client.put(f"{BASE}/{programme['id']}/intake", headers=mentee.headers, json={
        "answers": [], "timezone": "Asia/Tokyo", "windows": [{"weekday": 1, "start_minute": 1080, "end_minute": 1200}]})
    assert answer.status_code == 200, answer.get_json()


def _follow(db: Session) -> None:
    """The handler of the series' answers, as the worker runs it."""
    following.follow_series(db, list(db.scalars(select(OutboxEvent).where(
        OutboxEvent.type.in_(["booking_series.accepted", "booking_series.declined", "booking_series.cancelled"]))
        .order_by(OutboxEvent.created_at))))


def test_a_pairing_asks_for_its_sessions_at_a_common_time_and_the_mentors_accept_starts_it(
        client: FlaskClient, db: Session) -> None:
    coordinator, programme = running_programme(client, session_count=12, session_minutes=60)
    mentor, mentor_id = joined(client, coordinator, programme, "mentor")
    mentee, mentee_id = joined(client, coordinator, programme, "mentee")
    _tuesday_evenings(client, mentee, programme)
    url = f"{BASE}/{programme['id']}/pairings"
    proposed = client.post(url, headers=coordinator.headers, json={"mentor_participant_id": mentor_id,
                                                                   "mentee_participant_id": mentee_id})
    assert proposed.status_code == 201, proposed.get_json()
    pairing = proposed.get_json()
    assert (pairing["status"], pairing["session_count"], pairing["cadence_weeks"]) == ("proposed", 12, 1)
    first = datetime.fromisoformat(pairing["first_start"]).astimezone(ZoneInfo("Asia/Tokyo"))
    assert first.weekday() == 1 and 18 <= first.hour < 19  # in the mentee's window, the session wholly in it
    times = db.scalars(select(Booking.start_time).where(Booking.series_id == uuid.UUID(pairing["series_id"]))
                       .order_by(Booking.start_time)).all()
    assert len(times) == 12 and all(later - earlier == timedelta(weeks=1)
                                    for earlier, later in pairwise(times))
    # The programme's listing: its people see it; no one else does, nor does any directory.
    listing = f"/api/v1/listings/{pairing['listing_id']}"
    assert client.get(listing, headers=mentee.headers).status_code == 200
    assert client.get(listing, headers=as_caller(UserFactory()).headers).status_code == 404
    assert client.get(f"{listing}/slots", headers=as_caller(UserFactory()).headers,
                      query_string={"from": "2031-01-01T00:00:00Z", "to": "2031-01-08T00:00:00Z"}).status_code == 404
    listed = client.get("/api/v1/listings", headers=as_caller(UserFactory()).headers).get_json()["items"]
    assert pairing["listing_id"] not in [item["id"] for item in listed]
    outsider_request = client.post("/api/v1/bookings", headers=as_caller(UserFactory()).headers, json={
        "listing_id": pairing["listing_id"], "start_time": (datetime.now(UTC) + timedelta(days=3)).isoformat()})
    assert outsider_request.status_code == 404
    # The mentor's one accept of the series makes it active.
    accepted = client.post(f"{SERIES}/{pairing['series_id']}/accept", headers=mentor.headers)
    assert accepted.status_code == 200, accepted.get_json()
    _follow(db)
    now = client.get(f"{url}/{pairing['id']}", headers=mentee.headers).get_json()
    assert (now["status"], now["viewer_role"], now["mentor_name"]) == ("active", "mentee", mentor.user.display_name)
    events = db.scalars(select(OutboxEvent.type).where(OutboxEvent.aggregate_id == uuid.UUID(pairing["id"]))
                        .order_by(OutboxEvent.created_at)).all()
    assert sorted(events) == ["pairing.activated", "pairing.proposed"]


def test_capacity_one_pairing_per_pair_and_no_common_time_are_refused_and_change_nothing(
        client: FlaskClient, db: Session) -> None:
    coordinator, programme = running_programme(client)
    mentor, mentor_id = joined(client, coordinator, programme, "mentor", capacity=1)
    _, first_mentee = joined(client, coordinator, programme, "mentee")
    second, second_mentee = joined(client, coordinator, programme, "mentee")
    url = f"{BASE}/{programme['id']}/pairings"
    body = {"mentor_participant_id": mentor_id, "mentee_participant_id": first_mentee}
    assert client.post(url, headers=coordinator.headers, json=body).status_code == 201
    again = client.post(url, headers=coordinator.headers, json=body)
    assert again.status_code == 409, again.get_json()
    full = client.post(url, headers=coordinator.headers, json={**body, "mentee_participant_id": second_mentee})
    assert full.status_code == 409 and "1 of their 1 mentees" in full.get_json()["message"]
    # Another mentor, free on Mondays only (UTC); the mentee on Sundays only (Tokyo): no time in common.
    other, other_id = joined(client, coordinator, programme, "mentor")
    profile = client.get("/api/v1/me", headers=other.headers).get_json()["mentor_profile_id"]
    assert client.put(f"/api/v1/mentor-profiles/{profile}/availability", headers=other.headers,
                      json={"windows": [{"weekday": 0, "start": "09:00", "end": "10:00"}]}).status_code == 200
    assert client.put(f"{BASE}/{programme['id']}/intake", headers=second.headers, json={
        "answers": [], "windows": [{"weekday": 6, "start_minute": 600, "end_minute": 660}]}).status_code == 200
    apart = client.post(url, headers=coordinator.headers, json={"mentor_participant_id": other_id,
                                                                "mentee_participant_id": second_mentee})
    assert apart.status_code == 409 and "no time in common" in apart.get_json()["message"], apart.get_json()
    wrong_roles = client.post(url, headers=coordinator.headers, json={"mentor_participant_id": first_mentee,
                                                                      "mentee_participant_id": mentor_id})
    assert wrong_roles.status_code == 400
    assert client.post(url, headers=mentor.headers, json=body).status_code == 403
    assert db.scalar(select(func.count()).select_from(Pairing)) == 1


def test_pause_resume_end_and_the_closing_survey(client: FlaskClient, db: Session) -> None:
    coordinator, programme = running_programme(client, session_count=4)
    mentor, mentor_id = joined(client, coordinator, programme, "mentor")
    mentee, mentee_id = joined(client, coordinator, programme, "mentee")
    url = f"{BASE}/{programme['id']}/pairings"
    made = client.post(url, headers=coordinator.headers, json={"mentor_participant_id": mentor_id,
                                                               "mentee_participant_id": mentee_id}).get_json()
    one = f"{url}/{made['id']}"
    assert client.post(f"{one}/pause", headers=mentee.headers, json={}).status_code == 400  # not active yet
    client.post(f"{SERIES}/{made['series_id']}/accept", headers=mentor.headers)
    _follow(db)
    paused = client.post(f"{one}/pause", headers=mentee.headers, json={"reason": "On leave"})
    assert paused.status_code == 200 and paused.get_json()["status"] == "paused"
    statuses = db.scalars(select(Booking.status).where(Booking.series_id == uuid.UUID(made["series_id"]))).all()
    assert statuses and all(status == BookingStatus.CANCELLED for status in statuses)
    resumed = client.post(f"{one}/resume", headers=coordinator.headers, json={})
    assert resumed.status_code == 200
    again = resumed.get_json()
    assert again["status"] == "proposed" and again["series_id"] not in (None, made["series_id"])
    assert db.scalar(select(func.count()).select_from(Booking).where(
        Booking.series_id == uuid.UUID(again["series_id"]))) == 4
    # The survey opens once it ends.
    assert client.post(f"{one}/survey", headers=mentee.headers, json={"rating": 5}).status_code == 400
    ended = client.post(f"{one}/end", headers=mentor.headers, json={"reason": "Goals reached"})
    assert ended.status_code == 200, ended.get_json()
    assert (ended.get_json()["status"], ended.get_json()["ended_by"]) == ("ended", "mentor")
    assert client.post(f"{one}/end", headers=mentor.headers, json={}).status_code == 400
    for caller, rating in ((mentee, 5), (mentor, 4)):
        assert client.post(f"{one}/survey", headers=caller.headers,
                           json={"rating": rating, "comment": "Good"}).status_code == 200
    assert client.post(f"{one}/survey", headers=mentee.headers, json={"rating": 1}).status_code == 409
    assert client.post(f"{one}/survey", headers=coordinator.headers, json={"rating": 1}).status_code == 404
    for bad in ({"rating": 6}, {"rating": "5"}, {"rating": 3, "comment": "x" * 2001}):
        assert client.post(f"{one}/survey", headers=mentee.headers, json=bad).status_code == 422
    assert [s["rating"] for s in client.get(one, headers=mentee.headers).get_json()["surveys"]] == [5]
    assert sorted(s["rating"] for s in client.get(one, headers=coordinator.headers).get_json()["surveys"]) == [4, 5]


def test_a_declined_series_ends_its_pairing_and_leaving_ends_a_live_one(client: FlaskClient, db: Session) -> None:
    coordinator, programme = running_programme(client)
    mentor, mentor_id = joined(client, coordinator, programme, "mentor", capacity=3)
    _, first = joined(client, coordinator, programme, "mentee")
    second, second_id = joined(client, coordinator, programme, "mentee")
    url = f"{BASE}/{programme['id']}/pairings"
    declined = client.post(url, headers=coordinator.headers, json={"mentor_participant_id": mentor_id,
                                                                   "mentee_participant_id": first}).get_json()
    client.post(f"{SERIES}/{declined['series_id']}/decline", headers=mentor.headers, json={"reason": "Too busy"})
    _follow(db)
    after = client.get(f"{url}/{declined['id']}", headers=coordinator.headers).get_json()
    assert (after["status"], after["ended_by"]) == ("ended", "mentor")
    live = client.post(url, headers=coordinator.headers, json={"mentor_participant_id": mentor_id,
                                                               "mentee_participant_id": second_id}).get_json()
    left = client.post(f"{BASE}/{programme['id']}/leave", headers=second.headers)
    assert left.status_code == 200, left.get_json()
    gone = client.get(f"{url}/{live['id']}", headers=coordinator.headers).get_json()
    assert (gone["status"], gone["end_reason"]) == ("ended", "one of the pair left the programme")
    # Who reads pairings: the pair and the coordinators; another participant and outsiders find none.
    other, _ = joined(client, coordinator, programme, "mentee")
    assert client.get(f"{url}/{gone['id']}", headers=other.headers).status_code == 404
    assert client.get(url, headers=other.headers).get_json()["items"] == []
    assert len(client.get(url, headers=mentor.headers).get_json()["items"]) == 2
    other_coordinator, _ = running_programme(client)
    for outsider in (other_coordinator, as_caller(UserFactory())):
        assert client.get(url, headers=outsider.headers).status_code == 404
        assert client.get(f"{url}/{gone['id']}", headers=outsider.headers).status_code == 404


def _post(app: Any, caller: Caller, path: str, body: dict[str, Any]) -> Callable[[], int]:
    headers = caller.headers
    return lambda: app.test_client().post(path, headers=headers, json=body).status_code


def test_two_coordinators_moving_one_pairing_at_once_take_turns(seed: Session,
                                                               committed: sessionmaker[Session]) -> None:
    admin, first, second = as_caller(UserFactory(is_admin=True)), as_caller(UserFactory()), as_caller(UserFactory())
    mentor, mentees = as_caller(UserFactory()), [as_caller(UserFactory()) for _ in range(3)]
    seed.commit()
    app = live_app(committed)
    client = app.test_client()
    programme = create(client, admin, first, second, session_count=3)
    client.post(f"{BASE}/{programme['id']}/open-enrolment", headers=first.headers)
    _, mentor_id = joined(client, first, programme, "mentor", person=mentor, capacity=5)
    url = f"{BASE}/{programme['id']}/pairings"
    for mentee in mentees:
        _, mentee_id = joined(client, first, programme, "mentee", person=mentee)
        made = client.post(url, headers=first.headers, json={"mentor_participant_id": mentor_id,
                                                            "mentee_participant_id": mentee_id}).get_json()
        one = f"{url}/{made['id']}"
        answers = concurrently([_post(app, first, f"{one}/end", {"reason": "first"}),
                                _post(app, second, f"{one}/end", {"reason": "second"})])
        assert sorted(answers) == [200, 400]
        with committed() as db:
            ended = db.scalar(select(func.count()).select_from(OutboxEvent).where(
                OutboxEvent.aggregate_id == uuid.UUID(made["id"]), OutboxEvent.type == "pairing.ended"))
            withdrawn = db.scalar(select(func.count()).select_from(OutboxEvent).where(
                OutboxEvent.aggregate_id == uuid.UUID(made["series_id"]),
                OutboxEvent.type == "booking_series.cancelled"))
            assert (ended, withdrawn) == (1, 1)


def test_a_programme_that_keeps_sessions_to_the_pairing_refuses_another_of_its_mentors(client: FlaskClient,
                                                                                      db: Session) -> None:
    for outside, expected in ((False, 403), (True, 201)):
        coordinator, programme = running_programme(client, mentees_book_outside=outside)
        _, mentor_id = joined(client, coordinator, programme, "mentor")
        other, _ = joined(client, coordinator, programme, "mentor")
        mentee, mentee_id = joined(client, coordinator, programme, "mentee")
        pairing = client.post(f"{BASE}/{programme['id']}/pairings", headers=coordinator.headers, json={
            "mentor_participant_id": mentor_id, "mentee_participant_id": mentee_id}).get_json()
        assert pairing["status"] == "proposed"  # its own mentor's listing: asked for on the mentee's behalf
        others = client.get("/api/v1/listings", headers=other.headers,
                            query_string={"mentor_profile_id": client.get(
                                "/api/v1/me", headers=other.headers).get_json()["mentor_profile_id"]}).get_json()
        (listing,) = [item for item in others["items"] if item["id"] != pairing["listing_id"]]
        asked = client.post("/api/v1/bookings", headers=mentee.headers, json={
            "listing_id": listing["id"], "start_time": (datetime.now(UTC) + timedelta(days=2, hours=1))
            .replace(minute=0, second=0, microsecond=0).isoformat()})
        assert asked.status_code == expected, (outside, asked.get_json())


def test_the_pairings_activation_racing_the_mentors_own_accept_books_the_time_once(
        seed: Session, committed: sessionmaker[Session]) -> None:
    admin, coordinator = as_caller(UserFactory(is_admin=True)), as_caller(UserFactory())
    mentor = as_caller(UserFactory())
    people = [(as_caller(UserFactory()), as_caller(UserFactory())) for _ in range(3)]
    seed.commit()
    app = live_app(committed)
    client = app.test_client()
    programme = create(client, admin, coordinator, session_count=4)
    client.post(f"{BASE}/{programme['id']}/open-enrolment", headers=coordinator.headers)
    _, mentor_id = joined(client, coordinator, programme, "mentor", person=mentor, capacity=5)
    for paired, other in people:
        _, mentee_id = joined(client, coordinator, programme, "mentee", person=paired)
        joined(client, coordinator, programme, "mentee", person=other)
        pairing = client.post(f"{BASE}/{programme['id']}/pairings", headers=coordinator.headers, json={
            "mentor_participant_id": mentor_id, "mentee_participant_id": mentee_id}).get_json()
        # Another mentee asks the same mentor for the pairing's first time; the mentor accepts both at once.
        single = client.post("/api/v1/bookings", headers=other.headers, json={
            "listing_id": pairing["listing_id"], "start_time": pairing["first_start"]})
        assert single.status_code == 201, single.get_json()
        answers = concurrently([_post(app, mentor, f"{SERIES}/{pairing['series_id']}/accept", {}),
                                _post(app, mentor, f"/api/v1/bookings/{single.get_json()['id']}/accept", {})])
        with committed() as db:
            at_first = db.scalar(select(func.count()).select_from(Booking).where(
                Booking.listing_id == uuid.UUID(pairing["listing_id"]),
                Booking.start_time == datetime.fromisoformat(pairing["first_start"]),
                Booking.status == BookingStatus.ACCEPTED))
            series_times = db.scalar(select(func.count()).select_from(Booking).where(
                Booking.series_id == uuid.UUID(pairing["series_id"]), Booking.status == BookingStatus.ACCEPTED))
        assert at_first == 1, answers  # the time is booked once, whichever accept came first
        assert series_times in {3, 4} and answers[0] == 200, answers
        assert (answers[1] == 200) == (series_times == 3), answers
