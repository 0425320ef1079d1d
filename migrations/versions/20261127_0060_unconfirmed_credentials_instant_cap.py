"""what an unconfirmed account made (calendar feeds, webhook endpoints) is marked, and ends when the address's owner
proves it; a listing's cap of one mentee's upcoming instant bookings; pending invitations of people a coordinator
took off a programme are withdrawn

Revision ID: 0060
Revises: 0058
Create Date: 2026-11-27 17:00:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0060'
down_revision: str | None = '0058'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

REASONS = "'revoked', 'password_changed', 'password_reset', 'account_deleted'"
NEW_REASONS = ", 'address_claimed', 'signed_out'"

# Made before the owner's address was confirmed (or while it still is not). An address confirmed again after a
# change of email says nothing of the one before: such rows are left unmarked.
MARK_UNCONFIRMED = (
    "UPDATE {table} t SET made_unconfirmed = true FROM users u WHERE u.id = t.{owner} "
    "AND (u.email_verified_at IS NULL OR t.created_at < u.email_verified_at) "
    "AND NOT EXISTS (SELECT 1 FROM auth_events a WHERE a.user_id = u.id AND a.kind = 'email_changed' "
    "AND a.created_at >= t.created_at)")


def upgrade() -> None:
    op.add_column('webhook_endpoints', sa.Column('made_unconfirmed', sa.Boolean(), server_default='false',
                                                 nullable=False))
    op.add_column('calendar_feeds', sa.Column('made_unconfirmed', sa.Boolean(), server_default='false',
                                              nullable=False))
    op.execute(MARK_UNCONFIRMED.format(table="webhook_endpoints", owner="owner_user_id"))
    op.execute(MARK_UNCONFIRMED.format(table="calendar_feeds", owner="user_id") + " AND t.token_hash IS NOT NULL")
    op.drop_constraint("revoked_reason_values", "calendar_feeds", type_="check")
    op.create_check_constraint("revoked_reason_values", "calendar_feeds", f"revoked_reason IN ({REASONS}{NEW_REASONS})")
    op.add_column('listings', sa.Column('max_instant_bookings_per_mentor', sa.Integer(), nullable=True))
    op.create_check_constraint("instant_limit_range", "listings",
                               "max_instant_bookings_per_mentor IS NULL OR max_instant_bookings_per_mentor "
                               "BETWEEN 1 AND 1000")
    # An invitation still pending from before a coordinator took its person off the programme brings no one back.
    op.execute(
        "UPDATE programme_invitations i SET status = 'withdrawn', decided_at = now(), "
        "email_status = CASE WHEN i.email_status = 'pending' THEN 'none' ELSE i.email_status END "
        "FROM programme_participants p JOIN users u ON u.id = p.user_id "
        "WHERE p.programme_id = i.programme_id AND u.email = i.email AND p.status = 'removed' "
        "AND i.status = 'pending' AND (p.ended_at IS NULL OR i.created_at <= p.ended_at)")


def downgrade() -> None:
    op.drop_constraint("instant_limit_range", "listings", type_="check")
    op.drop_column('listings', 'max_instant_bookings_per_mentor')
    op.execute("UPDATE calendar_feeds SET revoked_reason = 'revoked' "
               "WHERE revoked_reason IN ('address_claimed', 'signed_out')")
    op.drop_constraint("revoked_reason_values", "calendar_feeds", type_="check")
    op.create_check_constraint("revoked_reason_values", "calendar_feeds", f"revoked_reason IN ({REASONS})")
    op.drop_column('calendar_feeds', 'made_unconfirmed')
    op.drop_column('webhook_endpoints', 'made_unconfirmed')
