"""Nudges: a programme's reminder of a first session not booked (a pairing active with no session).

Revision ID: 0073
Revises: 0072
Create Date: 2026-11-28 16:00:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = '0073'
down_revision: str | None = '0072'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLES = ('programme_nudges', 'nudges_sent')


def upgrade() -> None:
    for table in TABLES:
        op.drop_constraint(op.f(f'ck_{table}_step_values'), table, type_='check')
        op.create_check_constraint(op.f(f'ck_{table}_step_values'), table,
                                   "step IN ('invitation', 'intake', 'pairing', 'first_session')")


def downgrade() -> None:
    op.execute("DELETE FROM programme_nudges WHERE step = 'first_session'")
    op.execute("DELETE FROM nudges_sent WHERE step = 'first_session'")
    for table in TABLES:
        op.drop_constraint(op.f(f'ck_{table}_step_values'), table, type_='check')
        op.create_check_constraint(op.f(f'ck_{table}_step_values'), table,
                                   "step IN ('invitation', 'intake', 'pairing')")
