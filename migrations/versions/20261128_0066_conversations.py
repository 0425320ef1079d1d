"""conversations: a mentor and a mentee, or a participant and their programme's coordinators; their messages
and how far each has read

Revision ID: 0066
Revises: 0065
Create Date: 2026-11-28 09:20:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0066'
down_revision: str | None = '0065'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('conversations',
    sa.Column('kind', sa.Enum('pair', 'desk', name='conversationkind', native_enum=False, length=16), nullable=False),
    sa.Column('first_user_id', sa.Uuid(), nullable=True),
    sa.Column('second_user_id', sa.Uuid(), nullable=True),
    sa.Column('programme_id', sa.Uuid(), nullable=True),
    sa.Column('last_seq', sa.Integer(), server_default='0', nullable=False),
    sa.Column('last_message_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.CheckConstraint("kind <> 'desk' OR (programme_id IS NOT NULL AND first_user_id IS NOT NULL AND second_user_id IS NULL)", name=op.f('ck_conversations_desk_of_a_participant')),
    sa.CheckConstraint("kind <> 'pair' OR (first_user_id IS NOT NULL AND second_user_id IS NOT NULL AND first_user_id < second_user_id AND programme_id IS NULL)", name=op.f('ck_conversations_pair_of_two')),
    sa.CheckConstraint("kind IN ('pair', 'desk')", name=op.f('ck_conversations_kind_values')),
    sa.ForeignKeyConstraint(['first_user_id'], ['users.id'], name=op.f('fk_conversations_first_user_id_users'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['programme_id'], ['programmes.id'], name=op.f('fk_conversations_programme_id_programmes'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['second_user_id'], ['users.id'], name=op.f('fk_conversations_second_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_conversations'))
    )
    op.create_index('ix_conversations_second_user_id', 'conversations', ['second_user_id'], unique=False)
    op.create_index('uq_conversations_desk', 'conversations', ['programme_id', 'first_user_id'], unique=True, postgresql_where=sa.text("kind = 'desk'"))
    op.create_index('uq_conversations_pair', 'conversations', ['first_user_id', 'second_user_id'], unique=True, postgresql_where=sa.text("kind = 'pair'"))
    op.create_table('conversation_reads',
    sa.Column('conversation_id', sa.Uuid(), nullable=False),
    sa.Column('user_id', sa.Uuid(), nullable=False),
    sa.Column('seq', sa.Integer(), server_default='0', nullable=False),
    sa.Column('read_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.ForeignKeyConstraint(['conversation_id'], ['conversations.id'], name=op.f('fk_conversation_reads_conversation_id_conversations'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_conversation_reads_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('conversation_id', 'user_id', name=op.f('pk_conversation_reads'))
    )
    op.create_table('messages',
    sa.Column('conversation_id', sa.Uuid(), nullable=False),
    sa.Column('seq', sa.Integer(), nullable=False),
    sa.Column('sender_user_id', sa.Uuid(), nullable=True),
    sa.Column('body', sa.Text(), nullable=True),
    sa.Column('points_to_kind', sa.Enum('session', 'booking', 'goal', name='pointsto', native_enum=False, length=16), nullable=True),
    sa.Column('points_to_id', sa.Uuid(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('edited_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('deleted_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.CheckConstraint("points_to_kind IS NULL OR points_to_kind IN ('session', 'booking', 'goal')", name=op.f('ck_messages_points_to_values')),
    sa.CheckConstraint('(deleted_at IS NULL) = (body IS NOT NULL)', name=op.f('ck_messages_deleted_has_no_body')),
    sa.CheckConstraint('(points_to_kind IS NULL) = (points_to_id IS NULL)', name=op.f('ck_messages_points_to_both')),
    sa.CheckConstraint('body IS NULL OR length(body) BETWEEN 1 AND 4000', name=op.f('ck_messages_body_length')),
    sa.ForeignKeyConstraint(['conversation_id'], ['conversations.id'], name=op.f('fk_messages_conversation_id_conversations'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['sender_user_id'], ['users.id'], name=op.f('fk_messages_sender_user_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_messages')),
    sa.UniqueConstraint('conversation_id', 'seq', name=op.f('uq_messages_conversation_id'))
    )
    op.create_index('ix_messages_body_trgm', 'messages', ['body'], unique=False, postgresql_using='gin', postgresql_ops={'body': 'gin_trgm_ops'})
    op.create_index('ix_messages_sender_user_id', 'messages', ['sender_user_id'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_messages_sender_user_id', table_name='messages')
    op.drop_index('ix_messages_body_trgm', table_name='messages', postgresql_using='gin', postgresql_ops={'body': 'gin_trgm_ops'})
    op.drop_table('messages')
    op.drop_table('conversation_reads')
    op.drop_index('uq_conversations_pair', table_name='conversations', postgresql_where=sa.text("kind = 'pair'"))
    op.drop_index('uq_conversations_desk', table_name='conversations', postgresql_where=sa.text("kind = 'desk'"))
    op.drop_index('ix_conversations_second_user_id', table_name='conversations')
    op.drop_table('conversations')
