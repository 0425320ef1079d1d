"""search: pg_trgm and fuzzystrmatch, and trigram indexes on what is searched

Revision ID: 0027
Revises: 0026
Create Date: 2026-11-25 00:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = '0027'
down_revision: str | None = '0026'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Both ship with PostgreSQL (contrib) and are trusted: a database's owner may create them.
EXTENSIONS = ("pg_trgm", "fuzzystrmatch")
INDEXES = (
    ("ix_listings_title_trgm", "listings", "title"),
    ("ix_skills_name_trgm", "skills", "name"),
    ("ix_mentor_profiles_headline_trgm", "mentor_profiles", "headline"),
    ("ix_users_display_name_trgm", "users", "display_name"),
)


def upgrade() -> None:
    for extension in EXTENSIONS:
        op.execute(f"CREATE EXTENSION IF NOT EXISTS {extension}")
    for name, table, column in INDEXES:
        op.create_index(name, table, [column], postgresql_using="gin", postgresql_ops={column: "gin_trgm_ops"})


def downgrade() -> None:
    for name, table, _column in INDEXES:
        op.drop_index(name, table_name=table)
    for extension in reversed(EXTENSIONS):
        op.execute(f"DROP EXTENSION IF EXISTS {extension}")
