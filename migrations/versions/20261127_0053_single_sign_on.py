"""single sign-on: organisations' OpenID providers, their domains and programme rules, accounts' identities at them,
sign-ins under way, and which sign-ins and enrolments a provider made; accounts without a password

Revision ID: 0053
Revises: 0052
Create Date: 2026-11-27 11:35:36.999748
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = '0053'
down_revision: str | None = '0052'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

KINDS = ("kind IN ('signed_in', 'sign_in_failed', 'locked_out', 'signed_out', 'refresh_reused', 'password_changed', "
         "'password_reset', 'email_change_requested', 'email_changed', 'email_change_cancelled'")
SSO_KINDS = (", 'signed_in_sso', 'account_linked', 'sso_refused', 'provider_added', 'provider_changed', "
             "'provider_disabled', 'provider_enabled'")


def upgrade() -> None:
    op.create_table('identity_providers',
    sa.Column('display_name', sa.String(length=100), nullable=False),
    sa.Column('issuer', sa.String(length=500), nullable=False),
    sa.Column('client_id', sa.String(length=255), nullable=False),
    sa.Column('client_secret', sa.Text(), nullable=False),
    sa.Column('private_network', sa.Boolean(), server_default='false', nullable=False),
    sa.Column('password_sign_in_off', sa.Boolean(), server_default='false', nullable=False),
    sa.Column('session_hours', sa.Integer(), server_default='168', nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('created_by', sa.Uuid(), nullable=True),
    sa.Column('disabled_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.CheckConstraint('(disabled_at IS NULL) OR NOT password_sign_in_off', name=op.f('ck_identity_providers_enforced_only_when_enabled')),
    sa.CheckConstraint('length(client_id) BETWEEN 1 AND 255', name=op.f('ck_identity_providers_client_id_length')),
    sa.CheckConstraint('length(display_name) BETWEEN 1 AND 100', name=op.f('ck_identity_providers_display_name_length')),
    sa.CheckConstraint('length(issuer) BETWEEN 8 AND 500', name=op.f('ck_identity_providers_issuer_length')),
    sa.CheckConstraint('session_hours BETWEEN 1 AND 2160', name=op.f('ck_identity_providers_session_hours_range')),
    sa.ForeignKeyConstraint(['created_by'], ['users.id'], name=op.f('fk_identity_providers_created_by_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_identity_providers')),
    sa.UniqueConstraint('issuer', name='uq_identity_providers_issuer')
    )
    op.create_table('identity_provider_domains',
    sa.Column('domain', sa.String(length=253), nullable=False),
    sa.Column('provider_id', sa.Uuid(), nullable=False),
    sa.CheckConstraint('length(domain) BETWEEN 3 AND 253 AND domain = lower(domain)', name=op.f('ck_identity_provider_domains_domain_shape')),
    sa.ForeignKeyConstraint(['provider_id'], ['identity_providers.id'], name=op.f('fk_identity_provider_domains_provider_id_identity_providers'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('domain', name=op.f('pk_identity_provider_domains'))
    )
    op.create_index('ix_identity_provider_domains_provider', 'identity_provider_domains', ['provider_id'], unique=False)
    op.create_table('identity_provider_enrolments',
    sa.Column('provider_id', sa.Uuid(), nullable=False),
    sa.Column('programme_id', sa.Uuid(), nullable=False),
    sa.Column('role', sa.Enum('mentor', 'mentee', name='participantrole', native_enum=False, length=16), nullable=False),
    sa.Column('claim', sa.String(length=64), nullable=True),
    sa.Column('value', sa.String(length=200), nullable=True),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.CheckConstraint("role IN ('mentor', 'mentee')", name=op.f('ck_identity_provider_enrolments_role_values')),
    sa.CheckConstraint('(claim IS NULL) = (value IS NULL) AND (value IS NULL OR length(value) <= 200)', name=op.f('ck_identity_provider_enrolments_value_with_claim')),
    sa.CheckConstraint('claim IS NULL OR length(claim) BETWEEN 1 AND 64', name=op.f('ck_identity_provider_enrolments_claim_length')),
    sa.ForeignKeyConstraint(['programme_id'], ['programmes.id'], name=op.f('fk_identity_provider_enrolments_programme_id_programmes'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['provider_id'], ['identity_providers.id'], name=op.f('fk_identity_provider_enrolments_provider_id_identity_providers'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_identity_provider_enrolments')),
    sa.UniqueConstraint('provider_id', 'programme_id', 'role', name='uq_identity_provider_enrolments_rule')
    )
    op.create_index('ix_identity_provider_enrolments_programme', 'identity_provider_enrolments', ['programme_id'], unique=False)
    op.create_table('sign_on_attempts',
    sa.Column('provider_id', sa.Uuid(), nullable=False),
    sa.Column('state_hash', sa.String(length=64), nullable=False),
    sa.Column('browser_hash', sa.String(length=64), nullable=False),
    sa.Column('nonce', sa.String(length=64), nullable=False),
    sa.Column('code_verifier', sa.String(length=128), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('used_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('link_ticket_hash', sa.String(length=64), nullable=True),
    sa.Column('link_user_id', sa.Uuid(), nullable=True),
    sa.Column('link_claims', postgresql.JSONB(astext_type=sa.Text()), nullable=True),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.ForeignKeyConstraint(['link_user_id'], ['users.id'], name=op.f('fk_sign_on_attempts_link_user_id_users'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['provider_id'], ['identity_providers.id'], name=op.f('fk_sign_on_attempts_provider_id_identity_providers'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sign_on_attempts')),
    sa.UniqueConstraint('link_ticket_hash', name=op.f('uq_sign_on_attempts_link_ticket_hash')),
    sa.UniqueConstraint('state_hash', name=op.f('uq_sign_on_attempts_state_hash'))
    )
    op.create_index('ix_sign_on_attempts_expires_at', 'sign_on_attempts', ['expires_at'], unique=False)
    op.create_table('user_identities',
    sa.Column('user_id', sa.Uuid(), nullable=False),
    sa.Column('provider_id', sa.Uuid(), nullable=False),
    sa.Column('issuer', sa.String(length=500), nullable=False),
    sa.Column('subject', sa.String(length=255), nullable=False),
    sa.Column('email', sa.String(length=320), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('last_sign_in_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.CheckConstraint('length(subject) BETWEEN 1 AND 255', name=op.f('ck_user_identities_subject_length')),
    sa.ForeignKeyConstraint(['provider_id'], ['identity_providers.id'], name=op.f('fk_user_identities_provider_id_identity_providers'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_user_identities_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_user_identities')),
    sa.UniqueConstraint('issuer', 'subject', name='uq_user_identities_issuer_subject'),
    sa.UniqueConstraint('user_id', 'provider_id', name='uq_user_identities_user_provider')
    )
    op.create_index('ix_user_identities_provider', 'user_identities', ['provider_id'], unique=False)
    # New columns, empty: their foreign keys need not scan the tables (NOT VALID), nor the index lock sign_ins.
    op.add_column('programme_participants', sa.Column('enrolled_by_provider_id', sa.Uuid(), nullable=True))
    op.create_foreign_key(op.f('fk_programme_participants_enrolled_by_provider_id_identity_providers'),
                          'programme_participants', 'identity_providers', ['enrolled_by_provider_id'], ['id'],
                          ondelete='SET NULL', postgresql_not_valid=True)
    op.add_column('sign_ins', sa.Column('provider_id', sa.Uuid(), nullable=True))
    op.add_column('sign_ins', sa.Column('reauth_at', sa.DateTime(timezone=True), nullable=True))
    op.create_foreign_key(op.f('fk_sign_ins_provider_id_identity_providers'), 'sign_ins', 'identity_providers',
                          ['provider_id'], ['id'], ondelete='CASCADE', postgresql_not_valid=True)
    op.alter_column('users', 'password_hash', existing_type=sa.VARCHAR(length=255), nullable=True)
    op.drop_constraint('ck_auth_events_kind_values', 'auth_events')
    op.create_check_constraint('kind_values', 'auth_events', KINDS + SSO_KINDS + ")")
    with op.get_context().autocommit_block():
        op.create_index('ix_sign_ins_provider_live', 'sign_ins', ['provider_id'], unique=False,
                        postgresql_where=sa.text('provider_id IS NOT NULL AND revoked_at IS NULL'),
                        postgresql_concurrently=True, if_not_exists=True)


def downgrade() -> None:
    op.execute("DELETE FROM auth_events WHERE kind IN ('signed_in_sso', 'account_linked', 'sso_refused', "
               "'provider_added', 'provider_changed', 'provider_disabled', 'provider_enabled')")
    op.drop_constraint('ck_auth_events_kind_values', 'auth_events')
    op.create_check_constraint('kind_values', 'auth_events', KINDS + ")")
    # Accounts a provider made have no password: none that anything verifies ("!" is no argon2 hash).
    op.execute("UPDATE users SET password_hash = '!' WHERE password_hash IS NULL")
    op.alter_column('users', 'password_hash', existing_type=sa.VARCHAR(length=255), nullable=False)
    op.drop_constraint(op.f('fk_sign_ins_provider_id_identity_providers'), 'sign_ins', type_='foreignkey')
    op.drop_index('ix_sign_ins_provider_live', table_name='sign_ins')
    op.drop_column('sign_ins', 'reauth_at')
    op.drop_column('sign_ins', 'provider_id')
    op.drop_constraint(op.f('fk_programme_participants_enrolled_by_provider_id_identity_providers'), 'programme_participants', type_='foreignkey')
    op.drop_column('programme_participants', 'enrolled_by_provider_id')
    op.drop_index('ix_user_identities_provider', table_name='user_identities')
    op.drop_table('user_identities')
    op.drop_index('ix_sign_on_attempts_expires_at', table_name='sign_on_attempts')
    op.drop_table('sign_on_attempts')
    op.drop_index('ix_identity_provider_enrolments_programme', table_name='identity_provider_enrolments')
    op.drop_table('identity_provider_enrolments')
    op.drop_index('ix_identity_provider_domains_provider', table_name='identity_provider_domains')
    op.drop_table('identity_provider_domains')
    op.drop_table('identity_providers')
