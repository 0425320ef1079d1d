"""A sign-in at an organisation's SAML 2.0 identity provider: SP-initiated Web SSO, by the book, with pysaml2 doing
the XML and the cryptography (it calls Debian's ``xmlsec1``; this module checks no signature by hand).

:func:`start` records the attempt as an OpenID sign-in does (its ``RelayState`` kept as a SHA-256, the AuthnRequest's
id as the ``nonce``, a SHA-256 of the secret the browser keeps in a cookie) and builds the signed AuthnRequest, sent by
HTTP-Redirect when the IdP offers it, else by HTTP-POST. :func:`finish`, at the assertion consumer service, refuses a
response larger than ``MAX_RESPONSE_BYTES`` or carrying a DTD, an entity or a comment before any parsing; spends the
attempt its ``RelayState`` names (once, in its own browser); then has pysaml2 verify it: signed by a key the IdP's
metadata publishes (the response, the assertion, or both), its conditions within ``SKEW_SECONDS``; and checks itself
what pysaml2 leaves unchecked in some cases (an encrypted assertion, an element left out): the Issuer is the IdP's,
the destination and every bearer confirmation's recipient this service's address, the audience this service, and
``InResponseTo``, on the response and on each confirmation, the request this attempt made. A response is base64 of
XML (never inflated), a redirected message inflates to ``MAX_RESPONSE_BYTES`` at most.
An encrypted assertion is decrypted with the SP's key. An assertion taken once is refused again (a replay), and an
unsolicited one (IdP-initiated) unless the provider allows it. The identity is the IdP's entity id and the NameID
(a transient NameID, new at every sign-in, is refused); the email, name and groups come from the attributes the
provider's map names. Whatever fails ends in :class:`~workflows.sign_on.flow.SignOnFailed`.

The SP is one per provider: its entity id is its metadata's address
(``{PUBLIC_URL}/api/v1/auth/sign-on/saml/{provider}/metadata``); its key pair is made when the provider is added, the
private key sealed under ``CREDENTIALS_KEYS``. pysaml2 reads keys from files: each use writes them to a private
temporary folder, removed at once.
"""

from __future__ import annotations

import base64
import binascii
import os
import re
import secrets
import shutil
import tempfile
import uuid
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import structlog
from sqlalchemy import update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from infra import sealing
from infra.config import Settings
from models import IdentityProvider, Protocol, SamlAssertionSeen, SignOnAttempt
from models.sign_on import MAX_ASSERTION_ID, MAX_SUBJECT
from workflows.accounts.sign_ins import digest
from workflows.clock import utcnow
from workflows.sign_on.flow import ATTEMPT_TTL, SignOnFailed, Verified, enabled_provider
from workflows.sign_on.saml_claims import claims_of, logout_key
from workflows.sign_on.saml_providers import (
    POST,
    REDIRECT,
    acs_url,
    read_metadata,
    sls_url,
    sp_entity_id,
    unavailable,
)

if TYPE_CHECKING:
    from saml2.client import Saml2Client

log = structlog.get_logger(__name__)

SKEW_SECONDS = 60  # clocks of the IdP and the service may differ this much
MAX_RESPONSE_BYTES = 256 * 1024  # a SAMLResponse, decoded
PERSISTENT = "urn:oasis:names:tc:SAML:2.0:nameid-format:persistent"
TRANSIENT = "urn:oasis:names:tc:SAML:2.0:nameid-format:transient"
BEARER = "urn:oasis:names:tc:SAML:2.0:cm:bearer"
MAX_ASSERTION_LIFE = timedelta(days=1)
RSA_SHA256 = "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"
SHA256 = "http://www.w3.org/2001/04/xmlenc#sha256"
# Before any parsing: a DTD (entities, their expansion) and comments (which split a NameID's text) are never sent by
# an IdP.
_HOSTILE = re.compile(rb"<!(DOCTYPE|ENTITY|--)", re.IGNORECASE)


@contextmanager
def client_for(settings: Settings, provider: IdentityProvider, *, unsolicited: bool = False) -> Iterator[Saml2Client]:
    """pysaml2's client for this provider's SP, its key written to a private folder for as long as it is used;
    ``unsolicited`` for a response no attempt of this browser waits for (an IdP-initiated sign-in the provider
    allows): only then is one without ``InResponseTo`` taken."""
    from saml2 import BINDING_HTTP_POST, BINDING_HTTP_REDIRECT  # noqa: PLC0415
    from saml2.client import Saml2Client  # noqa: PLC0415
    from saml2.config import SPConfig  # noqa: PLC0415

    if (missing := unavailable()) is not None:
        raise SignOnFailed("provider", missing, provider.id, check="xmlsec1")
    assert provider.saml_metadata is not None
    assert provider.sp_certificate is not None
    with tempfile.TemporaryDirectory(prefix="saml-") as folder:
        key_file, cert_file = Path(folder) / "sp.key", Path(folder) / "sp.crt"
        descriptor = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "w") as key:
            try:
                key.write(sealing.unseal(settings, provider.client_secret))
            except sealing.Unreadable:
                raise SignOnFailed("provider", "the SP's key is sealed under a key no longer configured",
                                   provider.id, check="key") from None
        cert_file.write_text(provider.sp_certificate)
        config = SPConfig()
        config.load({
            "entityid": sp_entity_id(settings, provider.id),
            "xmlsec_binary": shutil.which("xmlsec1"),
            "metadata": {"inline": [provider.saml_metadata]},
            "key_file": str(key_file), "cert_file": str(cert_file),
            "encryption_keypairs": [{"key_file": str(key_file), "cert_file": str(cert_file)}],
            "accepted_time_diff": SKEW_SECONDS,
            "allow_unknown_attributes": True,
            "service": {"sp": {
                "endpoints": {
                    "assertion_consumer_service": [(acs_url(settings, provider.id), BINDING_HTTP_POST)],
                    "single_logout_service": [(sls_url(settings, provider.id), BINDING_HTTP_REDIRECT)],
                },
                "allow_unsolicited": unsolicited,
                "authn_requests_signed": True,
                "logout_requests_signed": True,
                "want_response_signed": False,
                "want_assertions_signed": False,
                "want_assertions_or_response_signed": True,
                "name_id_format": [PERSISTENT],
                "name_id_format_allow_create": True,
                "signing_algorithm": RSA_SHA256,
                "digest_algorithm": SHA256,
            }},
        })
        client = Saml2Client(config=config)
        client.unravel = _unravel
        yield client


def _unravel(text: str | bytes, binding: str, _kind: str | None = None) -> bytes:
    """A message out of its binding, bounded: HTTP-POST carries base64 (pysaml2 would try inflating it first, without
    a bound); HTTP-Redirect carries deflate, inflated here to ``MAX_RESPONSE_BYTES`` at most."""
    from saml2.s_utils import UnravelError  # noqa: PLC0415

    try:
        raw = base64.b64decode(text)
        if binding == POST:
            return raw
        inflating = zlib.decompressobj(-15)
        xml = inflating.decompress(raw, MAX_RESPONSE_BYTES)
    except (binascii.Error, ValueError, zlib.error):
        raise UnravelError("the message is not base64, or not deflate") from None
    if inflating.unconsumed_tail:
        raise UnravelError(f"the message inflates past {MAX_RESPONSE_BYTES // 1024} KiB")
    return xml


def sp_metadata(db: Session, settings: Settings, provider_id: uuid.UUID) -> str | None:
    """This service's SP metadata for the provider, to register at its IdP (public by design): its entity id,
    assertion consumer service (HTTP-POST), single logout service (HTTP-Redirect) and certificate (for signing and
    encryption); ``None`` for an unknown provider or an OpenID one, or where SAML is off."""
    from saml2.metadata import create_metadata_string  # noqa: PLC0415

    provider = db.get(IdentityProvider, provider_id)
    if provider is None or provider.protocol is not Protocol.SAML or unavailable() is not None:
        return None
    with client_for(settings, provider) as client:
        return str(create_metadata_string(None, config=client.config).decode())


@dataclass(frozen=True)
class Outgoing:
    """Where the browser goes with the AuthnRequest: a redirect (``location``), or a form posted to ``action``."""

    location: str | None = None
    action: str | None = None
    fields: dict[str, str] | None = None


def _saml_provider(db: Session, provider_id: uuid.UUID) -> IdentityProvider:
    provider = enabled_provider(db, provider_id)
    if provider.protocol is not Protocol.SAML:
        raise SignOnFailed("disabled", "the provider is not a SAML provider", provider.id)
    return provider


def start(db: Session, settings: Settings, provider_id: uuid.UUID, *, browser_secret: str,
          timezone: str | None = None, locale: str | None = None, now: datetime | None = None) -> Outgoing:
    """Record the attempt and build its AuthnRequest (signed; a persistent NameID asked for)."""
    now = now or utcnow()
    provider = _saml_provider(db, provider_id)
    assert provider.saml_metadata is not None
    idp = read_metadata(provider.saml_metadata)
    relay_state = secrets.token_urlsafe(32)
    with client_for(settings, provider) as client:
        if REDIRECT in idp.sso:
            request_id, info = client.prepare_for_authenticate(
                entityid=idp.entity_id, relay_state=relay_state, binding=REDIRECT, nameid_format=PERSISTENT,
                sigalg=RSA_SHA256, digest_alg=SHA256)
            outgoing = Outgoing(location=dict(info["headers"])["Location"])
        else:
            request_id, request = client.create_authn_request(
                idp.sso[POST], binding=POST, nameid_format=PERSISTENT, sign=True, sign_alg=RSA_SHA256,
                digest_alg=SHA256)
            outgoing = Outgoing(action=idp.sso[POST], fields={
                "SAMLRequest": base64.b64encode(str(request).encode()).decode(), "RelayState": relay_state})
    db.add(SignOnAttempt(id=uuid.uuid4(), provider_id=provider.id, state_hash=digest(relay_state),
                         browser_hash=digest(browser_secret), nonce=str(request_id)[:64], code_verifier="",
                         expires_at=now + ATTEMPT_TTL, timezone=timezone, locale=locale))
    db.flush()
    log.info("sign_on.saml_started", provider_id=str(provider.id))
    return outgoing


def _decoded(provider_id: uuid.UUID, saml_response: str) -> bytes:
    """The response's XML, refused before any parsing when it is too large or carries a DTD, an entity or a
    comment."""
    try:
        xml = base64.b64decode(saml_response, validate=False)
    except (binascii.Error, ValueError):
        raise SignOnFailed("token", "the SAMLResponse is not base64", provider_id, check="encoding") from None
    if len(xml) > MAX_RESPONSE_BYTES:
        raise SignOnFailed("token", f"the SAMLResponse is larger than {MAX_RESPONSE_BYTES // 1024} KiB", provider_id,
                           check="size")
    if not xml.lstrip(b" \t\r\n").removeprefix(b"\xef\xbb\xbf").startswith(b"<"):
        raise SignOnFailed("token", "the SAMLResponse is not XML (compressed, or something else)", provider_id,
                           check="encoding")
    if (hostile := _HOSTILE.search(xml)) is not None:
        found = "a comment" if hostile.group(1) == b"--" else "a DTD or an entity"
        raise SignOnFailed("token", f"the SAMLResponse carries {found}", provider_id,
                           check="comment" if hostile.group(1) == b"--" else "dtd")
    return xml


def _spend(db: Session, provider_id: uuid.UUID, relay_state: str, browser_secret: str | None,
           now: datetime) -> SignOnAttempt:
    attempt = db.scalar(update(SignOnAttempt).where(
        SignOnAttempt.state_hash == digest(relay_state), SignOnAttempt.provider_id == provider_id,
        SignOnAttempt.used_at.is_(None), SignOnAttempt.browser_hash == digest(browser_secret or ""),
    ).values(used_at=now).returning(SignOnAttempt))
    if not isinstance(attempt, SignOnAttempt):  # anyone may post anything: logged, not in the provider's trail
        raise SignOnFailed("state", "no attempt of this browser waits with this RelayState")
    if attempt.expires_at <= now:
        raise SignOnFailed("expired", "the attempt expired", provider_id)
    return attempt


_CHECKS = (("signature", "signature"), ("signed", "signature"), ("audience", "aud"), ("destination", "destination"),
           ("unsolicited", "unsolicited"), ("inresponseto", "in_response_to"), ("in_response_to", "in_response_to"),
           ("too early", "not_before"), ("toearly", "not_before"), ("lifetime", "not_on_or_after"),
           ("not_on_or_after", "not_on_or_after"), ("decrypt", "decrypt"), ("status", "status"),
           ("recipient", "recipient"), ("issuer", "iss"), ("assertion", "assertion"))


def _check_of(exc: Exception) -> str:
    """The check a pysaml2 refusal names, for the admin's trail."""
    said = f"{type(exc).__name__} {exc}".lower()
    return next((check for word, check in _CHECKS if word in said), "token")


@dataclass(frozen=True)
class Finished:
    """A verified identity; ``browser_secret`` set when an IdP-initiated sign-in made its own attempt (its cookie)."""

    verified: Verified
    browser_secret: str | None = None


def finish(db: Session, settings: Settings, provider_id: uuid.UUID, *, saml_response: str, relay_state: str | None,
           browser_secret: str | None, now: datetime | None = None) -> Finished:
    """Verify what the IdP posted to the assertion consumer service, and spend its attempt."""
    now = now or utcnow()
    provider = _saml_provider(db, provider_id)
    xml = _decoded(provider.id, saml_response)
    attempt = _spend(db, provider.id, relay_state, browser_secret, now) if relay_state else None
    if attempt is None and not provider.idp_initiated:
        raise SignOnFailed("state", "an unsolicited response (IdP-initiated sign-in is off for this provider)",
                           check="unsolicited")  # anyone may post one: logged, not in the provider's trail
    try:
        with client_for(settings, provider, unsolicited=attempt is None) as client:
            response = client.parse_authn_request_response(
                base64.b64encode(xml).decode(), POST, outstanding={attempt.nonce: "/"} if attempt else {})
    except SignOnFailed:
        raise
    except Exception as exc:  # noqa: BLE001 (pysaml2 raises its own errors, and plain Exception for conditions)
        check = _check_of(exc)  # a response to no request of this attempt's, when there was one: not unsolicited
        raise SignOnFailed("token", f"the SAML response does not hold: {type(exc).__name__}: {str(exc)[:300]}",
                           provider.id, check="in_response_to" if attempt and check == "unsolicited" else check,
                           ) from None
    if response is None or response.assertion is None:
        raise SignOnFailed("token", "the SAML response holds no assertion", provider.id, check="assertion")
    _held(settings, provider, response, attempt.nonce if attempt else None)
    name_id = response.assertion.subject.name_id if response.assertion.subject else None
    subject = (name_id.text or "").strip() if name_id is not None else ""
    if name_id is not None and name_id.format == TRANSIENT:
        raise SignOnFailed("token", "the IdP sent a transient NameID, new at each sign-in: configure a persistent one",
                           provider.id, check="name_id")
    if not subject or len(subject) > MAX_SUBJECT or not subject.isprintable():
        raise SignOnFailed("token", "the NameID is not 1 to 255 printable characters", provider.id, check="name_id")
    _not_replayed(db, provider.id, response, now=now)
    session_index = next((statement.session_index for statement in response.assertion.authn_statement
                          if statement.session_index), None)
    claims = claims_of(provider, subject, response.ava or {})
    made = None
    if attempt is None:  # IdP-initiated: an attempt of its own, for a link to an existing account that may follow
        made = secrets.token_urlsafe(32)
        attempt = SignOnAttempt(id=uuid.uuid4(), provider_id=provider.id, state_hash=digest(secrets.token_urlsafe()),
                                browser_hash=digest(made), nonce="idp-initiated", code_verifier="",
                                expires_at=now + ATTEMPT_TTL, used_at=now)
        db.add(attempt)
        db.flush()
    log.info("sign_on.saml_verified", provider_id=str(provider.id), unsolicited=made is not None)
    return Finished(Verified(provider, claims, attempt.id,
                             id_token=logout_key(subject, name_id.format if name_id else None, session_index),
                             timezone=attempt.timezone, locale=attempt.locale), made)


def _held(settings: Settings, provider: IdentityProvider, response: Any, request_id: str | None) -> None:
    """What pysaml2 leaves unchecked in some cases (an encrypted assertion, an element left out), checked for every
    response: the response's and the assertion's Issuer are the IdP's; the destination, if named, and every bearer
    confirmation's recipient are this provider's assertion consumer service; ``InResponseTo``, on the response and on
    each confirmation, is this attempt's request (absent when unsolicited); each confirmation has its
    ``NotOnOrAfter``; the audience names this SP."""
    def refuse(detail: str, check: str) -> SignOnFailed:
        return SignOnFailed("token", detail, provider.id, check=check)

    envelope, assertion, acs = response.response, response.assertion, acs_url(settings, provider.id)
    issuers = [(x.issuer.text or "").strip() if x.issuer is not None else None for x in (envelope, assertion)]
    if issuers[1] != provider.issuer or issuers[0] not in (None, provider.issuer):
        raise refuse(f"the response is not the IdP's: Issuer {issuers}", "iss")
    if envelope.destination is not None and envelope.destination != acs:
        raise refuse("the response is for another address (Destination)", "destination")
    if envelope.in_response_to != request_id:
        raise refuse("the response answers another request (InResponseTo)", "in_response_to")
    confirmations = [c for c in (assertion.subject.subject_confirmation or []) if c.method == BEARER]
    if not confirmations:
        raise refuse("the assertion has no bearer subject confirmation", "subject")
    for confirmation in confirmations:
        data = confirmation.subject_confirmation_data
        if data is None or data.recipient != acs:
            raise refuse("the assertion is for another address (Recipient)", "recipient")
        if data.in_response_to != request_id:
            raise refuse("the assertion answers another request (InResponseTo)", "in_response_to")
        if not data.not_on_or_after:
            raise refuse("the assertion's confirmation has no NotOnOrAfter", "not_on_or_after")
    audiences = [(audience.text or "").strip() for restriction in (
        assertion.conditions.audience_restriction if assertion.conditions is not None else []) or []
        for audience in restriction.audience or []]
    if sp_entity_id(settings, provider.id) not in audiences:
        raise refuse("the assertion is not for this service (Audience)", "aud")


def _not_replayed(db: Session, provider_id: uuid.UUID, response: Any, *, now: datetime) -> None:
    """Keep the assertion's id until it expires; refuse it if it was taken already."""
    assertion_id = str(response.assertion.id or "")[:MAX_ASSERTION_ID]
    if not assertion_id:
        raise SignOnFailed("token", "the assertion has no ID", provider_id, check="assertion")
    until = now + ATTEMPT_TTL
    conditions = response.assertion.conditions
    said = [conditions.not_on_or_after if conditions is not None else None] + [
        c.subject_confirmation_data.not_on_or_after for c in response.assertion.subject.subject_confirmation or []
        if c.subject_confirmation_data is not None]
    for text in filter(None, said):
        try:
            moment = datetime.fromisoformat(str(text).replace("Z", "+00:00"))
            until = max(until, moment if moment.tzinfo else moment.replace(tzinfo=UTC))
        except (ValueError, OverflowError, TypeError):
            raise SignOnFailed("token", "the assertion's NotOnOrAfter is no time", provider_id,
                               check="not_on_or_after") from None
    if until > now + MAX_ASSERTION_LIFE:  # its id would have to be kept as long: no IdP makes them so long-lived
        raise SignOnFailed("token", "the assertion is valid for more than a day", provider_id,
                           check="not_on_or_after")
    taken = db.scalar(insert(SamlAssertionSeen).values(
        provider_id=provider_id, assertion_id=assertion_id, expires_at=until + timedelta(seconds=SKEW_SECONDS),
    ).on_conflict_do_nothing().returning(SamlAssertionSeen.assertion_id))
    if taken is None:
        raise SignOnFailed("token", "this assertion was used already (a replay)", provider_id, check="replay")
