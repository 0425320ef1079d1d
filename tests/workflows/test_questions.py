"""A listing's questions, asked when booking it: set by its mentor (bounded, checked), answered with a request or a
series (every kind checked, required ones enforced), and kept with the words they answered when the form changes."""

from __future__ import annotations

from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from models import Booking
from tests.api_calls import future, iso, post_booking
from tests.factories.accounts import UserFactory, as_caller
from tests.factories.mentors import ListingFactory

FORM = [
    {"kind": "text", "label": "What would you like to work on?", "required": True},
    {"kind": "single", "label": "Your level", "options": ["Junior", "Mid", "Senior"]},
    {"kind": "multiple", "label": "Topics", "options": ["Python", "SQL", "Design"]},
    {"kind": "scale", "label": "How confident are you?"},
]


def test_a_mentor_sets_questions_and_a_mentee_answers_them_with_the_request(client: FlaskClient,
                                                                            db: Session) -> None:
    listing = ListingFactory()
    mentor, mentee, stranger = (as_caller(u) for u in (listing.mentor_profile.user, UserFactory(), UserFactory()))
    url = f"/api/v1/listings/{listing.id}/questions"
    assert client.get(url, headers=mentee.headers).get_json() == {"items": []}
    assert client.put(url, json={"items": FORM}, headers=stranger.headers).status_code == 403
    made = client.put(url, json={"items": FORM}, headers=mentor.headers)
    assert made.status_code == 200, made.get_json()
    asked = client.get(url, headers=mentee.headers).get_json()["items"]
    assert [(q["kind"], q["label"], q["options"], q["required"]) for q in asked] == [
        ("text", "What would you like to work on?", [], True), ("single", "Your level", ["Junior", "Mid", "Senior"],
                                                                 False),
        ("multiple", "Topics", ["Python", "SQL", "Design"], False), ("scale", "How confident are you?", [], False)]
    text, level, topics, scale = (q["id"] for q in asked)

    def book(*answers: tuple[str, object], days: int = 3) -> tuple[int, dict]:
        response = post_booking(client, mentee, listing.id, future(days=days),
                                answers=[{"question_id": q, "value": v} for q, v in answers])  # type: ignore[arg-type]
        return response.status_code, response.get_json()

    # Each refusal says which question, and nothing is written.
    for answers, says in (
            ((), "needs an answer"),
            (((text, "  "),), "needs an answer"),
            (((text, "x" * 2001),), "2000 characters"),
            (((text, "ok"), (level, "Expert")), "one of its choices"),
            (((text, "ok"), (topics, ["SQL", "SQL"])), "each once"),
            (((text, "ok"), (topics, "SQL")), "some of its choices"),
            (((text, "ok"), (topics, [{"a": 1}, {"a": 1}])), "some of its choices"),
            (((text, "ok"), (level, {"x": 1})), "one of its choices"),
            (((text, "ok"), (level, ["Junior"])), "one of its choices"),
            (((text, "ok"), (scale, 6)), "from 1 to 5"),
            (((text, "ok"), (scale, True)), "from 1 to 5"),
            (((text, "ok"), (text, "again")), "answered twice"),
            (((text, "ok"), (str(listing.id), "x")), "does not ask")):
        status, body = book(*answers)
        assert (status, says in body["message"]) == (422, True), (answers, body)
    assert db.scalar(select(func.count()).select_from(Booking).where(Booking.listing_id == listing.id)) == 0

    status, booking = book((text, " System design "), (topics, ["Design", "Python"]), (scale, 3))
    assert status == 201, booking
    assert booking["answers"] == [
        {"question_id": text, "label": "What would you like to work on?", "kind": "text", "value": "System design"},
        {"question_id": topics, "label": "Topics", "kind": "multiple", "value": ["Python", "Design"]},
        {"question_id": scale, "label": "How confident are you?", "kind": "scale", "value": 3}]
    # The mentor reads them with the request.
    pending = client.get("/api/v1/bookings?role=mentor", headers=mentor.headers).get_json()["items"]
    assert pending[0]["answers"] == booking["answers"]

    # The form changes: the answers given keep the words they answered; new requests answer the new form.
    client.put(url, json={"items": [{"kind": "scale", "label": "Energy today", "required": True}]},
               headers=mentor.headers)
    assert client.get(f"/api/v1/bookings/{booking['id']}", headers=mentee.headers).get_json()["answers"] == \
        booking["answers"]
    assert book((text, "stale"), days=4)[0] == 422


def test_a_form_is_bounded_and_each_question_checked(client: FlaskClient, db: Session) -> None:
    listing = ListingFactory()
    mentor = as_caller(listing.mentor_profile.user)
    url = f"/api/v1/listings/{listing.id}/questions"
    for bad in ([{"kind": "single", "label": "Pick", "options": ["Only"]}],
                [{"kind": "single", "label": "Pick", "options": ["A", "A"]}],
                [{"kind": "text", "label": "Words", "options": ["A", "B"]}],
                [{"kind": "text", "label": " "}],
                [{"kind": "colour", "label": "Pick"}],
                [{"kind": "text", "label": "x" * 201}],
                [{"kind": "text", "label": f"Q{n}"} for n in range(11)],
                [{"kind": "multiple", "label": "Many", "options": [f"o{n}" for n in range(11)]}]):
        response = client.put(url, json={"items": bad}, headers=mentor.headers)
        assert response.status_code == 422, (bad, response.get_json())
    assert client.get(url, headers=mentor.headers).get_json() == {"items": []}


def test_a_series_keeps_the_answers_with_every_time(client: FlaskClient, db: Session) -> None:
    listing = ListingFactory()
    mentor, mentee = as_caller(listing.mentor_profile.user), as_caller(UserFactory())
    url = f"/api/v1/listings/{listing.id}/questions"
    (question,) = client.put(url, json={"items": [{"kind": "text", "label": "Goal", "required": True}]},
                             headers=mentor.headers).get_json()["items"]
    shape = {"listing_id": str(listing.id), "first_start": iso(future(days=3)), "every": 1, "count": 2}
    assert client.post("/api/v1/booking-series", json=shape, headers=mentee.headers).status_code == 422
    made = client.post("/api/v1/booking-series", headers=mentee.headers,
                       json={**shape, "answers": [{"question_id": question["id"], "value": "Ship it"}]})
    assert made.status_code == 201, made.get_json()
    times = db.scalars(select(Booking).where(Booking.series_id == made.get_json()["id"])).all()
    assert [t.answers[0]["value"] for t in times] == ["Ship it", "Ship it"]
    # The mentor reads them with the series request, as with a single one.
    (asked,) = client.get("/api/v1/booking-series?role=mentor", headers=mentor.headers).get_json()["items"]
    assert [(a["label"], a["value"]) for a in asked["answers"]] == [("Goal", "Ship it")]
    assert made.get_json()["answers"] == asked["answers"]
