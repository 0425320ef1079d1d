"""Signing in through an organisation's OpenID provider over HTTP (``api/sign_on/routes.py``), against a real
provider (Canaille, started by the tests): the browser's round trip and the pages it ends on, what a replayed code or
a swapped state gets, and the provider's lifetime ending the sign-in's access tokens. Linking, programmes, domains
whose passwords are off and the admins' routes: ``tests/workflows/sign_on/`` and ``tests/workflows/accounts/``."""

from __future__ import annotations

from datetime import timedelta

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from models import AuthEvent, AuthEventKind, Notification, SignIn, UserIdentity
from tests.database import notifications_read
from tests.factories.oidc_provider import Provider
from tests.factories.sign_on import (
    ORIGIN,
    PROVIDER_PASSWORD,
    callback_of,
    organisation,
    page_of,
    person,
    query_of,
    signed_on,
    start,
)


def test_a_first_sign_in_makes_a_verified_account_and_the_next_one_signs_in_to_it(
        client: FlaskClient, db: Session, oidc_provider: Provider) -> None:
    org = organisation(db, oidc_provider)
    login, email = person(org)
    headers = signed_on(client, org, login)
    me = client.get("/api/v1/me", headers=headers).json
    assert (me["email"], me["display_name"], me["email_verified"], me["has_password"]) == (
        email, "Grace Hopper", True, False)
    current = client.get("/api/v1/auth/sign-on/current", headers=headers).json
    assert current["provider_id"] == str(org.id) and current["display_name"] == org.row.display_name
    assert current["end_session_url"].startswith(oidc_provider.end_session_endpoint + "?client_id=")
    again = signed_on(client, org, login)
    assert client.get("/api/v1/me", headers=again).json["id"] == me["id"]
    identity = db.scalars(select(UserIdentity).where(UserIdentity.user_id == me["id"])).one()
    assert (identity.issuer, identity.subject) == (oidc_provider.issuer, login)
    kinds = db.scalars(select(AuthEvent.kind).where(AuthEvent.user_id == me["id"]))
    assert sorted(kinds) == sorted([AuthEventKind.ACCOUNT_LINKED, AuthEventKind.SIGNED_IN_SSO,
                                    AuthEventKind.SIGNED_IN_SSO])
    told = [n.title for n in notifications_read(db, Notification.user_id == me["id"])]
    assert told == [f"Your account is now linked to {org.row.display_name}"]


def test_a_replayed_code_and_a_state_from_another_browser_end_on_the_failure_page(
        app: Flask, client: FlaskClient, db: Session, oidc_provider: Provider) -> None:
    org = organisation(db, oidc_provider)
    login, _email = person(org)
    first = oidc_provider.log_in(start(client, org), login, PROVIDER_PASSWORD)
    assert page_of(client.get(callback_of(first)))[0] == "sign-on/done"
    assert page_of(client.get(callback_of(first))) == ("sign-on/failed", {"reason": "state"})  # spent
    # The code again, with the state of a new attempt of this browser: the provider refuses it (used, and its PKCE
    # challenge was the first attempt's).
    second = oidc_provider.log_in(start(client, org), login, PROVIDER_PASSWORD)
    replayed = {"code": query_of(first)["code"], "state": query_of(second)["state"]}
    assert page_of(client.get("/api/v1/auth/sign-on/callback", query_string=replayed)) == (
        "sign-on/failed", {"reason": "code"})
    # A victim's callback opened in an attacker's browser (which started an attempt of its own): refused, and it
    # neither spends the victim's attempt nor signs the attacker in.
    attacker, victim = app.test_client(), app.test_client()
    start(attacker, org)
    stolen = oidc_provider.log_in(start(victim, org), login, PROVIDER_PASSWORD)
    assert page_of(attacker.get(callback_of(stolen))) == ("sign-on/failed", {"reason": "state"})
    assert attacker.post("/api/v1/auth/refresh", json={}, headers=ORIGIN).status_code == 422  # no refresh cookie
    assert page_of(victim.get(callback_of(stolen)))[0] == "sign-on/done"
    # A state no attempt has is anyone's to send: logged, never written to the audit log; the provider's code is.
    refused = db.scalars(select(AuthEvent.kind).where(AuthEvent.kind == AuthEventKind.SSO_REFUSED)).all()
    assert len(refused) == 1


def test_access_tokens_of_a_sign_in_end_when_the_provider_asks_for_a_new_sign_in_there(
        client: FlaskClient, db: Session, oidc_provider: Provider) -> None:
    org = organisation(db, oidc_provider, session_hours=1)
    login, _email = person(org)
    headers = signed_on(client, org, login)
    sign_in = db.scalars(select(SignIn).where(SignIn.provider_id == org.id)).one()
    assert sign_in.reauth_at is not None and sign_in.expires_at <= sign_in.reauth_at  # its refresh ends by then too
    assert client.get("/api/v1/me", headers=headers).status_code == 200
    db.execute(update(SignIn).where(SignIn.id == sign_in.id).values(reauth_at=func.now() - timedelta(seconds=1)))
    refused = client.get("/api/v1/me", headers=headers)
    assert refused.status_code == 401
    assert refused.json["message"] == "your organisation asks you to sign in with it again"
