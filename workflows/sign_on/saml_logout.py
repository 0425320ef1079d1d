"""Single logout with an organisation's SAML 2.0 IdP (HTTP-Redirect binding), pysaml2 doing the XML and the
signatures: a sign-out started here goes on at the IdP with a LogoutRequest this service signs (:func:`logout_url`,
which the web app offers after signing out here); a sign-out the IdP starts arrives as its LogoutRequest, which must
carry the IdP's signature (:func:`idp_logout`): the sign-ins through it of the NameID (and session indexes) it names
end at once, and the browser goes back with a signed LogoutResponse. A sign-in keeps its NameID and SessionIndex for
this (``saml.logout_key``), only while it lives."""

from __future__ import annotations

import json
import secrets
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import structlog
from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from infra.config import Settings
from models import IdentityProvider, Protocol, SamlAssertionSeen, SignIn
from models.sign_on import MAX_ASSERTION_ID
from workflows.accounts import sign_ins
from workflows.clock import utcnow
from workflows.sign_on import saml
from workflows.sign_on.flow import SignOnFailed
from workflows.sign_on.saml_providers import REDIRECT, MetadataRefused, read_metadata, unavailable

log = structlog.get_logger(__name__)

FRESH = timedelta(minutes=5)  # a LogoutRequest issued longer ago (or ahead) than this is stale


def logout_url(settings: Settings, provider: IdentityProvider, kept: str | None) -> str | None:
    """The IdP's single logout address with a signed LogoutRequest for this sign-in (HTTP-Redirect), or ``None``
    when the IdP offers no single logout or the sign-in kept nothing to name it by."""
    from saml2.saml import NameID  # noqa: PLC0415

    if provider.saml_metadata is None or not kept or unavailable() is not None:
        return None
    try:
        idp = read_metadata(provider.saml_metadata)
    except MetadataRefused:  # expired since it was read, say: signing out here still works
        return None
    if idp.slo is None:
        return None
    session = json.loads(kept)
    with saml.client_for(settings, provider) as client:
        _, request = client.create_logout_request(
            idp.slo, idp.entity_id, name_id=NameID(text=session["name_id"], format=session.get("format")),
            session_indexes=[session["session_index"]] if session.get("session_index") else None)
        info = client.apply_binding(REDIRECT, str(request), idp.slo, relay_state=secrets.token_urlsafe(16),
                                    sign=True, sigalg=saml.RSA_SHA256)
    return str(dict(info["headers"])["Location"])


def _live_sessions(db: Session, provider_id: uuid.UUID, name_id: str, indexes: list[str]) -> list[uuid.UUID]:
    """The live sign-ins through the provider of this NameID (of these session indexes, when the IdP names some)."""
    rows = db.execute(select(SignIn.id, SignIn.id_token).where(
        SignIn.provider_id == provider_id, SignIn.revoked_at.is_(None),
        SignIn.id_token.contains(json.dumps(name_id), autoescape=True))).all()
    found = []
    for sign_in_id, kept in rows:
        session = json.loads(kept or "{}")
        if session.get("name_id") == name_id and (not indexes or session.get("session_index") in indexes):
            found.append(sign_in_id)
    return found


def _moment(text: object) -> datetime:
    moment = datetime.fromisoformat(str(text).replace("Z", "+00:00"))
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _fresh_and_first(db: Session, provider_id: uuid.UUID, message: Any, *, now: datetime | None = None) -> None:
    """A LogoutRequest is taken once, while fresh: issued within ``FRESH`` of now, not past its ``NotOnOrAfter``;
    its id kept as an assertion's is (a signed request copied from a browser's history ends nothing again)."""
    now = now or utcnow()
    try:
        issued = _moment(message.issue_instant)
        ends = _moment(message.not_on_or_after) if message.not_on_or_after else None
    except (ValueError, TypeError, OverflowError):
        raise SignOnFailed("token", "the LogoutRequest's times are no times", provider_id, check="logout") from None
    if abs(now - issued) > FRESH or (ends is not None and ends <= now):
        raise SignOnFailed("token", "the LogoutRequest is stale", provider_id, check="logout")
    taken = db.scalar(insert(SamlAssertionSeen).values(
        provider_id=provider_id, assertion_id=f"logout:{message.id}"[:MAX_ASSERTION_ID], expires_at=now + 2 * FRESH,
    ).on_conflict_do_nothing().returning(SamlAssertionSeen.assertion_id))
    if taken is None:
        raise SignOnFailed("token", "this LogoutRequest was used already (a replay)", provider_id, check="replay")


def idp_logout(db: Session, settings: Settings, provider_id: uuid.UUID, *, saml_request: str,
               relay_state: str | None, sigalg: str | None, signature: str | None) -> str:
    """An IdP's LogoutRequest (single logout it started, HTTP-Redirect, which must carry its signature): the
    sign-ins through it of the NameID (and session indexes) it names end now, and the address of the signed
    LogoutResponse the browser goes back to the IdP with."""
    from saml2.s_utils import success_status_factory  # noqa: PLC0415

    provider = db.get(IdentityProvider, provider_id)
    if provider is None or provider.protocol is not Protocol.SAML or provider.saml_metadata is None:
        raise SignOnFailed("disabled", "the provider is unknown or not a SAML provider")
    try:
        idp = read_metadata(provider.saml_metadata)
    except MetadataRefused as exc:
        raise SignOnFailed("provider", f"the IdP's metadata is unusable now: {exc}", provider.id) from None
    if idp.slo is None or not (sigalg and signature):
        raise SignOnFailed("token", "an unsigned LogoutRequest, or an IdP offering no single logout", provider.id,
                           check="logout")
    with saml.client_for(settings, provider) as client:
        client.config.setattr("idp", "want_authn_requests_signed", True)  # pysaml2 checks the query's signature
        try:
            request = client.parse_logout_request(saml_request, REDIRECT, relay_state=relay_state, sigalg=sigalg,
                                                  signature=signature)
        except Exception as exc:  # noqa: BLE001 (pysaml2 raises its own errors, and plain Exception)
            raise SignOnFailed("token", f"the LogoutRequest does not hold: {type(exc).__name__}: {str(exc)[:300]}",
                               provider.id, check="logout") from None
        message = request.message
        if message.issuer is None or message.issuer.text != idp.entity_id or message.name_id is None:
            raise SignOnFailed("token", "the LogoutRequest is not the IdP's, or names no one", provider.id,
                               check="logout")
        _fresh_and_first(db, provider.id, message)
        indexes = [index.text for index in message.session_index or [] if index.text]
        ended = sign_ins.end_by_ids(db, _live_sessions(db, provider.id, message.name_id.text or "", indexes))
        response = client.create_logout_response(message, [REDIRECT], status=success_status_factory())
        info = client.apply_binding(REDIRECT, str(response), idp.slo, relay_state=relay_state or "", response=True,
                                    sign=True, sigalg=saml.RSA_SHA256)
    log.info("sign_on.saml_idp_logout", provider_id=str(provider.id), sign_ins_ended=ended)
    return str(dict(info["headers"])["Location"])
