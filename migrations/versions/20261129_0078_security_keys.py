"""Security keys and passkeys (WebAuthn) as a second step of a password sign-in, and the bytes a sign-in's challenge
asks a key to sign.

Revision ID: 0078
Revises: 0077
Create Date: 2026-11-29 06:30:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0078'
down_revision: str | None = '0077'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('security_keys',
    sa.Column('user_id', sa.Uuid(), nullable=False),
    sa.Column('name', sa.String(length=60), nullable=False),
    sa.Column('credential_id', sa.LargeBinary(), nullable=False),
    sa.Column('public_key', sa.LargeBinary(), nullable=False),
    sa.Column('sign_count', sa.BigInteger(), server_default='0', nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('last_used_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.CheckConstraint('length(name) BETWEEN 1 AND 60', name=op.f('ck_security_keys_name_length')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_security_keys_user_id_users'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_security_keys'))
    )
    op.create_index('ix_security_keys_user', 'security_keys', ['user_id'], unique=False)
    op.create_index('ix_security_keys_credential', 'security_keys', ['credential_id'], unique=True)
    op.add_column('second_step_challenges', sa.Column('webauthn_challenge', sa.LargeBinary(), nullable=True))


def downgrade() -> None:
    op.drop_column('second_step_challenges', 'webauthn_challenge')
    op.drop_index('ix_security_keys_credential', table_name='security_keys')
    op.drop_index('ix_security_keys_user', table_name='security_keys')
    op.drop_table('security_keys')
