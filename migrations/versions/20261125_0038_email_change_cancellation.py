"""email change cancellation: a link to the address being left cancels a change of email; the audit trail says so

Revision ID: 0038
Revises: 0037
Create Date: 2026-11-25 18:30:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = '0038'
down_revision: str | None = '0037'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

PURPOSES = "purpose IN ('verify_email', 'reset_password'"
KINDS = ("kind IN ('signed_in', 'sign_in_failed', 'locked_out', 'signed_out', 'refresh_reused', 'password_changed', "
         "'password_reset', 'email_change_requested', 'email_changed'")


def upgrade() -> None:
    op.drop_constraint('ck_account_tokens_purpose_values', 'account_tokens')
    op.create_check_constraint('purpose_values', 'account_tokens', PURPOSES + ", 'cancel_email')")
    op.drop_constraint('ck_auth_events_kind_values', 'auth_events')
    op.create_check_constraint('kind_values', 'auth_events', KINDS + ", 'email_change_cancelled')")


def downgrade() -> None:
    op.execute("DELETE FROM account_tokens WHERE purpose = 'cancel_email'")
    op.execute("DELETE FROM auth_events WHERE kind = 'email_change_cancelled'")
    op.drop_constraint('ck_auth_events_kind_values', 'auth_events')
    op.create_check_constraint('kind_values', 'auth_events', KINDS + ")")
    op.drop_constraint('ck_account_tokens_purpose_values', 'account_tokens')
    op.create_check_constraint('purpose_values', 'account_tokens', PURPOSES + ")")
