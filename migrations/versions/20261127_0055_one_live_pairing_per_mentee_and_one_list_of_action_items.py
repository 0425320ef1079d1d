"""one live pairing per mentee of a programme (the younger of any two ended first, each end recorded as its
``pairing.ended``), the hard rules a coordinator paired across and why; action items as long as a session's, with a
date they are due, and the items written on completing a programme's sessions carried over to their pairings

Revision ID: 0055
Revises: 0054
Create Date: 2026-11-27 16:45:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = '0055'
down_revision: str | None = '0054'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# In one statement, with no bound parameter, so that ``alembic upgrade --sql`` writes it as it runs: the younger live
# pairings of a mentee in a programme are ended by the system; a series of theirs still waiting for the mentor's
# answer is withdrawn with its times, so that no later accept books an ended pairing's times (a series accepted keeps
# its sessions: each is cancelled as any session is, by its pair or a coordinator); and each end is recorded as its
# ``pairing.ended``, with the rows of its handlers when this revision was written (the pair and the coordinators are
# told, the report counts it, webhooks carry it). A data-modifying WITH runs whether or not the query reads it.
_END_YOUNGER_DUPLICATES = """
    WITH why AS (SELECT text 'the mentee had another live pairing in this programme' AS reason),
    younger AS (
        SELECT id FROM (
            SELECT id, row_number() OVER (PARTITION BY programme_id, mentee_participant_id ORDER BY created_at, id) AS n
            FROM pairings WHERE status <> 'ended') AS ranked
        WHERE n > 1),
    ended AS (
        UPDATE pairings p SET status = 'ended', ended_at = now(), ended_by = 'system',
                              end_reason = (SELECT reason FROM why), updated_at = now()
        FROM younger WHERE p.id = younger.id
        RETURNING p.*),
    withdrawn AS (
        UPDATE booking_series s SET status = 'withdrawn', cancelled_by = 'system',
                                    end_reason = (SELECT reason FROM why), updated_at = now()
        FROM ended WHERE s.id = ended.series_id AND s.status = 'requested'
        RETURNING s.id),
    drafts AS (
        UPDATE bookings b SET status = 'cancelled', cancel_reason = (SELECT reason FROM why), decided_at = now(),
                              updated_at = now()
        FROM withdrawn WHERE b.series_id = withdrawn.id AND b.status = 'draft'
        RETURNING b.id),
    events AS (
        INSERT INTO outbox_events (id, type, aggregate_type, aggregate_id, payload, actor)
        SELECT gen_random_uuid(), 'pairing.ended', 'pairing', ended.id, jsonb_build_object(
            'id', ended.id::text, 'programme_id', ended.programme_id::text, 'programme_name', programmes.name,
            'listing_id', ended.listing_id::text, 'mentor_profile_id', ended.mentor_profile_id::text,
            'mentee_user_id', ended.mentee_user_id::text, 'status', 'ended', 'cadence_weeks', ended.cadence_weeks,
            'session_minutes', ended.session_minutes, 'session_count', ended.session_count,
            'series_id', ended.series_id::text,
            'start_time', to_char(ended.first_start AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"+00:00"'),
            'ended_by', 'system', 'reason', (SELECT reason FROM why), 'rules_overridden', '[]'::jsonb,
            'override_reason', NULL,
            'coordinator_user_ids', (
                SELECT coalesce(jsonb_agg(c.user_id::text ORDER BY c.added_at, c.user_id), '[]'::jsonb)
                FROM programme_coordinators c WHERE c.programme_id = ended.programme_id)), 'system'
        FROM ended JOIN programmes ON programmes.id = ended.programme_id
        RETURNING id)
    INSERT INTO outbox_handlers (event_id, handler, status, attempts, next_attempt_at)
    SELECT events.id, handler, 'pending', 0, now()
    FROM events, unnest(ARRAY['notifications.notify', 'analytics.programmes', 'webhooks.fan_out']) AS handler"""

# A programme session's pairing: the mentor's programme listing, its mentee, from when the pairing was made until
# it ended (``workflows.sessions.action_items``).
_CARRY_ITEMS = """
        INSERT INTO action_items (id, pairing_id, title, owner_user_id, session_id, created_at)
        SELECT gen_random_uuid(), p.id, left(btrim(item.value #>> '{}'), 1000), p.mentee_user_id, s.id,
               coalesce(s.completed_at, s.updated_at) + item.n * interval '1 microsecond'
        FROM sessions s
        JOIN bookings b ON b.id = s.booking_id
        JOIN pairings p ON p.listing_id = s.listing_id AND p.mentee_user_id = b.mentee_user_id
             AND s.start_time >= p.created_at AND (p.ended_at IS NULL OR s.start_time < p.ended_at)
        CROSS JOIN LATERAL jsonb_array_elements(s.action_items) WITH ORDINALITY AS item(value, n)
        WHERE jsonb_typeof(s.action_items) = 'array' AND jsonb_array_length(s.action_items) > 0
          AND btrim(item.value #>> '{}') <> ''"""

_CLEAR_CARRIED = """
    UPDATE sessions s SET action_items = '[]'
    FROM bookings b, pairings p
    WHERE b.id = s.booking_id AND p.listing_id = s.listing_id AND p.mentee_user_id = b.mentee_user_id
      AND s.start_time >= p.created_at AND (p.ended_at IS NULL OR s.start_time < p.ended_at)
      AND jsonb_typeof(s.action_items) = 'array' AND jsonb_array_length(s.action_items) > 0"""


def upgrade() -> None:
    op.add_column('pairings', sa.Column('rules_overridden', postgresql.JSONB(astext_type=sa.Text()),
                                        server_default='[]', nullable=False))
    op.add_column('pairings', sa.Column('override_reason', sa.Text(), nullable=True))
    op.create_check_constraint(op.f('ck_pairings_override_reason_length'), 'pairings',
                               'override_reason IS NULL OR length(override_reason) <= 1000')
    op.create_check_constraint(op.f('ck_pairings_override_has_reason'), 'pairings',
                               '(jsonb_array_length(rules_overridden) = 0) = (override_reason IS NULL)')
    op.execute(_END_YOUNGER_DUPLICATES)
    op.drop_index('uq_pairings_live_pair', table_name='pairings', postgresql_where=sa.text("status <> 'ended'"))
    op.create_index('uq_pairings_live_mentee', 'pairings', ['programme_id', 'mentee_participant_id'], unique=True,
                    postgresql_where=sa.text("status <> 'ended'"))

    op.drop_constraint(op.f('ck_action_items_title_length'), 'action_items', type_='check')
    op.alter_column('action_items', 'title', existing_type=sa.String(length=300), type_=sa.String(length=1000),
                    existing_nullable=False)
    op.create_check_constraint(op.f('ck_action_items_title_length'), 'action_items',
                               'length(title) BETWEEN 1 AND 1000')
    op.add_column('action_items', sa.Column('due_on', sa.Date(), nullable=True))
    op.execute(_CARRY_ITEMS)
    op.execute(_CLEAR_CARRIED)


def downgrade() -> None:
    op.drop_column('action_items', 'due_on')
    op.execute("DELETE FROM action_items WHERE length(title) > 300")
    op.drop_constraint(op.f('ck_action_items_title_length'), 'action_items', type_='check')
    op.alter_column('action_items', 'title', existing_type=sa.String(length=1000), type_=sa.String(length=300),
                    existing_nullable=False)
    op.create_check_constraint(op.f('ck_action_items_title_length'), 'action_items', 'length(title) BETWEEN 1 AND 300')
    op.drop_index('uq_pairings_live_mentee', table_name='pairings', postgresql_where=sa.text("status <> 'ended'"))
    op.create_index('uq_pairings_live_pair', 'pairings', ['programme_id', 'mentor_participant_id',
                                                          'mentee_participant_id'], unique=True,
                    postgresql_where=sa.text("status <> 'ended'"))
    op.drop_constraint(op.f('ck_pairings_override_has_reason'), 'pairings', type_='check')
    op.drop_constraint(op.f('ck_pairings_override_reason_length'), 'pairings', type_='check')
    op.drop_column('pairings', 'override_reason')
    op.drop_column('pairings', 'rules_overridden')
