"""Password sign-in turned off for a provider's domains (``workflows/accounts/enforcement.py``), through the API and
the command line: for an address there no password signs in (403 naming the provider) and none is set, by
registration, reset, change or invitation; other domains are not touched; an operator turns the rule off from a
shell, and disabling the provider turns it off too. The provider is a real one (Canaille), added as an admin adds
it."""

from __future__ import annotations

import secrets
import uuid

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from api.cli import ops
from infra.config import get_settings
from models import (
    AccountToken,
    AccountTokenPurpose,
    AuthEvent,
    AuthEventKind,
    IdentityProvider,
    ProgrammeInvitation,
    User,
    UserIdentity,
)
from tests.api_calls import sign_in
from tests.factories.accounts import PASSWORD, UserFactory, as_caller
from tests.factories.oidc_provider import Provider
from tests.factories.programmes import BASE, running_programme
from tests.factories.sign_on import document_server, organisation, page_of, person, round_trip
from workflows.accounts import emails as account_emails
from workflows.actors import Actor
from workflows.programmes.enrolment import token_of
from workflows.sign_on import providers

NEW_PASSWORD = "a longer passphrase nobody has seen"
RESET = "/api/v1/auth/password-reset"


def _at(domain: str) -> str:
    return f"p{secrets.token_hex(4)}@{domain}"


def _reset_links(db: Session, user_id: uuid.UUID) -> list[uuid.UUID]:
    return list(db.scalars(select(AccountToken.id).where(
        AccountToken.user_id == user_id, AccountToken.purpose == AccountTokenPurpose.RESET_PASSWORD)))


def _events(db: Session, kind: AuthEventKind) -> int:
    return db.scalar(select(func.count()).select_from(AuthEvent).where(AuthEvent.kind == kind)) or 0


def test_password_sign_in_and_registration_are_refused_at_the_providers_domains_only(
        client: FlaskClient, db: Session, oidc_provider: Provider) -> None:
    org = organisation(db, oidc_provider, password_sign_in_off=True)
    member, outsider = UserFactory(email=_at(org.domain)), UserFactory()
    refused = sign_in(client, member.email)
    assert refused.status_code == 403, refused.get_json()
    assert org.row.display_name in refused.get_json()["message"]
    assert refused.get_json()["errors"]["provider_id"] == str(org.id)
    assert sign_in(client, member.email.upper()).status_code == 403
    # Refused before any password is checked: no answer tells whether an old password is right.
    assert sign_in(client, member.email, "not the password at all").status_code == 403
    assert sign_in(client, _at(org.domain)).status_code == 403  # an address with no account alike
    assert sign_in(client, outsider.email).status_code == 200
    failed = db.scalar(select(func.count()).select_from(AuthEvent).where(
        AuthEvent.user_id == member.id, AuthEvent.kind == AuthEventKind.SIGN_IN_FAILED))
    assert failed == 3
    newcomer = _at(org.domain)
    registered = client.post("/api/v1/auth/register", json={
        "email": newcomer, "password": NEW_PASSWORD, "display_name": "New"})
    assert registered.status_code == 403, registered.get_json()
    assert registered.get_json()["errors"]["provider_id"] == str(org.id)
    assert db.scalar(select(User.id).where(User.email == newcomer)) is None
    elsewhere = client.post("/api/v1/auth/register", json={
        "email": _at("example.com"), "password": NEW_PASSWORD, "display_name": "Elsewhere"})
    assert elsewhere.status_code == 201, elsewhere.get_json()


def test_no_reset_link_is_sent_and_one_sent_before_the_rule_sets_no_password(
        client: FlaskClient, db: Session, oidc_provider: Provider) -> None:
    org = organisation(db, oidc_provider)  # passwords still on
    member, outsider = UserFactory(email=_at(org.domain)), UserFactory()
    assert client.post(RESET, json={"email": member.email}).status_code == 202
    (early,) = _reset_links(db, member.id)
    admin = as_caller(UserFactory(is_admin=True))
    turned = client.patch(f"/api/v1/admin/identity-providers/{org.id}", json={"password_sign_in_off": True},
                          headers=admin.headers)
    assert turned.status_code == 200, turned.get_json()
    asked, other = (client.post(RESET, json={"email": email}) for email in (member.email, outsider.email))
    assert (asked.status_code, asked.get_json()) == (other.status_code, other.get_json())  # the same answer
    assert _reset_links(db, member.id) == [early]  # but nothing new for the address
    assert len(_reset_links(db, outsider.id)) == 1
    before = member.password_hash
    confirmed = client.post(f"{RESET}/confirm", json={"token": account_emails._token(early),
                                                      "new_password": NEW_PASSWORD})
    assert confirmed.status_code == 403, confirmed.get_json()
    db.refresh(member)
    assert member.password_hash == before
    changed = client.post("/api/v1/me/password", headers=as_caller(member).headers,
                          json={"current_password": PASSWORD, "new_password": NEW_PASSWORD})
    assert changed.status_code == 403, changed.get_json()
    db.refresh(member)
    assert member.password_hash == before
    allowed = client.post("/api/v1/me/password", headers=as_caller(outsider).headers,
                          json={"current_password": PASSWORD, "new_password": NEW_PASSWORD})
    assert allowed.status_code == 200, allowed.get_json()


def test_registering_from_a_programme_invitation_is_refused_for_an_address_there(
        client: FlaskClient, db: Session, oidc_provider: Provider) -> None:
    org = organisation(db, oidc_provider, password_sign_in_off=True)
    coordinator, programme = running_programme(client)
    inside, outside = _at(org.domain), _at("example.com")
    invited = client.post(f"{BASE}/{programme['id']}/invitations", headers=coordinator.headers, json={
        "invitees": [{"email": inside, "role": "mentee"}, {"email": outside, "role": "mentee"}]})
    assert invited.status_code == 200 and invited.get_json()["errors"] == [], invited.get_json()
    tokens = {row.email: token_of("invitation", row.id) for row in db.scalars(
        select(ProgrammeInvitation).where(ProgrammeInvitation.programme_id == uuid.UUID(programme["id"])))}
    refused = client.post("/api/v1/programme-invitations/register", json={
        "token": tokens[inside], "password": NEW_PASSWORD})
    assert refused.status_code == 403, refused.get_json()
    assert refused.get_json()["errors"]["provider_id"] == str(org.id)
    assert db.scalar(select(User.id).where(User.email == inside)) is None
    registered = client.post("/api/v1/programme-invitations/register", json={
        "token": tokens[outside], "password": NEW_PASSWORD})
    assert registered.status_code == 201, registered.get_json()


def test_an_operator_turns_password_sign_in_back_on_from_the_command_line_and_it_is_recorded(
        app: Flask, client: FlaskClient, db: Session, oidc_provider: Provider) -> None:
    org = organisation(db, oidc_provider, password_sign_in_off=True)
    member = UserFactory(email=_at(org.domain))
    assert sign_in(client, member.email).status_code == 403
    runner = app.test_cli_runner()
    on = runner.invoke(ops, ["password-sign-in", str(org.id), "--on"])
    assert on.exit_code == 0, on.output
    assert "password sign-in is on" in on.output
    assert sign_in(client, member.email).status_code == 200
    assert _events(db, AuthEventKind.PROVIDER_CHANGED) == 1
    off = runner.invoke(ops, ["password-sign-in", str(org.id), "--off"])
    assert off.exit_code == 0, off.output
    assert sign_in(client, member.email).status_code == 403
    assert _events(db, AuthEventKind.PROVIDER_CHANGED) == 2
    unknown = runner.invoke(ops, ["password-sign-in", str(uuid.uuid4()), "--on"])
    assert unknown.exit_code != 0 and "provider not found" in unknown.output


def test_disabling_the_provider_turns_its_password_rule_off(
        app: Flask, client: FlaskClient, db: Session, oidc_provider: Provider) -> None:
    org = organisation(db, oidc_provider, password_sign_in_off=True)
    member = UserFactory(email=_at(org.domain))
    admin = as_caller(UserFactory(is_admin=True))
    disabled = client.post(f"/api/v1/admin/identity-providers/{org.id}/disable", json={"reason": "it is down"},
                           headers=admin.headers)
    assert disabled.status_code == 200, disabled.get_json()
    assert disabled.get_json()["password_sign_in_off"] is False
    assert sign_in(client, member.email).status_code == 200
    assert client.post(RESET, json={"email": member.email}).status_code == 202
    assert len(_reset_links(db, member.id)) == 1
    # A disabled provider cannot be made the only way in, from the shell or the admin routes.
    off = app.test_cli_runner().invoke(ops, ["password-sign-in", str(org.id), "--off"])
    assert off.exit_code != 0 and "enable it first" in off.output
    patched = client.patch(f"/api/v1/admin/identity-providers/{org.id}", json={"password_sign_in_off": True},
                           headers=admin.headers)
    assert patched.status_code == 409, patched.get_json()
    assert sign_in(client, member.email).status_code == 200


def _strict_provider(db: Session, domain: str) -> IdentityProvider:
    """Another organisation's provider owning ``domain``, passwords off there (only its discovery document is read:
    no one signs in through it here)."""
    admin = UserFactory(is_admin=True)
    with document_server() as server:
        server.documents["/.well-known/openid-configuration"] = server.discovery()
        return providers.add_provider(db, Actor(admin.id, is_admin=True), get_settings(), display_name="Strict Corp",
                                      issuer=server.url, client_id="strict", client_secret="strict secret",
                                      domains=[domain], password_sign_in_off=True)


def test_a_password_does_not_link_an_address_there_to_an_identity_at_another_provider(
        client: FlaskClient, db: Session, oidc_provider: Provider) -> None:
    elsewhere = organisation(db, oidc_provider)  # owns a domain of its own, not the holder's
    domain = f"strict-{secrets.token_hex(4)}.example"
    holder = UserFactory(email=_at(domain))
    login, _ = person(elsewhere, email=holder.email)
    # A ticket given while the holder's domain still took passwords, spent once the rule is on: refused.
    route, query = page_of(round_trip(client, elsewhere, login))
    assert route == "sign-on/link"
    strict = _strict_provider(db, domain)
    late = client.post("/api/v1/auth/sign-on/link", json={"ticket": query["ticket"], "password": PASSWORD})
    assert late.status_code == 403, late.get_json()
    assert late.get_json()["errors"]["provider_id"] == str(strict.id)
    # With the rule on, no password is asked for at all.
    assert page_of(round_trip(client, elsewhere, login)) == ("sign-on/failed", {"reason": "account"})
    assert db.scalars(select(UserIdentity.id).where(UserIdentity.user_id == holder.id)).all() == []
    # Nor does another provider make a new account there.
    newcomer_login, newcomer = person(elsewhere, email=_at(domain))
    assert page_of(round_trip(client, elsewhere, newcomer_login)) == ("sign-on/failed", {"reason": "account"})
    assert db.scalar(select(User.id).where(User.email == newcomer)) is None
