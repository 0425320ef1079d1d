"""Search (``workflows/mentors/search.py``) on real PostgreSQL with pg_trgm and fuzzystrmatch: prefixes, typos, names
and headlines found, ranked, and the trigram indexes able to serve the candidates."""

from __future__ import annotations

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from models import Listing
from tests.factories.accounts import UserFactory
from tests.factories.mentors import ListingFactory, MentorProfileFactory
from workflows.mentors import listings
from workflows.mentors import profiles as mentors
from workflows.mentors.profiles import ensure_skills


def titles(db: Session, q: str) -> list[str]:
    found = listings.list_listings(db, skill=None, mentor_profile_id=None, active=None, limit=20, cursor=None, q=q)
    assert found.next_cursor is None
    return [listing.title for listing in found.items]


def listing(db: Session, title: str, skill: str) -> Listing:
    (row,) = ensure_skills(db, [skill])
    return ListingFactory(title=title, skill=row)


def test_a_prefix_a_typo_and_a_title_word_find_listings_best_first(db: Session) -> None:
    listing(db, "Query tuning", "postgresql")
    listing(db, "Python code review", "python")
    listing(db, "Async pyhton patterns", "asyncio")
    listing(db, "Kubernetes basics", "devops")
    listing(db, "COBOL clinic", "cobol")
    assert titles(db, "postgres") == ["Query tuning"]
    assert titles(db, "Python") == ["Python code review"]  # not the title with the typo: its skill is asyncio
    assert titles(db, "pyhton") == ["Async pyhton patterns", "Python code review"]  # the title's exact word first
    assert titles(db, "kubernetes") == ["Kubernetes basics"]
    assert titles(db, "basics kubernetes") == ["Kubernetes basics"]
    assert titles(db, "haskell") == []
    assert titles(db, "%") == [] and titles(db, "_") == []  # LIKE's wildcards are plain characters here


def test_pyhton_is_below_pg_trgms_default_threshold_so_the_edit_distance_finds_it(db: Session) -> None:
    similarity, distance = db.execute(text(
        "SELECT similarity('pyhton', 'python'), levenshtein('pyhton', 'python')")).one()
    assert similarity < 0.3 and distance == 2
    listing(db, "Code review", "python")
    assert titles(db, "pyhton") == ["Code review"]
    assert titles(db, "pyt") == ["Code review"]  # a prefix of the skill
    assert titles(db, "pyx") == []  # three letters: no typo forgiven


def test_an_exact_skill_ranks_before_a_prefix_and_a_typo(db: Session) -> None:
    listing(db, "Typo", "pyton")
    listing(db, "Prefix", "python3")
    listing(db, "Exact", "python")
    assert titles(db, "python") == ["Exact", "Prefix", "Typo"]


def test_mentors_are_found_by_name_headline_or_skill_with_a_typo(db: Session) -> None:
    grace = MentorProfileFactory(user=UserFactory(display_name="Grace Hopper"), headline="Compilers and COBOL")
    grace.skills = ensure_skills(db, ["cobol"])
    ada = MentorProfileFactory(user=UserFactory(display_name="Ada Lovelace"), headline="Analytical engines")
    ada.skills = ensure_skills(db, ["python"])
    db.flush()

    def names(q: str) -> list[str]:
        page = mentors.list_mentor_profiles(db, skill=None, limit=20, cursor=None, q=q)
        return [profile.user.display_name for profile in page.items]

    assert names("grace") == ["Grace Hopper"]
    assert names("lovelace") == ["Ada Lovelace"]
    assert names("compilers") == ["Grace Hopper"]
    assert names("pyhton") == ["Ada Lovelace"]
    assert names("fortran") == []


def test_a_mentors_name_finds_their_listings_below_a_title_that_matches(db: Session) -> None:
    grace = MentorProfileFactory(user=UserFactory(display_name="Grace Hopper"))
    (cobol,) = ensure_skills(db, ["cobol"])
    ListingFactory(title="Punch cards", skill=cobol, mentor_profile=grace)
    ListingFactory(title="Compilers", skill=cobol, mentor_profile=grace)
    listing(db, "Grace notes in music", "music")
    assert titles(db, "grace")[0] == "Grace notes in music"  # the title's own words first
    assert sorted(titles(db, "grace")[1:]) == ["Compilers", "Punch cards"]
    assert sorted(titles(db, "hoper")) == ["Compilers", "Punch cards"]  # a typo in the name, as for mentors
    assert titles(db, "lovelace") == []


def test_the_trigram_indexes_can_serve_the_search(db: Session) -> None:
    listing(db, "Query tuning", "postgresql")
    db.execute(text("SET LOCAL enable_seqscan = off"))
    plan = "\n".join(db.scalars(text(
        "EXPLAIN SELECT id FROM listings WHERE title ILIKE '%tuning%' OR title %> 'tuning'")))
    assert "ix_listings_title_trgm" in plan, plan
    plan = "\n".join(db.scalars(text("EXPLAIN SELECT id FROM skills WHERE name % 'postgres' OR name LIKE 'postgres%'")))
    assert "ix_skills_name_trgm" in plan, plan
    assert db.scalar(select(Listing.title)) == "Query tuning"
