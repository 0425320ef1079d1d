"""webhook endpoints: a failure record that re-enabling keeps, a backoff of their own, the owner's recent retries

``consecutive_failures`` and ``backoff_until`` space out the attempts of an endpoint that keeps failing;
``last_disabled_at`` and ``last_disabled_reason`` stay when it is enabled again; ``recent_retries_at``
rate-limits manual retries. Endpoints failing now start with their failed attempts since ``failing_since``
(at least one), and disabled ones with their reason, as of their last change.

Revision ID: 0025
Revises: 0024
Create Date: 2026-11-24 21:42:35.019648
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = '0025'
down_revision: str | None = '0024'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column('webhook_endpoints', sa.Column('last_disabled_at', sa.DateTime(timezone=True), nullable=True))
    op.add_column('webhook_endpoints', sa.Column('last_disabled_reason', sa.Text(), nullable=True))
    op.add_column('webhook_endpoints', sa.Column('consecutive_failures', sa.Integer(), server_default='0',
                                                 nullable=False))
    op.add_column('webhook_endpoints', sa.Column('backoff_until', sa.DateTime(timezone=True), nullable=True))
    op.add_column('webhook_endpoints', sa.Column('recent_retries_at', postgresql.ARRAY(sa.DateTime(timezone=True)),
                                                 server_default='{}', nullable=False))
    op.create_check_constraint('consecutive_failures_non_negative', 'webhook_endpoints', 'consecutive_failures >= 0')
    op.execute("""
        UPDATE webhook_endpoints AS e SET consecutive_failures = GREATEST(1, (
            SELECT count(*) FROM webhook_messages AS m JOIN webhook_attempts AS a ON a.message_id = m.id
            WHERE m.endpoint_id = e.id AND a.attempted_at >= e.failing_since))
        WHERE e.failing_since IS NOT NULL
    """)
    op.execute("""
        UPDATE webhook_endpoints SET last_disabled_at = updated_at, last_disabled_reason = disabled_reason
        WHERE NOT enabled
    """)


def downgrade() -> None:
    op.drop_constraint('consecutive_failures_non_negative', 'webhook_endpoints', type_='check')
    op.drop_column('webhook_endpoints', 'recent_retries_at')
    op.drop_column('webhook_endpoints', 'backoff_until')
    op.drop_column('webhook_endpoints', 'consecutive_failures')
    op.drop_column('webhook_endpoints', 'last_disabled_reason')
    op.drop_column('webhook_endpoints', 'last_disabled_at')
