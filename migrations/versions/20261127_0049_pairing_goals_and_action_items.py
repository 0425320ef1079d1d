"""pairing goals and action items

Revision ID: 0049
Revises: 0048
Create Date: 2026-11-27 02:19:18.836682
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = '0049'
down_revision: str | None = '0048'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # A pairing's goals (a few milestones each), its action items (each with its owner, and the session that raised
    # it), and the goal a session works towards. workflows.programmes.goals.
    op.create_table('pairing_goals',
    sa.Column('pairing_id', sa.Uuid(), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('target_date', sa.Date(), nullable=True),
    sa.Column('status', sa.Enum('open', 'done', 'dropped', name='goalstatus', native_enum=False, length=16), nullable=False),
    sa.Column('milestones', postgresql.JSONB(astext_type=sa.Text()), server_default='[]', nullable=False),
    sa.Column('created_by_user_id', sa.Uuid(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('done_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.CheckConstraint("(status = 'done') = (done_at IS NOT NULL)", name=op.f('ck_pairing_goals_done_at_when_done')),
    sa.CheckConstraint("status IN ('open', 'done', 'dropped')", name=op.f('ck_pairing_goals_status_values')),
    sa.CheckConstraint('jsonb_array_length(milestones) <= 10', name=op.f('ck_pairing_goals_milestones_count')),
    sa.CheckConstraint('length(title) BETWEEN 1 AND 200', name=op.f('ck_pairing_goals_title_length')),
    sa.ForeignKeyConstraint(['created_by_user_id'], ['users.id'], name=op.f('fk_pairing_goals_created_by_user_id_users'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['pairing_id'], ['pairings.id'], name=op.f('fk_pairing_goals_pairing_id_pairings'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_pairing_goals'))
    )
    op.create_index('ix_pairing_goals_pairing_created', 'pairing_goals', ['pairing_id', 'created_at'], unique=False)
    op.create_table('action_items',
    sa.Column('pairing_id', sa.Uuid(), nullable=False),
    sa.Column('title', sa.String(length=300), nullable=False),
    sa.Column('owner_user_id', sa.Uuid(), nullable=False),
    sa.Column('session_id', sa.Uuid(), nullable=True),
    sa.Column('goal_id', sa.Uuid(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('done_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.CheckConstraint('length(title) BETWEEN 1 AND 300', name=op.f('ck_action_items_title_length')),
    sa.ForeignKeyConstraint(['goal_id'], ['pairing_goals.id'], name=op.f('fk_action_items_goal_id_pairing_goals'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['owner_user_id'], ['users.id'], name=op.f('fk_action_items_owner_user_id_users'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['pairing_id'], ['pairings.id'], name=op.f('fk_action_items_pairing_id_pairings'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['session_id'], ['sessions.id'], name=op.f('fk_action_items_session_id_sessions'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_action_items'))
    )
    op.create_index('ix_action_items_pairing_open', 'action_items', ['pairing_id', 'created_at'], unique=False)
    op.create_index('ix_action_items_session_id', 'action_items', ['session_id'], unique=False)
    op.create_table('session_goals',
    sa.Column('session_id', sa.Uuid(), nullable=False),
    sa.Column('goal_id', sa.Uuid(), nullable=False),
    sa.ForeignKeyConstraint(['goal_id'], ['pairing_goals.id'], name=op.f('fk_session_goals_goal_id_pairing_goals'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['session_id'], ['sessions.id'], name=op.f('fk_session_goals_session_id_sessions'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('session_id', name=op.f('pk_session_goals'))
    )
    op.create_index('ix_session_goals_goal_id', 'session_goals', ['goal_id'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_session_goals_goal_id', table_name='session_goals')
    op.drop_table('session_goals')
    op.drop_index('ix_action_items_session_id', table_name='action_items')
    op.drop_index('ix_action_items_pairing_open', table_name='action_items')
    op.drop_table('action_items')
    op.drop_index('ix_pairing_goals_pairing_created', table_name='pairing_goals')
    op.drop_table('pairing_goals')
