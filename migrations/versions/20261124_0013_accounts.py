"""accounts: user preferences and deletion, mentor avatars and listing, refresh tokens

Revision ID: 0013
Revises: 0012
Create Date: 2026-11-24 09:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0013'
down_revision: str | None = '0012'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Nullable columns, or a constant default: changes of the catalogue only, whatever the tables' size.
    op.add_column('users', sa.Column('timezone', sa.String(length=64), nullable=True))
    op.add_column('users', sa.Column('locale', sa.String(length=35), nullable=True))
    op.add_column('users', sa.Column('deleted_at', sa.DateTime(timezone=True), nullable=True))
    op.add_column('mentor_profiles', sa.Column('avatar_url', sa.String(length=500), nullable=True))
    op.add_column('mentor_profiles', sa.Column('listed', sa.Boolean(), server_default='true', nullable=False))
    # Added NOT VALID (no scan under the exclusive lock), then validated under a weaker one.
    op.execute("ALTER TABLE mentor_profiles ADD CONSTRAINT ck_mentor_profiles_avatar_url_https "
               "CHECK (avatar_url IS NULL OR avatar_url ~ '^https://') NOT VALID")
    op.execute("ALTER TABLE mentor_profiles VALIDATE CONSTRAINT ck_mentor_profiles_avatar_url_https")
    op.create_table(
        'refresh_tokens',
        sa.Column('user_id', sa.Uuid(), nullable=False),
        sa.Column('family_id', sa.Uuid(), nullable=False),
        sa.Column('token_hash', sa.String(length=64), nullable=False),
        sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('spent_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
        sa.Column('id', sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_refresh_tokens_user_id_users'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_refresh_tokens')),
        sa.UniqueConstraint('token_hash', name=op.f('uq_refresh_tokens_token_hash')),
    )
    op.create_index('ix_refresh_tokens_family', 'refresh_tokens', ['family_id'], unique=False)
    op.create_index('ix_refresh_tokens_user', 'refresh_tokens', ['user_id'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_refresh_tokens_user', table_name='refresh_tokens')
    op.drop_index('ix_refresh_tokens_family', table_name='refresh_tokens')
    op.drop_table('refresh_tokens')
    op.drop_constraint('ck_mentor_profiles_avatar_url_https', 'mentor_profiles', type_='check')
    op.drop_column('mentor_profiles', 'listed')
    op.drop_column('mentor_profiles', 'avatar_url')
    op.drop_column('users', 'deleted_at')
    op.drop_column('users', 'locale')
    op.drop_column('users', 'timezone')
