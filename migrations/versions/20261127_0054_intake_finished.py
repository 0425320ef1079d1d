"""intake finished: a mentor gives their hours before anyone is paired with them

Revision ID: 0054
Revises: 0053
Create Date: 2026-11-27 16:45:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0054'
down_revision: str | None = '0053'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The handlers of ``enrolment.intake_asked`` as declared when this revision was written (workflows/handlers.py; a test
# holds the two together): the person's notification and mail, and the webhooks.
HANDLERS = ('notifications.notify', 'webhooks.fan_out')

# Finished, as the rule now reads it: saved (or the programme asks that role nothing), and a mentor's hours given.
# A mentor with weekly hours on their profile chose them themself; one without reads as free at any time and is not.
_FINISH = """
UPDATE programme_participants p
   SET intake_finished_at = coalesce(p.intake_answered_at, p.joined_at)
 WHERE (p.intake_answered_at IS NOT NULL
        OR NOT EXISTS (SELECT 1 FROM questions q WHERE q.programme_id = p.programme_id AND q.audience = p.role))
   AND (p.role = 'mentee'
        OR EXISTS (SELECT 1 FROM availability_windows w JOIN mentor_profiles m ON m.id = w.mentor_profile_id
                    WHERE m.user_id = p.user_id))
"""

# Those taking part now in a programme that pairs people, left unfinished, are asked (``enrolment.intake_asked``,
# the system's): a mentor to give their hours, a mentee to answer the intake.
_ASK = """
WITH asked AS (
    SELECT gen_random_uuid() AS event_id, p.id, jsonb_build_object(
               'id', p.id::text, 'programme_id', g.id::text, 'programme_name', g.name,
               'participant_user_id', p.user_id::text, 'role', p.role, 'status', p.status,
               'capacity', p.capacity, 'via', NULL, 'intake_finished', false,
               'coordinator_user_ids', coalesce((SELECT jsonb_agg(c.user_id::text ORDER BY c.added_at, c.user_id)
                                                   FROM programme_coordinators c WHERE c.programme_id = g.id),
                                                '[]'::jsonb)) AS payload
      FROM programme_participants p JOIN programmes g ON g.id = p.programme_id
     WHERE p.intake_finished_at IS NULL AND p.status = 'active' AND g.status IN ('enrolling', 'running')
), events AS (
    INSERT INTO outbox_events (id, type, aggregate_type, aggregate_id, payload, actor)
    SELECT event_id, 'enrolment.intake_asked', 'enrolment', id, payload, 'system' FROM asked
    RETURNING id
)
INSERT INTO outbox_handlers (event_id, handler, status, attempts, next_attempt_at)
SELECT events.id, handler, 'pending', 0, now() FROM events CROSS JOIN unnest(CAST(:handlers AS text[])) AS handler
"""


def upgrade() -> None:
    op.add_column('programme_participants', sa.Column('intake_finished_at', sa.DateTime(timezone=True), nullable=True))
    op.execute(_FINISH)
    op.get_bind().execute(sa.text(_ASK), {'handlers': list(HANDLERS)})


def downgrade() -> None:
    op.execute("DELETE FROM outbox_events WHERE type IN ('enrolment.intake_asked', 'enrolment.intake_finished')")
    op.drop_column('programme_participants', 'intake_finished_at')
