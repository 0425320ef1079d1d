"""Passkeys and security keys (WebAuthn) as the second step of a password sign-in, beside authenticator apps.

The ``webauthn`` library checks each ceremony (the challenge signed, the origin, the relying party, the key's
signature and its counter); the service keeps the credential's id and public key. The relying party is the host of
``PUBLIC_URL`` (a browser refuses an IP address), the origin ``PUBLIC_URL``'s. Registering a key is bound to the
signed-in person by a short-lived signed ``setup`` token carrying its challenge (a key registered twice is refused by
its credential id); signing in with one answers the challenge its sign-in's second step holds
(``SecondStepChallenge.webauthn_challenge``), spent with it. The library and its cryptography are imported where a key
is registered or checked only.
"""

from __future__ import annotations

import hashlib
import json
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import jwt
from sqlalchemy import select
from sqlalchemy.orm import Session

from infra.config import get_settings
from models import SecondStepChallenge, SecurityKey
from workflows.accounts import second_steps
from workflows.actors import Actor
from workflows.clock import utcnow
from workflows.errors import Conflict, InvalidInput

SETUP_SECONDS = 300
_AUDIENCE = "security-key-setup"
WEBAUTHN = "webauthn"


def _key() -> str:
    return hashlib.sha256(b"security-key-setup:" + get_settings().jwt_secret_key.encode()).hexdigest()


@dataclass(frozen=True)
class RelyingParty:
    id: str
    origin: str


def relying_party() -> RelyingParty:
    url = urlsplit(get_settings().public_url)
    return RelyingParty(url.hostname or "localhost", f"{url.scheme}://{url.netloc}")


def _b64(raw: bytes) -> str:
    from webauthn.helpers import bytes_to_base64url  # noqa: PLC0415 - the library where keys are used only

    return str(bytes_to_base64url(raw))


def keys_of(db: Session, user_id: uuid.UUID) -> list[SecurityKey]:
    return list(db.scalars(select(SecurityKey).where(SecurityKey.user_id == user_id)
                           .order_by(SecurityKey.created_at, SecurityKey.id)))


def registration(db: Session, actor: Actor, *, now: datetime | None = None) -> dict[str, Any]:
    """What the browser needs to make a key (``navigator.credentials.create``'s options) and the ``setup`` token that
    brings its answer back to :func:`register`, valid five minutes."""
    from webauthn import generate_registration_options, options_to_json  # noqa: PLC0415 - see the module
    from webauthn.helpers.structs import (  # noqa: PLC0415 - see the module
        AuthenticatorSelectionCriteria,
        PublicKeyCredentialDescriptor,
        ResidentKeyRequirement,
        UserVerificationRequirement,
    )

    now = now or utcnow()
    user = second_steps.password_account(db, actor)
    second_steps.room_for_one_more(db, user.id)
    challenge = secrets.token_bytes(32)
    party = relying_party()
    options = generate_registration_options(
        rp_id=party.id, rp_name=party.id, user_name=user.email, user_id=user.id.bytes,
        user_display_name=user.display_name, challenge=challenge,
        exclude_credentials=[PublicKeyCredentialDescriptor(id=key.credential_id) for key in keys_of(db, user.id)],
        authenticator_selection=AuthenticatorSelectionCriteria(
            resident_key=ResidentKeyRequirement.DISCOURAGED, user_verification=UserVerificationRequirement.DISCOURAGED))
    setup = jwt.encode({"sub": str(user.id), "challenge": _b64(challenge), "aud": _AUDIENCE,
                        "exp": now + timedelta(seconds=SETUP_SECONDS)}, _key(), algorithm="HS256")
    return {"options": json.loads(options_to_json(options)), "setup": setup}


def register(db: Session, actor: Actor, *, setup: str, credential: dict[str, Any], name: str,
             now: datetime | None = None) -> tuple[SecurityKey, list[str] | None]:
    """The key the browser made, checked and kept; with a person's first second step, their recovery codes (shown
    once)."""
    from webauthn import base64url_to_bytes, verify_registration_response  # noqa: PLC0415 - see the module
    from webauthn.helpers.exceptions import WebAuthnException  # noqa: PLC0415 - see the module

    now = now or utcnow()
    user = second_steps.password_account(db, actor)
    try:
        claims = jwt.decode(setup, _key(), algorithms=["HS256"], audience=_AUDIENCE)
    except jwt.InvalidTokenError:
        raise InvalidInput("this key's set-up has expired: add it again", field="setup",
                           reason="setup_expired") from None
    if claims.get("sub") != str(user.id):
        raise InvalidInput("this key's set-up has expired: add it again", field="setup", reason="setup_expired")
    party = relying_party()
    try:
        verified = verify_registration_response(credential=credential,
                                                expected_challenge=base64url_to_bytes(claims["challenge"]),
                                                expected_rp_id=party.id, expected_origin=party.origin)
    except (WebAuthnException, ValueError, KeyError, TypeError):  # whatever the answer, a 422
        raise InvalidInput("the browser's answer for this key could not be checked: add it again",
                           field="credential", reason="key_refused") from None
    second_steps.room_for_one_more(db, user.id)
    if db.scalar(select(SecurityKey.id).where(SecurityKey.credential_id == verified.credential_id)) is not None:
        raise Conflict("this key is registered already", reason="key_registered_already")
    first = not second_steps.has_second_step(db, user.id)
    key = SecurityKey(id=uuid.uuid4(), user_id=user.id, name=second_steps.cleaned_name(name),
                      credential_id=verified.credential_id, public_key=verified.credential_public_key,
                      sign_count=verified.sign_count, created_at=now)
    db.add(key)
    db.flush()
    codes = second_steps.new_recovery_codes(db, user.id, now) if first else None
    second_steps.tell(db, user.id, second_steps.AUTHENTICATOR_ADDED, {"name": key.name})
    return key, codes


def sign_in_options(db: Session, challenge: SecondStepChallenge) -> dict[str, Any] | None:
    """``navigator.credentials.get``'s options for a sign-in's second step, when the person has keys (the bytes to
    sign kept on the challenge)."""
    from webauthn import generate_authentication_options, options_to_json  # noqa: PLC0415 - see the module
    from webauthn.helpers.structs import (  # noqa: PLC0415 - see the module
        PublicKeyCredentialDescriptor,
        UserVerificationRequirement,
    )

    keys = keys_of(db, challenge.user_id)
    if not keys:
        return None
    challenge.webauthn_challenge = secrets.token_bytes(32)
    options = generate_authentication_options(
        rp_id=relying_party().id, challenge=challenge.webauthn_challenge,
        allow_credentials=[PublicKeyCredentialDescriptor(id=key.credential_id) for key in keys],
        user_verification=UserVerificationRequirement.DISCOURAGED)
    return dict(json.loads(options_to_json(options)))


def signed(db: Session, challenge: SecondStepChallenge, credential: dict[str, Any], now: datetime) -> bool:
    """Whether one of the person's keys signed the challenge's bytes (its counter moved on); the key's counter kept."""
    from webauthn import base64url_to_bytes, verify_authentication_response  # noqa: PLC0415 - see the module
    from webauthn.helpers.exceptions import WebAuthnException  # noqa: PLC0415 - see the module

    if challenge.webauthn_challenge is None:
        return False
    try:
        credential_id = base64url_to_bytes(str(credential["rawId"]))
    except (KeyError, ValueError, TypeError):
        return False
    key = db.scalar(select(SecurityKey).where(SecurityKey.user_id == challenge.user_id,
                                              SecurityKey.credential_id == credential_id).with_for_update())
    if key is None:
        return False
    party = relying_party()
    try:
        verified = verify_authentication_response(
            credential=credential, expected_challenge=challenge.webauthn_challenge, expected_rp_id=party.id,
            expected_origin=party.origin, credential_public_key=key.public_key,
            credential_current_sign_count=key.sign_count)
    except (WebAuthnException, ValueError, KeyError, TypeError):  # whatever the answer, a wrong code
        return False
    key.sign_count, key.last_used_at = verified.new_sign_count, now
    return True
