"""Two-step sign-in for password accounts: authenticators (TOTP), recovery codes, the challenges a password sign-in
leaves open until its second step, and the domains (or every one) where an admin requires one.

Revision ID: 0077
Revises: 0076
Create Date: 2026-11-29 06:00:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0077'
down_revision: str | None = '0076'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

KINDS = ("kind IN ('signed_in', 'sign_in_failed', 'locked_out', 'signed_out', 'refresh_reused', 'password_changed', "
         "'password_reset', 'email_change_requested', 'email_changed', 'email_change_cancelled', 'signed_in_sso', "
         "'account_linked', 'sso_refused', 'provider_added', 'provider_changed', 'provider_disabled', "
         "'provider_enabled'")
SECOND_STEP_KINDS = (", 'second_step_asked', 'second_step_failed', 'recovery_code_used', 'authenticator_added', "
                     "'authenticator_removed', 'recovery_codes_renewed', 'second_step_rule_changed'")


def upgrade() -> None:
    op.create_table('authenticators',
    sa.Column('user_id', sa.Uuid(), nullable=False),
    sa.Column('name', sa.String(length=60), nullable=False),
    sa.Column('secret', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('confirmed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('last_used_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('last_step', sa.BigInteger(), server_default='0', nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.CheckConstraint('length(name) BETWEEN 1 AND 60', name=op.f('ck_authenticators_name_length')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_authenticators_user_id_users'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_authenticators'))
    )
    op.create_index('ix_authenticators_user', 'authenticators', ['user_id'], unique=False)
    op.create_table('recovery_codes',
    sa.Column('user_id', sa.Uuid(), nullable=False),
    sa.Column('code_hash', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('used_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_recovery_codes_user_id_users'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_recovery_codes'))
    )
    op.create_index('ix_recovery_codes_user_hash', 'recovery_codes', ['user_id', 'code_hash'], unique=False)
    op.create_table('second_step_challenges',
    sa.Column('user_id', sa.Uuid(), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('used_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('failures', sa.Integer(), server_default='0', nullable=False),
    sa.Column('enrolment', sa.Boolean(), server_default='false', nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_second_step_challenges_user_id_users'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_second_step_challenges'))
    )
    op.create_index('ix_second_step_challenges_token', 'second_step_challenges', ['token_hash'], unique=True)
    op.create_index('ix_second_step_challenges_expires_at', 'second_step_challenges', ['expires_at'], unique=False)
    op.create_table('second_step_requirements',
    sa.Column('domain', sa.String(length=253), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('created_by', sa.Uuid(), nullable=True),
    sa.ForeignKeyConstraint(['created_by'], ['users.id'], name=op.f('fk_second_step_requirements_created_by_users'),
                            ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('domain', name=op.f('pk_second_step_requirements'))
    )
    op.drop_constraint('ck_auth_events_kind_values', 'auth_events')
    op.create_check_constraint('kind_values', 'auth_events', KINDS + SECOND_STEP_KINDS + ")")


def downgrade() -> None:
    op.execute("DELETE FROM auth_events WHERE kind IN ('second_step_asked', 'second_step_failed', "
               "'recovery_code_used', 'authenticator_added', 'authenticator_removed', 'recovery_codes_renewed', "
               "'second_step_rule_changed')")
    op.drop_constraint('ck_auth_events_kind_values', 'auth_events')
    op.create_check_constraint('kind_values', 'auth_events', KINDS + ")")
    op.drop_table('second_step_requirements')
    op.drop_index('ix_second_step_challenges_expires_at', table_name='second_step_challenges')
    op.drop_index('ix_second_step_challenges_token', table_name='second_step_challenges')
    op.drop_table('second_step_challenges')
    op.drop_index('ix_recovery_codes_user_hash', table_name='recovery_codes')
    op.drop_table('recovery_codes')
    op.drop_index('ix_authenticators_user', table_name='authenticators')
    op.drop_table('authenticators')
