"""An intake question may be answered by the person's organisation's directory (SCIM's enterprise department or
manager) instead of by the person.

Revision ID: 0081
Revises: 0080
Create Date: 2026-11-29 12:00:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0081'
down_revision: str | None = '0080'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column('questions', sa.Column('directory', sa.String(length=16), nullable=True))
    op.create_check_constraint(op.f('ck_questions_directory_of_intake_text'), 'questions',
                               "directory IS NULL OR (directory IN ('department', 'manager') AND programme_id IS NOT "
                               "NULL AND kind = 'text')")


def downgrade() -> None:
    op.drop_constraint(op.f('ck_questions_directory_of_intake_text'), 'questions', type_='check')
    op.drop_column('questions', 'directory')
