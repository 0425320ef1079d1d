"""Bad input answers a 4xx with a message and changes nothing: oversized and chunked bodies, JSON
nested too deeply, huge numbers, lone surrogates, NaN and Infinity, lengths that grow when normalised."""

from __future__ import annotations

import io
import ipaddress
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from werkzeug.test import TestResponse

from infra.config import get_settings
from models import MentorProfile, Skill, User, WebhookEndpoint
from tests.factories.accounts import UserFactory, as_caller
from tests.factories.mentors import MentorProfileFactory
from tests.factories.sessions import make_session

REGISTER = "/api/v1/auth/register"
LIMIT = 1024 * 1024  # MAX_CONTENT_LENGTH's default


def refused(response: TestResponse, status: int) -> str:
    """The message of a refusal with ``status`` in flask-smorest's error body."""
    body = response.get_json()
    assert response.status_code == status, (response.status_code, body)
    assert isinstance(body["message"], str) and body["message"], body
    assert body["code"] == status
    return body["message"]


@pytest.fixture(autouse=True)
def _an_address_of_its_own(client: FlaskClient) -> None:
    """Each test registers from an address of its own: the registrations other tests make from 127.0.0.1 in the same
    minute (both test processes share one Redis) never use up its per-address limit."""
    client.environ_base["REMOTE_ADDR"] = str(ipaddress.IPv4Address(0x0A000000 + uuid.uuid4().int % 0xFFFFFE + 1))


def post_raw(client: FlaskClient, path: str, data: bytes | str, **kwargs: Any) -> TestResponse:
    return client.post(path, data=data, content_type="application/json", **kwargs)


def users(db: Session) -> int:
    return db.scalar(select(func.count()).select_from(User)) or 0


@pytest.mark.parametrize("path", [REGISTER, "/api/v1/auth/token", "/api/v1/listings", "/api/v1/nowhere"])
def test_a_body_over_the_limit_is_refused_before_it_is_read(client: FlaskClient, db: Session, path: str) -> None:
    body = b'{"email": "' + b"a" * LIMIT + b'@example.com", "password": "x"}'
    message = refused(post_raw(client, path, body), 413)
    assert f"{LIMIT:,}" in message  # a number written as the reader's locale writes it (English: 1,048,576)


def test_a_chunked_body_without_content_length_is_cut_at_the_limit(client: FlaskClient, db: Session) -> None:
    body = b'{"display_name": "' + b"a" * LIMIT + b'"}'
    before = users(db)
    response = client.post(REGISTER, input_stream=io.BytesIO(body), content_type="application/json",
                           headers={"Transfer-Encoding": "chunked"}, environ_overrides={"wsgi.input_terminated": True})
    refused(response, 413)
    assert users(db) == before


def test_a_body_up_to_the_limit_is_read(client: FlaskClient, db: Session) -> None:
    assert get_settings().max_content_length == LIMIT
    padding = " " * (LIMIT - 200)
    body = '{"email": "pad@example.com", "password": "lamp orbit kettle", "display_name": "Pad"}' + padding
    assert post_raw(client, REGISTER, body).status_code == 201
    exact = '{"email": "chunk@example.com", "password": "lamp orbit kettle", "display_name": "C"}'
    exact += " " * (LIMIT - len(exact))
    streamed = client.post(REGISTER, input_stream=io.BytesIO(exact.encode()), content_type="application/json",
                           headers={"Transfer-Encoding": "chunked"}, environ_overrides={"wsgi.input_terminated": True})
    assert streamed.status_code == 201, streamed.get_json()


@pytest.mark.parametrize("body", [
    "[" * 100_000,
    '{"email": ' + "[" * 100_000 + "]" * 100_000 + "}",
    '{"metadata": ' + '{"a": ' * 40 + "1" + "}" * 40 + "}",
])
def test_json_nested_too_deeply_is_a_400(client: FlaskClient, db: Session, body: str) -> None:
    assert "nested" in refused(post_raw(client, REGISTER, body), 400)


@pytest.mark.parametrize("number", ["1" * 5000, "-" + "9" * 5000, "1" * 5000 + ".5", "0." + "1" * 5000,
                                    "1e" + "9" * 5000])
def test_a_number_with_thousands_of_digits_is_a_400(client: FlaskClient, db: Session, number: str) -> None:
    body = '{"email": "n@example.com", "password": ' + number + ', "display_name": "N"}'
    assert "digits" in refused(post_raw(client, REGISTER, body), 400)


@pytest.mark.parametrize("field", ["email", "password", "display_name"])
def test_a_lone_surrogate_in_any_string_is_a_422(client: FlaskClient, db: Session, field: str) -> None:
    body = {"email": "s@example.com", "password": "lamp orbit kettle", "display_name": "S", field: "ab\ud800cd"}
    before = users(db)
    message = refused(client.post(REGISTER, json=body), 422)
    assert "surrogate" in message
    assert refused(client.post("/api/v1/auth/token", json={**body, field: "\udfff" * 8}), 422)
    assert users(db) == before


def test_a_lone_surrogate_in_a_key_is_a_422(client: FlaskClient, db: Session) -> None:
    response = client.post(REGISTER, json={"email": "k@example.com", "password": "lamp orbit kettle",
                                           "display_name": "K", "\ud83d": 1})
    refused(response, 422)
    # A surrogate pair written as escapes is one character, and welcome.
    ok = client.post(REGISTER, json={"email": "p@example.com", "password": "pair of \U0001f600 kettles",
                                     "display_name": "\U0001f600"})
    assert ok.status_code == 201 and ok.get_json()["display_name"] == "\U0001f600"
    # So is a backslash followed by the text "ud800".
    text = client.post(REGISTER, json={"email": "b@example.com", "password": "lamp orbit kettle",
                                       "display_name": "\\ud800"})
    assert text.status_code == 201 and text.get_json()["display_name"] == "\\ud800"


@pytest.mark.parametrize("value", ["NaN", "Infinity", "-Infinity", "1e999", "-1e999"])
def test_nan_and_infinity_in_session_metadata_are_a_422(client: FlaskClient, db: Session, value: str) -> None:
    mentor, _mentee, session = make_session(db, datetime.now(UTC) + timedelta(minutes=5))
    url = f"/api/v1/sessions/{session.id}"
    assert client.post(f"{url}/start", headers=mentor.headers).status_code == 200
    body = '{"notes": "done", "metadata": {"score": ' + value + "}}"
    message = refused(post_raw(client, f"{url}/complete", body, headers=mentor.headers), 422)
    assert "NaN" in message or "finite" in message
    db.refresh(session)
    assert session.status == "in_progress"
    done = post_raw(client, f"{url}/complete", '{"metadata": {"score": 1.5}}', headers=mentor.headers)
    assert done.status_code == 200 and done.get_json()["metadata"] == {"score": 1.5}


def test_an_email_is_measured_once_lower_cased(client: FlaskClient, db: Session) -> None:
    email = "İ" * 200 + "@example.com"
    assert len(email) <= 320 < len(email.lower())
    before = users(db)
    response = client.post(REGISTER, json={"email": email, "password": "lamp orbit kettle", "display_name": "I"})
    assert "email" in response.get_json().get("errors", {}).get("json", {}), response.get_json()
    assert refused(response, 422).startswith("email: ")
    assert users(db) == before
    refused(client.post("/api/v1/auth/token", json={"email": email, "password": "lamp orbit kettle"}), 422)
    fits = "İ" * 100 + "@example.com"
    created = client.post(REGISTER, json={"email": fits, "password": "lamp orbit kettle", "display_name": "I"})
    assert created.status_code == 201 and created.get_json()["email"] == fits.lower()


def test_skills_are_measured_once_normalised(client: FlaskClient, db: Session) -> None:
    skills_before = db.scalar(select(func.count()).select_from(Skill))
    user = as_caller(UserFactory())
    profile = {"headline": "H", "timezone": "UTC"}
    for skills in (["İ" * 50], ["   "]):
        response = client.post("/api/v1/mentor-profiles", json={**profile, "skills": skills}, headers=user.headers)
        refused(response, 422)
    assert db.scalar(select(func.count()).select_from(MentorProfile).where(
        MentorProfile.user_id == user.user.id)) == 0
    mentor = as_caller(MentorProfileFactory().user)
    listing = {"title": "T", "duration_minutes": 60, "price_cents": 100}
    for skill in ("İ" * 50, "   ", " \t "):
        refused(client.post("/api/v1/listings", json={**listing, "skill": skill}, headers=mentor.headers), 422)
    assert db.scalar(select(func.count()).select_from(Skill)) == skills_before
    created = client.post("/api/v1/listings", json={**listing, "skill": "İ" * 25}, headers=mentor.headers)
    assert created.status_code == 201 and created.get_json()["skill"] == "i\u0307" * 25


def test_a_webhook_url_is_measured_once_percent_encoded(client: FlaskClient, db: Session) -> None:
    owner = as_caller(UserFactory())
    url = "https://hooks.example.com/" + "é" * 1000
    assert len(url) <= 2048
    message = refused(client.post("/api/v1/webhook-endpoints", json={"url": url}, headers=owner.headers), 422)
    assert "2048" in message
    created = client.post("/api/v1/webhook-endpoints", json={"url": "https://hooks.example.com/" + "é" * 300},
                          headers=owner.headers)
    assert created.status_code == 201 and len(created.get_json()["url"]) > 1800
    endpoint_id = created.get_json()["id"]
    refused(client.patch(f"/api/v1/webhook-endpoints/{endpoint_id}", json={"url": url}, headers=owner.headers), 422)
    assert db.scalar(select(func.count()).select_from(WebhookEndpoint).where(
        WebhookEndpoint.owner_user_id == owner.user.id)) == 1
    assert db.get(WebhookEndpoint, created.get_json()["id"]).url == created.get_json()["url"]  # type: ignore[union-attr]


@pytest.mark.parametrize(("method", "path", "status"), [
    ("GET", "/health/live", 200),
    ("GET", "/api/v1/me", 401),
    ("GET", "/api/v1/nowhere", 404),
    ("DELETE", "/health/live", 405),
    ("GET", "/api/openapi.json", 200),
    ("POST", REGISTER, 422),
])
def test_every_response_forbids_sniffing_and_framing(client: FlaskClient, db: Session, method: str, path: str,
                                                       status: int) -> None:
    response = client.open(path, method=method, json={})
    assert response.status_code == status
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["X-Frame-Options"] == "DENY"
    if status >= 400:
        refused(response, status)


def test_a_validation_error_names_the_first_invalid_field_in_its_message(client: FlaskClient, db: Session) -> None:
    mentor = as_caller(MentorProfileFactory().user)
    windows = {"windows": [{"weekday": 0, "start": "09:00", "end": "10:00"}, {"weekday": 9, "start": "x"}]}
    profile_id = mentor.user.mentor_profile.id
    response = client.put(f"/api/v1/mentor-profiles/{profile_id}/availability", json=windows, headers=mentor.headers)
    assert refused(response, 422).startswith("windows.1.")
    assert refused(client.get("/api/v1/listings?limit=0", headers=mentor.headers), 422).startswith("limit: ")
    assert refused(client.get("/api/v1/listings/not-a-uuid", headers=mentor.headers), 404)
