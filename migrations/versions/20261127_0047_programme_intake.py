"""programme intake: forms, answers and mentees' weekly windows

Revision ID: 0047
Revises: 0046
Create Date: 2026-11-27 01:52:16.499298
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = '0047'
down_revision: str | None = '0046'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # A programme's intake: a form per audience (its mentors, its mentees) on the listings' question model, each
    # participation's answers, and a mentee's weekly windows in their own zone. A question has one owner.
    op.create_table('participant_availability',
    sa.Column('participant_id', sa.Uuid(), nullable=False),
    sa.Column('weekday', sa.Integer(), nullable=False),
    sa.Column('start_minute', sa.Integer(), nullable=False),
    sa.Column('end_minute', sa.Integer(), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.CheckConstraint('start_minute >= 0 AND end_minute <= 1440 AND start_minute < end_minute', name=op.f('ck_participant_availability_minutes_range')),
    sa.CheckConstraint('weekday BETWEEN 0 AND 6', name=op.f('ck_participant_availability_weekday_range')),
    sa.ForeignKeyConstraint(['participant_id'], ['programme_participants.id'], name=op.f('fk_participant_availability_participant_id_programme_participants'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_participant_availability')),
    sa.UniqueConstraint('participant_id', 'weekday', 'start_minute', name=op.f('uq_participant_availability_participant_id'))
    )
    op.add_column('programme_participants', sa.Column('intake_answers', postgresql.JSONB(astext_type=sa.Text()), nullable=True))
    op.add_column('programme_participants', sa.Column('intake_answered_at', sa.DateTime(timezone=True), nullable=True))
    op.add_column('programme_participants', sa.Column('timezone', sa.String(length=64), nullable=True))
    op.add_column('programmes', sa.Column('intake_open', sa.Boolean(), server_default='true', nullable=False))
    op.add_column('questions', sa.Column('programme_id', sa.Uuid(), nullable=True))
    op.add_column('questions', sa.Column('audience', sa.String(length=16), nullable=True))
    op.alter_column('questions', 'listing_id',
               existing_type=sa.UUID(),
               nullable=True)
    op.create_index('uq_questions_programme_position', 'questions', ['programme_id', 'audience', 'position'], unique=True, postgresql_where=sa.text('programme_id IS NOT NULL'))
    op.create_foreign_key(op.f('fk_questions_programme_id_programmes'), 'questions', 'programmes', ['programme_id'], ['id'], ondelete='CASCADE')
    op.drop_constraint(op.f('ck_questions_position_range'), 'questions', type_='check')
    op.create_check_constraint(op.f('ck_questions_position_range'), 'questions',
                               'position >= 0 AND position < CASE WHEN listing_id IS NULL THEN 30 ELSE 10 END')
    op.create_check_constraint(op.f('ck_questions_one_owner'), 'questions',
                               '(listing_id IS NULL) <> (programme_id IS NULL)')
    op.create_check_constraint(op.f('ck_questions_audience_of_programmes'), 'questions',
                               "(programme_id IS NULL) = (audience IS NULL) AND (audience IS NULL OR audience IN "
                               "('mentor', 'mentee'))")


def downgrade() -> None:
    op.execute("DELETE FROM questions WHERE programme_id IS NOT NULL")
    op.drop_constraint(op.f('ck_questions_audience_of_programmes'), 'questions', type_='check')
    op.drop_constraint(op.f('ck_questions_one_owner'), 'questions', type_='check')
    op.drop_constraint(op.f('ck_questions_position_range'), 'questions', type_='check')
    op.create_check_constraint(op.f('ck_questions_position_range'), 'questions', 'position BETWEEN 0 AND 9')
    op.drop_constraint(op.f('fk_questions_programme_id_programmes'), 'questions', type_='foreignkey')
    op.drop_index('uq_questions_programme_position', table_name='questions', postgresql_where=sa.text('programme_id IS NOT NULL'))
    op.alter_column('questions', 'listing_id',
               existing_type=sa.UUID(),
               nullable=False)
    op.drop_column('questions', 'audience')
    op.drop_column('questions', 'programme_id')
    op.drop_column('programmes', 'intake_open')
    op.drop_column('programme_participants', 'timezone')
    op.drop_column('programme_participants', 'intake_answered_at')
    op.drop_column('programme_participants', 'intake_answers')
    op.drop_table('participant_availability')
