"""matching: programmes' pairing mode and matcher settings; match runs, draft pairings and candidates

Revision ID: 0050
Revises: 0049
Create Date: 2026-11-27 06:08:50.342301
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = '0050'
down_revision: str | None = '0049'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('match_runs',
    sa.Column('programme_id', sa.Uuid(), nullable=False),
    sa.Column('status', sa.Enum('queued', 'running', 'done', 'failed', 'cancelled', name='matchrunstatus', native_enum=False, length=16), nullable=False),
    sa.Column('requested_by_user_id', sa.Uuid(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('progress', sa.SmallInteger(), server_default='0', nullable=False),
    sa.Column('stage', sa.String(length=64), server_default='queued', nullable=False),
    sa.Column('cancel_requested', sa.Boolean(), server_default='false', nullable=False),
    sa.Column('attempts', sa.SmallInteger(), server_default='0', nullable=False),
    sa.Column('inputs_digest', sa.String(length=64), nullable=True),
    sa.Column('inputs', postgresql.JSONB(astext_type=sa.Text()), nullable=True),
    sa.Column('result', postgresql.JSONB(astext_type=sa.Text()), nullable=True),
    sa.Column('error', sa.Text(), nullable=True),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.CheckConstraint("(status IN ('done', 'failed', 'cancelled')) = (finished_at IS NOT NULL)", name=op.f('ck_match_runs_finished_when_over')),
    sa.CheckConstraint("status IN ('queued', 'running', 'done', 'failed', 'cancelled')", name=op.f('ck_match_runs_status_values')),
    sa.CheckConstraint('progress BETWEEN 0 AND 100', name=op.f('ck_match_runs_progress_range')),
    sa.ForeignKeyConstraint(['programme_id'], ['programmes.id'], name=op.f('fk_match_runs_programme_id_programmes'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['requested_by_user_id'], ['users.id'], name=op.f('fk_match_runs_requested_by_user_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_match_runs'))
    )
    op.create_index('ix_match_runs_busy', 'match_runs', ['created_at'], unique=False, postgresql_where=sa.text("status IN ('queued', 'running')"))
    op.create_index('ix_match_runs_programme_created', 'match_runs', ['programme_id', 'created_at', 'id'], unique=False)
    op.create_index('uq_match_runs_programme_busy', 'match_runs', ['programme_id'], unique=True, postgresql_where=sa.text("status IN ('queued', 'running')"))
    op.create_table('match_candidates',
    sa.Column('run_id', sa.Uuid(), nullable=False),
    sa.Column('mentee_participant_id', sa.Uuid(), nullable=False),
    sa.Column('rank', sa.SmallInteger(), nullable=False),
    sa.Column('mentor_participant_id', sa.Uuid(), nullable=False),
    sa.Column('score', sa.Float(), nullable=False),
    sa.Column('reasons', postgresql.JSONB(astext_type=sa.Text()), server_default='[]', nullable=False),
    sa.CheckConstraint('rank BETWEEN 1 AND 10', name=op.f('ck_match_candidates_rank_range')),
    sa.ForeignKeyConstraint(['mentee_participant_id'], ['programme_participants.id'], name=op.f('fk_match_candidates_mentee_participant_id_programme_participants'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['mentor_participant_id'], ['programme_participants.id'], name=op.f('fk_match_candidates_mentor_participant_id_programme_participants'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['run_id'], ['match_runs.id'], name=op.f('fk_match_candidates_run_id_match_runs'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('run_id', 'mentee_participant_id', 'rank', name=op.f('pk_match_candidates'))
    )
    op.create_index('ix_match_candidates_mentor', 'match_candidates', ['run_id', 'mentor_participant_id'], unique=False)
    op.create_table('match_drafts',
    sa.Column('programme_id', sa.Uuid(), nullable=False),
    sa.Column('run_id', sa.Uuid(), nullable=True),
    sa.Column('mentor_participant_id', sa.Uuid(), nullable=False),
    sa.Column('mentee_participant_id', sa.Uuid(), nullable=False),
    sa.Column('score', sa.Float(), nullable=False),
    sa.Column('reasons', postgresql.JSONB(astext_type=sa.Text()), server_default='[]', nullable=False),
    sa.Column('pinned', sa.Boolean(), server_default='false', nullable=False),
    sa.Column('first_start', sa.DateTime(timezone=True), nullable=True),
    sa.Column('status', sa.Enum('draft', 'publishing', 'failed', name='draftstatus', native_enum=False, length=16), nullable=False),
    sa.Column('problem', sa.Text(), nullable=True),
    sa.Column('published_by_user_id', sa.Uuid(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.CheckConstraint("status IN ('draft', 'publishing', 'failed')", name=op.f('ck_match_drafts_status_values')),
    sa.CheckConstraint('mentor_participant_id <> mentee_participant_id', name=op.f('ck_match_drafts_two_people')),
    sa.ForeignKeyConstraint(['mentee_participant_id'], ['programme_participants.id'], name=op.f('fk_match_drafts_mentee_participant_id_programme_participants'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['mentor_participant_id'], ['programme_participants.id'], name=op.f('fk_match_drafts_mentor_participant_id_programme_participants'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['programme_id'], ['programmes.id'], name=op.f('fk_match_drafts_programme_id_programmes'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['published_by_user_id'], ['users.id'], name=op.f('fk_match_drafts_published_by_user_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['run_id'], ['match_runs.id'], name=op.f('fk_match_drafts_run_id_match_runs'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_match_drafts'))
    )
    op.create_index('ix_match_drafts_programme_score', 'match_drafts', ['programme_id', 'score', 'id'], unique=False)
    op.create_index('ix_match_drafts_publishing', 'match_drafts', ['programme_id'], unique=False, postgresql_where=sa.text("status = 'publishing'"))
    op.create_index('uq_match_drafts_programme_mentee', 'match_drafts', ['programme_id', 'mentee_participant_id'], unique=True)
    op.add_column('programmes', sa.Column('pairing_mode', sa.Enum('coordinator', 'mentee_choice', 'manual', name='pairingmode', native_enum=False, length=16), server_default='coordinator', nullable=False))
    op.add_column('programmes', sa.Column('matching', postgresql.JSONB(astext_type=sa.Text()), server_default='{}', nullable=False))
    op.create_check_constraint(op.f('ck_programmes_pairing_mode_values'), 'programmes',
                               "pairing_mode IN ('coordinator', 'mentee_choice', 'manual')")


def downgrade() -> None:
    op.drop_constraint(op.f('ck_programmes_pairing_mode_values'), 'programmes', type_='check')
    op.drop_column('programmes', 'matching')
    op.drop_column('programmes', 'pairing_mode')
    op.drop_index('uq_match_drafts_programme_mentee', table_name='match_drafts')
    op.drop_index('ix_match_drafts_publishing', table_name='match_drafts', postgresql_where=sa.text("status = 'publishing'"))
    op.drop_index('ix_match_drafts_programme_score', table_name='match_drafts')
    op.drop_table('match_drafts')
    op.drop_index('ix_match_candidates_mentor', table_name='match_candidates')
    op.drop_table('match_candidates')
    op.drop_index('uq_match_runs_programme_busy', table_name='match_runs', postgresql_where=sa.text("status IN ('queued', 'running')"))
    op.drop_index('ix_match_runs_programme_created', table_name='match_runs')
    op.drop_index('ix_match_runs_busy', table_name='match_runs', postgresql_where=sa.text("status IN ('queued', 'running')"))
    op.drop_table('match_runs')
