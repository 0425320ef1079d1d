"""The audit trails. Of credentials: sign-ins and their failures, lock-outs, sign-outs, a reused refresh
token, password and email changes, each with the user when known and the client address, never a
password, a token or an email address; logged as it is recorded, and listed to admins. Of what admins do to others'
accounts, sessions, programmes and the like (``admin_actions``, ``GET /admin/audit``), listed here: every admin
action records through ``workflows.access.record_admin_action``, whichever route it came through."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

import structlog
from sqlalchemy import select
from sqlalchemy.orm import Session

from models import AuthEvent, AuthEventKind
from models.accounts.audit import MAX_DETAIL, MAX_REASON
from workflows.access import record_admin_action
from workflows.actors import Actor
from workflows.clock import utcnow
from workflows.pagination import Page, paginate
from workflows.roles import Role

log = structlog.get_logger(__name__)


@dataclass(frozen=True)
class Refusal:
    """A sign-in refused at or after an organisation's provider: which one, the check that refused it (``aud``,
    ``iss``, ``signature``, ``nonce``, ``state``, ``expired``…) and what it found (no token, no secret)."""

    provider_id: uuid.UUID | None
    reason: str
    detail: str


def record(db: Session, kind: AuthEventKind, user_id: uuid.UUID | None, client_address: str | None, *,
           refusal: Refusal | None = None) -> None:
    """One event, in the caller's transaction (a refusal that records one keeps its changes)."""
    db.add(AuthEvent(id=uuid.uuid4(), kind=kind, user_id=user_id, client_address=(client_address or "")[:64] or None,
                     created_at=utcnow(),
                     provider_id=refusal.provider_id if refusal else None,
                     reason=refusal.reason[:MAX_REASON] if refusal else None,
                     detail=refusal.detail[:MAX_DETAIL] if refusal else None))
    db.flush()
    log.info("auth.event", kind=kind.value, user_id=str(user_id) if user_id else None, client_address=client_address,
             **({"provider_id": str(refusal.provider_id), "reason": refusal.reason} if refusal else {}))


def last_refusals(db: Session, provider_ids: list[uuid.UUID]) -> dict[uuid.UUID, AuthEvent]:
    """Each provider's newest refused sign-in, of those given."""
    newest = {provider_id: db.scalar(
        select(AuthEvent).where(AuthEvent.provider_id == provider_id, AuthEvent.kind == AuthEventKind.SSO_REFUSED)
        .order_by(AuthEvent.created_at.desc(), AuthEvent.id.desc()).limit(1)) for provider_id in provider_ids}
    return {provider_id: row for provider_id, row in newest.items() if row is not None}


def list_events(db: Session, *, user_id: uuid.UUID | None, kind: AuthEventKind | None, limit: int,
                cursor: str | None) -> Page[AuthEvent]:
    """Newest first, of one user or of one kind when asked."""
    query = select(AuthEvent)
    if user_id is not None:
        query = query.where(AuthEvent.user_id == user_id)
    if kind is not None:
        query = query.where(AuthEvent.kind == kind)
    return paginate(db, query, AuthEvent.created_at, AuthEvent.id, limit=limit, cursor=cursor, descending=True)


# An admin naming coordinators: one account at once, or an address invited (its rights start once confirmed).
PROGRAMME_COORDINATOR_NAMED = "programme.coordinator_named"
PROGRAMME_COORDINATOR_INVITED = "programme.coordinator_invited"
PROGRAMME_COORDINATOR_INVITATION_WITHDRAWN = "programme.coordinator_invitation_withdrawn"
# An admin acting through a programme's own routes, as no coordinator of it.
PROGRAMME_COORDINATORS_SET = "programme.coordinators_set"
PROGRAMME_PARTICIPANT_REMOVED = "programme.participant_removed"
PROGRAMME_INTAKE_READ = "programme.intake_read"
PROGRAMME_EXPORTED = {name: f"programme.exported_{name}" for name in ("pairs", "sessions", "surveys", "participants",
                                                                        "goals")}
PROGRAMME_ACTIONS = (PROGRAMME_COORDINATORS_SET, PROGRAMME_PARTICIPANT_REMOVED, PROGRAMME_INTAKE_READ,
                     *PROGRAMME_EXPORTED.values())


def record_if_admin(db: Session, actor: Actor, role: Role, action: str, *, target_type: str, target_id: uuid.UUID
                    ) -> None:
    """An entry when the actor acts by being an admin (``role``), not as a coordinator of the programme."""
    if role == Role.ADMIN:
        record_admin_action(db, actor, action, target_type, target_id)
