"""booking questions: a listing's questions to a mentee who books it, answered with the request

Revision ID: 0042
Revises: 0041
Create Date: 2026-11-26 10:30:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = '0042'
down_revision: str | None = '0041'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('questions',
    sa.Column('listing_id', sa.Uuid(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('kind', sa.Enum('text', 'single', 'multiple', 'scale', name='questionkind', native_enum=False, length=16), nullable=False),
    sa.Column('label', sa.String(length=200), nullable=False),
    sa.Column('options', postgresql.ARRAY(sa.String(length=100)), server_default='{}', nullable=False),
    sa.Column('required', sa.Boolean(), server_default='false', nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.CheckConstraint("(kind IN ('single', 'multiple')) = (cardinality(options) BETWEEN 2 AND 10)", name=op.f('ck_questions_options_for_choices')),
    sa.CheckConstraint("kind IN ('text', 'single', 'multiple', 'scale')", name=op.f('ck_questions_kind_values')),
    sa.CheckConstraint('length(label) BETWEEN 1 AND 200', name=op.f('ck_questions_label_length')),
    sa.CheckConstraint('position BETWEEN 0 AND 9', name=op.f('ck_questions_position_range')),
    sa.ForeignKeyConstraint(['listing_id'], ['listings.id'], name=op.f('fk_questions_listing_id_listings'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_questions'))
    )
    op.create_index('uq_questions_listing_position', 'questions', ['listing_id', 'position'], unique=True)
    # Requests made before answered no question.
    op.add_column('bookings', sa.Column('answers', postgresql.JSONB(astext_type=sa.Text()), server_default='[]',
                                        nullable=False))


def downgrade() -> None:
    # The answers given go with the questions.
    op.drop_column('bookings', 'answers')
    op.drop_index('uq_questions_listing_position', table_name='questions')
    op.drop_table('questions')
