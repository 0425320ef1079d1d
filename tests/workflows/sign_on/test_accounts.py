"""Which account an identity at an organisation's provider signs in to (``workflows/sign_on/accounts.py``), against a
real provider (Canaille): a first sign-in makes an account, verified only where the provider owns the domain; an
existing account is linked at once only at an owned domain, else by its password; an identity once linked is the
account's for good, whatever the provider later says of the address; no other subject takes a linked account over."""

from __future__ import annotations

import secrets
import uuid
from datetime import timedelta

from flask.testing import FlaskClient
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from models import (
    AccountToken,
    AccountTokenPurpose,
    AuthEvent,
    AuthEventKind,
    Notification,
    SignIn,
    User,
    UserIdentity,
)
from tests.api_calls import bearer, sign_in, signed_in
from tests.database import notifications_read
from tests.factories.accounts import PASSWORD, UserFactory, as_caller
from tests.factories.oidc_provider import Provider
from tests.factories.sign_on import (
    organisation,
    page_of,
    person,
    round_trip,
    signed_on,
    verified,
)
from workflows.clock import utcnow
from workflows.sign_on import accounts
from workflows.sign_on.flow import Verified

LINK = "/api/v1/auth/sign-on/link"


def _elsewhere() -> str:
    """An address at a domain no provider owns."""
    return f"p{secrets.token_hex(4)}@elsewhere-{secrets.token_hex(4)}.example"


def _me(client: FlaskClient, headers: dict[str, str]) -> dict[str, object]:
    response = client.get("/api/v1/me", headers=headers)
    assert response.status_code == 200, response.get_json()
    me: dict[str, object] = response.get_json()
    return me


def _identities(db: Session, user_id: uuid.UUID | str) -> list[str]:
    """The subjects the account is linked to, at any provider."""
    return list(db.scalars(select(UserIdentity.subject).where(UserIdentity.user_id == uuid.UUID(str(user_id)))))


def _verification_links(db: Session, user_id: uuid.UUID | str) -> list[str]:
    return list(db.scalars(select(AccountToken.email).where(
        AccountToken.user_id == uuid.UUID(str(user_id)), AccountToken.purpose == AccountTokenPurpose.VERIFY_EMAIL)))


def _kinds(db: Session, user_id: uuid.UUID | str) -> list[AuthEventKind]:
    """The kinds of the account's audit events, sorted (events of one request share their time)."""
    return sorted(db.scalars(select(AuthEvent.kind).where(AuthEvent.user_id == uuid.UUID(str(user_id)))))


def test_a_first_sign_in_makes_an_account_verified_only_at_a_domain_the_provider_owns(
        client: FlaskClient, db: Session, oidc_provider: Provider) -> None:
    org = organisation(db, oidc_provider)
    owned_login, owned = person(org)
    other_login, other = person(org, email=_elsewhere())
    inside = _me(client, signed_on(client, org, owned_login))
    assert (inside["email"], inside["email_verified"], inside["has_password"]) == (owned, True, False)
    assert _verification_links(db, str(inside["id"])) == []
    outside = _me(client, signed_on(client, org, other_login))
    assert (outside["email"], outside["email_verified"], outside["has_password"]) == (other, False, False)
    assert _verification_links(db, str(outside["id"])) == [other]  # mailed, as at registration
    assert _identities(db, str(inside["id"])) == [owned_login]
    assert _identities(db, str(outside["id"])) == [other_login]


def test_an_address_the_provider_says_is_unverified_is_neither_trusted_nor_linked_at_once(
        db: Session, oidc_provider: Provider) -> None:
    org = organisation(db, oidc_provider)
    new_login, _new_address = person(org)
    holder = UserFactory(email=f"holder-{secrets.token_hex(4)}@{org.domain}")
    holder_login, _ = person(org, email=holder.email)
    # Canaille never sends email_verified: the claims of a real ID token, with that one claim added.
    real = verified(db, org, new_login)
    made = accounts.resolve(db, Verified(real.provider, {**real.claims, "email_verified": False}, real.attempt_id))
    assert isinstance(made, accounts.SignedOn) and made.created
    assert made.user.email_verified_at is None
    assert _verification_links(db, made.user.id) == [made.user.email]
    real = verified(db, org, holder_login)
    asked = accounts.resolve(db, Verified(real.provider, {**real.claims, "email_verified": False}, real.attempt_id))
    assert isinstance(asked, accounts.LinkNeeded)
    assert _identities(db, holder.id) == []
    # The same identity without the claim: the owned domain links it at once.
    assert isinstance(accounts.resolve(db, verified(db, org, holder_login)), accounts.SignedOn)
    assert _identities(db, holder.id) == [holder_login]


def test_an_account_at_a_domain_the_provider_owns_is_linked_at_once_and_its_owner_told(
        client: FlaskClient, db: Session, oidc_provider: Provider) -> None:
    org = organisation(db, oidc_provider)
    holder = UserFactory(email=f"ada-{secrets.token_hex(4)}@{org.domain}")
    login, _ = person(org, email=holder.email)
    me = _me(client, signed_on(client, org, login))
    assert (me["id"], me["has_password"]) == (str(holder.id), True)
    assert _identities(db, holder.id) == [login]
    told = [n.title for n in notifications_read(db, Notification.user_id == holder.id)]
    assert told == [f"Your account is now linked to {org.row.display_name}"]
    assert _kinds(db, holder.id) == sorted([AuthEventKind.ACCOUNT_LINKED, AuthEventKind.SIGNED_IN_SSO])


def test_an_unconfirmed_account_at_an_owned_domain_goes_to_the_provider_s_person_and_its_maker_is_shut_out(
        client: FlaskClient, db: Session, oidc_provider: Provider) -> None:
    org = organisation(db, oidc_provider)
    # Someone registered the address before its owner ever signed in, and never confirmed it.
    squatter = UserFactory(email=f"early-{secrets.token_hex(4)}@{org.domain}", email_verified_at=None)
    maker = bearer(signed_in(client, squatter.email))
    login, _ = person(org, email=squatter.email)
    me = _me(client, signed_on(client, org, login))
    assert (me["id"], me["email_verified"], me["has_password"]) == (str(squatter.id), True, False)
    assert client.get("/api/v1/me", headers=maker).status_code == 401  # the maker's sign-in ended
    assert sign_in(client, squatter.email).status_code == 401  # and their password is gone
    assert _identities(db, squatter.id) == [login]


def test_an_account_at_a_domain_the_provider_does_not_own_is_linked_only_with_its_password(
        client: FlaskClient, db: Session, oidc_provider: Provider) -> None:
    org = organisation(db, oidc_provider)
    holder = UserFactory(email=_elsewhere())
    login, _ = person(org, email=holder.email)
    route, query = page_of(round_trip(client, org, login))
    assert (route, query["provider"]) == ("sign-on/link", org.row.display_name)
    assert _identities(db, holder.id) == []
    wrong = client.post(LINK, json={"ticket": query["ticket"], "password": "not the password at all"})
    assert wrong.status_code == 401, wrong.get_json()
    spent = client.post(LINK, json={"ticket": query["ticket"], "password": PASSWORD})
    assert spent.status_code == 422, spent.get_json()  # any answer spends the ticket
    assert _identities(db, holder.id) == []
    route, query = page_of(round_trip(client, org, login))
    assert route == "sign-on/link"
    linked = client.post(LINK, json={"ticket": query["ticket"], "password": PASSWORD})
    assert linked.status_code == 200, linked.get_json()
    headers = {"Authorization": f"Bearer {linked.get_json()['access_token']}"}
    assert _me(client, headers)["id"] == str(holder.id)
    current = client.get("/api/v1/auth/sign-on/current", headers=headers).get_json()
    assert current["provider_id"] == str(org.id)
    assert _identities(db, holder.id) == [login]
    assert _kinds(db, holder.id) == sorted([AuthEventKind.SIGN_IN_FAILED, AuthEventKind.ACCOUNT_LINKED,
                                            AuthEventKind.SIGNED_IN_SSO])
    # Linked now: the next sign-in needs no password.
    assert _me(client, signed_on(client, org, login))["id"] == str(holder.id)


def test_another_subject_with_the_address_of_an_account_linked_at_the_provider_is_refused(
        client: FlaskClient, db: Session, oidc_provider: Provider) -> None:
    org = organisation(db, oidc_provider)
    first_login, address = person(org)
    account = _me(client, signed_on(client, org, first_login))
    oidc_provider.change_user(first_login, email=f"moved-{secrets.token_hex(4)}@{org.domain}")
    second_login, _ = person(org, email=address)  # the provider gives the old address to someone else
    assert page_of(round_trip(client, org, second_login)) == ("sign-on/failed", {"reason": "account"})
    assert _identities(db, str(account["id"])) == [first_login]
    assert db.scalar(select(func.count()).select_from(UserIdentity).where(UserIdentity.subject == second_login)) == 0
    assert db.scalar(select(func.count()).select_from(User).where(User.email == address)) == 1
    refused = db.scalars(select(AuthEvent.kind).where(AuthEvent.kind == AuthEventKind.SSO_REFUSED)).all()
    assert len(refused) == 1
    # The first identity still signs in to its account.
    assert _me(client, signed_on(client, org, first_login))["id"] == account["id"]


def test_a_changed_email_at_the_provider_still_signs_in_to_the_original_account(
        client: FlaskClient, db: Session, oidc_provider: Provider) -> None:
    org = organisation(db, oidc_provider)
    login, address = person(org)
    original = _me(client, signed_on(client, org, login))
    other = UserFactory(email=f"other-{secrets.token_hex(4)}@{org.domain}")
    oidc_provider.change_user(login, email=other.email)
    again = _me(client, signed_on(client, org, login))
    assert (again["id"], again["email"]) == (original["id"], address)
    assert _identities(db, other.id) == []
    identity = db.scalars(select(UserIdentity).where(UserIdentity.subject == login)).one()
    assert (identity.user_id, identity.email) == (uuid.UUID(str(original["id"])), other.email)  # as last seen
    assert db.scalar(select(func.count()).select_from(Notification).where(Notification.user_id == other.id)) == 0


def test_a_disabled_account_cannot_sign_in_through_the_provider(
        client: FlaskClient, db: Session, oidc_provider: Provider) -> None:
    org = organisation(db, oidc_provider)
    login, _ = person(org)
    account = _me(client, signed_on(client, org, login))
    disabled = client.post(f"/api/v1/admin/users/{account['id']}/disable", json={"reason": "abuse"},
                           headers=as_caller(UserFactory(is_admin=True)).headers)
    assert disabled.status_code == 200, disabled.get_json()
    assert page_of(round_trip(client, org, login)) == ("sign-on/failed", {"reason": "account-disabled"})
    assert client.post("/api/v1/auth/refresh", json={}, headers={"Origin": "http://localhost"}).status_code != 200
    assert _kinds(db, str(account["id"])).count(AuthEventKind.SSO_REFUSED) == 1
    live = db.scalar(select(func.count()).select_from(SignIn).where(
        SignIn.user_id == uuid.UUID(str(account["id"])), SignIn.revoked_at.is_(None)))
    assert live == 0
    # A disabled account the provider's address matches is not linked either.
    holder = UserFactory(email=f"off-{secrets.token_hex(4)}@{org.domain}", disabled_at=utcnow())
    holder_login, _ = person(org, email=holder.email)
    assert page_of(round_trip(client, org, holder_login)) == ("sign-on/failed", {"reason": "account-disabled"})
    assert _identities(db, holder.id) == []
    assert db.scalar(select(func.count()).select_from(Notification).where(Notification.user_id == holder.id)) == 0


def test_an_account_deleted_right_after_signing_on_loses_its_identity_and_a_new_sign_in_makes_a_new_account(
        client: FlaskClient, db: Session, oidc_provider: Provider) -> None:
    org = organisation(db, oidc_provider)
    login, address = person(org)
    headers = signed_on(client, org, login)
    former = _me(client, headers)
    deleted = client.delete("/api/v1/me", json={}, headers=headers)
    assert deleted.status_code == 204, deleted.get_json()
    assert _identities(db, str(former["id"])) == []
    again = _me(client, signed_on(client, org, login))
    assert again["id"] != former["id"]
    assert (again["email"], again["email_verified"]) == (address, True)
    assert _identities(db, str(again["id"])) == [login]


def test_an_account_with_no_password_deletes_itself_only_within_15_minutes_of_signing_on(
        client: FlaskClient, db: Session, oidc_provider: Provider) -> None:
    org = organisation(db, oidc_provider)
    login, _ = person(org)
    headers = signed_on(client, org, login)
    user_id = uuid.UUID(str(_me(client, headers)["id"]))
    started = SignIn.user_id == user_id
    db.execute(update(SignIn).where(started).values(created_at=utcnow() - timedelta(minutes=16)))
    refused = client.delete("/api/v1/me", json={}, headers=headers)
    assert refused.status_code == 403, refused.get_json()
    assert "sign in with your organisation again" in refused.get_json()["message"]
    user = db.get(User, user_id, populate_existing=True)
    assert user is not None and user.deleted_at is None
    assert _identities(db, user_id) == [login]
    db.execute(update(SignIn).where(started).values(created_at=utcnow() - timedelta(minutes=14)))
    assert client.delete("/api/v1/me", json={}, headers=headers).status_code == 204
    assert _identities(db, user_id) == []
