"""A person's own authenticators and recovery codes (``workflows.accounts.second_steps`` has the sign-in's side: the
challenge and the codes it accepts; ``workflows.sign_on.second_step_rule`` where an admin requires a second step)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from infra import sealing
from infra.config import Settings
from models import Authenticator, RecoveryCode, SecurityKey, User
from workflows.accounts import second_steps
from workflows.accounts.second_steps import FRESH_SIGN_IN, Setup
from workflows.actors import Actor
from workflows.clock import utcnow
from workflows.errors import Conflict, Forbidden, InvalidInput, NotFound


@dataclass(frozen=True)
class Overview:
    authenticators: list[Authenticator]
    security_keys: list[SecurityKey]
    recovery_codes_left: int
    required: bool


# -- the person's own authenticators ----------------------------------------------------------------------------


def overview(db: Session, actor: Actor) -> Overview:
    user = db.get(User, actor.user_id)
    if user is None:
        raise NotFound("user not found")
    rows = list(db.scalars(select(Authenticator).where(*second_steps.confirmed(actor.user_id))
                           .order_by(Authenticator.created_at, Authenticator.id)))
    keys = list(db.scalars(select(SecurityKey).where(SecurityKey.user_id == actor.user_id)
                           .order_by(SecurityKey.created_at, SecurityKey.id)))
    return Overview(rows, keys, second_steps.codes_left(db, actor.user_id), second_steps.required_for(db, user.email))


def begin(db: Session, actor: Actor, *, name: str, now: datetime | None = None) -> Setup:
    """An authenticator app being added: it counts once :func:`confirm` accepts a first code of it."""
    user = second_steps.password_account(db, actor)
    return second_steps.set_up(db, user, second_steps.cleaned_name(name), now or utcnow())


def _mine(db: Session, actor: Actor, authenticator_id: uuid.UUID) -> Authenticator:
    row = db.scalar(select(Authenticator).where(Authenticator.id == authenticator_id,
                                                Authenticator.user_id == actor.user_id).with_for_update())
    if row is None:
        raise NotFound("authenticator not found")
    return row


def confirm(db: Session, actor: Actor, authenticator_id: uuid.UUID, *, code: str,
            now: datetime | None = None) -> list[str] | None:
    """The first code of an authenticator being added: it counts from now on. The recovery codes of a person's first
    authenticator (shown once), else ``None``."""
    now = now or utcnow()
    second_steps.password_account(db, actor)
    row = _mine(db, actor, authenticator_id)
    if row.confirmed_at is not None:
        raise Conflict("this authenticator is set up already", reason="confirmed_already")
    first = not second_steps.has_authenticator(db, actor.user_id)
    step = second_steps.step_of(row, "".join(code.split()), now)
    if step is None:
        raise InvalidInput("that code is not right: enter the one your app shows now", field="code",
                           reason="second_step_failed")
    row.last_step, row.confirmed_at, row.last_used_at = step, now, now
    renew = first or not second_steps.codes_left(db, actor.user_id)
    codes = second_steps.new_recovery_codes(db, actor.user_id, now) if renew else None
    second_steps.tell(db, actor.user_id, second_steps.AUTHENTICATOR_ADDED, {"name": row.name})
    db.flush()
    return codes


def rename(db: Session, actor: Actor, authenticator_id: uuid.UUID, *, name: str) -> Authenticator:
    row = _mine(db, actor, authenticator_id)
    row.name = second_steps.cleaned_name(name)
    db.flush()
    return row


def _require_fresh(signed_in_at: datetime | None, now: datetime) -> None:
    if signed_in_at is None or signed_in_at < now - FRESH_SIGN_IN:
        raise Forbidden("sign in again first: this needs a sign-in of the last {minutes} minutes",
                        words={"minutes": int(FRESH_SIGN_IN.total_seconds() // 60)}, reason="sign_in_again")


def remove(db: Session, actor: Actor, authenticator_id: uuid.UUID, *, signed_in_at: datetime | None,
           now: datetime | None = None) -> None:
    """Remove an authenticator app or a security key (after a fresh sign-in). The last second step goes with the
    recovery codes, unless a rule requires one of the person: then it stays until another is added."""
    now = now or utcnow()
    _require_fresh(signed_in_at, now)
    user = second_steps.password_account(db, actor)
    key = db.scalar(select(SecurityKey).where(SecurityKey.id == authenticator_id, SecurityKey.user_id == user.id)
                    .with_for_update())
    row: Authenticator | SecurityKey = key if key is not None else _mine(db, actor, authenticator_id)
    counts = isinstance(row, SecurityKey) or row.confirmed_at is not None
    apps = db.scalar(select(func.count()).where(*second_steps.confirmed(user.id), Authenticator.id != row.id))
    keys = db.scalar(select(func.count()).where(SecurityKey.user_id == user.id, SecurityKey.id != row.id))
    others = (apps or 0) + (keys or 0)
    if counts and not others:
        if second_steps.required_for(db, user.email):
            raise Conflict("your organisation requires a second step: add another authenticator before removing "
                           "this one", reason="second_step_required_here")
        db.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    db.delete(row)
    if counts:
        second_steps.tell(db, user.id, second_steps.AUTHENTICATOR_REMOVED, {"name": row.name})
    db.flush()


def renew_recovery_codes(db: Session, actor: Actor, *, signed_in_at: datetime | None,
                         now: datetime | None = None) -> list[str]:
    """Ten new recovery codes (after a fresh sign-in), the old ones void; only with an authenticator."""
    now = now or utcnow()
    _require_fresh(signed_in_at, now)
    second_steps.password_account(db, actor)
    if not second_steps.has_second_step(db, actor.user_id):
        raise Conflict("add an authenticator first: recovery codes stand in for it", reason="no_authenticator")
    codes = second_steps.new_recovery_codes(db, actor.user_id, now)
    second_steps.tell(db, actor.user_id, second_steps.RECOVERY_CODES_RENEWED, {})
    return codes


def reseal(db: Session, settings: Settings) -> int:
    """Seal every authenticator's secret again with the first key (a key rotation's middle step)."""
    rows = list(db.scalars(select(Authenticator).with_for_update()))
    for row in rows:
        row.secret = sealing.reseal(settings, row.secret)
    return len(rows)


def remove_all(db: Session, email: str) -> int:
    """An operator's way out for someone who lost both their authenticator and their recovery codes (and whom they
    checked by other means): every authenticator and recovery code of the account goes, and its owner is told. How
    many authenticators went; :class:`NotFound` for an address with no account."""
    user = db.scalar(select(User).where(User.email == email.strip().lower()).with_for_update(key_share=True))
    if user is None:
        raise NotFound("user not found")
    names = list(db.scalars(delete(Authenticator).where(Authenticator.user_id == user.id,
                                                        Authenticator.confirmed_at.is_not(None))
                            .returning(Authenticator.name)))
    names += list(db.scalars(delete(SecurityKey).where(SecurityKey.user_id == user.id).returning(SecurityKey.name)))
    db.execute(delete(Authenticator).where(Authenticator.user_id == user.id))
    db.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    for name in names:
        second_steps.tell(db, user.id, second_steps.AUTHENTICATOR_REMOVED, {"name": name})
    db.flush()
    return len(names)

