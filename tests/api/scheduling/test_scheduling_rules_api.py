"""The scheduling rules over HTTP: time off and date overrides (the mentor's own, in their timezone), a listing's
rules and a mentor's limits, their bounds (422), a refusal naming its rule (409), and the schedule's history."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from tests.api_calls import request_booking
from tests.factories.accounts import UserFactory, as_caller
from tests.factories.mentors import ListingFactory, MentorProfileFactory

MONDAY = (datetime.now(UTC) + timedelta(days=14 - datetime.now(UTC).weekday())).replace(
    hour=10, minute=0, second=0, microsecond=0)


def test_time_off_is_the_mentors_own_in_their_timezone_and_lists_what_it_covers(
        client: FlaskClient, db: Session) -> None:
    listing = ListingFactory(mentor_profile=MentorProfileFactory(timezone="Asia/Tokyo"))
    mentor, mentee = as_caller(listing.mentor_profile.user), as_caller(UserFactory())
    url = f"/api/v1/mentor-profiles/{listing.mentor_profile_id}/time-off"
    assert request_booking(client, mentee, listing.id, MONDAY)[0] == 201
    local_day = MONDAY.astimezone(ZoneInfo("Asia/Tokyo"))
    body = {"time_off": [{"start": local_day.strftime("%Y-%m-%dT00:00"), "end": None, "note": "Parental leave"}]}
    assert client.put(url, json=body, headers=mentee.headers).status_code == 403
    assert client.get(url, headers=mentee.headers).status_code == 403
    answer = client.put(url, json=body, headers=mentor.headers)
    assert answer.status_code == 200, answer.get_json()
    shown = answer.get_json()
    assert shown["timezone"] == "Asia/Tokyo"
    assert shown["time_off"] == [{"start": local_day.strftime("%Y-%m-%dT00:00"), "end": None,
                                  "start_time": local_day.replace(hour=0).astimezone(UTC).isoformat(), "end_time": None,
                                  "note": "Parental leave"}]
    assert len(shown["declined_requests"]) == 1 and shown["affected_bookings"] == []
    status, refusal = request_booking(client, mentee, listing.id, MONDAY + timedelta(days=3))
    # The mentee is not told why (a mentor's time off is theirs); the mentor's own view above lists it.
    assert (status, refusal["errors"], refusal["message"]) == (
        409, {"rule": "unavailable"}, "the mentor is not available at that time"), refusal
    assert client.get(url, headers=mentor.headers).get_json()["time_off"] == shown["time_off"]


def test_time_off_and_overrides_refuse_what_makes_no_sense(client: FlaskClient, db: Session) -> None:
    profile = MentorProfileFactory()
    mentor = as_caller(profile.user)
    time_off = f"/api/v1/mentor-profiles/{profile.id}/time-off"
    overrides = f"/api/v1/mentor-profiles/{profile.id}/date-overrides"
    for bad in ([{"start": "2030-01-02T10:00", "end": "2030-01-02T09:00"}],
                [{"start": "2030-01-02T10:00", "end": None}, {"start": "2030-02-02T10:00", "end": None}],
                [{"start": "1999-01-02T10:00"}], [{"start": "not a time"}],
                [{"start": "2030-01-02T10:00", "note": "x" * 201}],
                [{"start": f"2030-01-{d:02d}T10:00", "end": f"2030-01-{d:02d}T11:00"} for d in range(1, 29)] * 2):
        assert client.put(time_off, json={"time_off": bad}, headers=mentor.headers).status_code == 422, bad
    for bad in ([{"date": "2030-01-02", "hours": [{"start": "10:00", "end": "09:00"}]}],
                [{"date": "2030-01-02", "hours": [{"start": "09:00", "end": "12:00"}, {"start": "11:00",
                                                                                     "end": "13:00"}]}],
                [{"date": "2030-01-02", "hours": []}, {"date": "2030-01-02", "hours": []}],
                [{"date": "2030-01-02", "hours": [{"start": "25:00", "end": "26:00"}]}],
                [{"date": "9999-12-31", "hours": []}],
                [{"date": "2030-01-02", "hours": [{"start": f"{h:02d}:00", "end": f"{h:02d}:30"} for h in range(9)]}]):
        assert client.put(overrides, json={"overrides": bad}, headers=mentor.headers).status_code == 422, bad
    answer = client.put(overrides, headers=mentor.headers, json={"overrides": [
        {"date": "2030-01-02", "hours": [{"start": "09:00", "end": "12:00"}]}, {"date": "2030-01-03", "hours": []}]})
    assert answer.status_code == 200
    assert answer.get_json()["overrides"] == [{"date": "2030-01-02", "hours": [{"start": "09:00", "end": "12:00"}]},
                                              {"date": "2030-01-03", "hours": []}]


def test_a_listings_rules_and_a_mentors_limits_are_bounded_and_shown(client: FlaskClient, db: Session) -> None:
    profile = MentorProfileFactory()
    mentor = as_caller(profile.user)
    base = {"title": "Pairing", "skill": "python", "duration_minutes": 60, "price_cents": 0}
    for bad in ({"buffer_before_minutes": 121}, {"buffer_after_minutes": -1}, {"slot_step_minutes": 20},
                {"max_days_ahead": 0}, {"min_notice_minutes": 525_601}, {"max_sessions_per_day": 0},
                {"max_active_bookings_per_mentor": 1001}):
        assert client.post("/api/v1/listings", json={**base, **bad}, headers=mentor.headers).status_code == 422, bad
    made = client.post("/api/v1/listings", headers=mentor.headers, json={
        **base, "buffer_after_minutes": 10, "slot_step_minutes": 30, "max_days_ahead": 60, "min_notice_minutes": 120,
        "max_sessions_per_day": 3, "max_active_bookings_per_mentor": 2})
    assert made.status_code == 201
    assert {k: made.get_json()[k] for k in ("buffer_before_minutes", "buffer_after_minutes", "slot_step_minutes",
                                            "max_days_ahead", "min_notice_minutes", "max_sessions_per_day",
                                            "max_sessions_per_week", "max_active_bookings_per_mentor")} == {
        "buffer_before_minutes": 0, "buffer_after_minutes": 10, "slot_step_minutes": 30, "max_days_ahead": 60,
        "min_notice_minutes": 120, "max_sessions_per_day": 3, "max_sessions_per_week": None,
        "max_active_bookings_per_mentor": 2}
    patched = client.patch(f"/api/v1/mentor-profiles/{profile.id}", headers=mentor.headers,
                           json={"max_sessions_per_day": 3, "max_sessions_per_week": 10})
    assert (patched.status_code, patched.get_json()["max_sessions_per_day"]) == (200, 3)
    assert client.patch(f"/api/v1/mentor-profiles/{profile.id}", headers=mentor.headers,
                        json={"max_sessions_per_week": 337}).status_code == 422


def test_the_schedules_history_is_the_mentors_alone(client: FlaskClient, db: Session) -> None:
    profile = MentorProfileFactory()
    mentor, other = as_caller(profile.user), as_caller(UserFactory())
    assert client.put(f"/api/v1/mentor-profiles/{profile.id}/availability", headers=mentor.headers,
                      json={"windows": [{"weekday": 0, "start": "09:00", "end": "17:00"}]}).status_code == 200
    assert client.put(f"/api/v1/mentor-profiles/{profile.id}/time-off", headers=mentor.headers, json={
        "time_off": [{"start": "2031-01-01T00:00", "end": "2031-01-08T00:00"}]}).status_code == 200
    history = client.get(f"/api/v1/mentor-profiles/{profile.id}/events", headers=mentor.headers)
    assert [(e["type"], e["actor"]) for e in history.get_json()["items"]] == [("schedule.changed", "mentor")] * 2
    assert client.get(f"/api/v1/mentor-profiles/{profile.id}/events", headers=other.headers).status_code == 403


def test_the_schedule_event_is_a_documented_webhook(client: FlaskClient) -> None:
    spec = client.get("/api/openapi.json").get_json()
    assert "schedule.changed" in spec["webhooks"]
    data = spec["components"]["schemas"]["ScheduleEventData"]
    assert set(data["required"]) == {"id", "mentor_profile_id", "change", "start_time", "end_time"}
