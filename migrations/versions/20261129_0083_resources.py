"""Libraries of resources (a programme's, the platform's), and the resources a plan's step suggests.

Revision ID: 0083
Revises: 0082
Create Date: 2026-11-29 14:00:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = '0083'
down_revision: str | None = '0082'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('resources',
    sa.Column('programme_id', sa.Uuid(), nullable=True),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('url', sa.String(length=2000), nullable=True),
    sa.Column('body', sa.Text(), nullable=True),
    sa.Column('tags', postgresql.ARRAY(sa.String(length=40)), server_default='{}', nullable=False),
    sa.Column('search', postgresql.TSVECTOR(), sa.Computed("to_tsvector('simple', title || ' ' || coalesce(body, ''))",
                                                           persisted=True), nullable=True),
    sa.Column('created_by_user_id', sa.Uuid(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.CheckConstraint('length(title) BETWEEN 1 AND 200', name=op.f('ck_resources_title_length')),
    sa.CheckConstraint('(url IS NULL) <> (body IS NULL)', name=op.f('ck_resources_link_or_document')),
    sa.CheckConstraint("url IS NULL OR (length(url) <= 2000 AND url ~* '^https?://')", name=op.f('ck_resources_url_web')),
    sa.CheckConstraint('body IS NULL OR length(body) BETWEEN 1 AND 20000', name=op.f('ck_resources_body_length')),
    sa.CheckConstraint('cardinality(tags) <= 10', name=op.f('ck_resources_tags_count')),
    sa.ForeignKeyConstraint(['programme_id'], ['programmes.id'], name=op.f('fk_resources_programme_id_programmes'),
                            ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['created_by_user_id'], ['users.id'], name=op.f('fk_resources_created_by_user_id_users'),
                            ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_resources')),
    )
    op.create_index('ix_resources_programme_title', 'resources', ['programme_id', 'title', 'id'])
    op.create_index('ix_resources_search', 'resources', ['search'], postgresql_using='gin')
    op.create_index('ix_resources_tags', 'resources', ['tags'], postgresql_using='gin')
    for table in ('plan_steps', 'pairing_steps'):
        op.add_column(table, sa.Column('resource_ids', postgresql.ARRAY(sa.Uuid()), server_default='{}',
                                       nullable=False))
        op.create_check_constraint(op.f(f'ck_{table}_resource_ids_count'), table, 'cardinality(resource_ids) <= 5')


def downgrade() -> None:
    for table in ('plan_steps', 'pairing_steps'):
        op.drop_constraint(op.f(f'ck_{table}_resource_ids_count'), table, type_='check')
        op.drop_column(table, 'resource_ids')
    op.drop_table('resources')
