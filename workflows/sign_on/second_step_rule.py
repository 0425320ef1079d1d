"""Where an admin requires a second step of password accounts: every one, or those of some email domains
(``workflows.accounts.second_steps`` asks it at sign-in). Beside the providers' own rules: a domain is written as
theirs are."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from models import SecondStepRequirement
from models.accounts.second_steps import EVERY_DOMAIN
from workflows.access import record_admin_action, require_admin
from workflows.accounts.second_steps import MAX_REQUIRED_DOMAINS
from workflows.actors import Actor
from workflows.errors import InvalidInput
from workflows.sign_on.providers import normalise_domain


@dataclass(frozen=True)
class Rule:
    every_account: bool
    domains: list[str]


def rule(db: Session) -> Rule:
    domains = sorted(db.scalars(select(SecondStepRequirement.domain)))
    return Rule(EVERY_DOMAIN in domains, [domain for domain in domains if domain != EVERY_DOMAIN])


def set_rule(db: Session, actor: Actor, *, every_account: bool, domains: list[str]) -> Rule:
    """Require a second step of every password account, or of those of some email domains (admins). People who have
    none set one up at their next password sign-in; their sign-ins so far go on."""
    require_admin(actor)
    if len(domains) > MAX_REQUIRED_DOMAINS:
        raise InvalidInput("at most {count} domains", words={"count": MAX_REQUIRED_DOMAINS}, field="domains")
    wanted = {normalise_domain(domain) for domain in domains} | ({EVERY_DOMAIN} if every_account else set())
    db.execute(delete(SecondStepRequirement).where(SecondStepRequirement.domain.not_in(wanted or {""})))
    have = set(db.scalars(select(SecondStepRequirement.domain)))
    db.add_all(SecondStepRequirement(domain=domain, created_by=actor.user_id) for domain in sorted(wanted - have))
    db.flush()
    now = rule(db)
    said = ", ".join((["every account"] if now.every_account else []) + now.domains) or "none"
    record_admin_action(db, actor, SECOND_STEP_RULE_SET, "platform", PLATFORM, reason=f"required of: {said}"[:500])
    return now


# The admin trail's record of a change of the rule: the platform is its target.
SECOND_STEP_RULE_SET = "second_step.rule_set"
PLATFORM = uuid.UUID(int=0)
