"""Sign-on an IT admin can debug, against the real provider the tests start (Canaille): a refused sign-in's audit
entry names its provider and the check that refused it, and the providers' list shows each one's last refusal; an
account a sign-in makes takes the browser's timezone and locale; a passwordless account is never told to change its
password; signing out at the provider carries the sign-in's ID token, kept only while the sign-in lives; and a
provider that does not own a domain another provider owns leads no one to the page linking an account there."""

from __future__ import annotations

import uuid
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

from flask.testing import FlaskClient
from joserfc import jws
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from infra import sealing
from infra.config import get_settings
from models import (
    AuthEvent,
    AuthEventKind,
    IdentityProvider,
    Notification,
    ProviderDomain,
    SignIn,
    SignOnAttempt,
    User,
    UserIdentity,
)
from tests.factories.accounts import UserFactory, as_caller
from tests.factories.oidc_provider import Provider
from tests.factories.sign_on import (
    PROVIDER_PASSWORD,
    access_token,
    callback_of,
    organisation,
    page_of,
    person,
    query_of,
    round_trip,
    signed_on,
    start,
)
from workflows.clock import utcnow
from workflows.sign_on import flow

PROVIDERS = "/api/v1/admin/identity-providers"


def _refusals(db: Session) -> list[tuple[object, str | None, str | None]]:
    return [(row.provider_id, row.reason, row.detail) for row in db.scalars(
        select(AuthEvent).where(AuthEvent.kind == AuthEventKind.SSO_REFUSED).order_by(AuthEvent.created_at))]


def test_a_refused_sign_in_names_its_provider_and_check_in_the_audit_and_the_providers_list(
        client: FlaskClient, db: Session, oidc_provider: Provider) -> None:
    org = organisation(db, oidc_provider)
    login, _email = person(org)
    # A callback naming another issuer (RFC 9207's iss): the check is the issuer.
    redirect = oidc_provider.log_in(start(client, org), login, PROVIDER_PASSWORD)
    mixed_up = {**query_of(redirect), "iss": "https://evil.example"}
    assert page_of(client.get(flow.CALLBACK_PATH, query_string=mixed_up)) == ("sign-on/failed", {"reason": "token"})
    # A sign-in finished after its ten minutes: expired.
    redirect = oidc_provider.log_in(start(client, org), login, PROVIDER_PASSWORD)
    db.execute(update(SignOnAttempt).where(SignOnAttempt.provider_id == org.id, SignOnAttempt.used_at.is_(None))
               .values(expires_at=utcnow() - timedelta(seconds=1)))
    assert page_of(client.get(callback_of(redirect))) == ("sign-on/failed", {"reason": "expired"})
    refusals = _refusals(db)
    assert [(provider, reason) for provider, reason, _ in refusals] == [(org.id, "iss"), (org.id, "expired")]
    assert all(detail for _, _, detail in refusals)
    admin = as_caller(UserFactory(is_admin=True))
    listed = client.get(PROVIDERS, headers=admin.headers)
    assert listed.status_code == 200, listed.get_json()
    (shown,) = [p for p in listed.get_json()["items"] if p["id"] == str(org.id)]
    assert shown["last_refusal"]["reason"] == "expired"
    assert shown["last_refusal"]["detail"] == refusals[-1][2]
    audit = client.get("/api/v1/admin/audit/auth-events", query_string={"kind": "sso_refused"},
                       headers=admin.headers).get_json()["items"]
    assert (audit[0]["provider_id"], audit[0]["reason"]) == (str(org.id), "expired")


def test_an_account_made_by_signing_on_takes_the_browser_s_timezone_and_locale_and_no_password_advice(
        client: FlaskClient, db: Session, oidc_provider: Provider) -> None:
    org = organisation(db, oidc_provider)
    login, _email = person(org)
    started = client.get(f"/api/v1/auth/sign-on/{org.id}/start",
                         query_string={"timezone": "Asia/Tokyo", "locale": "ja-JP"},
                         environ_base={"REMOTE_ADDR": "10.9.8.7"})
    assert started.status_code == 302, started.text
    redirect = oidc_provider.log_in(started.headers["Location"], login, PROVIDER_PASSWORD)
    assert page_of(client.get(callback_of(redirect)))[0] == "sign-on/done"
    me = client.get("/api/v1/me", headers={"Authorization": f"Bearer {access_token(client)}"}).get_json()
    assert (me["timezone"], me["locale"], me["has_password"]) == ("Asia/Tokyo", "ja-JP", False)
    # An account with no password is not told to change it (and reads it in Japanese, its locale).
    (told,) = db.scalars(select(Notification.message).where(Notification.user_id == me["id"]))
    assert told == "account.linked", told
    # A zone or tag that is none is dropped, never a failed start.
    odd = client.get(f"/api/v1/auth/sign-on/{org.id}/start", query_string={"timezone": "Mars/Olympus", "locale": "@@"},
                     environ_base={"REMOTE_ADDR": "10.9.8.6"})
    assert odd.status_code == 302 and odd.headers["Location"].startswith(oidc_provider.issuer)


def test_signing_out_at_the_provider_carries_the_id_token_only_while_the_sign_in_lives(
        client: FlaskClient, db: Session, oidc_provider: Provider) -> None:
    org = organisation(db, oidc_provider)
    login, _email = person(org)
    headers = signed_on(client, org, login)
    url = client.get("/api/v1/auth/sign-on/current", headers=headers).get_json()["end_session_url"]
    query = {name: values[0] for name, values in parse_qs(urlsplit(url).query).items()}
    hint = query["id_token_hint"]
    claims = jws.extract_compact(hint.encode()).payload
    assert login.encode() in claims and org.client_id.encode() in claims
    sign_in = db.scalars(select(SignIn).where(SignIn.provider_id == org.id)).one()
    assert sign_in.id_token == hint
    assert client.post("/api/v1/auth/logout", headers=headers).status_code in (200, 204)
    db.refresh(sign_in)
    assert sign_in.revoked_at is not None and sign_in.id_token is None


def test_a_provider_that_does_not_own_a_domain_leads_no_one_to_link_an_account_there(
        client: FlaskClient, db: Session, oidc_provider: Provider) -> None:
    # The address's organisation has a provider of its own (another issuer; nobody signs in through it here).
    owner = IdentityProvider(id=uuid.uuid4(), display_name="Owner Corp", issuer="https://login.owner.example",
                             client_id="mentorship", client_secret=sealing.seal(get_settings(), "a secret"))
    db.add(owner)
    db.flush()
    domain = f"owner-{uuid.uuid4().hex[:8]}.example"
    db.add(ProviderDomain(domain=domain, provider_id=owner.id))
    holder = UserFactory(email=f"holder@{domain}")
    other = organisation(db, oidc_provider)
    login, _ = person(other, email=holder.email)
    route, query = page_of(round_trip(client, other, login))
    assert (route, query) == ("sign-on/failed", {"reason": "account"})
    assert db.scalars(select(UserIdentity).where(UserIdentity.user_id == holder.id)).all() == []
    assert db.scalars(select(SignOnAttempt.link_ticket_hash).where(
        SignOnAttempt.provider_id == other.id, SignOnAttempt.link_ticket_hash.is_not(None))).all() == []
    assert _refusals(db)[-1][:2] == (other.id, "domain")
    assert db.get(User, holder.id) is not None


def test_a_provider_issuing_no_audience_is_refused_by_the_aud_check_and_the_console_says_so(
        client: FlaskClient, db: Session, oidc_provider: Provider) -> None:
    """Canaille, as docs/sign-on.md's registration steps had it (a client created, its audience never set), issues ID
    tokens naming no audience: each sign-in is refused, and the providers' list says which check refused it."""
    org = organisation(db, oidc_provider, audience=False)
    login, _email = person(org)
    assert page_of(round_trip(client, org, login)) == ("sign-on/failed", {"reason": "token"})
    admin = as_caller(UserFactory(is_admin=True))
    (shown,) = [p for p in client.get(PROVIDERS, headers=admin.headers).get_json()["items"] if p["id"] == str(org.id)]
    assert shown["last_refusal"]["reason"] == "aud", shown["last_refusal"]
