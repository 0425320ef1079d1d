"""Who may, as every domain asks it: who is an administrator, and the admin audit trail that an administrator's
read of another person's record leaves, whichever route it came through. Each domain's own rules (who may read,
change, export or audit what is its own) are in its ``access.py``; no other module tests ``actor.is_admin``
(tests/test_architecture.py)."""

from __future__ import annotations

import uuid

import structlog
from sqlalchemy.orm import Session

from models import AdminAction, MentorshipSession
from workflows.actors import Actor
from workflows.errors import Forbidden

log = structlog.get_logger(__name__)

# An administrator reading a record they take no part in: ``<kind>.read`` (``session.read``, ``booking.read``…).
READ_AS_ADMIN = "{kind}.read"


def is_admin(actor: Actor) -> bool:
    """An administrator of the service."""
    return actor.is_admin


def sees_every_seat(actor: Actor, session: MentorshipSession) -> bool:
    """Who sees every seat of a group session, its line and its disputes: its mentor and administrators (a mentee,
    their own seat only)."""
    return actor.is_admin or session.mentor_profile_id == actor.mentor_profile_id


def require_admin(actor: Actor) -> None:
    """403 for anyone but an administrator."""
    if not actor.is_admin:
        raise Forbidden("administrators only")


def admin_reads(db: Session, actor: Actor, kind: str, record_id: uuid.UUID) -> bool:
    """Whether an administrator may read someone else's record of ``kind``: they may, and their read is in the
    admin audit trail (``<kind>.read``, naming them); anyone else may not."""
    if not actor.is_admin:
        return False
    record_admin_action(db, actor, READ_AS_ADMIN.format(kind=kind.replace(" ", "_")), kind.replace(" ", "_"),
                              record_id)
    return True


def record_admin_action(db: Session, actor: Actor, action: str, target_type: str, target_id: uuid.UUID, *,
                        reason: str | None = None) -> AdminAction:
    """One entry of the admin audit trail, naming the admin, in the caller's transaction."""
    entry = AdminAction(id=uuid.uuid4(), admin_user_id=actor.user_id, action=action, target_type=target_type,
                        target_id=target_id, reason=reason)
    db.add(entry)
    db.flush()
    log.info("admin.action", action=action, admin_user_id=str(actor.user_id), target_type=target_type,
             target_id=str(target_id))
    return entry
