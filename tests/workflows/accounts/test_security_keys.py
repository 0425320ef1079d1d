"""Security keys (``workflows/accounts/security_keys.py``), called directly: the options a browser gets, and what is
refused before the library's checks pass (a set-up that expired or is someone else's, an answer that does not check,
a key of no one). A real key's whole ceremony is ``tests/web/test_browser_second_step.py``'s (Chromium's virtual
authenticator)."""

from __future__ import annotations

import base64
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.orm import Session

from models import SecondStepChallenge, SecurityKey
from tests.factories.accounts import UserFactory, actor_of
from workflows.accounts import authenticators, second_steps, security_keys
from workflows.errors import Conflict, InvalidInput

T0 = datetime(2030, 3, 4, 9, 0, 0, tzinfo=UTC)


def b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def test_the_options_name_the_service_s_host_the_person_and_their_keys_already_made(
        db: Session, configure: Callable[..., None]) -> None:
    configure(PUBLIC_URL="https://mentoring.example.org")
    user = UserFactory()
    db.add(SecurityKey(id=uuid.uuid4(), user_id=user.id, name="Old key", credential_id=b"old-credential",
                       public_key=b"k", created_at=T0))
    db.flush()
    made = security_keys.registration(db, actor_of(user), now=T0)
    options = made["options"]
    assert options["rp"] == {"id": "mentoring.example.org", "name": "mentoring.example.org"}
    assert options["user"]["id"] == b64(user.id.bytes) and options["user"]["name"] == user.email
    assert [c["id"] for c in options["excludeCredentials"]] == [b64(b"old-credential")]
    assert security_keys.relying_party().origin == "https://mentoring.example.org"
    # A sign-in's second step then offers the key, with bytes of its own to sign.
    due = second_steps.ask(db, user, now=T0)
    assert due is not None and due.methods == ("webauthn",) and due.webauthn is not None
    assert due.webauthn["rpId"] == "mentoring.example.org"


def test_a_set_up_expired_or_someone_else_s_and_an_answer_that_does_not_check_are_refused(db: Session) -> None:
    user, other = UserFactory(), UserFactory()
    made = security_keys.registration(db, actor_of(user), now=datetime.now(UTC))
    stale = security_keys.registration(db, actor_of(user), now=datetime.now(UTC) - timedelta(minutes=6))
    for setup, who in ((stale["setup"], user), (made["setup"], other)):
        with pytest.raises(InvalidInput) as refused:
            security_keys.register(db, actor_of(who), setup=setup, credential={}, name="Key")
        assert refused.value.reason == "setup_expired"
    for garbage in ({"id": "AAAA", "rawId": "AAAA", "type": "public-key",
                     "response": {"clientDataJSON": b64(b"{}"), "attestationObject": "AAAA"}},
                    {"response": {}}, {"id": 1, "rawId": [], "response": "x"}, {}):
        with pytest.raises(InvalidInput) as refused:
            security_keys.register(db, actor_of(user), setup=made["setup"], name="Key", credential=garbage)
        assert refused.value.reason == "key_refused"
    assert security_keys.keys_of(db, user.id) == []


def test_an_organisation_account_has_no_key_here_and_ten_is_the_most(db: Session) -> None:
    with pytest.raises(Conflict):
        security_keys.registration(db, actor_of(UserFactory(password_hash=None)), now=T0)
    user = UserFactory()
    db.add_all(SecurityKey(id=uuid.uuid4(), user_id=user.id, name=f"Key {n}", credential_id=f"c{n}".encode(),
                           public_key=b"k", created_at=T0) for n in range(10))
    db.flush()
    with pytest.raises(Conflict) as full:
        security_keys.registration(db, actor_of(user), now=T0)
    assert full.value.reason == "too_many_authenticators"
    # Ten in all: apps and keys together.
    with pytest.raises(Conflict) as no_app:
        authenticators.begin(db, actor_of(user), name="Phone", now=T0)
    assert no_app.value.reason == "too_many_authenticators"


def test_no_key_of_the_person_or_no_bytes_to_sign_signs_nothing(db: Session) -> None:
    user = UserFactory()
    challenge = SecondStepChallenge(id=uuid.uuid4(), user_id=user.id, token_hash="x" * 64, created_at=T0,
                                    expires_at=T0 + timedelta(minutes=5))
    db.add(challenge)
    db.flush()
    assert not security_keys.signed(db, challenge, {"rawId": b64(b"anything")}, T0)
    challenge.webauthn_challenge = b"bytes"
    assert not security_keys.signed(db, challenge, {"rawId": b64(b"no one's")}, T0)
    assert not security_keys.signed(db, challenge, {"rawId": "not base64url!"}, T0)
    db.add(SecurityKey(id=uuid.uuid4(), user_id=user.id, name="Key", credential_id=b"mine", public_key=b"k",
                       created_at=T0))
    db.flush()
    for answer in ({"rawId": b64(b"mine")}, {"rawId": b64(b"mine"), "id": 3, "response": []},
                   {"rawId": b64(b"mine"), "id": b64(b"mine"), "type": "public-key", "response": {
                       "clientDataJSON": b64(b"{}"), "authenticatorData": "AAAA", "signature": "AAAA"}}):
        assert not security_keys.signed(db, challenge, answer, T0)
