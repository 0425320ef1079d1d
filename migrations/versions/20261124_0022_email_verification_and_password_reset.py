"""email verification and password reset: single-use links, and when each address was verified

Users who exist now count as verified: they signed up before addresses were checked, and they
keep receiving their emails.

Revision ID: 0022
Revises: 0021
Create Date: 2026-11-24 22:30:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0022'
down_revision: str | None = '0021'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        'account_tokens',
        sa.Column('user_id', sa.Uuid(), nullable=False),
        sa.Column('purpose', sa.String(length=16), nullable=False),
        sa.Column('email', sa.String(length=320), nullable=False),
        sa.Column('token_hash', sa.String(length=64), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
        sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('used_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('email_status', sa.String(length=16), nullable=False),
        sa.Column('email_attempts', sa.Integer(), server_default='0', nullable=False),
        sa.Column('id', sa.Uuid(), nullable=False),
        sa.CheckConstraint("email_status IN ('none', 'pending', 'sent', 'failed')",
                           name=op.f('ck_account_tokens_email_status_values')),
        sa.CheckConstraint("purpose IN ('verify_email', 'reset_password')",
                           name=op.f('ck_account_tokens_purpose_values')),
        sa.CheckConstraint('expires_at > created_at', name=op.f('ck_account_tokens_expires_after_creation')),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_account_tokens_user_id_users'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_account_tokens')),
        sa.UniqueConstraint('token_hash', name=op.f('uq_account_tokens_token_hash')),
    )
    op.create_index('ix_account_tokens_expires_at', 'account_tokens', ['expires_at'], unique=False)
    op.create_index('ix_account_tokens_user_purpose', 'account_tokens', ['user_id', 'purpose'], unique=False)
    op.add_column('users', sa.Column('email_verified_at', sa.DateTime(timezone=True), nullable=True))
    op.execute("UPDATE users SET email_verified_at = created_at WHERE deleted_at IS NULL")


def downgrade() -> None:
    op.drop_column('users', 'email_verified_at')
    op.drop_index('ix_account_tokens_user_purpose', table_name='account_tokens')
    op.drop_index('ix_account_tokens_expires_at', table_name='account_tokens')
    op.drop_table('account_tokens')
