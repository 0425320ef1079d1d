"""The organisations' providers as admins add and change them (``workflows/sign_on/providers.py``, through
``/api/v1/admin/identity-providers``), against a real provider (Canaille): discovery read at once and refused saying
why, a private network only when said, the client secret sealed and never shown, one provider per domain, disabling
ending every sign-in made through it, a sign-in refreshed for the provider's hours only, and the secret kept readable
across a key rotation."""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from cryptography.fernet import Fernet
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from api.cli import ops
from infra import sealing
from infra.config import get_settings
from models import AdminAction, AuthEvent, AuthEventKind, IdentityProvider
from tests.api_calls import bearer, signed_in
from tests.database import refused
from tests.factories.accounts import UserFactory, as_caller
from tests.factories.oidc_provider import Provider
from tests.factories.sign_on import (
    Organisation,
    cookies_of,
    document_server,
    organisation,
    page_of,
    person,
    register_client,
    round_trip,
    signed_on,
)
from workflows.accounts import refresh_tokens
from workflows.accounts.sign_ins import ClientInfo
from workflows.clock import utcnow
from workflows.errors import Unauthenticated
from workflows.sign_on import providers

ROUTE = "/api/v1/admin/identity-providers"


def _admin() -> dict[str, str]:
    return as_caller(UserFactory(is_admin=True)).headers


def _input(issuer: str, client_id: str, secret: str, **more: Any) -> dict[str, Any]:
    return {"display_name": "Example Corp", "issuer": issuer, "client_id": client_id, "client_secret": secret,
            "domains": [f"corp-{secrets.token_hex(4)}.example"], **more}


def _trail(db: Session, provider_id: uuid.UUID | str, action: str) -> list[str | None]:
    return list(db.scalars(select(AdminAction.reason).where(AdminAction.target_id == uuid.UUID(str(provider_id)),
                                                            AdminAction.action == action)))


def _audited(db: Session, kind: AuthEventKind) -> int:
    return db.scalar(select(func.count()).select_from(AuthEvent).where(AuthEvent.kind == kind)) or 0


def test_only_admins_reach_the_providers_routes(client: FlaskClient, db: Session, oidc_provider: Provider) -> None:
    org = organisation(db, oidc_provider)
    member = as_caller(UserFactory()).headers
    assert client.get(ROUTE).status_code == 401
    assert client.get(ROUTE, headers=member).status_code == 403
    assert client.get(f"{ROUTE}/{org.id}", headers=member).status_code == 403
    added = client.post(ROUTE, headers=member, json=_input(oidc_provider.issuer, "c", "s"))
    assert added.status_code == 403, added.get_json()
    assert client.patch(f"{ROUTE}/{org.id}", headers=member, json={"display_name": "Mine"}).status_code == 403
    for action in ("disable", "enable"):
        assert client.post(f"{ROUTE}/{org.id}/{action}", headers=member, json={"reason": "x"}).status_code == 403
    db.refresh(org.row)
    assert (org.row.display_name, org.row.disabled_at) == (f"Org {org.domain}", None)
    listed = client.get(ROUTE, headers=_admin())
    assert listed.status_code == 200 and [p["id"] for p in listed.get_json()["items"]] == [str(org.id)]


def test_adding_a_provider_reads_its_discovery_document_and_says_why_it_cannot(
        client: FlaskClient, db: Session, oidc_provider: Provider) -> None:
    client_id, secret = register_client(oidc_provider)
    admin = _admin()
    nowhere = client.post(ROUTE, headers=admin, json=_input(oidc_provider.issuer + "/nowhere", client_id, secret))
    assert nowhere.status_code == 422, nowhere.get_json()
    assert "discovery document cannot be used" in nowhere.get_json()["message"]
    assert "404" in nowhere.get_json()["message"]
    # A discovery document naming another issuer (here the same without its trailing slash) is refused.
    other = client.post(ROUTE, headers=admin, json=_input(oidc_provider.issuer + "/", client_id, secret))
    assert other.status_code == 422 and "names another issuer" in other.get_json()["message"], other.get_json()
    assert db.scalar(select(func.count()).select_from(IdentityProvider)) == 0
    added = client.post(ROUTE, headers=admin, json=_input(oidc_provider.issuer, client_id, secret))
    assert added.status_code == 201, added.get_json()
    assert added.get_json()["redirect_uri"] == get_settings().public_url + "/api/v1/auth/sign-on/callback"
    assert client.post(ROUTE, headers=admin, json=_input(oidc_provider.issuer, client_id, secret)).status_code == 409


def test_the_client_secret_is_sealed_and_never_shown(client: FlaskClient, db: Session,
                                                     oidc_provider: Provider) -> None:
    client_id, secret = register_client(oidc_provider)
    admin = _admin()
    added = client.post(ROUTE, headers=admin, json=_input(oidc_provider.issuer, client_id, secret))
    assert added.status_code == 201, added.get_json()
    provider_id = added.get_json()["id"]
    row = db.get(IdentityProvider, uuid.UUID(provider_id))
    assert row is not None and secret not in row.client_secret
    assert sealing.unseal(get_settings(), row.client_secret) == secret
    shown = [added, client.get(ROUTE, headers=admin), client.get(f"{ROUTE}/{provider_id}", headers=admin),
             client.patch(f"{ROUTE}/{provider_id}", headers=admin, json={"client_secret": secret + "-new"})]
    for answer in shown:
        assert answer.status_code in (200, 201) and secret not in answer.get_data(as_text=True)
        assert "client_secret" not in answer.get_data(as_text=True)
    db.refresh(row)
    assert secret not in row.client_secret and sealing.unseal(get_settings(), row.client_secret) == secret + "-new"
    assert _audited(db, AuthEventKind.PROVIDER_ADDED) == _audited(db, AuthEventKind.PROVIDER_CHANGED) == 1
    assert _trail(db, provider_id, providers.CHANGED) == ["client_secret"]


def test_a_provider_on_a_private_network_is_refused_unless_the_admin_says_it_lives_there(
        client: FlaskClient, db: Session, oidc_provider: Provider, configure: Callable[..., None]) -> None:
    configure(WEBHOOK_ALLOW_PRIVATE_TARGETS="false")  # as in production: Canaille on loopback is private
    client_id, secret = register_client(oidc_provider)
    admin = _admin()
    body = _input(oidc_provider.issuer, client_id, secret)
    refused_answer = client.post(ROUTE, headers=admin, json=body)
    assert refused_answer.status_code == 422, refused_answer.get_json()
    assert "private_network" in refused_answer.get_json()["message"]
    added = client.post(ROUTE, headers=admin, json={**body, "private_network": True})
    assert added.status_code == 201, added.get_json()
    provider_id = added.get_json()["id"]
    (reason,) = _trail(db, provider_id, providers.ADDED)
    assert reason is not None and "on a private network" in reason
    # The sign-in reaches it through the same guard, widened for this provider alone.
    row = db.get(IdentityProvider, uuid.UUID(provider_id))
    assert row is not None
    org = Organisation(oidc_provider, row, client_id, secret, body["domains"][0])
    login, email = person(org)
    assert client.get("/api/v1/me", headers=signed_on(client, org, login)).get_json()["email"] == email
    undone = client.patch(f"{ROUTE}/{provider_id}", headers=admin, json={"private_network": False})
    assert undone.status_code == 422 and "private_network" in undone.get_json()["message"], undone.get_json()
    assert db.get(IdentityProvider, uuid.UUID(provider_id), populate_existing=True).private_network is True


def test_one_domain_has_one_provider_and_a_change_replaces_what_it_names(
        client: FlaskClient, db: Session, oidc_provider: Provider) -> None:
    org = organisation(db, oidc_provider)
    admin = _admin()
    with document_server() as server:  # another issuer, for a second provider
        server.documents["/.well-known/openid-configuration"] = server.discovery()
        taken = client.post(ROUTE, headers=admin, json=_input(server.url, "c", "s", domains=[org.domain.upper()]))
        assert taken.status_code == 409 and org.domain in taken.get_json()["message"], taken.get_json()
        added = client.post(ROUTE, headers=admin, json=_input(server.url, "c", "s"))
        assert added.status_code == 201, added.get_json()
    second = added.get_json()["id"]
    clash = client.patch(f"{ROUTE}/{second}", headers=admin, json={"domains": ["free.example", org.domain]})
    assert clash.status_code == 409, clash.get_json()
    assert client.get(f"{ROUTE}/{second}", headers=admin).get_json()["domains"] == added.get_json()["domains"]
    changed = client.patch(f"{ROUTE}/{second}", headers=admin, json={
        "display_name": "Renamed Corp", "session_hours": 12, "domains": ["Free.Example", "b.free.example"]})
    assert changed.status_code == 200, changed.get_json()
    shown = client.get(f"{ROUTE}/{second}", headers=admin).get_json()
    assert (shown["display_name"], shown["session_hours"], shown["domains"]) == (
        "Renamed Corp", 12, ["b.free.example", "free.example"])
    assert client.get(f"{ROUTE}/{org.id}", headers=admin).get_json()["domains"] == [org.domain]
    (reason,) = _trail(db, second, providers.CHANGED)
    assert reason is not None and all(name in reason for name in ("display_name", "domains", "session_hours"))


def test_disabling_a_provider_ends_every_sign_in_made_through_it_and_enabling_it_lets_people_in_again(
        app: Flask, client: FlaskClient, db: Session, oidc_provider: Provider) -> None:
    org = organisation(db, oidc_provider)
    first, second = person(org), person(org)
    first_headers = signed_on(client, org, first[0])
    second_browser = app.test_client()
    second_headers = signed_on(second_browser, org, second[0])
    password_user = UserFactory()
    password_headers = bearer(signed_in(client, password_user.email))
    admin = _admin()
    disabled = client.post(f"{ROUTE}/{org.id}/disable", headers=admin, json={"reason": "the contract ended"})
    assert disabled.status_code == 200, disabled.get_json()
    assert disabled.get_json()["sign_ins_ended"] == 2 and disabled.get_json()["disabled_at"] is not None
    for headers in (first_headers, second_headers):
        assert client.get("/api/v1/me", headers=headers).status_code == 401
    assert second_browser.post("/api/v1/auth/refresh", json={}, headers={"Origin": "http://localhost"}
                               ).status_code == 401
    assert client.get("/api/v1/me", headers=password_headers).status_code == 200
    assert _audited(db, AuthEventKind.PROVIDER_DISABLED) == 1
    assert _trail(db, org.id, providers.DISABLED) == ["the contract ended"]
    started = client.get(f"/api/v1/auth/sign-on/{org.id}/start")
    assert page_of(started) == ("sign-on/failed", {"reason": "disabled"})
    again = client.post(f"{ROUTE}/{org.id}/disable", headers=admin, json={"reason": "twice"})
    assert again.status_code == 409, again.get_json()
    enabled = client.post(f"{ROUTE}/{org.id}/enable", headers=admin, json={"reason": "a new contract"})
    assert enabled.status_code == 200 and enabled.get_json()["disabled_at"] is None, enabled.get_json()
    assert _audited(db, AuthEventKind.PROVIDER_ENABLED) == 1
    assert client.get("/api/v1/me", headers=signed_on(client, org, first[0])).status_code == 200
    assert client.post(f"{ROUTE}/{org.id}/enable", headers=admin, json={"reason": "twice"}).status_code == 409


def test_a_sign_in_through_a_provider_is_refreshed_for_its_session_hours_only(
        client: FlaskClient, db: Session, oidc_provider: Provider) -> None:
    org = organisation(db, oidc_provider, session_hours=1)
    login, _ = person(org)
    answer = round_trip(client, org, login)
    assert page_of(answer)[0] == "sign-on/done"
    token = cookies_of(answer)["mentorship_refresh"].value
    now = utcnow()
    renewed = refresh_tokens.rotate(db, token, ClientInfo(), now=now + timedelta(minutes=50))
    error = refused(db, Unauthenticated, lambda: refresh_tokens.rotate(
        db, renewed.refresh_token, ClientInfo(), now=now + timedelta(hours=2)))
    assert "sign in with it again" in error.message
    # A password sign-in of the same moment is refreshed long after.
    password_token = signed_in(client, UserFactory().email)["refresh_token"]
    assert refresh_tokens.rotate(db, password_token, ClientInfo(), now=now + timedelta(hours=2)).refresh_token


def test_resealing_keeps_the_client_secret_readable_under_the_new_key_alone(
        app: Flask, client: FlaskClient, db: Session, oidc_provider: Provider,
        configure: Callable[..., None]) -> None:
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    configure(CREDENTIALS_KEYS=old)
    org = organisation(db, oidc_provider)
    configure(CREDENTIALS_KEYS=f"{new},{old}")  # the new key first: it seals, both open
    resealed = app.test_cli_runner().invoke(ops, ["reseal-credentials"])
    assert resealed.exit_code == 0 and "1 sign-on provider(s)" in resealed.output, resealed.output
    configure(CREDENTIALS_KEYS=new)  # the old key dropped
    db.refresh(org.row)
    assert sealing.unseal(get_settings(), org.row.client_secret) == org.client_secret
    login, _ = person(org)
    assert client.get("/api/v1/me", headers=signed_on(client, org, login)).status_code == 200
    configure(CREDENTIALS_KEYS=old)  # a key that no longer opens it
    with pytest.raises(sealing.Unreadable):
        sealing.unseal(get_settings(), org.row.client_secret)
    assert page_of(round_trip(client, org, login)) == ("sign-on/failed", {"reason": "provider"})
