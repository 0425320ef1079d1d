from __future__ import annotations

from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from tests.factories.accounts import UserFactory, as_caller
from tests.factories.mentors import MentorProfileFactory

PROFILE = {"headline": "Distributed systems", "bio": "Hi", "timezone": "Europe/Paris", "skills": ["Python", "SQL"]}


def test_create_profile_then_conflict(client: FlaskClient, db: Session) -> None:
    caller = as_caller(UserFactory())
    response = client.post("/api/v1/mentor-profiles", json=PROFILE, headers=caller.headers)
    assert response.status_code == 201
    body = response.get_json()
    assert body["skills"] == ["python", "sql"] and body["timezone"] == "Europe/Paris"
    assert body["availability"] == [] and body["rating_count"] == 0 and body["rating_average"] is None
    assert client.get("/api/v1/me", headers=caller.headers).get_json()["mentor_profile_id"] == body["id"]
    again = client.post("/api/v1/mentor-profiles", json=PROFILE, headers=caller.headers)
    assert again.status_code == 409


def test_create_profile_rejects_unknown_timezone(client: FlaskClient, db: Session) -> None:
    caller = as_caller(UserFactory())
    response = client.post("/api/v1/mentor-profiles", json={**PROFILE, "timezone": "Mars/Olympus"},
                           headers=caller.headers)
    assert response.status_code == 422
    assert "timezone" in response.get_json()["errors"]["json"]


def test_list_profiles_by_skill_with_cursor_pagination(client: FlaskClient, db: Session) -> None:
    caller = as_caller(UserFactory())
    for index in range(3):
        owner = as_caller(UserFactory())
        skills = ["rust"] if index < 2 else ["go"]
        assert client.post("/api/v1/mentor-profiles", json={**PROFILE, "skills": skills},
                           headers=owner.headers).status_code == 201
    first = client.get("/api/v1/mentor-profiles?skill=Rust&limit=1", headers=caller.headers).get_json()
    assert len(first["items"]) == 1 and first["next_cursor"]
    second = client.get(f"/api/v1/mentor-profiles?skill=rust&limit=1&cursor={first['next_cursor']}",
                        headers=caller.headers).get_json()
    assert len(second["items"]) == 1 and second["items"][0]["id"] != first["items"][0]["id"]
    assert second["next_cursor"] is None
    bad = client.get("/api/v1/mentor-profiles?cursor=garbage", headers=caller.headers)
    assert bad.status_code == 422


def test_get_unknown_profile_is_404(client: FlaskClient, db: Session) -> None:
    caller = as_caller(UserFactory())
    response = client.get("/api/v1/mentor-profiles/00000000-0000-0000-0000-000000000000", headers=caller.headers)
    assert response.status_code == 404


def test_availability_owner_only_and_validated(client: FlaskClient, db: Session) -> None:
    profile = MentorProfileFactory()
    owner, stranger = as_caller(profile.user), as_caller(UserFactory())
    url = f"/api/v1/mentor-profiles/{profile.id}/availability"
    windows = {"windows": [{"weekday": 2, "start": "14:00", "end": "24:00"},
                           {"weekday": 0, "start": "09:00", "end": "12:00"}]}
    response = client.put(url, json=windows, headers=owner.headers)
    assert response.status_code == 200
    assert response.get_json()["availability"] == [
        {"weekday": 0, "start": "09:00", "end": "12:00"}, {"weekday": 2, "start": "14:00", "end": "24:00"}
    ]
    assert client.put(url, json=windows, headers=stranger.headers).status_code == 403
    overlapping = {"windows": [{"weekday": 1, "start": "09:00", "end": "12:00"},
                               {"weekday": 1, "start": "11:00", "end": "13:00"}]}
    response = client.put(url, json=overlapping, headers=owner.headers)
    assert response.status_code == 400 and "overlap" in response.get_json()["message"]
    for bad in ({"weekday": 7, "start": "09:00", "end": "10:00"}, {"weekday": 1, "start": "9am", "end": "10:00"},
                {"weekday": 1, "start": "10:00", "end": "09:00"}):
        assert client.put(url, json={"windows": [bad]}, headers=owner.headers).status_code == 422
    # The refused requests changed nothing.
    current = client.get(f"/api/v1/mentor-profiles/{profile.id}", headers=stranger.headers).get_json()
    assert len(current["availability"]) == 2
    assert client.put(url, json={"windows": []}, headers=owner.headers).get_json()["availability"] == []


def test_profiles_carry_the_mentors_display_name(client: FlaskClient, db: Session) -> None:
    caller = as_caller(UserFactory(display_name="Grace Hopper"))
    created = client.post("/api/v1/mentor-profiles", json=PROFILE, headers=caller.headers).get_json()
    assert created["display_name"] == "Grace Hopper"
    assert client.get(f"/api/v1/mentor-profiles/{created['id']}", headers=caller.headers).get_json()[
        "display_name"] == "Grace Hopper"
    listed = client.get("/api/v1/mentor-profiles?skill=python", headers=caller.headers).get_json()["items"]
    assert [p["display_name"] for p in listed] == ["Grace Hopper"]


def test_a_mentors_currency_prices_their_new_listings_unless_one_says_otherwise(
        client: FlaskClient, db: Session) -> None:
    caller = as_caller(UserFactory())
    made = client.post("/api/v1/mentor-profiles", json={**PROFILE, "currency": "eur"}, headers=caller.headers)
    assert made.status_code == 201 and made.get_json()["currency"] == "EUR"
    listing = {"title": "Code review", "skill": "python", "duration_minutes": 60, "price_cents": 5000}
    first = client.post("/api/v1/listings", json=listing, headers=caller.headers)
    assert first.status_code == 201 and first.get_json()["currency"] == "EUR"
    other = client.post("/api/v1/listings", json={**listing, "currency": "GBP"}, headers=caller.headers)
    assert other.get_json()["currency"] == "GBP"
    url = f"/api/v1/mentor-profiles/{made.get_json()['id']}"
    assert client.patch(url, json={"currency": "chf"}, headers=caller.headers).get_json()["currency"] == "CHF"
    assert client.post("/api/v1/listings", json=listing, headers=caller.headers).get_json()["currency"] == "CHF"
    kept = client.get(f"/api/v1/listings/{first.get_json()['id']}", headers=caller.headers)
    assert kept.get_json()["currency"] == "EUR"  # a listing made before keeps its own
    wrong = client.patch(url, json={"currency": "EURO"}, headers=caller.headers)
    assert wrong.status_code == 422
    # Without one, a new profile's is US dollars.
    plain = client.post("/api/v1/mentor-profiles", json=PROFILE, headers=as_caller(UserFactory()).headers)
    assert plain.get_json()["currency"] == "USD"
