"""A handler's batch: which rows are due, the hint first, and one failing row left alone with its backoff."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from sqlalchemy import Connection, Engine, func, select, text, update
from sqlalchemy.orm import Session, sessionmaker

from models import BookingStatus, HandlerStatus, MentorshipSession, MentorStats, OutboxEvent, OutboxHandler
from outbox import batches, record_events
from outbox.recording import Dispatch, pending_dispatches, redeliver_delay
from tests.database import counting, plans
from tests.factories.bookings import BookingFactory
from tests.factories.mentors import MentorProfileFactory
from workflows.events import EventType, record
from workflows.notifications import messages
from workflows.payloads import booking_payload
from workflows.sessions import analytics
from workflows.sessions import lifecycle as sessions

CREATE_SESSIONS = "sessions.create_from_booking"
NOTIFY = "notifications.notify"
RECORD_ANALYTICS = "analytics.record"
FAN_OUT_WEBHOOKS = "webhooks.fan_out"
FOLLOW_SESSIONS = "calendars.follow_sessions"  # the mentor's own calendar: every session.scheduled owes it a look

START = datetime(2026, 11, 20, 9, tzinfo=UTC)


def completions(db: Session, count: int) -> list[tuple[uuid.UUID, uuid.UUID]]:
    """``count`` ``session.completed`` events, each of its own mentor: (event id, mentor profile id)."""
    made = []
    for _ in range(count):
        mentor = MentorProfileFactory()
        db.flush()
        payload = {"mentor_profile_id": str(mentor.id), "start_time": START.isoformat(),
                   "end_time": (START + timedelta(minutes=45)).isoformat()}
        [event] = record_events(db, EventType.SESSION_COMPLETED, [(uuid.uuid4(), payload)], actor="system")
        made.append((event.id, mentor.id))
    return made


def analytics_row(db: Session, event_id: uuid.UUID) -> OutboxHandler:
    row = db.get(OutboxHandler, (event_id, RECORD_ANALYTICS), populate_existing=True)
    assert row is not None
    return row


def test_fresh_rows_are_due_at_once_the_hint_first_and_a_row_in_backoff_is_not(db: Session) -> None:
    (first, _), (second, _), (hinted, _), (backing_off, _) = completions(db, 4)
    db.execute(update(OutboxHandler).where(OutboxHandler.event_id == backing_off)
               .values(backoff_until=func.now() + timedelta(minutes=1)))
    claimed = batches.claim_due(db, RECORD_ANALYTICS, limit=2, hint=hinted)
    assert {event.id for event in claimed} == {hinted, first}  # the hint, then the longest waiting
    assert analytics_row(db, hinted).status == HandlerStatus.DONE
    rest = batches.claim_due(db, RECORD_ANALYTICS, limit=10, hint=backing_off)
    assert [event.id for event in rest] == [second]
    assert analytics_row(db, backing_off).status == HandlerStatus.PENDING


def test_a_failing_row_keeps_its_error_and_backoff_while_the_rest_of_its_batch_commits(
    seed: Session, committed: sessionmaker[Session],
) -> None:
    made = completions(seed, 5)
    seed.commit()
    (failing_event, failing_mentor) = made[2]
    with committed.kw["bind"].begin() as conn:
        conn.execute(text(f"""
            CREATE FUNCTION refuse_one_mentor() RETURNS trigger LANGUAGE plpgsql AS
            $$ BEGIN
                IF NEW.mentor_profile_id = '{failing_mentor}' THEN RAISE EXCEPTION 'no stats for this mentor'; END IF;
                RETURN NEW;
            END $$;
            CREATE TRIGGER refuse_one_mentor BEFORE INSERT OR UPDATE ON mentor_stats
            FOR EACH ROW EXECUTE FUNCTION refuse_one_mentor();
        """))
    try:
        with committed() as db:
            events = batches.claim_due(db, RECORD_ANALYTICS, limit=10)
            batch = batches.do_batch(db, RECORD_ANALYTICS, events, analytics.handle_events)
            db.commit()
    finally:
        with committed.kw["bind"].begin() as conn:
            conn.execute(text("DROP TRIGGER refuse_one_mentor ON mentor_stats; DROP FUNCTION refuse_one_mentor();"))
    assert (len(batch.events), batch.done, list(batch.failed)) == (5, 4, [failing_event])
    with committed() as db:
        counted = dict(db.execute(select(MentorStats.mentor_profile_id, MentorStats.sessions_completed)).all())
        assert counted == {mentor: 1 for event, mentor in made if event != failing_event}
        rows = {event: analytics_row(db, event) for event, _ in made}
        assert [row.status for event, row in rows.items() if event != failing_event] == [HandlerStatus.DONE] * 4
        failed = rows[failing_event]
        assert failed.status == HandlerStatus.PENDING and failed.done_at is None
        assert failed.last_error is not None and "no stats for this mentor" in failed.last_error
        now = db.scalar(select(func.now()))
        assert failed.backoff_until is not None
        waits = (failed.backoff_until - now).total_seconds()
        assert 0 < waits <= redeliver_delay(failed.attempts).total_seconds()
        assert failed.next_attempt_at >= failed.backoff_until  # the relay kicks it once its backoff passes
        # Not claimed again while it waits out its backoff, even when named first.
        assert batches.claim_due(db, RECORD_ANALYTICS, limit=10, hint=failing_event) == []
        db.rollback()


def test_a_batch_of_one_failing_row_rolls_back_and_keeps_its_error_unless_done_since(
    seed: Session, committed: sessionmaker[Session],
) -> None:
    (failing, _), (done_since, _) = completions(seed, 2)
    seed.commit()

    def refuse(_db: Session, _events: object) -> None:
        raise RuntimeError("the analytics store is away")

    for event_id in (failing, done_since):
        with committed() as db:
            events = batches.claim_due(db, RECORD_ANALYTICS, limit=1, hint=event_id)
            assert [event.id for event in events] == [event_id]
            try:
                batches.do_batch(db, RECORD_ANALYTICS, events, refuse)
            except batches.RowFailed as exc:
                failed = exc
            else:
                raise AssertionError("a failing row of a batch of one raises RowFailed")
            db.rollback()  # as the task's transaction does: the claim goes with the work
        assert failed.event_id == event_id and "the analytics store is away" in failed.error
        with committed() as db:
            assert analytics_row(db, event_id).status == HandlerStatus.PENDING
            if event_id == done_since:  # another batch did it between the rollback and keep_failure
                db.execute(update(OutboxHandler).where(OutboxHandler.event_id == event_id,
                                                       OutboxHandler.handler == RECORD_ANALYTICS)
                           .values(status=HandlerStatus.DONE, done_at=func.now()))
            batches.keep_failure(db, RECORD_ANALYTICS, failed)
            db.commit()
    with committed() as db:
        kept = analytics_row(db, failing)
        assert kept.status == HandlerStatus.PENDING and kept.backoff_until is not None
        assert kept.last_error is not None and "the analytics store is away" in kept.last_error
        untouched = analytics_row(db, done_since)
        assert untouched.status == HandlerStatus.DONE and untouched.last_error is None


def accepted(db: Session, count: int) -> list[uuid.UUID]:
    """``count`` accepted bookings with their ``booking.accepted`` events: the events' ids."""
    events = []
    for _ in range(count):
        booking = BookingFactory(status=BookingStatus.ACCEPTED)
        db.flush()
        events.append(record(db, EventType.BOOKING_ACCEPTED, booking_payload(booking), actor="mentor").id)
    return events


def test_a_batch_of_session_creations_costs_the_same_statements_for_3_events_as_for_30(
    db: Session, connection: Connection,
) -> None:
    """Set-based: the sessions, their ``session.scheduled`` events and those events' handler rows are
    written by a fixed number of statements, whatever the batch's size; a second run writes nothing."""
    statements = []
    for count in (3, 30):
        events = accepted(db, count)
        claimed = batches.claim_due(db, CREATE_SESSIONS, limit=100)
        assert sorted(event.id for event in claimed) == sorted(events)
        pending_dispatches(db).clear()
        with counting(connection) as counted:
            batch = batches.do_batch(db, CREATE_SESSIONS, claimed, sessions.create_sessions_for_events)
            statements.append(counted())
        assert batch.done == count
        booking_ids = [event.aggregate_id for event in claimed]
        made = db.scalars(select(MentorshipSession).where(MentorshipSession.booking_id.in_(booking_ids))).all()
        assert len(made) == count
        scheduled = db.scalars(select(OutboxEvent).where(
            OutboxEvent.type == "session.scheduled", OutboxEvent.aggregate_id.in_([s.id for s in made]))).all()
        assert sorted(event.payload["booking_id"] for event in scheduled) == sorted(map(str, booking_ids))
        fan_out = db.scalar(select(func.count()).select_from(OutboxHandler).where(
            OutboxHandler.event_id.in_([event.id for event in scheduled]),
            OutboxHandler.handler == FAN_OUT_WEBHOOKS, OutboxHandler.status == HandlerStatus.PENDING))
        assert fan_out == count
        assert {(d.handler, d.event_id) for d in pending_dispatches(db) if isinstance(d, Dispatch)} == {
            (handler, event.id) for event in scheduled for handler in (FOLLOW_SESSIONS, FAN_OUT_WEBHOOKS)}
        sessions.create_sessions_for_events(db, claimed)  # again: the unique key on the booking says no
        assert db.scalar(select(func.count()).select_from(MentorshipSession)
                         .where(MentorshipSession.booking_id.in_(booking_ids))) == count
    assert statements[0] == statements[1] == 4  # a savepoint, the sessions, the events, its release


def test_a_batch_of_notifications_costs_four_statements_whatever_its_size(db: Session, connection: Connection) -> None:
    """Each notification names the other person, the listing and the time in the reader's words: a batch reads
    the mentors, the people (names, timezones, locales) and the listings' titles, then inserts every
    notification in one statement. (Before notifications named anyone, an accepted booking's batch was one
    insert.)"""
    told = {}
    for event_type in (EventType.BOOKING_ACCEPTED, EventType.BOOKING_REQUESTED):
        for size in (3, 6):
            for _ in range(size):
                booking = BookingFactory(status=BookingStatus.ACCEPTED)
                db.flush()
                record(db, event_type, booking_payload(booking), actor="mentor")
            claimed = batches.claim_due(db, NOTIFY, limit=100)
            assert len(claimed) == size
            with counting(connection) as counted:
                messages.handle_events(db, claimed)
                told[(event_type, size)] = counted()
    assert set(told.values()) == {4}, told


def _backlog(db: Session, handler: str, count: int) -> None:
    """``count`` pending rows of ``handler`` (and their events), waiting since an hour ago."""
    db.execute(text("""
        WITH events AS (
            INSERT INTO outbox_events (id, type, aggregate_type, aggregate_id, payload)
            SELECT gen_random_uuid(), 'session.completed', 'session', gen_random_uuid(), '{}'::jsonb
            FROM generate_series(1, :count) RETURNING id)
        INSERT INTO outbox_handlers (event_id, handler, status, attempts, next_attempt_at)
        SELECT id, :handler, 'pending', 0, now() - interval '1 hour' FROM events
    """), {"count": count, "handler": handler})


def test_a_claim_never_reads_past_another_handlers_backlog(committed: sessionmaker[Session], engine: Engine) -> None:
    """Statistics taken while analytics had a backlog of its own, as the planner still holds them once that
    backlog is done and vacuumed: its claim reads its own handler's part of the pending rows, never the
    webhooks' 20,000."""
    with committed.begin() as db:
        _backlog(db, FAN_OUT_WEBHOOKS, 20_000)
        _backlog(db, RECORD_ANALYTICS, 20_000)
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("ANALYZE outbox_handlers"))
        conn.execute(update(OutboxHandler).where(OutboxHandler.handler == RECORD_ANALYTICS)
                     .values(status=HandlerStatus.DONE))
        conn.execute(text("VACUUM outbox_handlers"))  # the done rows leave the index; the statistics stay
    compiled = batches._CLAIM.compile(dialect=engine.dialect)
    claim = compiled.construct_expanded_state({"claim_handler": RECORD_ANALYTICS, "hint": None, "others": 100})
    claim_sql, params = claim.statement, claim.parameters
    with engine.connect() as conn:
        plan = conn.exec_driver_sql(f"EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) {claim_sql}", params).scalar_one()
        conn.rollback()
    top = plan[0]["Plan"]
    assert top["Actual Rows"] == 0
    assert top["Shared Hit Blocks"] + top["Shared Read Blocks"] < 50, plan


def test_a_claim_is_planned_once_not_again_at_every_batch(db: Session, connection: Connection) -> None:
    """The claim with a hint (a kicked task's) and without (one sent by hand), whatever the batch size, reuses its
    generic plan. With the handler and the batch size parameters, PostgreSQL found that plan dearer than one made
    for the values, and planned the claim again at every batch: most of the time the statement took."""
    _backlog(db, FAN_OUT_WEBHOOKS, 2_000)  # the planner's statistics know of a backlog, as on a busy platform
    db.execute(text("ANALYZE outbox_handlers"))
    hints = [event_id for event_id, _ in completions(db, 15)]
    for hint in hints:
        batches.claim_due(db, RECORD_ANALYTICS, limit=100, hint=hint)  # a kicked task's claim
        batches.claim_due(db, RECORD_ANALYTICS, limit=1, hint=hint)  # a batch of one
        batches.claim_due(db, FAN_OUT_WEBHOOKS, limit=100)  # a task sent by hand, with a backlog
    claims = plans(connection, "FOR UPDATE SKIP LOCKED")
    assert len(claims) == 3, claims
    assert all(generic >= 5 for generic, _ in claims), claims  # every run after the first five


def test_a_batch_of_one_runs_without_a_savepoint_two_statements_fewer(db: Session, connection: Connection) -> None:
    """The usual batch, one row with no backlog, sends only its work; a batch of more wraps its work in a
    savepoint (and its release), so that a failure can be retried row by row."""
    events = [event_id for event_id, _ in completions(db, 3)]
    claimed = batches.claim_due(db, RECORD_ANALYTICS, limit=100)
    assert sorted(event.id for event in claimed) == sorted(events)

    def work(db: Session, _events: object) -> None:
        db.execute(text("SELECT 1"))

    sent = {}
    for size in (1, 3):
        with counting(connection) as statements:
            batches.do_batch(db, RECORD_ANALYTICS, claimed[:size], work)
            sent[size] = statements()
    assert sent == {1: 1, 3: 3}


def test_many_events_are_recorded_in_one_statement_as_one_is(db: Session, connection: Connection) -> None:
    """One event's statement takes plain parameters, many events' the same statement over arrays: either is one
    round trip, whatever the number of events and handlers."""
    db.execute(text("SELECT 1"))  # the test's own savepoint begins with the session's first statement
    sent = {}
    for count in (1, 20):
        items = [(uuid.uuid4(), {"mentor_profile_id": str(uuid.uuid4()), "start_time": START.isoformat(),
                                 "end_time": START.isoformat()}) for _ in range(count)]
        with counting(connection) as statements:
            written = record_events(db, EventType.SESSION_COMPLETED, items, actor="system")
            sent[count] = statements()
        assert len(written) == count
        rows = db.scalar(select(func.count()).select_from(OutboxHandler)
                         .where(OutboxHandler.event_id.in_([event.id for event in written])))
        assert rows == count * 5  # reviews, notifications, the mentor's and the programme's analytics, webhooks
    assert sent == {1: 1, 20: 1}
