"""sign-ins: one row per refresh token family, which access tokens name and requests check

Every existing family becomes a sign-in: created with its first token, last used with its newest,
expiring with it, and revoked when all its tokens are. The family id is the sign-in's id, so the
refresh tokens keep their ``family_id`` and gain a foreign key to it.

Revision ID: 0023
Revises: 0022
Create Date: 2026-11-24 21:36:33
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0023'
down_revision: str | None = '0022'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        'sign_ins',
        sa.Column('user_id', sa.Uuid(), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
        sa.Column('last_used_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('user_agent', sa.String(length=255), nullable=True),
        sa.Column('ip_address', sa.String(length=45), nullable=True),
        sa.Column('id', sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_sign_ins_user_id_users'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_sign_ins')),
    )
    op.create_index('ix_sign_ins_expires_at', 'sign_ins', ['expires_at'], unique=False)
    op.create_index('ix_sign_ins_user', 'sign_ins', ['user_id'], unique=False)
    # The lock the foreign key takes anyway, taken first: no family can start between the copy and the key.
    # Reads go on meanwhile; new sign-ins and refreshes wait the few moments the copy takes.
    op.execute("LOCK TABLE refresh_tokens IN SHARE ROW EXCLUSIVE MODE")
    op.execute("""
        INSERT INTO sign_ins (id, user_id, created_at, last_used_at, expires_at, revoked_at)
        SELECT family_id, user_id, min(created_at), max(created_at), max(expires_at),
               CASE WHEN bool_and(revoked_at IS NOT NULL) THEN max(revoked_at) END
        FROM refresh_tokens GROUP BY family_id, user_id
    """)
    op.create_foreign_key(op.f('fk_refresh_tokens_family_id_sign_ins'), 'refresh_tokens', 'sign_ins',
                          ['family_id'], ['id'], ondelete='CASCADE')


def downgrade() -> None:
    op.drop_constraint(op.f('fk_refresh_tokens_family_id_sign_ins'), 'refresh_tokens', type_='foreignkey')
    op.drop_index('ix_sign_ins_user', table_name='sign_ins')
    op.drop_index('ix_sign_ins_expires_at', table_name='sign_ins')
    op.drop_table('sign_ins')
