"""A group session's conversation (its mentor and the mentees who hold its seats), and muting a conversation.

Revision ID: 0072
Revises: 0071
Create Date: 2026-11-28 15:30:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0072'
down_revision: str | None = '0071'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column('conversations', sa.Column('session_id', sa.Uuid(), nullable=True))
    op.create_foreign_key(op.f('fk_conversations_session_id_sessions'), 'conversations', 'sessions', ['session_id'],
                          ['id'], ondelete='CASCADE')
    op.create_index('uq_conversations_group', 'conversations', ['session_id'], unique=True,
                    postgresql_where=sa.text("kind = 'group'"))
    op.drop_constraint(op.f('ck_conversations_kind_values'), 'conversations', type_='check')
    op.create_check_constraint(op.f('ck_conversations_kind_values'), 'conversations',
                               "kind IN ('pair', 'desk', 'group')")
    op.create_check_constraint(op.f('ck_conversations_group_of_a_session'), 'conversations',
                               "(kind = 'group') = (session_id IS NOT NULL) AND (kind <> 'group' OR "
                               "(first_user_id IS NULL AND second_user_id IS NULL))")
    op.add_column('conversation_reads', sa.Column('muted_at', sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    op.drop_column('conversation_reads', 'muted_at')
    op.execute("DELETE FROM conversations WHERE kind = 'group'")
    op.drop_constraint(op.f('ck_conversations_group_of_a_session'), 'conversations', type_='check')
    op.drop_constraint(op.f('ck_conversations_kind_values'), 'conversations', type_='check')
    op.create_check_constraint(op.f('ck_conversations_kind_values'), 'conversations', "kind IN ('pair', 'desk')")
    op.drop_index('uq_conversations_group', table_name='conversations', postgresql_where=sa.text("kind = 'group'"))
    op.drop_constraint(op.f('fk_conversations_session_id_sessions'), 'conversations', type_='foreignkey')
    op.drop_column('conversations', 'session_id')
