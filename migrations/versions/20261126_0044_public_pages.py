"""public pages: a mentor may show their profile and listings to visitors; every listing gets a booking link's slug

Revision ID: 0044
Revises: 0043
Create Date: 2026-11-26 12:40:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = '0044'
down_revision: str | None = '0043'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Every mentor stays private until they choose otherwise; nobody's site may frame the pages.
    op.add_column('mentor_profiles', sa.Column('public', sa.Boolean(), server_default='false', nullable=False))
    op.add_column('mentor_profiles', sa.Column('embed_origins', postgresql.ARRAY(sa.String(length=200)),
                                               server_default='{}', nullable=False))
    op.create_check_constraint('embed_origins_count', 'mentor_profiles', 'cardinality(embed_origins) <= 5')
    # Existing listings get a slug from their title (its ASCII letters and digits) and a part of their id: unique.
    op.add_column('listings', sa.Column('slug', sa.String(length=80), nullable=True))
    op.execute("""
        UPDATE listings SET slug = concat_ws('-', nullif(left(trim(BOTH '-' FROM
            regexp_replace(lower(title), '[^a-z0-9]+', '-', 'g')), 60), ''), left(replace(id::text, '-', ''), 12))
    """)
    op.execute("UPDATE listings SET slug = regexp_replace(trim(BOTH '-' FROM slug), '-{2,}', '-', 'g')")
    op.alter_column('listings', 'slug', nullable=False)
    op.create_unique_constraint('uq_listings_slug', 'listings', ['slug'])
    op.create_check_constraint('slug_shape', 'listings',
                               "slug ~ '^[a-z0-9]+(-[a-z0-9]+)*$' AND length(slug) <= 80")


def downgrade() -> None:
    # Booking links stop working; every mentor is private again.
    op.drop_constraint('slug_shape', 'listings', type_='check')
    op.drop_constraint('uq_listings_slug', 'listings', type_='unique')
    op.drop_column('listings', 'slug')
    op.drop_constraint('embed_origins_count', 'mentor_profiles', type_='check')
    op.drop_column('mentor_profiles', 'embed_origins')
    op.drop_column('mentor_profiles', 'public')
