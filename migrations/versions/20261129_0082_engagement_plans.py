"""A programme's engagement plan, and each pairing's copy of it.

Revision ID: 0082
Revises: 0081
Create Date: 2026-11-29 13:00:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = '0082'
down_revision: str | None = '0081'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _step_columns(table: str) -> list[sa.SchemaItem]:
    return [
        sa.Column('position', sa.SmallInteger(), nullable=False),
        sa.Column('anchor', sa.String(length=16), nullable=False),
        sa.Column('number', sa.SmallInteger(), nullable=False),
        sa.Column('title', sa.String(length=120), nullable=False),
        sa.Column('agenda', sa.Text(), server_default='', nullable=False),
        sa.Column('links', postgresql.JSONB(astext_type=sa.Text()), server_default='[]', nullable=False),
        sa.Column('id', sa.Uuid(), nullable=False),
        sa.CheckConstraint("anchor IN ('week', 'session')", name=op.f(f'ck_{table}_anchor_values')),
        sa.CheckConstraint("number BETWEEN 1 AND CASE WHEN anchor = 'week' THEN 104 ELSE 100 END",
                           name=op.f(f'ck_{table}_number_range')),
        sa.CheckConstraint('length(title) BETWEEN 1 AND 120', name=op.f(f'ck_{table}_title_length')),
        sa.CheckConstraint('length(agenda) <= 4000', name=op.f(f'ck_{table}_agenda_length')),
        sa.CheckConstraint('jsonb_array_length(links) <= 5', name=op.f(f'ck_{table}_links_count')),
        sa.CheckConstraint('position >= 0 AND position < 52', name=op.f(f'ck_{table}_position_range')),
        sa.PrimaryKeyConstraint('id', name=op.f(f'pk_{table}')),
    ]


def upgrade() -> None:
    op.add_column('programmes', sa.Column('plan_version', sa.Integer(), server_default='0', nullable=False))
    op.add_column('pairings', sa.Column('plan_version', sa.Integer(), nullable=True))
    op.create_table('plan_steps',
    sa.Column('programme_id', sa.Uuid(), nullable=False),
    *_step_columns('plan_steps'),
    sa.ForeignKeyConstraint(['programme_id'], ['programmes.id'], name=op.f('fk_plan_steps_programme_id_programmes'),
                            ondelete='CASCADE'),
    )
    op.create_index('uq_plan_steps_programme_position', 'plan_steps', ['programme_id', 'position'], unique=True)
    op.create_table('pairing_steps',
    sa.Column('pairing_id', sa.Uuid(), nullable=False),
    sa.Column('plan_step_id', sa.Uuid(), nullable=True),
    *_step_columns('pairing_steps'),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('done_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('done_by_user_id', sa.Uuid(), nullable=True),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint("status IN ('todo', 'done', 'skipped')", name=op.f('ck_pairing_steps_status_values')),
    sa.CheckConstraint("(status = 'todo') = (done_at IS NULL)", name=op.f('ck_pairing_steps_done_at_unless_todo')),
    sa.CheckConstraint('note IS NULL OR length(note) <= 1000', name=op.f('ck_pairing_steps_note_length')),
    sa.ForeignKeyConstraint(['pairing_id'], ['pairings.id'], name=op.f('fk_pairing_steps_pairing_id_pairings'),
                            ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['done_by_user_id'], ['users.id'], name=op.f('fk_pairing_steps_done_by_user_id_users'),
                            ondelete='SET NULL'),
    )
    op.create_index('ix_pairing_steps_pairing_position', 'pairing_steps', ['pairing_id', 'position'])
    op.create_index('ix_pairing_steps_plan_step', 'pairing_steps', ['plan_step_id'])


def downgrade() -> None:
    op.drop_table('pairing_steps')
    op.drop_table('plan_steps')
    op.drop_column('pairings', 'plan_version')
    op.drop_column('programmes', 'plan_version')
