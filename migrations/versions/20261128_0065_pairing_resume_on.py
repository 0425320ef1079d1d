"""a paused pairing's day to resume: the system resumes it that day

Revision ID: 0065
Revises: 0064
Create Date: 2026-11-28 08:31:44
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0065'
down_revision: str | None = '0064'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column('pairings', sa.Column('resume_on', sa.Date(), nullable=True))
    op.create_check_constraint(op.f('ck_pairings_resume_on_when_paused'), 'pairings',
                               "resume_on IS NULL OR status = 'paused'")
    op.create_index('ix_pairings_resume_on', 'pairings', ['resume_on'], unique=False,
                    postgresql_where=sa.text('resume_on IS NOT NULL'))


def downgrade() -> None:
    op.drop_index('ix_pairings_resume_on', table_name='pairings', postgresql_where=sa.text('resume_on IS NOT NULL'))
    op.drop_constraint(op.f('ck_pairings_resume_on_when_paused'), 'pairings', type_='check')
    op.drop_column('pairings', 'resume_on')
