"""The audit trail of credentials: sign-ins and their failures, lock-outs, sign-outs, a reused refresh
token, password and email changes. Each with the user when known and the client address, never a
password, a token or an email address; logged as it is recorded, and listed to admins."""

from __future__ import annotations

import uuid

import structlog
from sqlalchemy import select
from sqlalchemy.orm import Session

from models import AuthEvent, AuthEventKind
from workflows.pagination import Page, paginate

log = structlog.get_logger(__name__)


def record(db: Session, kind: AuthEventKind, user_id: uuid.UUID | None, client_address: str | None) -> None:
    """One event, in the caller's transaction (a refusal that records one keeps its changes)."""
    db.add(AuthEvent(id=uuid.uuid4(), kind=kind, user_id=user_id, client_address=(client_address or "")[:64] or None))
    db.flush()
    log.info("auth.event", kind=kind.value, user_id=str(user_id) if user_id else None, client_address=client_address)


def list_events(db: Session, *, user_id: uuid.UUID | None, kind: AuthEventKind | None, limit: int,
                cursor: str | None) -> Page[AuthEvent]:
    """Newest first, of one user or of one kind when asked."""
    query = select(AuthEvent)
    if user_id is not None:
        query = query.where(AuthEvent.user_id == user_id)
    if kind is not None:
        query = query.where(AuthEvent.kind == kind)
    return paginate(db, query, AuthEvent.created_at, AuthEvent.id, limit=limit, cursor=cursor, descending=True)
