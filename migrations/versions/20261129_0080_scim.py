"""SCIM 2.0 provisioning: each provider's bearer token (kept hashed), the users and groups it provisioned.

Revision ID: 0080
Revises: 0079
Create Date: 2026-11-29 10:00:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = '0080'
down_revision: str | None = '0079'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

AUTH_KINDS = ("kind IN ('signed_in', 'sign_in_failed', 'locked_out', 'signed_out', 'refresh_reused', "
              "'password_changed', 'password_reset', 'email_change_requested', 'email_changed', "
              "'email_change_cancelled', 'signed_in_sso', 'account_linked', 'sso_refused', 'provider_added', "
              "'provider_changed', 'provider_disabled', 'provider_enabled', 'second_step_asked', 'second_step_failed', "
              "'recovery_code_used', 'authenticator_added', 'authenticator_removed', 'recovery_codes_renewed', "
              "'second_step_rule_changed'")
FEED_REASONS = "'revoked', 'password_changed', 'password_reset', 'account_deleted', 'address_claimed', 'signed_out'"


def upgrade() -> None:
    op.create_table('scim_tokens',
    sa.Column('provider_id', sa.Uuid(), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('created_by', sa.Uuid(), nullable=True),
    sa.Column('last_used_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.ForeignKeyConstraint(['created_by'], ['users.id'], name=op.f('fk_scim_tokens_created_by_users'),
                            ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['provider_id'], ['identity_providers.id'],
                            name=op.f('fk_scim_tokens_provider_id_identity_providers'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_scim_tokens')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_scim_tokens_token_hash'))
    )
    op.create_index('ix_scim_tokens_provider_live', 'scim_tokens', ['provider_id'], unique=True,
                    postgresql_where='revoked_at IS NULL')
    op.create_table('scim_users',
    sa.Column('provider_id', sa.Uuid(), nullable=False),
    sa.Column('user_id', sa.Uuid(), nullable=True),
    sa.Column('user_name', sa.String(length=255), nullable=False),
    sa.Column('external_id', sa.String(length=255), nullable=True),
    sa.Column('active', sa.Boolean(), server_default='true', nullable=False),
    sa.Column('attributes', postgresql.JSONB(astext_type=sa.Text()), server_default='{}', nullable=False),
    sa.Column('version', sa.Integer(), server_default='1', nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.CheckConstraint('length(user_name) BETWEEN 1 AND 255', name=op.f('ck_scim_users_user_name_length')),
    sa.ForeignKeyConstraint(['provider_id'], ['identity_providers.id'],
                            name=op.f('fk_scim_users_provider_id_identity_providers'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_scim_users_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_scim_users')),
    sa.UniqueConstraint('provider_id', 'external_id', name='uq_scim_users_provider_external_id'),
    sa.UniqueConstraint('user_id', name='uq_scim_users_user')
    )
    op.create_index('ix_scim_users_provider_lower_user_name', 'scim_users',
                    ['provider_id', sa.text('lower(user_name)')], unique=True)
    op.create_table('scim_groups',
    sa.Column('provider_id', sa.Uuid(), nullable=False),
    sa.Column('display_name', sa.String(length=200), nullable=False),
    sa.Column('external_id', sa.String(length=255), nullable=True),
    sa.Column('version', sa.Integer(), server_default='1', nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.CheckConstraint('length(display_name) BETWEEN 1 AND 200', name=op.f('ck_scim_groups_display_name_length')),
    sa.ForeignKeyConstraint(['provider_id'], ['identity_providers.id'],
                            name=op.f('fk_scim_groups_provider_id_identity_providers'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_scim_groups')),
    sa.UniqueConstraint('provider_id', 'display_name', name='uq_scim_groups_provider_display_name'),
    sa.UniqueConstraint('provider_id', 'external_id', name='uq_scim_groups_provider_external_id')
    )
    op.create_table('scim_group_members',
    sa.Column('group_id', sa.Uuid(), nullable=False),
    sa.Column('scim_user_id', sa.Uuid(), nullable=False),
    sa.Column('display', sa.String(length=200), nullable=True),
    sa.ForeignKeyConstraint(['group_id'], ['scim_groups.id'], name=op.f('fk_scim_group_members_group_id_scim_groups'),
                            ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['scim_user_id'], ['scim_users.id'],
                            name=op.f('fk_scim_group_members_scim_user_id_scim_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('group_id', 'scim_user_id', name=op.f('pk_scim_group_members'))
    )
    op.create_index('ix_scim_group_members_user', 'scim_group_members', ['scim_user_id'], unique=False)
    # An account provisioned or deprovisioned by its organisation's provider, in the audit trail.
    op.drop_constraint('ck_auth_events_kind_values', 'auth_events')
    op.create_check_constraint('kind_values', 'auth_events', AUTH_KINDS + ", 'scim_provisioned', 'scim_deprovisioned')")
    # A calendar feed stopped by the person's deprovisioning.
    op.drop_constraint("revoked_reason_values", "calendar_feeds", type_="check")
    op.create_check_constraint("revoked_reason_values", "calendar_feeds",
                               f"revoked_reason IN ({FEED_REASONS}, 'deprovisioned')")


def downgrade() -> None:
    op.execute("DELETE FROM auth_events WHERE kind IN ('scim_provisioned', 'scim_deprovisioned')")
    op.drop_constraint('ck_auth_events_kind_values', 'auth_events')
    op.create_check_constraint('kind_values', 'auth_events', AUTH_KINDS + ")")
    op.execute("UPDATE calendar_feeds SET revoked_reason = 'revoked' WHERE revoked_reason = 'deprovisioned'")
    op.drop_constraint("revoked_reason_values", "calendar_feeds", type_="check")
    op.create_check_constraint("revoked_reason_values", "calendar_feeds", f"revoked_reason IN ({FEED_REASONS})")
    op.drop_index('ix_scim_group_members_user', table_name='scim_group_members')
    op.drop_table('scim_group_members')
    op.drop_table('scim_groups')
    op.drop_index('ix_scim_users_provider_lower_user_name', table_name='scim_users')
    op.drop_table('scim_users')
    op.drop_index('ix_scim_tokens_provider_live', table_name='scim_tokens')
    op.drop_table('scim_tokens')
