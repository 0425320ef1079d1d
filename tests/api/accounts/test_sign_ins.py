"""Sign-ins end properly: a reused refresh token, `DELETE /me/sign-ins/{id}` and the per-user cap end a
sign-in's refresh and access tokens at once, on every request's one query; `GET /me/sign-ins` lists
what a user needs to recognise each, and never a token."""

from __future__ import annotations

import dataclasses
import time
import uuid
from concurrent.futures import ThreadPoolExecutor

import jwt
from flask.testing import FlaskClient
from sqlalchemy import event, func, select
from sqlalchemy.orm import Session, sessionmaker

from api import create_app
from api.security import require_login
from infra.config import get_settings
from models import RefreshToken, SignIn
from tests.api_calls import bearer, signed_in
from tests.factories.accounts import PASSWORD, UserFactory

ENDED = "the token's sign-in has ended (signed out there, or its refresh token was reused)"
FIREFOX = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"
PHONE = "MentorshipApp/2.1 (iPhone; iOS 17.4)"


LAPTOP = {"agent": FIREFOX, "address": "203.0.113.7"}
PHONE_HERE = {"agent": PHONE, "address": "203.0.113.7"}


def refresh(client: FlaskClient, token: str, agent: str = FIREFOX, address: str = "203.0.113.7") -> tuple[int, dict]:
    response = client.post("/api/v1/auth/refresh", json={"refresh_token": token},
                           environ_overrides={"HTTP_USER_AGENT": agent, "REMOTE_ADDR": address})
    return response.status_code, response.get_json()


def me(client: FlaskClient, tokens: dict) -> tuple[int, str]:
    response = client.get("/api/v1/me", headers=bearer(tokens))
    return response.status_code, response.get_json().get("message", "")


def sign_in_id(tokens: dict) -> str:
    return jwt.decode(tokens["access_token"], options={"verify_signature": False})["sid"]


def listed(client: FlaskClient, tokens: dict) -> list[dict]:
    response = client.get("/api/v1/me/sign-ins", headers=bearer(tokens))
    assert response.status_code == 200, response.get_json()
    return response.get_json()["items"]


def test_a_reused_refresh_token_ends_the_access_tokens_of_its_sign_in_at_once(client: FlaskClient, db: Session) -> None:
    user = UserFactory()
    laptop, phone = signed_in(client, user.email, **LAPTOP), signed_in(client, user.email, **PHONE_HERE)
    status, renewed = refresh(client, laptop["refresh_token"])
    assert status == 200 and me(client, renewed)[0] == 200
    # The laptop's first refresh token comes back (a stolen copy): the laptop's sign-in ends, every token of it.
    assert refresh(client, laptop["refresh_token"])[0] == 401
    for tokens in (laptop, renewed):
        status, message = me(client, tokens)
        assert (status, message) == (401, ENDED)
    assert refresh(client, renewed["refresh_token"])[0] == 401
    # The phone's sign-in goes on.
    assert me(client, phone)[0] == 200
    assert [item["id"] for item in listed(client, phone)] == [sign_in_id(phone)]


def test_sign_ins_show_what_recognises_them_and_never_a_token(client: FlaskClient, db: Session) -> None:
    user, other = UserFactory(), UserFactory()
    laptop = signed_in(client, user.email, **LAPTOP)
    phone = signed_in(client, user.email, agent=PHONE, address="2001:db8::1")
    signed_in(client, other.email, **LAPTOP)
    items = listed(client, laptop)
    assert [(i["id"], i["user_agent"], i["ip_address"], i["current"]) for i in items] == [
        (sign_in_id(phone), PHONE, "2001:db8::1", False), (sign_in_id(laptop), FIREFOX, "203.0.113.7", True)]
    assert set(items[0]) == {"id", "created_at", "last_used_at", "expires_at", "user_agent", "ip_address", "current"}
    text = client.get("/api/v1/me/sign-ins", headers=bearer(laptop)).get_data(as_text=True)
    for tokens in (laptop, phone):
        assert tokens["refresh_token"] not in text and tokens["access_token"] not in text
    # A refresh is a use: the laptop comes first, seen from its new address, its expiry moved on.
    before = items[1]
    time.sleep(0.01)
    status, renewed = refresh(client, laptop["refresh_token"], FIREFOX, "198.51.100.20")
    assert status == 200 and sign_in_id(renewed) == sign_in_id(laptop)
    first, second = listed(client, phone)
    assert (first["id"], first["ip_address"], first["current"], second["current"]) == (
        sign_in_id(laptop), "198.51.100.20", False, True)
    assert first["created_at"] == before["created_at"]
    assert first["last_used_at"] > before["last_used_at"] and first["expires_at"] > before["expires_at"]


def test_ending_one_sign_in_ends_its_tokens_and_no_other(client: FlaskClient, db: Session) -> None:
    user, other = UserFactory(), UserFactory()
    laptop, phone = signed_in(client, user.email, **LAPTOP), signed_in(client, user.email, **PHONE_HERE)
    theirs = signed_in(client, other.email, **LAPTOP)
    # Someone else's sign-in, an unknown one and a malformed id: 404, and nothing ends.
    for target in (sign_in_id(theirs), str(uuid.uuid4()), "not-a-uuid"):
        response = client.delete(f"/api/v1/me/sign-ins/{target}", headers=bearer(laptop))
        assert response.status_code == 404 and response.get_json()["message"], target
    assert me(client, theirs)[0] == 200
    response = client.delete(f"/api/v1/me/sign-ins/{sign_in_id(phone)}", headers=bearer(laptop))
    assert response.status_code == 204 and response.data == b""
    assert me(client, phone)[0] == 401
    assert refresh(client, phone["refresh_token"])[1]["message"] == "the refresh token has been revoked; sign in again"
    assert client.delete(f"/api/v1/me/sign-ins/{sign_in_id(phone)}", headers=bearer(laptop)).status_code == 404
    assert me(client, laptop)[0] == 200 and refresh(client, laptop["refresh_token"])[0] == 200
    # Ending the current sign-in signs this client out.
    status, renewed = refresh(client, signed_in(client, user.email, **LAPTOP)["refresh_token"])
    assert status == 200
    assert client.delete(f"/api/v1/me/sign-ins/{sign_in_id(renewed)}", headers=bearer(renewed)).status_code == 204
    assert me(client, renewed)[0] == 401 and refresh(client, renewed["refresh_token"])[0] == 401
    assert client.delete(f"/api/v1/me/sign-ins/{sign_in_id(laptop)}").status_code == 401


def test_one_sign_in_beyond_the_cap_ends_the_least_recently_used(client: FlaskClient, db: Session) -> None:
    cap = get_settings().max_refresh_tokens_per_user
    user = UserFactory()
    first, oldest_unused, *others = [signed_in(client, user.email, **LAPTOP) for _ in range(cap)]
    status, first = refresh(client, first["refresh_token"])  # the first sign-in is in use: it stays
    assert status == 200
    newest = signed_in(client, user.email, **LAPTOP)
    assert me(client, oldest_unused)[0] == 401 and refresh(client, oldest_unused["refresh_token"])[0] == 401
    for tokens in (first, newest, *others):
        assert me(client, tokens)[0] == 200
    ids = [item["id"] for item in listed(client, newest)]
    assert len(ids) == cap and sign_in_id(oldest_unused) not in ids
    assert ids[0] == sign_in_id(newest) and ids[1] == sign_in_id(first)


def test_concurrent_sign_ins_never_exceed_the_cap(seed: Session, committed: sessionmaker[Session]) -> None:
    cap = get_settings().max_refresh_tokens_per_user
    user = UserFactory()
    seed.commit()
    app = create_app(get_settings(), session_factory=committed)

    def sign_in_once(_: int) -> int:
        return app.test_client().post("/api/v1/auth/token",
                                      json={"email": user.email, "password": PASSWORD}).status_code

    with ThreadPoolExecutor(max_workers=8) as pool:
        statuses = list(pool.map(sign_in_once, range(cap + 10)))
    assert statuses == [200] * (cap + 10)
    with committed() as db:
        live_tokens = db.scalar(select(func.count()).select_from(RefreshToken).where(
            RefreshToken.user_id == user.id, RefreshToken.revoked_at.is_(None), RefreshToken.spent_at.is_(None)))
        assert live_tokens == cap
        live = db.scalar(select(func.count()).select_from(SignIn)
                         .where(SignIn.user_id == user.id, SignIn.revoked_at.is_(None)))
    assert live == cap


def test_what_a_client_says_of_itself_is_kept_bounded(session_factory: sessionmaker[Session], db: Session) -> None:
    # Its own per-address limit: failed sign-ins of other tests from no address ("unknown") count there too.
    settings = dataclasses.replace(get_settings(), auth_rate_limit_per_ip="10000/minute")
    client = create_app(settings, session_factory=session_factory).test_client()
    user = UserFactory()
    tokens = signed_in(client, user.email, agent="Agent\x00\x1b[31m\u202e" + "x" * 5000, address="not-an-address")
    (item,) = listed(client, tokens)
    assert item["user_agent"] == "Agent[31m" + "x" * (255 - len("Agent[31m"))
    assert item["ip_address"] is None
    # A blank User-Agent and no address (a Unix socket): unknown, not empty.
    response = client.post("/api/v1/auth/token", json={"email": user.email, "password": PASSWORD},
                           environ_overrides={"HTTP_USER_AGENT": " ", "REMOTE_ADDR": ""})
    assert response.status_code == 200, response.get_json()
    first = listed(client, response.get_json())[0]
    assert (first["user_agent"], first["ip_address"], first["current"]) == (None, None, True)


def test_checking_the_sign_in_costs_no_extra_query(client: FlaskClient, db: Session) -> None:
    """The actor, their mentor profile, their token version and the token's sign-in: one indexed query."""
    user = UserFactory()
    tokens, other = signed_in(client, user.email, **LAPTOP), signed_in(client, user.email, **LAPTOP)
    statements: list[str] = []
    connection = db.connection()

    def record(*args: object) -> None:
        statements.append(str(args[2]))

    event.listen(connection, "before_cursor_execute", record)
    try:
        with client.application.test_request_context("/api/v1/me", headers=bearer(tokens)):
            require_login()
    finally:
        event.remove(connection, "before_cursor_execute", record)
    (query,) = [s for s in statements if s.lstrip().upper().startswith("SELECT")]
    assert "sign_ins" in query
    assert client.delete(f"/api/v1/me/sign-ins/{sign_in_id(tokens)}", headers=bearer(other)).status_code == 204
    assert me(client, tokens)[0] == 401


def test_a_token_naming_a_malformed_sign_in_is_invalid(client: FlaskClient, db: Session) -> None:
    user = UserFactory()
    now = int(time.time())
    for claims in ({"sid": "not-a-uuid"}, {"sid": 5}, {"sid": ["x"]}, {"sub": 5}):
        token = jwt.encode({"sub": str(user.id), "ver": 0, "iat": now, "exp": now + 60, "iss": "mentorship", **claims},
                           get_settings().jwt_secret_key, algorithm="HS256")
        response = client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})
        assert (response.status_code, response.get_json()["message"]) == (401, "the token is invalid"), claims
    # A well-formed sign-in id that is not the user's own is refused too.
    theirs = signed_in(client, UserFactory().email, **LAPTOP)
    token = jwt.encode({"sub": str(user.id), "ver": 0, "sid": sign_in_id(theirs), "iat": now, "exp": now + 60,
                        "iss": "mentorship"}, get_settings().jwt_secret_key, algorithm="HS256")
    assert client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"}).status_code == 401
