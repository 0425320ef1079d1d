"""Skills (``workflows/skills.py``): one spelling each, made once however often and however concurrently it is named."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from models import Skill
from workflows import skills


def test_a_skill_is_known_by_its_lower_cased_single_spaced_name_and_made_once(db: Session) -> None:
    assert skills.normalise_skill("  Machine   LEARNING ") == "machine learning"
    first = skills.ensure_skills(db, ["Rust", " rust ", "", "Go"])
    again = skills.ensure_skills(db, ["RUST"])
    assert [s.name for s in first] == ["go", "rust"]
    assert again == [s for s in first if s.name == "rust"]
    assert db.scalars(select(Skill.name).where(Skill.name.in_(["rust", "go"])).order_by(Skill.name)).all() == [
        "go", "rust"]
