"""calendar leases: connects, syncs and writes talk to a server outside any transaction, under a lease

Revision ID: 0036
Revises: 0035
Create Date: 2026-11-25 17:30:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0036'
down_revision: str | None = '0035'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.alter_column('calendar_connections', 'status', type_=sa.String(length=16), existing_type=sa.String(length=8),
                    existing_nullable=False, existing_server_default='active')
    op.drop_constraint(op.f('ck_calendar_connections_status_values'), 'calendar_connections', type_='check')
    op.create_check_constraint(op.f('ck_calendar_connections_status_values'), 'calendar_connections',
                               "status IN ('connecting', 'active', 'broken')")
    op.add_column('calendar_connections', sa.Column('sync_lease_id', sa.Uuid(), nullable=True))
    op.add_column('calendar_connections', sa.Column('sync_leased_until', sa.DateTime(timezone=True), nullable=True))
    op.add_column('calendar_connections', sa.Column('sync_requested_at', sa.DateTime(timezone=True), nullable=True))
    op.create_index('uq_calendar_connections_connecting', 'calendar_connections', ['mentor_profile_id'], unique=True,
                    postgresql_where=sa.text("status = 'connecting'"))
    op.add_column('calendar_writes', sa.Column('sending_until', sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    op.drop_column('calendar_writes', 'sending_until')
    op.drop_index('uq_calendar_connections_connecting', table_name='calendar_connections',
                  postgresql_where=sa.text("status = 'connecting'"))
    op.drop_column('calendar_connections', 'sync_requested_at')
    op.drop_column('calendar_connections', 'sync_leased_until')
    op.drop_column('calendar_connections', 'sync_lease_id')
    op.execute("DELETE FROM calendar_connections WHERE status = 'connecting'")
    op.drop_constraint(op.f('ck_calendar_connections_status_values'), 'calendar_connections', type_='check')
    op.create_check_constraint(op.f('ck_calendar_connections_status_values'), 'calendar_connections',
                               "status IN ('active', 'broken')")
    op.alter_column('calendar_connections', 'status', type_=sa.String(length=8), existing_type=sa.String(length=16),
                    existing_nullable=False, existing_server_default='active')
