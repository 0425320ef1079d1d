"""sign-on an admin can debug: a refused sign-in's provider, check and detail in the audit trail; the ID token of a
sign-in through a provider (for signing out there); the browser's timezone and locale of a sign-in under way

Revision ID: 0061
Revises: 0060
Create Date: 2026-11-27 16:50:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0061'
down_revision: str | None = '0060'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column('auth_events', sa.Column('provider_id', sa.Uuid(), nullable=True))
    op.add_column('auth_events', sa.Column('reason', sa.String(length=32), nullable=True))
    op.add_column('auth_events', sa.Column('detail', sa.String(length=300), nullable=True))
    op.create_foreign_key(op.f('fk_auth_events_provider_id_identity_providers'), 'auth_events', 'identity_providers',
                          ['provider_id'], ['id'], ondelete='SET NULL')
    op.create_index('ix_auth_events_provider', 'auth_events', ['provider_id', 'created_at'], unique=False,
                    postgresql_where='provider_id IS NOT NULL')
    op.add_column('sign_ins', sa.Column('id_token', sa.Text(), nullable=True))
    op.add_column('sign_on_attempts', sa.Column('timezone', sa.String(length=64), nullable=True))
    op.add_column('sign_on_attempts', sa.Column('locale', sa.String(length=35), nullable=True))


def downgrade() -> None:
    op.drop_column('sign_on_attempts', 'locale')
    op.drop_column('sign_on_attempts', 'timezone')
    op.drop_column('sign_ins', 'id_token')
    op.drop_index('ix_auth_events_provider', table_name='auth_events', postgresql_where='provider_id IS NOT NULL')
    op.drop_constraint(op.f('fk_auth_events_provider_id_identity_providers'), 'auth_events', type_='foreignkey')
    op.drop_column('auth_events', 'detail')
    op.drop_column('auth_events', 'reason')
    op.drop_column('auth_events', 'provider_id')
