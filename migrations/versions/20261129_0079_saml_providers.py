"""SAML 2.0 identity providers beside the OpenID ones: their metadata, this service's key pair as their SP, the
attribute map, IdP-initiated sign-in; and the assertions already taken (a replay is refused).

Revision ID: 0079
Revises: 0078
Create Date: 2026-11-29 09:00:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = '0079'
down_revision: str | None = '0078'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column('identity_providers', sa.Column('protocol', sa.String(length=16), server_default='oidc',
                                                  nullable=False))
    op.add_column('identity_providers', sa.Column('saml_metadata', sa.Text(), nullable=True))
    op.add_column('identity_providers', sa.Column('metadata_url', sa.String(length=2048), nullable=True))
    op.add_column('identity_providers', sa.Column('sp_certificate', sa.Text(), nullable=True))
    op.add_column('identity_providers', sa.Column('attribute_map', postgresql.JSONB(astext_type=sa.Text()),
                                                  nullable=True))
    op.add_column('identity_providers', sa.Column('idp_initiated', sa.Boolean(), server_default='false',
                                                  nullable=False))
    op.create_check_constraint(op.f('ck_identity_providers_protocol_values'), 'identity_providers',
                               "protocol IN ('oidc', 'saml')")
    op.create_check_constraint(op.f('ck_identity_providers_saml_has_metadata'), 'identity_providers',
                               "protocol = 'oidc' OR (saml_metadata IS NOT NULL AND sp_certificate IS NOT NULL)")
    op.create_check_constraint(op.f('ck_identity_providers_metadata_url_length'), 'identity_providers',
                               'metadata_url IS NULL OR length(metadata_url) <= 2048')
    op.create_check_constraint(op.f('ck_identity_providers_saml_metadata_length'), 'identity_providers',
                               'saml_metadata IS NULL OR length(saml_metadata) <= 524288')
    op.create_table('saml_assertions_seen',
    sa.Column('provider_id', sa.Uuid(), nullable=False),
    sa.Column('assertion_id', sa.String(length=256), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['provider_id'], ['identity_providers.id'],
                            name=op.f('fk_saml_assertions_seen_provider_id_identity_providers'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('provider_id', 'assertion_id', name=op.f('pk_saml_assertions_seen'))
    )
    op.create_index('ix_saml_assertions_seen_expires_at', 'saml_assertions_seen', ['expires_at'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_saml_assertions_seen_expires_at', table_name='saml_assertions_seen')
    op.drop_table('saml_assertions_seen')
    for name in ('saml_metadata_length', 'metadata_url_length', 'saml_has_metadata', 'protocol_values'):
        op.drop_constraint(op.f(f'ck_identity_providers_{name}'), 'identity_providers', type_='check')
    for column in ('idp_initiated', 'attribute_map', 'sp_certificate', 'metadata_url', 'saml_metadata', 'protocol'):
        op.drop_column('identity_providers', column)
