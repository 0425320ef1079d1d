"""reviews notifications stats webhooks

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22 04:18:30.091986
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = '0002'
down_revision: str | None = '0001'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('notifications',
    sa.Column('user_id', sa.Uuid(), nullable=False),
    sa.Column('event_id', sa.Uuid(), nullable=True),
    sa.Column('type', sa.String(length=64), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('data', postgresql.JSONB(astext_type=sa.Text()), server_default='{}', nullable=False),
    sa.Column('read_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('email_status', sa.String(length=16), server_default='none', nullable=False),
    sa.Column('email_attempts', sa.Integer(), server_default='0', nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.CheckConstraint("email_status IN ('none', 'pending', 'sent', 'failed')", name=op.f('ck_notifications_email_status_values')),
    sa.ForeignKeyConstraint(['event_id'], ['outbox_events.id'], name=op.f('fk_notifications_event_id_outbox_events'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_notifications_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_notifications')),
    sa.UniqueConstraint('event_id', 'user_id', 'type', name=op.f('uq_notifications_event_id'))
    )
    op.create_index('ix_notifications_email_due', 'notifications', ['created_at'], unique=False, postgresql_where=sa.text("email_status = 'pending'"))
    op.create_index('ix_notifications_user_created', 'notifications', ['user_id', 'created_at', 'id'], unique=False)
    op.create_index('ix_notifications_user_unread', 'notifications', ['user_id', 'created_at'], unique=False, postgresql_where=sa.text('read_at IS NULL'))
    op.create_table('webhook_endpoints',
    sa.Column('owner_user_id', sa.Uuid(), nullable=False),
    sa.Column('url', sa.String(length=2048), nullable=False),
    sa.Column('description', sa.Text(), server_default='', nullable=False),
    sa.Column('event_types', postgresql.JSONB(astext_type=sa.Text()), server_default='["*"]', nullable=False),
    sa.Column('secret', sa.String(length=128), nullable=False),
    sa.Column('enabled', sa.Boolean(), server_default='true', nullable=False),
    sa.Column('disabled_reason', sa.Text(), nullable=True),
    sa.Column('failing_since', sa.DateTime(timezone=True), nullable=True),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint("url ~ '^https?://'", name=op.f('ck_webhook_endpoints_url_scheme')),
    sa.ForeignKeyConstraint(['owner_user_id'], ['users.id'], name=op.f('fk_webhook_endpoints_owner_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_webhook_endpoints'))
    )
    op.create_index('ix_webhook_endpoints_owner_created', 'webhook_endpoints', ['owner_user_id', 'created_at', 'id'], unique=False)
    op.create_table('mentor_stats',
    sa.Column('mentor_profile_id', sa.Uuid(), nullable=False),
    sa.Column('sessions_completed', sa.Integer(), server_default='0', nullable=False),
    sa.Column('minutes_completed', sa.Integer(), server_default='0', nullable=False),
    sa.Column('sessions_cancelled', sa.Integer(), server_default='0', nullable=False),
    sa.Column('sessions_missed', sa.Integer(), server_default='0', nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint('sessions_completed >= 0 AND minutes_completed >= 0 AND sessions_cancelled >= 0 AND sessions_missed >= 0', name=op.f('ck_mentor_stats_counters_non_negative')),
    sa.ForeignKeyConstraint(['mentor_profile_id'], ['mentor_profiles.id'], name=op.f('fk_mentor_stats_mentor_profile_id_mentor_profiles'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('mentor_profile_id', name=op.f('pk_mentor_stats'))
    )
    op.create_table('webhook_messages',
    sa.Column('id', sa.String(length=64), nullable=False),
    sa.Column('endpoint_id', sa.Uuid(), nullable=False),
    sa.Column('event_id', sa.Uuid(), nullable=True),
    sa.Column('event_type', sa.String(length=64), nullable=False),
    sa.Column('payload', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.Column('status', sa.String(length=16), server_default='pending', nullable=False),
    sa.Column('attempts', sa.Integer(), server_default='0', nullable=False),
    sa.Column('next_attempt_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('last_status_code', sa.Integer(), nullable=True),
    sa.Column('delivered_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint("status IN ('pending', 'delivered', 'failed')", name=op.f('ck_webhook_messages_status_values')),
    sa.CheckConstraint('attempts >= 0', name=op.f('ck_webhook_messages_attempts_non_negative')),
    sa.ForeignKeyConstraint(['endpoint_id'], ['webhook_endpoints.id'], name=op.f('fk_webhook_messages_endpoint_id_webhook_endpoints'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['event_id'], ['outbox_events.id'], name=op.f('fk_webhook_messages_event_id_outbox_events'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_webhook_messages')),
    sa.UniqueConstraint('endpoint_id', 'event_id', name=op.f('uq_webhook_messages_endpoint_id'))
    )
    op.create_index('ix_webhook_messages_due', 'webhook_messages', ['next_attempt_at'], unique=False, postgresql_where=sa.text("status = 'pending'"))
    op.create_index('ix_webhook_messages_endpoint_created', 'webhook_messages', ['endpoint_id', 'created_at', 'id'], unique=False)
    op.create_table('webhook_attempts',
    sa.Column('message_id', sa.String(length=64), nullable=False),
    sa.Column('attempted_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('status_code', sa.Integer(), nullable=True),
    sa.Column('duration_ms', sa.Integer(), nullable=False),
    sa.Column('error', sa.Text(), nullable=True),
    sa.Column('response_excerpt', sa.Text(), nullable=True),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.ForeignKeyConstraint(['message_id'], ['webhook_messages.id'], name=op.f('fk_webhook_attempts_message_id_webhook_messages'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_webhook_attempts'))
    )
    op.create_index('ix_webhook_attempts_message', 'webhook_attempts', ['message_id', 'attempted_at'], unique=False)
    op.create_table('review_eligibilities',
    sa.Column('session_id', sa.Uuid(), nullable=False),
    sa.Column('mentee_user_id', sa.Uuid(), nullable=False),
    sa.Column('unlocked_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.ForeignKeyConstraint(['mentee_user_id'], ['users.id'], name=op.f('fk_review_eligibilities_mentee_user_id_users'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['session_id'], ['sessions.id'], name=op.f('fk_review_eligibilities_session_id_sessions'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('session_id', 'mentee_user_id', name=op.f('pk_review_eligibilities'))
    )
    op.create_table('reviews',
    sa.Column('session_id', sa.Uuid(), nullable=False),
    sa.Column('mentor_profile_id', sa.Uuid(), nullable=False),
    sa.Column('mentee_user_id', sa.Uuid(), nullable=False),
    sa.Column('rating', sa.Integer(), nullable=False),
    sa.Column('comment', sa.Text(), server_default='', nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.CheckConstraint('rating BETWEEN 1 AND 5', name=op.f('ck_reviews_rating_range')),
    sa.ForeignKeyConstraint(['mentee_user_id'], ['users.id'], name=op.f('fk_reviews_mentee_user_id_users'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['mentor_profile_id'], ['mentor_profiles.id'], name=op.f('fk_reviews_mentor_profile_id_mentor_profiles'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['session_id'], ['sessions.id'], name=op.f('fk_reviews_session_id_sessions'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_reviews')),
    sa.UniqueConstraint('session_id', 'mentee_user_id', name=op.f('uq_reviews_session_id'))
    )
    op.create_index('ix_reviews_mentor_created', 'reviews', ['mentor_profile_id', 'created_at', 'id'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_reviews_mentor_created', table_name='reviews')
    op.drop_table('reviews')
    op.drop_table('review_eligibilities')
    op.drop_index('ix_webhook_attempts_message', table_name='webhook_attempts')
    op.drop_table('webhook_attempts')
    op.drop_index('ix_webhook_messages_endpoint_created', table_name='webhook_messages')
    op.drop_index('ix_webhook_messages_due', table_name='webhook_messages', postgresql_where=sa.text("status = 'pending'"))
    op.drop_table('webhook_messages')
    op.drop_table('mentor_stats')
    op.drop_index('ix_webhook_endpoints_owner_created', table_name='webhook_endpoints')
    op.drop_table('webhook_endpoints')
    op.drop_index('ix_notifications_user_unread', table_name='notifications', postgresql_where=sa.text('read_at IS NULL'))
    op.drop_index('ix_notifications_user_created', table_name='notifications')
    op.drop_index('ix_notifications_email_due', table_name='notifications', postgresql_where=sa.text("email_status = 'pending'"))
    op.drop_table('notifications')
