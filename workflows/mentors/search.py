"""Search: listings and mentors found by what a mentee types, ranked, by PostgreSQL itself.

Words match a skill, a listing's title or its mentor's name, or a mentor's name or headline: exactly,
by prefix ("postgres" finds "postgresql"), anywhere in a title or name, or by trigram similarity
(``pg_trgm``) for typos. A skill also matches within ``MAX_EDITS`` edits (``fuzzystrmatch``'s
Levenshtein distance): "pyhton" and "python" are two edits apart, but their trigram similarity, 0.27,
is below pg_trgm's default threshold of 0.3. GIN trigram indexes (migration 0027) find the candidates;
the rank orders them: an exact skill first, then a skill's prefix, a title or name containing the
words, then the closest by similarity.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, Float, Select, case, cast, func, literal, or_, select, text
from sqlalchemy.orm import Session

from models import Listing, MentorProfile, Skill, User, mentor_profile_skills

MAX_QUERY_LENGTH = 100
SKILL_SIMILARITY = 0.25  # pg_trgm's `%` for skill names (its default, 0.3, misses "pyhton" for "python")
WORD_SIMILARITY = 0.5  # pg_trgm's `%>` for titles, names and headlines: the words as a part of the text
EXACT, PREFIX, CONTAINED, CLOSE = 1.0, 0.9, 0.8, 0.7


def normalise(q: str) -> str:
    """Lower case, single spaces, at most ``MAX_QUERY_LENGTH`` characters."""
    return " ".join(q.lower().split())[:MAX_QUERY_LENGTH]


# Typos forgiven in a skill, by the length of the words: none up to 3 letters, one up to 5, then two.
EDITS_BY_LENGTH = ((3, 0), (5, 1))
MAX_EDITS = 2


def max_edits(q: str) -> int:
    return next((edits for longest, edits in EDITS_BY_LENGTH if len(q) <= longest), MAX_EDITS)


def _escaped(q: str) -> str:
    return q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _thresholds(db: Session) -> None:
    """The similarity thresholds of pg_trgm's operators, for this transaction only."""
    db.execute(text("SELECT set_config('pg_trgm.similarity_threshold', :skill, true), "
                    "set_config('pg_trgm.word_similarity_threshold', :word, true)"),
               {"skill": str(SKILL_SIMILARITY), "word": str(WORD_SIMILARITY)})


def _skills(q: str) -> Any:
    """The skills matching ``q``, each with its score."""
    distance = func.levenshtein(Skill.name, q)
    score = func.greatest(
        case((Skill.name == q, EXACT), else_=0.0),
        case((Skill.name.like(f"{_escaped(q)}%"), PREFIX), else_=0.0),
        case((distance <= max_edits(q), CLOSE - 0.05 * distance), else_=0.0),
        cast(func.similarity(Skill.name, q), Float),
    )
    return (select(Skill.id, score.label("score"))
            .where(or_(Skill.name.op("%")(q), Skill.name.like(f"{_escaped(q)}%"), distance <= max_edits(q)))
            .subquery("matching_skills"))


def _text_score(column: Any, q: str) -> ColumnElement[float]:
    return func.greatest(case((column.ilike(f"%{_escaped(q)}%"), CONTAINED), else_=0.0),
                         cast(func.word_similarity(q, column), Float))


def _text_matches(column: Any, q: str) -> ColumnElement[bool]:
    return or_(column.ilike(f"%{_escaped(q)}%"), column.op("%>")(q))


def _mentor_named(q: str) -> tuple[ColumnElement[float], ColumnElement[bool]]:
    """The score of a listing's mentor's name for ``q``, and whether it matches."""
    whose = MentorProfile.id == Listing.mentor_profile_id
    name = select(User.display_name).join(MentorProfile, MentorProfile.user_id == User.id).where(whose)
    named = (select(User.id).join(MentorProfile, MentorProfile.user_id == User.id)
             .where(whose, _text_matches(User.display_name, q)).exists())
    return _text_score(name.scalar_subquery(), q), named


def rank_listings(db: Session, query: Select[Any], q: str, *, limit: int) -> list[Listing]:
    """The best ``limit`` listings of ``query`` for ``q`` (a skill, their title or their mentor's name), best first
    (newest first among equals); a title's match ranks above the same match of the mentor's name."""
    q = normalise(q)
    _thresholds(db)
    skills = _skills(q)
    name_score, named = _mentor_named(q)
    rank = func.greatest(func.coalesce(skills.c.score, 0.0), _text_score(Listing.title, q), name_score - literal(0.05))
    ranked = (query.add_columns(rank.label("rank")).outerjoin(skills, skills.c.id == Listing.skill_id)
              .where(or_(skills.c.id.is_not(None), _text_matches(Listing.title, q), named))
              .order_by(rank.desc(), Listing.created_at.desc(), Listing.id).limit(limit))
    return [row[0] for row in db.execute(ranked)]


def rank_mentors(db: Session, query: Select[Any], q: str, *, limit: int) -> list[MentorProfile]:
    """The best ``limit`` mentor profiles of ``query`` for ``q`` (a skill, their name or headline), best first."""
    q = normalise(q)
    _thresholds(db)
    skills = _skills(q)
    by_skill = (select(mentor_profile_skills.c.mentor_profile_id.label("id"), func.max(skills.c.score).label("score"))
                .join(skills, skills.c.id == mentor_profile_skills.c.skill_id)
                .group_by(mentor_profile_skills.c.mentor_profile_id).subquery("by_skill"))
    person = select(User.display_name).where(User.id == MentorProfile.user_id).scalar_subquery()
    rank = func.greatest(func.coalesce(by_skill.c.score, 0.0), _text_score(person, q),
                         _text_score(MentorProfile.headline, q) - literal(0.05))
    named = select(User.id).where(User.id == MentorProfile.user_id, _text_matches(User.display_name, q)).exists()
    ranked = (query.add_columns(rank.label("rank")).outerjoin(by_skill, by_skill.c.id == MentorProfile.id)
              .where(or_(by_skill.c.id.is_not(None), named, _text_matches(MentorProfile.headline, q)))
              .order_by(rank.desc(), MentorProfile.created_at.desc(), MentorProfile.id).limit(limit))
    return [row[0] for row in db.execute(ranked)]
