"""subscription addresses sealed: a secret iCalendar address is kept in the connection's sealed credentials only

A subscription's ``calendar_sources.href`` held its full address (Google's and Outlook's "secret address") in the
clear; the credentials always held it sealed too. It becomes the placeholder ``sealed``.

Revision ID: 0037
Revises: 0036
Create Date: 2026-11-25 18:00:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = '0037'
down_revision: str | None = '0036'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.execute("UPDATE calendar_sources s SET href = 'sealed' FROM calendar_connections c "
               "WHERE s.connection_id = c.id AND c.kind = 'ics' AND s.href <> 'sealed'")


def downgrade() -> None:
    # The addresses stay sealed: the code before this revision reads a subscription from its credentials too.
    pass
