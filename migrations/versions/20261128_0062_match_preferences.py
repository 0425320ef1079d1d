"""a coordinator's word on a mentee and a mentor for the matcher: never pair them, or prefer them

Revision ID: 0062
Revises: 0061
Create Date: 2026-11-28 05:41:45
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0062'
down_revision: str | None = '0061'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        'match_preferences',
        sa.Column('programme_id', sa.Uuid(), nullable=False),
        sa.Column('mentee_participant_id', sa.Uuid(), nullable=False),
        sa.Column('mentor_participant_id', sa.Uuid(), nullable=False),
        sa.Column('kind', sa.Enum('never', 'prefer', name='preferencekind', native_enum=False, length=16),
                  nullable=False),
        sa.Column('created_by_user_id', sa.Uuid(), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
        sa.Column('id', sa.Uuid(), nullable=False),
        sa.CheckConstraint("kind IN ('never', 'prefer')", name=op.f('ck_match_preferences_kind_values')),
        sa.CheckConstraint('mentor_participant_id <> mentee_participant_id',
                           name=op.f('ck_match_preferences_two_people')),
        sa.ForeignKeyConstraint(['created_by_user_id'], ['users.id'],
                                name=op.f('fk_match_preferences_created_by_user_id_users'), ondelete='SET NULL'),
        sa.ForeignKeyConstraint(['mentee_participant_id'], ['programme_participants.id'],
                                name=op.f('fk_match_preferences_mentee_participant_id_programme_participants'),
                                ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['mentor_participant_id'], ['programme_participants.id'],
                                name=op.f('fk_match_preferences_mentor_participant_id_programme_participants'),
                                ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['programme_id'], ['programmes.id'],
                                name=op.f('fk_match_preferences_programme_id_programmes'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_match_preferences')),
    )
    op.create_index('uq_match_preferences_pair', 'match_preferences',
                    ['programme_id', 'mentee_participant_id', 'mentor_participant_id'], unique=True)


def downgrade() -> None:
    op.drop_index('uq_match_preferences_pair', table_name='match_preferences')
    op.drop_table('match_preferences')
