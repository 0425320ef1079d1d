"""The caller's own account: preferences, the mentor profile, refresh tokens, and deletion."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from flask.testing import FlaskClient
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from models import MentorProfile, RefreshToken, User
from tests.api_calls import bearer, signed_in
from tests.factories.accounts import PASSWORD, UserFactory, as_caller
from tests.factories.mentors import MentorProfileFactory

NEW_PASSWORD = "a longer passphrase nobody has seen"


def refresh(client: FlaskClient, token: str) -> tuple[int, dict]:
    response = client.post("/api/v1/auth/refresh", json={"refresh_token": token})
    return response.status_code, response.get_json()


# --- PATCH /me ---------------------------------------------------------------------------------------


def test_me_changes_name_timezone_and_locale(client: FlaskClient, db: Session) -> None:
    caller = as_caller(UserFactory())
    response = client.patch("/api/v1/me", headers=caller.headers,
                            json={"display_name": "  Ada Lovelace ", "timezone": "Europe/London", "locale": "en-GB"})
    assert response.status_code == 200
    body = response.get_json()
    assert (body["display_name"], body["timezone"], body["locale"]) == ("Ada Lovelace", "Europe/London", "en-GB")
    assert client.get("/api/v1/me", headers=caller.headers).get_json() == body
    cleared = client.patch("/api/v1/me", headers=caller.headers, json={"timezone": None}).get_json()
    assert (cleared["display_name"], cleared["timezone"], cleared["locale"]) == ("Ada Lovelace", None, "en-GB")


def test_me_refuses_bad_preferences_and_changes_nothing(client: FlaskClient, db: Session) -> None:
    user = UserFactory(timezone="Europe/Paris", locale="fr")
    caller = as_caller(user)
    before = client.get("/api/v1/me", headers=caller.headers).get_json()
    for body, field in (({"timezone": "Mars/Olympus_Mons"}, "timezone"), ({"timezone": "europe/paris"}, "timezone"),
                        ({"locale": "not a locale"}, "locale"), ({"locale": "e"}, "locale"),
                        ({"locale": "en-" + "x" * 40}, "locale"), ({"display_name": "   "}, "display_name"),
                        ({"display_name": "x" * 101}, "display_name"),
                        # A new email needs the current password (and the password goes with an email only).
                        ({"email": "new@example.com"}, "current_password"),
                        ({"current_password": "x"}, "current_password"),
                        ({"email": "not an email", "current_password": "x"}, "email")):
        response = client.patch("/api/v1/me", headers=caller.headers, json={"display_name": "Changed", **body})
        assert response.status_code == 422, body
        assert response.get_json()["message"] and field in response.get_json()["errors"]["json"], body
    empty = client.patch("/api/v1/me", headers=caller.headers, json={})
    assert empty.status_code == 422 and empty.get_json()["message"]
    assert client.get("/api/v1/me", headers=caller.headers).get_json() == before
    assert client.patch("/api/v1/me", json={"locale": "en"}).status_code == 401


# --- PATCH /mentor-profiles/{id} ---------------------------------------------------------------------


def test_owner_edits_their_mentor_profile(client: FlaskClient, db: Session) -> None:
    profile = MentorProfileFactory(user=UserFactory(display_name="Grace Hopper"))
    owner = as_caller(profile.user)
    url = f"/api/v1/mentor-profiles/{profile.id}"
    response = client.patch(url, headers=owner.headers, json={
        "headline": " Compilers ", "bio": "COBOL and more.", "skills": ["Compilers", "cobol"],
        "timezone": "America/New_York", "avatar_url": "https://images.example.com/grace.png"})
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert (body["headline"], body["bio"], body["skills"], body["timezone"], body["avatar_url"],
            body["display_name"]) == ("Compilers", "COBOL and more.", ["cobol", "compilers"], "America/New_York",
                                      "https://images.example.com/grace.png", "Grace Hopper")
    assert client.get(url, headers=as_caller(UserFactory()).headers).get_json() == body
    removed = client.patch(url, headers=owner.headers, json={"avatar_url": None}).get_json()
    assert removed["avatar_url"] is None and removed["headline"] == "Compilers"


def test_only_the_owner_edits_a_profile_and_bad_input_changes_nothing(client: FlaskClient, db: Session) -> None:
    profile = MentorProfileFactory(headline="Original", bio="Original bio")
    owner = as_caller(profile.user)
    url = f"/api/v1/mentor-profiles/{profile.id}"
    before = client.get(url, headers=owner.headers).get_json()
    someone = client.patch(url, headers=as_caller(UserFactory()).headers, json={"headline": "Mine now"})
    assert someone.status_code == 403 and someone.get_json()["message"]
    other_mentor = as_caller(MentorProfileFactory().user)
    assert client.patch(url, headers=other_mentor.headers, json={"headline": "Mine now"}).status_code == 403
    missing = client.patch("/api/v1/mentor-profiles/6f1c2f5e-8d4b-4a57-9a53-2a8b4f0f3c11", headers=owner.headers,
                           json={"headline": "x"})
    assert missing.status_code == 404
    for bad in ({"avatar_url": "http://images.example.com/a.png"}, {"avatar_url": "javascript:alert(1)"},
                {"avatar_url": "https://example.com/" + "a" * 500}, {"bio": "b" * 5001}, {"headline": ""},
                {"timezone": "Nowhere/Land"}, {"skills": ["x"] * 21}, {"user_id": str(owner.user.id)}, {}):
        response = client.patch(url, headers=owner.headers, json=bad)
        assert response.status_code == 422 and response.get_json()["message"], bad
    assert client.get(url, headers=owner.headers).get_json() == before


# --- refresh tokens ----------------------------------------------------------------------------------


def test_a_refresh_token_is_spent_once_for_the_next_pair(client: FlaskClient, db: Session) -> None:
    user = UserFactory()
    first = signed_in(client, user.email)
    stored = db.scalars(select(RefreshToken.token_hash).where(RefreshToken.user_id == user.id)).all()
    assert first["refresh_token"] and first["refresh_token"] not in stored  # only its hash is kept
    status, second = refresh(client, first["refresh_token"])
    assert status == 200 and second["token_type"] == "Bearer"
    assert second["refresh_token"] != first["refresh_token"]
    assert client.get("/api/v1/me", headers=bearer(second)).get_json()["id"] == str(user.id)
    status, _third = refresh(client, second["refresh_token"])
    assert status == 200
    families = set(db.scalars(select(RefreshToken.family_id).where(RefreshToken.user_id == user.id)))
    assert len(families) == 1


def test_a_reused_refresh_token_revokes_its_whole_family_and_only_it(client: FlaskClient, db: Session) -> None:
    user = UserFactory()
    login = signed_in(client, user.email)
    other_login = signed_in(client, user.email)  # another device: another family
    status, newer = refresh(client, login["refresh_token"])
    assert status == 200
    status, newest = refresh(client, newer["refresh_token"])
    assert status == 200
    # The first token comes back (a stolen copy, say): refused, and every token of that sign-in dies.
    status, body = refresh(client, login["refresh_token"])
    assert status == 401 and "already used" in body["message"]
    status, body = refresh(client, newest["refresh_token"])
    assert status == 401 and "revoked" in body["message"]
    # The revocation was committed though the request failed; the other sign-in goes on.
    assert db.scalars(select(RefreshToken.revoked_at).where(RefreshToken.user_id == user.id,
                                                           RefreshToken.revoked_at.is_(None))).all() == [None]
    assert refresh(client, other_login["refresh_token"])[0] == 200


def test_refresh_refuses_unknown_and_expired_tokens(client: FlaskClient, db: Session) -> None:
    user = UserFactory()
    login = signed_in(client, user.email)
    status, body = refresh(client, "not-a-token")
    assert status == 401 and body["message"] == "the refresh token is invalid"
    db.execute(update(RefreshToken).where(RefreshToken.user_id == user.id)
               .values(expires_at=datetime.now(UTC) - timedelta(seconds=1)))
    status, body = refresh(client, login["refresh_token"])
    assert status == 401 and "expired" in body["message"]
    for bad in ({}, {"refresh_token": ""}, {"refresh_token": 5}, {"refresh_token": "x" * 201}):
        response = client.post("/api/v1/auth/refresh", json=bad)
        assert response.status_code == 422 and response.get_json()["message"], bad


def test_logout_and_password_change_revoke_refresh_tokens(client: FlaskClient, db: Session) -> None:
    user = UserFactory()
    first, second = signed_in(client, user.email), signed_in(client, user.email)
    assert client.post("/api/v1/auth/logout", headers=bearer(first)).status_code == 204
    assert refresh(client, first["refresh_token"])[0] == 401
    assert refresh(client, second["refresh_token"])[0] == 401
    third = signed_in(client, user.email)
    changed = client.post("/api/v1/me/password", headers=bearer(third),
                          json={"current_password": PASSWORD, "new_password": NEW_PASSWORD})
    assert changed.status_code == 200
    assert refresh(client, third["refresh_token"])[0] == 401
    # The password change's answer carries a fresh pair, whose refresh token works.
    status, after = refresh(client, changed.get_json()["refresh_token"])
    assert status == 200 and client.get("/api/v1/me", headers=bearer(after)).status_code == 200


def test_a_mentor_profile_of_a_deleted_account_is_hidden(client: FlaskClient, db: Session) -> None:
    profile = MentorProfileFactory()
    viewer = as_caller(UserFactory())
    listed = client.get("/api/v1/mentor-profiles?limit=100", headers=viewer.headers).get_json()["items"]
    assert str(profile.id) in [item["id"] for item in listed]
    db.execute(update(MentorProfile).where(MentorProfile.id == profile.id).values(listed=False))
    assert client.get(f"/api/v1/mentor-profiles/{profile.id}", headers=viewer.headers).status_code == 404
    listed = client.get("/api/v1/mentor-profiles?limit=100", headers=viewer.headers).get_json()["items"]
    assert str(profile.id) not in [item["id"] for item in listed]
    assert db.get(User, profile.user_id) is not None
