"""Skills: one spelling each (trimmed, lower case, single spaces), created on first use by a profile, a listing
or a group session, and matched by that spelling."""

from __future__ import annotations

import uuid
from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from models import Skill


def normalise_skill(name: str) -> str:
    return " ".join(name.strip().lower().split())


def ensure_skills(db: Session, names: Iterable[str]) -> list[Skill]:
    """Get or create skills by name; safe under concurrent creation of the same name."""
    wanted = sorted({normalise_skill(n) for n in names if normalise_skill(n)})
    if not wanted:
        return []
    db.execute(
        insert(Skill)
        .values([{"id": uuid.uuid4(), "name": name} for name in wanted])
        .on_conflict_do_nothing(index_elements=[Skill.name])
    )
    return list(db.execute(select(Skill).where(Skill.name.in_(wanted)).order_by(Skill.name)).scalars())
