"""Two-step sign-in for password accounts: authenticator apps (TOTP, RFC 6238) and single-use recovery codes.

A password sign-in of a person with a confirmed authenticator, or whom an admin's rule requires one of (every
account, or their email's domain), starts no sign-in: it opens a **challenge** (:func:`ask`), a random token the
client holds for ``CHALLENGE_SECONDS``, and the sign-in starts once :func:`pass_challenge` accepts a code of one of
the person's authenticators or one of their recovery codes. A person a rule requires it of and who has none sets one
up inside the challenge (:func:`begin_enrolment`), and their first code signs them in and gives them their recovery
codes. Sign-ins through an organisation's provider are the provider's business: none of this applies to them.

A code is accepted in its 30-second step or the one before or after it (one step of clock drift), and only at a
step later than the last one accepted for that authenticator: a code already used is refused in its window, even by
two requests at once (the authenticator's row is locked). A challenge dies after ``MAX_CHALLENGE_FAILURES`` wrong
codes; the API counts wrong codes per account and per client too (``api.ratelimit``). A lost device is recovered
with a recovery code, never by email: a password reset leaves the second step in place.

Removing an authenticator, or making new recovery codes, needs a sign-in made in the last ``FRESH_SIGN_IN``.
"""

from __future__ import annotations

import hmac
import io
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import ColumnElement, delete, func, or_, select, update
from sqlalchemy.orm import Session

from infra.config import get_settings
from infra.sealing import seal, unseal
from models import Authenticator, RecoveryCode, SecondStepChallenge, SecondStepRequirement, SecurityKey, User
from models.accounts.second_steps import EVERY_DOMAIN
from workflows import inbox, wording
from workflows.accounts.sign_ins import digest
from workflows.actors import Actor
from workflows.clock import utcnow
from workflows.errors import Conflict, InvalidInput, NotFound, Unauthenticated, refusal
from workflows.language import text, words_of

CHALLENGE_SECONDS = 300
MAX_CHALLENGE_FAILURES = 5
RECOVERY_CODES = 10
MAX_AUTHENTICATORS = 10
FRESH_SIGN_IN = timedelta(minutes=10)
# An authenticator begun and never confirmed is dropped after this.
SETUP_LIFETIME = timedelta(hours=1)
MAX_REQUIRED_DOMAINS = 200
TOTP = "totp"
RECOVERY_CODE = "recovery_code"


class SecondStepDue(Unauthenticated):
    """The password was right and a second step is due: the challenge is kept (``keeps_changes``) and its token given
    to the client with the 401 (``reason: second_step_required``)."""

    keeps_changes = True
    default_reason = "second_step_required"

    def __init__(self, due: Due) -> None:
        super().__init__(refusal("a second step is required: send a code of your authenticator app or a recovery "
                                 "code with the challenge"))
        self.due = due
        self.user_id = due.user_id

    def shown(self) -> dict[str, Any]:
        return {"second_step": {"challenge": self.due.challenge, "methods": list(self.due.methods),
                                "enrolment": self.due.enrolment, "expires_in": self.due.expires_in,
                                "webauthn": self.due.webauthn}}


class SecondStepFailed(Unauthenticated):
    """A wrong code: counted on the challenge (kept), and by the API per account and client."""

    keeps_changes = True
    default_reason = "second_step_failed"

    def __init__(self, user_id: uuid.UUID) -> None:
        super().__init__(refusal("that code is not right, or was used already"))
        self.user_id = user_id


@dataclass(frozen=True)
class Due:
    """What the client needs to take the second step."""

    user_id: uuid.UUID
    challenge: str
    methods: tuple[str, ...]
    enrolment: bool
    expires_in: int
    webauthn: dict[str, Any] | None = None


@dataclass(frozen=True)
class Setup:
    """An authenticator being set up: its secret, shown once, as a key to type, a link and a QR code of the link."""

    id: uuid.UUID
    secret: str
    uri: str
    qr_svg: str


@dataclass(frozen=True)
class Passed:
    """A second step passed: the user to sign in, and the recovery codes of an authenticator set up in the
    challenge (shown once)."""

    user: User
    recovery_codes: list[str] | None
    method: str


def _domain(email: str) -> str:
    return email.rpartition("@")[2].lower()


def required_for(db: Session, email: str) -> bool:
    """Whether an admin's rule requires a second step of this address's password account."""
    return bool(db.scalar(select(select(SecondStepRequirement.domain)
                                 .where(SecondStepRequirement.domain.in_((EVERY_DOMAIN, _domain(email)))).exists())))


def confirmed(user_id: uuid.UUID) -> tuple[ColumnElement[bool], ...]:
    return Authenticator.user_id == user_id, Authenticator.confirmed_at.is_not(None)


def has_authenticator(db: Session, user_id: uuid.UUID) -> bool:
    return bool(db.scalar(select(select(Authenticator.id).where(*confirmed(user_id)).exists())))


def password_account(db: Session, actor: Actor) -> User:
    user = db.get(User, actor.user_id, with_for_update={"key_share": True})
    if user is None:
        raise NotFound("user not found")
    if user.password_hash is None:
        raise Conflict("your account signs in through your organisation, which asks for any second step",
                       reason="no_password")
    return user


def cleaned_name(name: str) -> str:
    cleaned = " ".join(name.split())
    if not cleaned:
        raise InvalidInput("name must not be blank", field="name")
    return cleaned[:60]


def has_key(db: Session, user_id: uuid.UUID) -> bool:
    return bool(db.scalar(select(select(SecurityKey.id).where(SecurityKey.user_id == user_id).exists())))


def has_second_step(db: Session, user_id: uuid.UUID) -> bool:
    """A confirmed authenticator app or a security key."""
    return has_authenticator(db, user_id) or has_key(db, user_id)


def room_for_one_more(db: Session, user_id: uuid.UUID) -> None:
    """409 when the person holds ``MAX_AUTHENTICATORS`` already, apps (set up or being set up) and keys together."""
    held = (db.scalar(select(func.count()).where(Authenticator.user_id == user_id)) or 0) + \
        (db.scalar(select(func.count()).where(SecurityKey.user_id == user_id)) or 0)
    if held >= MAX_AUTHENTICATORS:
        raise Conflict("you have {count} authenticators, the most an account may have: remove one first",
                       words={"count": MAX_AUTHENTICATORS}, reason="too_many_authenticators")


def ask(db: Session, user: User, *, now: datetime | None = None) -> Due | None:
    """After a right password: a challenge when a second step is due, else ``None`` (sign in as ever)."""
    from workflows.accounts import security_keys  # noqa: PLC0415 - it builds on this module

    now = now or utcnow()
    apps = has_authenticator(db, user.id)
    has = apps or has_key(db, user.id)
    if not has and not required_for(db, user.email):
        return None
    token = secrets.token_urlsafe(32)
    challenge = SecondStepChallenge(id=uuid.uuid4(), user_id=user.id, token_hash=digest(token), created_at=now,
                                    expires_at=now + timedelta(seconds=CHALLENGE_SECONDS), enrolment=not has)
    db.add(challenge)
    keys = security_keys.sign_in_options(db, challenge)
    db.flush()
    methods = ((TOTP,) if apps or challenge.enrolment else ()) + ((security_keys.WEBAUTHN,) if keys else ()) + \
        ((RECOVERY_CODE,) if not challenge.enrolment and codes_left(db, user.id) else ())
    return Due(user.id, token, methods, challenge.enrolment, CHALLENGE_SECONDS, keys)


def user_of(db: Session, token: str) -> uuid.UUID | None:
    """Whose challenge ``token`` is (live or not), for the rate limits counted before a code is checked."""
    return db.scalar(select(SecondStepChallenge.user_id).where(SecondStepChallenge.token_hash == digest(token)))


def _open(db: Session, token: str, now: datetime) -> SecondStepChallenge:
    challenge = db.scalar(select(SecondStepChallenge).where(SecondStepChallenge.token_hash == digest(token))
                          .with_for_update())
    if challenge is None or challenge.used_at is not None or challenge.expires_at <= now:
        raise Unauthenticated("this sign-in has expired: enter your email and password again",
                              reason="second_step_expired")
    return challenge


def step_of(authenticator: Authenticator, code: str, now: datetime) -> int | None:
    """The time step ``code`` is right at for this authenticator (this step, or one before or after), later than the
    last one used; ``None`` otherwise."""
    import pyotp  # noqa: PLC0415 - 1.3 MB, in the processes that check a code only

    totp = pyotp.TOTP(unseal(get_settings(), authenticator.secret))
    current = totp.timecode(now)
    for step in (current - 1, current, current + 1):
        if step > authenticator.last_step and hmac.compare_digest(totp.generate_otp(step), code):
            return step
    return None


def _use_code(db: Session, user_id: uuid.UUID, code: str, now: datetime, *, setting_up_since: datetime | None
              ) -> Authenticator | None:
    """The person's authenticator ``code`` is right for, its step now spent; with ``setting_up_since``, one begun in
    this challenge counts too (and is confirmed)."""
    code = "".join(code.split())
    if not code.isdigit():
        return None
    counts = confirmed(user_id)
    if setting_up_since is not None:
        counts = (Authenticator.user_id == user_id,
                  or_(Authenticator.confirmed_at.is_not(None), Authenticator.created_at >= setting_up_since))
    for authenticator in db.scalars(select(Authenticator).where(*counts).order_by(Authenticator.id)
                                    .with_for_update()):
        step = step_of(authenticator, code, now)
        if step is not None:
            authenticator.last_step = step
            authenticator.last_used_at = now
            authenticator.confirmed_at = authenticator.confirmed_at or now
            return authenticator
    return None


def _spend_recovery_code(db: Session, user_id: uuid.UUID, code: str, now: datetime) -> bool:
    spent = db.scalar(update(RecoveryCode).where(RecoveryCode.user_id == user_id,
                                                 RecoveryCode.code_hash == digest(_plain(code)),
                                                 RecoveryCode.used_at.is_(None))
                      .values(used_at=now).returning(RecoveryCode.id))
    return spent is not None


def _plain(code: str) -> str:
    return "".join(ch for ch in code.lower() if ch.isalnum())


def pass_challenge(db: Session, token: str, *, code: str | None = None, recovery_code: str | None = None,
                   webauthn: dict[str, Any] | None = None, now: datetime | None = None) -> Passed:
    """The second step of a challenge: the user to sign in, once a code is right; :class:`SecondStepFailed` (kept)
    otherwise."""
    now = now or utcnow()
    challenge = _open(db, token, now)
    user = db.get(User, challenge.user_id)
    if user is None:
        raise Unauthenticated("this sign-in has expired: enter your email and password again",
                              reason="second_step_expired")
    codes: list[str] | None = None
    if recovery_code is not None and not challenge.enrolment:
        passed = _spend_recovery_code(db, user.id, recovery_code, now)
        method = RECOVERY_CODE
    elif webauthn is not None:
        from workflows.accounts import security_keys  # noqa: PLC0415 - it builds on this module

        passed, method = security_keys.signed(db, challenge, webauthn, now), security_keys.WEBAUTHN
    else:
        used = _use_code(db, user.id, code or "", now, setting_up_since=challenge.created_at if challenge.enrolment
                         else None)
        passed, method = used is not None, TOTP
        if used is not None and challenge.enrolment:
            codes = new_recovery_codes(db, user.id, now)
            tell(db, user.id, AUTHENTICATOR_ADDED, {"name": used.name})
    if not passed:
        challenge.failures += 1
        if challenge.failures >= MAX_CHALLENGE_FAILURES:
            challenge.used_at = now
        db.flush()
        raise SecondStepFailed(user.id)
    challenge.used_at = now
    if method == RECOVERY_CODE:
        left = codes_left(db, user.id)
        tell(db, user.id, RECOVERY_CODE_USED, {"count": left})
    db.flush()
    return Passed(user, codes, method)


def begin_enrolment(db: Session, token: str, *, now: datetime | None = None) -> Setup:
    """An authenticator set up inside a challenge, for a person a rule requires a second step of who has none."""
    now = now or utcnow()
    challenge = _open(db, token, now)
    if not challenge.enrolment:
        raise Conflict("you have an authenticator already: enter one of its codes", reason="enrolled_already")
    user = db.get(User, challenge.user_id)
    if user is None:
        raise NotFound("user not found")
    return set_up(db, user, words_of(AUTHENTICATOR_APP, user.locale), now)


def set_up(db: Session, user: User, name: str, now: datetime) -> Setup:
    db.execute(delete(Authenticator).where(Authenticator.user_id == user.id, Authenticator.confirmed_at.is_(None),
                                           Authenticator.created_at < now - SETUP_LIFETIME))
    room_for_one_more(db, user.id)
    import pyotp  # noqa: PLC0415 - 1.3 MB, in the processes that check a code only
    import segno  # noqa: PLC0415 - 6 MB, in the processes that set an authenticator up only

    secret = pyotp.random_base32()
    row = Authenticator(id=uuid.uuid4(), user_id=user.id, name=name, secret=seal(get_settings(), secret),
                        created_at=now)
    db.add(row)
    db.flush()
    issuer = urlsplit(get_settings().public_url).hostname or "mentorship"
    uri = pyotp.TOTP(secret).provisioning_uri(name=user.email, issuer_name=issuer)
    drawn = io.BytesIO()
    # A document of its own (its namespace, a white ground under the dark modules: readable in a dark theme too).
    segno.make(uri, error="m").save(drawn, kind="svg", xmldecl=False, svgns=True, scale=4, light="#fff")
    return Setup(row.id, secret, uri, drawn.getvalue().decode())


def codes_left(db: Session, user_id: uuid.UUID) -> int:
    return db.scalar(select(func.count()).where(RecoveryCode.user_id == user_id, RecoveryCode.used_at.is_(None))) or 0


def new_recovery_codes(db: Session, user_id: uuid.UUID, now: datetime) -> list[str]:
    """Ten new codes (shown once; kept as hashes), the old ones void."""
    db.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user_id))
    alphabet = "abcdefghjkmnpqrstuvwxyz23456789"  # 31 signs, none mistaken for another: 10 of them, 49.5 bits
    codes = ["".join(secrets.choice(alphabet) for _ in range(10)) for _ in range(RECOVERY_CODES)]
    db.add_all(RecoveryCode(id=uuid.uuid4(), user_id=user_id, code_hash=digest(code), created_at=now)
               for code in codes)
    db.flush()
    return [f"{code[:5]}-{code[5:]}" for code in codes]


# -- what the owner is told ---------------------------------------------------------------------------------------

AUTHENTICATOR_APP = text("second_step.default_name", "Authenticator app")
AUTHENTICATOR_ADDED = wording.notice("account.authenticator_added", "Authenticator added", (
    "The authenticator “{name}” now signs in to your account as a second step. If this was not you, change your "
    "password at once and remove it."))
AUTHENTICATOR_REMOVED = wording.notice("account.authenticator_removed", "Authenticator removed", (
    "The authenticator “{name}” no longer signs in to your account. If this was not you, change your password at "
    "once."))
RECOVERY_CODES_RENEWED = wording.notice("account.recovery_codes_renewed", "New recovery codes", (
    "Ten new recovery codes were made for your account; the old ones no longer work. If this was not you, change "
    "your password at once."))
RECOVERY_CODE_USED = wording.notice(
    "account.recovery_code_used", "A recovery code was used", (
        "Someone signed in to your account with a recovery code. {count} code is left. If this was not you, change "
        "your password at once."),
    plural=("Someone signed in to your account with a recovery code. {count} codes are left. If this was not you, "
            "change your password at once."))


def tell(db: Session, user_id: uuid.UUID, said: wording.Notice, words: dict[str, object]) -> None:
    inbox.notify_user(db, user_id, type_=said.key, said=said, words=words, data={"link": "#/settings"})
