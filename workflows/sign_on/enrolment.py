"""A provider's programmes: at each sign-in through it, its rules (``ProviderEnrolment``) are read against the ID
token's claims, so a cohort joins by signing in and later changes at the provider count.

A rule holds when its claim has its value (a list claim, such as ``groups``, when the value is among them), or when
it names no claim. Where a programme's mentor rule and mentee rule both hold, the person joins as its mentor. Someone
a rule holds for and who does not take part joins (``via`` sign-on), unless a coordinator took them off (only an
invitation brings them back), the programme takes no one now, or they take part in the other role already: each is
logged and passed over, never a failed sign-in. Someone a rule enrolled, for whom no rule of that programme holds
any more, leaves it, as if they had left themselves (their pairings end by the usual rules); not when the token says
the claim lies elsewhere (a distributed claim, too many groups to send), which says nothing.
"""

from __future__ import annotations

import uuid
from typing import Any

import structlog
from sqlalchemy import select
from sqlalchemy.orm import Session

from models import (
    MentorProfile,
    ParticipantRole,
    ParticipantStatus,
    Programme,
    ProgrammeParticipant,
    ProviderEnrolment,
    User,
)
from models.programmes.enrolment import DEFAULT_CAPACITY
from workflows.actors import Actor
from workflows.errors import DomainError
from workflows.programmes import enrolment
from workflows.programmes.enrolment import Via

log = structlog.get_logger(__name__)


def _text(value: object) -> str:
    return str(value).lower() if isinstance(value, bool) else str(value)


def holds(rule: ProviderEnrolment, claims: dict[str, Any]) -> bool:
    if rule.claim is None:
        return True
    value = claims.get(rule.claim)
    if isinstance(value, list):
        return rule.value in [_text(item) for item in value if isinstance(item, (str, int))]
    return isinstance(value, (str, int, bool)) and _text(value) == rule.value


def told(rules: list[ProviderEnrolment], claims: dict[str, Any]) -> bool:
    """Whether the claims say what the rules read. A claim left out is an empty one (providers send no ``groups``
    for someone in none), unless the token says it lies elsewhere: a distributed or aggregated claim
    (``_claim_names``, OpenID Connect Core §5.6.2), or a list too long to send (``hasgroups``); those end no one's
    participation."""
    elsewhere = claims.get("_claim_names")
    named = set(elsewhere) if isinstance(elsewhere, dict) else set()
    return not any(rule.claim is not None and rule.claim not in claims
                   and (rule.claim in named or (rule.claim == "groups" and "hasgroups" in claims)) for rule in rules)


def wanted_roles(rules: list[ProviderEnrolment], claims: dict[str, Any]) -> dict[uuid.UUID, ParticipantRole | None]:
    """Each programme the rules name, and the role the person should hold in it (``None``: none)."""
    wanted: dict[uuid.UUID, ParticipantRole | None] = {rule.programme_id: None for rule in rules}
    for rule in sorted(rules, key=lambda rule: rule.role != ParticipantRole.MENTOR):  # mentor rules first
        if wanted[rule.programme_id] is None and holds(rule, claims):
            wanted[rule.programme_id] = rule.role
    return wanted


def _actor(db: Session, user: User) -> Actor:
    """The user as they act when they leave by themselves: with their mentor profile, so the pairings they mentor in
    end with them."""
    profile_id = db.scalar(select(MentorProfile.id).where(MentorProfile.user_id == user.id))
    return Actor(user_id=user.id, is_admin=user.is_admin, mentor_profile_id=profile_id)


def apply(db: Session, provider_id: uuid.UUID, user: User, claims: dict[str, Any]) -> list[str]:
    """Enrol the user where the provider's rules hold and end what they enrolled where none holds any more; what
    changed, for the log."""
    rules = list(db.scalars(select(ProviderEnrolment).where(ProviderEnrolment.provider_id == provider_id)))
    changed: list[str] = []
    for programme_id, role in wanted_roles(rules, claims).items():
        row = db.scalar(select(ProgrammeParticipant).where(ProgrammeParticipant.programme_id == programme_id,
                                                           ProgrammeParticipant.user_id == user.id))
        active = row is not None and row.status == ParticipantStatus.ACTIVE
        try:
            if role is not None and not active:
                programme = db.get(Programme, programme_id)
                if programme is None:
                    continue
                with db.begin_nested():
                    joined = enrolment.join(db, programme, user.id, role,
                                            DEFAULT_CAPACITY if role == ParticipantRole.MENTOR else None,
                                            via=Via.SIGN_ON)
                    joined.enrolled_by_provider_id = provider_id
                    db.flush()
                changed.append(f"joined {programme_id} as {role.value}")
            elif role is None and active and row is not None and row.enrolled_by_provider_id == provider_id \
                    and told([rule for rule in rules if rule.programme_id == programme_id], claims):
                with db.begin_nested():
                    enrolment.leave(db, _actor(db, user), programme_id)
                changed.append(f"left {programme_id}")
        except DomainError as refused:
            log.info("sign_on.enrolment_passed_over", user_id=str(user.id), programme_id=str(programme_id),
                     reason=refused.message)
    return changed
