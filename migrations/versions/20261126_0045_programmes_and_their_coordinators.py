"""programmes and their coordinators

Revision ID: 0045
Revises: 0044
Create Date: 2026-11-26 22:36:51.419588
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0045'
down_revision: str | None = '0044'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # A programme's coordinators run it: a role in that programme alone. Its status moves draft → enrolling →
    # running → closed (workflows.programmes); closed_at is set exactly when it is closed.
    op.create_table('programmes',
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('description', sa.Text(), server_default='', nullable=False),
    sa.Column('starts_on', sa.Date(), nullable=True),
    sa.Column('ends_on', sa.Date(), nullable=True),
    sa.Column('status', sa.Enum('draft', 'enrolling', 'running', 'closed', name='programmestatus', native_enum=False, length=16), nullable=False),
    sa.Column('cadence_weeks', sa.Integer(), server_default='1', nullable=False),
    sa.Column('session_minutes', sa.Integer(), server_default='60', nullable=False),
    sa.Column('session_count', sa.Integer(), server_default='12', nullable=False),
    sa.Column('mentees_book_outside', sa.Boolean(), server_default='true', nullable=False),
    sa.Column('created_by_user_id', sa.Uuid(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('closed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.CheckConstraint("(status = 'closed') = (closed_at IS NOT NULL)", name=op.f('ck_programmes_closed_at_when_closed')),
    sa.CheckConstraint("status IN ('draft', 'enrolling', 'running', 'closed')", name=op.f('ck_programmes_status_values')),
    sa.CheckConstraint('cadence_weeks IN (1, 2)', name=op.f('ck_programmes_cadence_values')),
    sa.CheckConstraint('ends_on IS NULL OR starts_on IS NULL OR ends_on >= starts_on', name=op.f('ck_programmes_dates_in_order')),
    sa.CheckConstraint('length(description) <= 4000', name=op.f('ck_programmes_description_length')),
    sa.CheckConstraint('length(name) BETWEEN 1 AND 120', name=op.f('ck_programmes_name_length')),
    sa.CheckConstraint('session_count BETWEEN 1 AND 26', name=op.f('ck_programmes_session_count_range')),
    sa.CheckConstraint('session_minutes BETWEEN 15 AND 240', name=op.f('ck_programmes_session_minutes_range')),
    sa.ForeignKeyConstraint(['created_by_user_id'], ['users.id'], name=op.f('fk_programmes_created_by_user_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_programmes'))
    )
    op.create_index('ix_programmes_status', 'programmes', ['status'], unique=False)
    op.create_table('programme_coordinators',
    sa.Column('programme_id', sa.Uuid(), nullable=False),
    sa.Column('user_id', sa.Uuid(), nullable=False),
    sa.Column('added_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.ForeignKeyConstraint(['programme_id'], ['programmes.id'], name=op.f('fk_programme_coordinators_programme_id_programmes'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_programme_coordinators_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('programme_id', 'user_id', name=op.f('pk_programme_coordinators'))
    )
    op.create_index('ix_programme_coordinators_user_id', 'programme_coordinators', ['user_id'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_programme_coordinators_user_id', table_name='programme_coordinators')
    op.drop_table('programme_coordinators')
    op.drop_index('ix_programmes_status', table_name='programmes')
    op.drop_table('programmes')
