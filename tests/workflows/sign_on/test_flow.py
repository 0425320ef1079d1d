"""The sign-in at an organisation's provider at the workflow level (``workflows/sign_on/flow.py``), against a real
provider (Canaille, started by the tests): a whole sign-in, and each way the callback or the ID token is refused.

The tokens attacked are real ones Canaille issued (to this service's client, or to another client of the same
provider), or ones an attacker signs with a key of its own: each would be taken if the check it meets were gone,
save the unsigned and secret-signed ones, which joserfc's list of allowed algorithms refuses again behind the check.
"""

from __future__ import annotations

import base64
import json
import secrets
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from joserfc import jwt
from joserfc.jwk import OctKey, RSAKey
from sqlalchemy.orm import Session

from infra.config import Settings, get_settings
from tests.factories.oidc_provider import Provider
from tests.factories.sign_on import (
    PROVIDER_PASSWORD,
    IssuedToken,
    Organisation,
    issued_id_token,
    organisation,
    query_of,
    register_client,
)
from workflows.actors import Actor
from workflows.clock import utcnow
from workflows.sign_on import discovery, flow, providers
from workflows.sign_on.flow import SignOnFailed


@pytest.fixture
def org(db: Session, oidc_provider: Provider) -> Organisation:
    return organisation(db, oidc_provider)


@pytest.fixture
def settings() -> Settings:
    return get_settings()


@pytest.fixture(scope="module")
def login(oidc_provider: Provider) -> str:
    """A person at the provider, who signs in in this module's tests."""
    name = f"p{secrets.token_hex(5)}"
    oidc_provider.add_user(name, PROVIDER_PASSWORD, f"{name}@example.com", "Grace", "Hopper")
    return name


def refused(settings: Settings, org: Organisation, id_token: str, *, nonce: str,
            now: datetime | None = None) -> SignOnFailed:
    """What verifying ``id_token`` for ``org`` raised (it must raise)."""
    with pytest.raises(SignOnFailed) as failed:
        flow.verify_id_token(settings, org.row, id_token, nonce=nonce, now=now or utcnow())
    return failed.value


def at(timestamp: float) -> datetime:
    return datetime.fromtimestamp(timestamp, UTC)


def published_kid(provider: Provider) -> str:
    (key,) = provider.jwks()["keys"]
    return str(key["kid"])


def claims_for(org: Organisation, nonce: str) -> dict[str, Any]:
    """What a token the provider issued to ``org``'s client would say, issued now."""
    now = int(time.time())
    return {"iss": org.provider.issuer, "aud": [org.client_id], "sub": "victim", "nonce": nonce, "iat": now,
            "exp": now + 600, "email": "victim@example.com"}


def unsigned(header: dict[str, Any], claims: dict[str, Any]) -> str:
    """A compact JWS with no signature (``alg: none``), written by hand: no library signs one."""
    def part(value: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(json.dumps(value).encode()).rstrip(b"=").decode()

    return f"{part(header)}.{part(claims)}."


def test_a_token_the_provider_issued_to_another_client_is_refused_even_naming_ours_too(
        settings: Settings, org: Organisation, login: str) -> None:
    other_id, other_secret = register_client(org.provider)
    theirs = issued_id_token(org.provider, other_id, other_secret, login)
    assert theirs.claims["aud"] == [other_id] and theirs.claims["iss"] == org.provider.issuer
    failure = refused(settings, org, theirs.id_token, nonce=theirs.nonce)
    assert (failure.reason, failure.provider_id) == ("token", org.id)
    assert "'aud'" in failure.detail and failure.check == "aud", failure.detail
    # Its admin adds this service's client to its tokens' audiences: they are still not for us (no azp says so).
    org.provider.canaille("set", "client", other_id, "--audience", other_id, "--audience", org.client_id)
    shared = issued_id_token(org.provider, other_id, other_secret, login)
    assert shared.claims["aud"] == [other_id, org.client_id] and "azp" not in shared.claims
    azp = refused(settings, org, shared.id_token, nonce=shared.nonce)
    assert "(azp)" in azp.detail and azp.check == "azp"
    ours = issued_id_token(org.provider, org.client_id, org.client_secret, login)
    claims = flow.verify_id_token(settings, org.row, ours.id_token, nonce=ours.nonce, now=utcnow())
    assert claims["sub"] == login


@pytest.fixture
def issued(org: Organisation, login: str) -> IssuedToken:
    """A real ID token the provider issued to ``org``'s client."""
    return issued_id_token(org.provider, org.client_id, org.client_secret, login)


def test_a_real_token_is_refused_once_expired_or_issued_over_ten_minutes_ago(
        settings: Settings, org: Organisation, issued: IssuedToken) -> None:
    iat, exp = issued.claims["iat"], issued.claims["exp"]
    assert exp - iat == 3600  # Canaille's ID tokens live an hour: longer than this service takes one for
    verify = flow.verify_id_token
    assert verify(settings, org.row, issued.id_token, nonce=issued.nonce, now=at(iat + 600))["iat"] == iat
    too_old = refused(settings, org, issued.id_token, nonce=issued.nonce, now=at(iat + 12 * 60))
    assert (too_old.reason, too_old.detail, too_old.check) == ("token", "the ID token was issued too long ago", "iat")
    expired = refused(settings, org, issued.id_token, nonce=issued.nonce, now=at(iat + 2 * 3600))
    assert expired.reason == "token" and "ExpiredTokenError" in expired.detail, expired.detail
    assert expired.check == "exp"


def test_a_real_token_asked_for_with_another_nonce_is_refused(
        settings: Settings, org: Organisation, issued: IssuedToken) -> None:
    failure = refused(settings, org, issued.id_token, nonce=secrets.token_urlsafe(16))
    assert failure.reason == "token" and "'nonce'" in failure.detail, failure.detail
    assert failure.check == "nonce"
    assert flow.verify_id_token(settings, org.row, issued.id_token, nonce=issued.nonce, now=utcnow())


def test_a_key_id_the_provider_does_not_publish_has_its_keys_fetched_again_at_most_once_a_while(
        monkeypatch: pytest.MonkeyPatch, settings: Settings, org: Organisation) -> None:
    monkeypatch.setattr(discovery, "REFRESH_SECONDS", 1.5)
    client = discovery.client_for(settings, private_network=False)
    kid, issuer = published_kid(org.provider), org.provider.issuer
    kept = discovery.keys(client, org.id, issuer, kid=kid)
    time.sleep(1.6)  # the last fetch is older than REFRESH_SECONDS
    attacker = RSAKey.generate_key(2048, private=True)
    nonce = secrets.token_urlsafe(16)
    forged = jwt.encode({"alg": "RS256", "kid": "rotated-in"}, claims_for(org, nonce), attacker)
    failure = refused(settings, org, forged, nonce=nonce)
    assert failure.reason == "token" and "does not publish" in failure.detail, failure.detail
    assert failure.check == "key"
    fetched_again = discovery.keys(client, org.id, issuer, kid=kid)
    assert fetched_again is not kept  # the unknown key id had the provider's keys fetched again
    forged_again = jwt.encode({"alg": "RS256", "kid": "rotated-in-too"}, claims_for(org, nonce), attacker)
    assert "does not publish" in refused(settings, org, forged_again, nonce=nonce).detail
    assert discovery.keys(client, org.id, issuer, kid=kid) is fetched_again  # not within REFRESH_SECONDS


def test_a_token_naming_the_providers_key_but_signed_with_another_is_refused(
        settings: Settings, org: Organisation) -> None:
    attacker = RSAKey.generate_key(2048, private=True)
    nonce = secrets.token_urlsafe(16)
    forged = jwt.encode({"alg": "RS256", "kid": published_kid(org.provider)}, claims_for(org, nonce), attacker)
    failure = refused(settings, org, forged, nonce=nonce)
    assert failure.reason == "token" and "BadSignatureError" in failure.detail, failure.detail
    assert failure.check == "signature"


def test_unsigned_and_client_secret_signed_tokens_are_refused(settings: Settings, org: Organisation) -> None:
    assert "none" in org.provider.discovery["id_token_signing_alg_values_supported"]  # Canaille announces it
    nonce, kid = secrets.token_urlsafe(16), published_kid(org.provider)
    none = unsigned({"alg": "none", "kid": kid}, claims_for(org, nonce))
    secret = OctKey.import_key(org.client_secret)
    hs256 = jwt.encode({"alg": "HS256", "kid": kid}, claims_for(org, nonce), secret)
    for token, alg in ((none, "none"), (hs256, "HS256")):
        failure = refused(settings, org, token, nonce=nonce)
        assert (failure.reason, failure.check) == ("token", "algorithm"), failure.detail
        assert failure.detail == (f"the ID token is signed with {alg!r}, not an algorithm the provider announced")


def test_a_sign_in_started_and_finished_gives_the_identity_once(
        db: Session, settings: Settings, org: Organisation, login: str) -> None:
    browser = secrets.token_urlsafe(32)
    url = flow.start(db, settings, org.id, browser_secret=browser)
    answer = query_of(org.provider.log_in(url, login, PROVIDER_PASSWORD))
    verified = flow.finish(db, settings, state=answer["state"], code=answer["code"], error=None,
                           browser_secret=browser, issuer=answer["iss"])
    assert (verified.provider.id, verified.subject, verified.claims["email"]) == (
        org.id, login, f"{login}@example.com")
    with pytest.raises(SignOnFailed) as again:
        flow.finish(db, settings, state=answer["state"], code=answer["code"], error=None, browser_secret=browser)
    assert again.value.reason == "state"


def test_a_callback_in_another_browser_is_refused_and_leaves_the_attempt_to_its_own(
        db: Session, settings: Settings, org: Organisation, login: str) -> None:
    browser = secrets.token_urlsafe(32)
    answer = query_of(org.provider.log_in(flow.start(db, settings, org.id, browser_secret=browser), login,
                                          PROVIDER_PASSWORD))
    for elsewhere in (secrets.token_urlsafe(32), None):  # a leaked callback address, opened in another browser
        with pytest.raises(SignOnFailed) as failed:
            flow.finish(db, settings, state=answer["state"], code=answer["code"], error=None,
                        browser_secret=elsewhere)
        assert failed.value.reason == "state"
    verified = flow.finish(db, settings, state=answer["state"], code=answer["code"], error=None,
                           browser_secret=browser)
    assert verified.subject == login


def test_a_callback_naming_another_issuer_is_refused(
        db: Session, settings: Settings, org: Organisation, login: str) -> None:
    browser = secrets.token_urlsafe(32)
    answer = query_of(org.provider.log_in(flow.start(db, settings, org.id, browser_secret=browser), login,
                                          PROVIDER_PASSWORD))
    assert answer["iss"] == org.provider.issuer  # Canaille says who answers (RFC 9207)
    with pytest.raises(SignOnFailed) as failed:  # a mix-up: the answer of another provider the person uses
        flow.finish(db, settings, state=answer["state"], code=answer["code"], error=None, browser_secret=browser,
                    issuer="https://idp.example.com")
    assert (failed.value.reason, failed.value.provider_id) == ("token", org.id)
    assert "another issuer" in failed.value.detail and failed.value.check == "iss"


def test_a_sign_in_refused_at_the_provider_ends_as_denied(
        db: Session, settings: Settings, oidc_provider: Provider, login: str) -> None:
    org = organisation(db, oidc_provider, trusted=False)  # its consent page can be answered "no"
    browser = secrets.token_urlsafe(32)
    answer = query_of(oidc_provider.deny(flow.start(db, settings, org.id, browser_secret=browser), login,
                                         PROVIDER_PASSWORD))
    assert answer["error"] == "access_denied" and "code" not in answer
    with pytest.raises(SignOnFailed) as denied:
        flow.finish(db, settings, state=answer["state"], code=None, error=answer["error"], browser_secret=browser)
    assert (denied.value.reason, denied.value.provider_id) == ("denied", org.id)
    state = query_of(flow.start(db, settings, org.id, browser_secret=browser))["state"]
    with pytest.raises(SignOnFailed) as cancelled:
        flow.finish(db, settings, state=state, code=None, error="access_denied", browser_secret=browser)
    assert cancelled.value.reason == "denied"


def test_an_attempt_older_than_ten_minutes_is_expired(
        db: Session, settings: Settings, org: Organisation, login: str) -> None:
    browser = secrets.token_urlsafe(32)
    started = utcnow() - flow.ATTEMPT_TTL - timedelta(seconds=5)
    url = flow.start(db, settings, org.id, browser_secret=browser, now=started)
    answer = query_of(org.provider.log_in(url, login, PROVIDER_PASSWORD))
    with pytest.raises(SignOnFailed) as failed:
        flow.finish(db, settings, state=answer["state"], code=answer["code"], error=None, browser_secret=browser)
    assert (failed.value.reason, failed.value.provider_id, failed.value.check) == ("expired", org.id, "expired")


def test_a_disabled_provider_neither_starts_nor_finishes_a_sign_in(
        db: Session, settings: Settings, org: Organisation, login: str) -> None:
    browser = secrets.token_urlsafe(32)
    answer = query_of(org.provider.log_in(flow.start(db, settings, org.id, browser_secret=browser), login,
                                          PROVIDER_PASSWORD))
    assert org.row.created_by is not None
    admin = Actor(user_id=org.row.created_by, is_admin=True)  # the admin who added it
    providers.disable_provider(db, admin, org.id, reason="moving providers")
    with pytest.raises(SignOnFailed) as finishing:
        flow.finish(db, settings, state=answer["state"], code=answer["code"], error=None, browser_secret=browser)
    assert (finishing.value.reason, finishing.value.provider_id) == ("disabled", org.id)
    with pytest.raises(SignOnFailed) as starting:
        flow.start(db, settings, org.id, browser_secret=browser)
    assert starting.value.reason == "disabled"
