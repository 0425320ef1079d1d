"""Revision 0044 gives every existing listing a booking link's slug (its title's ASCII words and a part of its id:
valid and unique whatever the title) and keeps every mentor private. On a database of this test's own, dropped
after."""

from __future__ import annotations

import re
import uuid

from alembic import command
from sqlalchemy import text

from models.mentors.listings import SLUG_PATTERN
from tests.conftest import alembic_config
from tests.database import scratch_database

TITLES = ("Code review", "Code review", "!!!", "Système design — " + "très " * 30 + "long", "日本語の相談", "a--b")


def test_revision_0044_gives_each_existing_listing_a_valid_unique_slug() -> None:
    with scratch_database("0043") as (url, engine):
        user, profile, skill = (uuid.uuid4() for _ in range(3))
        with engine.begin() as conn:
            conn.execute(text("INSERT INTO users (id, email, password_hash, display_name) "
                              "VALUES (:id, 'm@example.com', 'x', 'M')"), {"id": user})
            conn.execute(text("INSERT INTO mentor_profiles (id, user_id, headline, timezone) "
                              "VALUES (:id, :user, 'h', 'UTC')"), {"id": profile, "user": user})
            conn.execute(text("INSERT INTO skills (id, name) VALUES (:id, 'python')"), {"id": skill})
            for title in TITLES:
                conn.execute(text("INSERT INTO listings (id, mentor_profile_id, skill_id, title, duration_minutes, "
                                  "price_cents, currency, kind) VALUES (:id, :profile, :skill, :title, 60, 0, 'EUR', "
                                  "'individual')"),
                             {"id": uuid.uuid4(), "profile": profile, "skill": skill, "title": title})
        command.upgrade(alembic_config(url), "0044")
        with engine.connect() as conn:
            slugs = dict(conn.execute(text("SELECT slug, title FROM listings")).all())
            public = conn.execute(text("SELECT public, embed_origins FROM mentor_profiles")).one()
    assert len(slugs) == len(TITLES)  # unique, two listings of one title included
    assert all(re.fullmatch(SLUG_PATTERN.strip("^$"), slug) and len(slug) <= 80 for slug in slugs), slugs
    assert sum(slug.startswith("code-review-") for slug in slugs) == 2
    assert any(slug.startswith("syst-me-design-tr-s-") for slug in slugs), slugs
    assert tuple(public) == (False, [])
