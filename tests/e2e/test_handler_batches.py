"""Handlers drain in batches on real workers: two workers share one backlog; a burst kicks each handler once."""

from __future__ import annotations

import dataclasses
import json
import re
import threading
import time
import uuid
from collections import Counter
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

import pytest
import redis
from flask import Flask
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from infra.celery_config import create_celery
from infra.config import get_settings
from models import (
    Booking,
    BookingStatus,
    HandlerStatus,
    MentorshipSession,
    MentorStats,
    Notification,
    OutboxEvent,
    OutboxHandler,
    SessionStatus,
    WebhookMessage,
)
from outbox import batches as outbox_batches
from outbox import draining as draining_module
from outbox import publisher as publish_module
from outbox.publisher import kick_key
from outbox.recording import Dispatch
from outbox.registry import Work
from tests.concurrency import wait_until
from tests.factories.accounts import Caller, UserFactory, as_caller
from tests.factories.mentors import ListingFactory
from tests.servers import live_app
from tests.webhook_receiver import Receiver, admin, endpoint
from tests.workers_fixtures import StartWorker, purge_queues
from tests.workflow_runs import accept_all, every_booking_has_one_session, seed_drafts, sessions_per_booking
from workers.handlers import task_of
from workflows.actors import Actor
from workflows.bookings import lifecycle as bookings
from workflows.sessions import lifecycle as session_flow

MENTORS = 10
CREATE_SESSIONS = "sessions.create_from_booking"
RECORD_ANALYTICS = "analytics.record"
PER_MENTOR = 30  # 300 completions, counted into 10 mentors' statistics


def seed_in_progress_per_mentor(seed: Session) -> list[tuple[Caller, uuid.UUID]]:
    """``MENTORS`` mentors with ``PER_MENTOR`` sessions under way each, an hour apart in the past."""
    now = datetime.now(UTC).replace(microsecond=0)
    made = []
    for _ in range(MENTORS):
        listing = ListingFactory()
        mentor = as_caller(listing.mentor_profile.user)
        for index in range(PER_MENTOR):
            mentee = UserFactory()
            start = now - timedelta(hours=index + 1)
            booking = Booking(id=uuid.uuid4(), listing_id=listing.id, mentor_profile_id=listing.mentor_profile_id,
                              mentee_user_id=mentee.id, start_time=start, end_time=start + timedelta(minutes=50),
                              status=BookingStatus.ACCEPTED, price_cents=5000, currency="USD")
            seed.add(booking)
            seed.flush()
            session = MentorshipSession(
                id=uuid.uuid4(), kind="individual", booking_id=booking.id, listing_id=listing.id,
                mentor_profile_id=listing.mentor_profile_id, mentee_user_id=mentee.id, start_time=start,
                end_time=booking.end_time, status=SessionStatus.IN_PROGRESS, started_at=start)
            seed.add(session)
            made.append((mentor, session.id))
    seed.commit()
    return made


def effects(committed: sessionmaker[Session], endpoint_id: uuid.UUID) -> dict[str, object]:
    with committed() as db:
        per_notification = Counter(db.execute(
            select(Notification.event_id, Notification.user_id, Notification.type)).all())
        per_message = Counter(db.scalars(
            select(WebhookMessage.event_id).where(WebhookMessage.endpoint_id == endpoint_id)))
        return {
            "notifications": sum(per_notification.values()),
            "notifications_doubled": sum(1 for n in per_notification.values() if n > 1),
            "completed_counted": db.scalar(select(func.coalesce(func.sum(MentorStats.sessions_completed), 0))),
            "minutes_counted": db.scalar(select(func.coalesce(func.sum(MentorStats.minutes_completed), 0))),
            "mentors_counted": db.scalar(select(func.count()).select_from(MentorStats)),
            "webhook_messages": sum(per_message.values()),
            "webhook_messages_doubled": sum(1 for n in per_message.values() if n > 1),
            "pending_handlers": db.scalar(select(func.count()).where(OutboxHandler.status == HandlerStatus.PENDING)),
        }


def test_two_workers_draining_one_backlog_do_each_effect_exactly_once(
    seed: Session, committed: sessionmaker[Session], start_worker: StartWorker, receiver: Receiver,
) -> None:
    mentor, drafts = seed_drafts(seed, 300)
    in_progress = seed_in_progress_per_mentor(seed)
    hook = endpoint(seed, receiver, admin(seed), "/completed", event_types=["session.completed"])
    # The backlog is written with no worker and no message sent: plain sessions, no after-commit publisher.
    quiet = sessionmaker(bind=committed.kw["bind"], expire_on_commit=False)
    with quiet() as db:
        for booking_id in drafts:
            bookings.accept_booking(db, Actor(mentor.user.id, mentor_profile_id=mentor.user.mentor_profile.id),
                                    booking_id)
        for caller, session_id in in_progress:
            session_flow.complete_session(
                db, Actor(caller.user.id, mentor_profile_id=caller.user.mentor_profile.id), session_id)
        db.commit()
    with committed() as db:
        pending = dict(db.execute(select(OutboxHandler.handler, func.count()).group_by(OutboxHandler.handler)).all())
        accepted = db.execute(select(OutboxEvent.id, OutboxEvent.aggregate_id)
                              .where(OutboxEvent.type == "booking.accepted").limit(1)).one()
        completed, completed_session = db.execute(select(OutboxEvent.id, OutboxEvent.aggregate_id).where(
            OutboxEvent.type == "session.completed").limit(1)).one()
    assert pending[CREATE_SESSIONS] == 300 and pending[RECORD_ANALYTICS] == 300, pending

    small_batches = {"HANDLER_BATCH": "10"}  # 30 batches per handler and backlog: the workers interleave
    workers = [start_worker(concurrency=2, env=small_batches), start_worker(concurrency=2, env=small_batches)]
    app = create_celery(get_settings())
    # First the analytics backlog alone, kicked eight times: all four worker processes drain it at once.
    # (Its counters are where a row done twice would show: the other effects have unique keys behind them.)
    for _ in range(8):
        app.send_task(RECORD_ANALYTICS, args=[str(completed)])
    time.sleep(1)
    for _ in range(4):  # then every handler, several kicks each (copies of the messages the outbox sends)
        app.send_task(CREATE_SESSIONS, args=[str(accepted.aggregate_id)],
                      kwargs={"event_id": str(accepted.id)})
        for handler in ("notifications.notify", "reviews.unlock", "webhooks.fan_out"):
            app.send_task(handler, args=[str(completed)])
        # A handler that can be run by hand takes its event's aggregate first, as the outbox sends it.
        app.send_task("analytics.programmes", args=[str(completed_session)], kwargs={"event_id": str(completed)})

    expected = {"notifications": 300 + 2 * 300, "notifications_doubled": 0, "completed_counted": 300,
                "minutes_counted": 300 * 50, "mentors_counted": MENTORS, "webhook_messages": 300,
                "webhook_messages_doubled": 0}

    def drained() -> bool:
        now = effects(committed, hook.id)
        return every_booking_has_one_session(committed, drafts) and now == {**expected, "pending_handlers": 0}

    # The sessions' own events (session.scheduled) are fanned out too, so the backlog is still growing here.
    try:
        wait_until(drained, 90, f"every effect once: {expected}")
    except AssertionError as exc:
        raise AssertionError(f"{exc}; now {effects(committed, hook.id)}") from None
    time.sleep(2)  # anything doubled would show by now
    assert set(sessions_per_booking(committed, drafts).values()) == {1}
    assert effects(committed, hook.id) == {**expected, "pending_handlers": 0}
    # Both workers drained analytics batches (Celery logs each task's result: the rows it did).
    done = re.compile(rf"Task {re.escape(RECORD_ANALYTICS)}\[[^]]+\] succeeded in [0-9.e-]+s: ([0-9]+)")
    for worker in workers:
        rows_done = [int(found) for found in done.findall(worker.log())]
        assert sum(rows_done) > 0, f"{worker.name} drained no analytics: {rows_done}"


def queued(client: redis.Redis, queue: str) -> int:
    return int(client.llen(f"{get_settings().redis_key_prefix}{queue}"))


def test_a_burst_of_events_sends_one_kick_per_handler_not_one_message_per_event(
    seed: Session, committed: sessionmaker[Session], redis_client: redis.Redis,
) -> None:
    mentor, drafts = seed_drafts(seed, 300)
    purge_queues()  # no worker runs: what the burst sends stays in the queues
    try:
        began = time.monotonic()
        accept_all(live_app(committed), mentor, drafts)
        print(f"300 accepts took {time.monotonic() - began:.1f} s")
        with committed() as db:
            rows = db.scalar(select(func.count()).select_from(OutboxHandler))
        messages = {queue: queued(redis_client, queue) for queue in ("sessions", "notifications", "webhooks")}
        print(f"300 booking.accepted events, {rows} handler rows -> {sum(messages.values())} messages: {messages}")
        assert rows == 3 * 300
        assert messages == {"sessions": 1, "notifications": 1, "webhooks": 1}
    finally:
        purge_queues()


def accepting_during_the_first_batch(api: Flask, mentor: Caller, drafts: list[uuid.UUID], batches: list[int]
                                     ) -> Work:
    """Session creation that accepts ``drafts`` while its first batch is under way; each batch's size in ``batches``."""
    def create_and_accept_more(db: Session, events: Sequence[OutboxEvent]) -> None:
        session_flow.create_sessions_for_events(db, events)
        if not batches:
            accept_all(api, mentor, drafts)  # committed while the first batch is under way
        batches.append(len(events))

    return create_and_accept_more


def no_linger(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(draining_module, "get_settings",
                        lambda: dataclasses.replace(get_settings(), handler_linger_ms=0))


def test_events_committed_while_a_handler_drains_send_no_message_and_that_drain_does_them(
    seed: Session, committed: sessionmaker[Session], redis_client: redis.Redis, monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The kick's task holds the handler's kick key while it drains: accepts committed meanwhile queue
    no message, and, with no linger, the same drain creates their sessions (the batch after it lets the key go)."""
    no_linger(monkeypatch)
    create_from_booking = task_of(CREATE_SESSIONS)

    mentor, drafts = seed_drafts(seed, 4)
    api = live_app(committed)
    purge_queues()
    try:
        accept_all(api, mentor, drafts[:1])
        assert queued(redis_client, "sessions") == 1  # the kick; no worker runs, this test drains in process
        batches: list[int] = []
        create_and_accept_more = accepting_during_the_first_batch(api, mentor, drafts[1:3], batches)

        with committed() as db:  # the event the kick names, as its task is given it
            kicked_for = db.scalar(select(OutboxEvent.id).where(OutboxEvent.aggregate_id == drafts[0]))
        done = create_from_booking.drain(create_and_accept_more, str(kicked_for))
        assert (done, batches) == (3, [1, 2])
        assert queued(redis_client, "sessions") == 1  # the two accepts sent nothing
        assert every_booking_has_one_session(committed, drafts[:3])
        accept_all(api, mentor, drafts[3:])  # the drain let the key go: the next accept kicks again
        assert queued(redis_client, "sessions") == 2
    finally:
        purge_queues()


def test_events_committed_while_a_batch_is_done_go_to_one_kick_that_waits_then_one_batch(
    seed: Session, committed: sessionmaker[Session], redis_client: redis.Redis,
) -> None:
    """A stream: events that came in while a short batch was done are handed to one kick that waits
    ``HANDLER_LINGER_MS`` (a countdown: the worker holds the message), holding the key so that the events
    meanwhile send nothing; its task takes them all in one batch."""
    create_from_booking = task_of(CREATE_SESSIONS)
    mentor, drafts = seed_drafts(seed, 5)
    api = live_app(committed)
    purge_queues()
    try:
        accept_all(api, mentor, drafts[:1])
        batches: list[int] = []
        with committed() as db:
            kicked_for = db.scalar(select(OutboxEvent.id).where(OutboxEvent.aggregate_id == drafts[0]))
        began = datetime.now(UTC)
        done = create_from_booking.drain(accepting_during_the_first_batch(api, mentor, drafts[1:3], batches),
                                         str(kicked_for))
        assert (done, batches) == (1, [1])  # the two accepted meanwhile were handed over, not claimed at once
        raw = redis_client.lrange(f"{get_settings().redis_key_prefix}sessions", 0, -1)
        handed = json.loads(raw[0])  # the newest: LPUSH puts it first
        assert handed["headers"]["eta"] is not None  # it waits in the worker, not in a pool process
        eta = datetime.fromisoformat(handed["headers"]["eta"])
        linger = timedelta(milliseconds=get_settings().handler_linger_ms)
        assert began + linger < eta <= datetime.now(UTC) + linger
        assert len(raw) == 2
        accept_all(api, mentor, drafts[3:])  # the hand-over's key is held: these send nothing either
        assert queued(redis_client, "sessions") == 2
        after: list[int] = []

        def record(db: Session, events: Sequence[OutboxEvent]) -> None:
            session_flow.create_sessions_for_events(db, events)
            after.append(len(events))
        # Its hint is the handed-over batch's last event, done: the claim takes the due rows after it.
        assert str(kicked_for) in handed["headers"]["argsrepr"] + handed["headers"]["kwargsrepr"]
        assert create_from_booking.drain(record, str(kicked_for)) == 4
        assert after == [4]
        assert every_booking_has_one_session(committed, drafts)
    finally:
        purge_queues()


def test_one_event_during_a_batch_is_claimed_at_once_and_a_hand_over_that_finds_the_key_taken_claims_too(
    seed: Session, committed: sessionmaker[Session], redis_client: redis.Redis, monkeypatch: pytest.MonkeyPatch,
) -> None:
    """One event come in during a batch is the next step of a workflow, not a stream: claimed at once. Two are a
    stream, but when another publisher sets the key between the drain's letting it go and its hand-over, the
    drain claims them itself (that publisher's kick might yet fail to go out), naming nothing in the missed set."""
    create_from_booking = task_of(CREATE_SESSIONS)
    mentor, drafts = seed_drafts(seed, 5)
    api = live_app(committed)
    prefix = get_settings().redis_key_prefix
    purge_queues()
    try:
        accept_all(api, mentor, drafts[:1])
        with committed() as db:
            kicked_for = db.scalar(select(OutboxEvent.id).where(OutboxEvent.aggregate_id == drafts[0]))
        batches: list[int] = []
        done = create_from_booking.drain(accepting_during_the_first_batch(api, mentor, drafts[1:2], batches),
                                         str(kicked_for))
        assert (done, batches, queued(redis_client, "sessions")) == (2, [1, 1], 1)

        accept_all(api, mentor, drafts[2:3])  # the key was let go: this kicks (a second message)
        with committed() as db:
            kicked_for = db.scalar(select(OutboxEvent.id).where(OutboxEvent.aggregate_id == drafts[2]))
        real_stop = draining_module.stop_holding_kicks

        def and_another_publisher_kicks(app: object, handler: str) -> object:
            missed = real_stop(app, handler)  # type: ignore[arg-type]
            redis_client.set(f"{prefix}{kick_key(handler)}", "1", ex=60)
            return missed

        monkeypatch.setattr(draining_module, "stop_holding_kicks", and_another_publisher_kicks)
        batches.clear()
        done = create_from_booking.drain(accepting_during_the_first_batch(api, mentor, drafts[3:5], batches),
                                         str(kicked_for))
        assert (done, batches) == (3, [1, 2])
        assert queued(redis_client, "sessions") == 2  # no hand-over was sent
        assert not redis_client.smembers(f"{prefix}{publish_module.missed_key(CREATE_SESSIONS)}")
        assert every_booking_has_one_session(committed, drafts)
    finally:
        purge_queues()


def test_a_stream_of_accepts_drained_by_four_processes_leaves_no_row_without_a_kick(
    seed: Session, committed: sessionmaker[Session], start_worker: StartWorker, monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Rows are done by kicks alone while drains begin and end all the time (batches of three, four
    processes, four threads accepting): no relay runs, and kick keys outlive the test, so a row whose
    event found a key that no drain then looked past would stay pending."""
    long_ttl = {"HANDLER_KICK_TTL_SECONDS": "600"}
    monkeypatch.setattr(publish_module, "get_settings",
                        lambda: dataclasses.replace(get_settings(), handler_kick_ttl_seconds=600))
    mentor, drafts = seed_drafts(seed, 400)
    start_worker(concurrency=4, env={"HANDLER_BATCH": "3", **long_ttl})
    api = live_app(committed)
    threads = [threading.Thread(target=accept_all, args=(api, mentor, drafts[i::4])) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)

    def pending() -> int:
        with committed() as db:
            return db.scalar(select(func.count()).where(OutboxHandler.status == HandlerStatus.PENDING)) or 0

    try:
        wait_until(lambda: pending() == 0, 30, "every handler row done")
    except AssertionError as exc:
        raise AssertionError(f"{exc}: {pending()} rows pending") from None
    assert every_booking_has_one_session(committed, drafts)


def test_a_drain_claims_again_only_when_an_event_found_its_kick_key_held(
    committed: sessionmaker[Session], redis_client: redis.Redis, monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A task sent by hand holds no key, so no event waits on it: one claim ends it. A kicked task (its
    message names an event) lets its key go after a short batch, and claims once more only if a kick was
    owed meanwhile (its publisher found the key held and sent nothing)."""
    create_from_booking = task_of(CREATE_SESSIONS)

    claims: list[int] = []
    real_claim = outbox_batches.claim_due
    owe_a_kick = False

    def counting(*args: object, **kwargs: object) -> list[OutboxEvent]:
        found = real_claim(*args, **kwargs)  # type: ignore[arg-type]
        if owe_a_kick and not claims:  # as the publisher of an event committed during this claim does
            publish_module.publish(create_from_booking.app, [Dispatch(
                CREATE_SESSIONS, uuid.uuid4(), uuid.uuid4())], None)
        claims.append(len(found))
        return found

    monkeypatch.setattr(outbox_batches, "claim_due", counting)
    purge_queues()
    prefix = get_settings().redis_key_prefix
    key = f"{prefix}{kick_key(CREATE_SESSIONS)}"
    assert create_from_booking.drain(session_flow.create_sessions_for_events) == 0
    assert claims == [0]
    for owed, expected in ((False, [0]), (True, [0, 0])):
        redis_client.set(key, "1", ex=60)
        claims.clear()
        owe_a_kick = owed
        kicked_for = str(uuid.uuid4())  # the event its kick named (none here: the claim finds nothing)
        assert create_from_booking.drain(session_flow.create_sessions_for_events, kicked_for) == 0
        assert claims == expected
        assert not redis_client.exists(key)
        assert not redis_client.exists(f"{prefix}{publish_module.missed_key(CREATE_SESSIONS)}")
    assert queued(redis_client, "sessions") == 0  # the owed kick found the key held: no message


def test_a_kicked_task_claims_before_it_asks_redis_anything(
    seed: Session, committed: sessionmaker[Session], redis_client: redis.Redis, monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The first claim of a kicked task is its first round trip: the kick key it holds was set as its kick was sent.
    An event that found the key held before that claim is named in the missed set, and that claim takes it: no
    second claim. Redis's own command log (``MONITOR``) shows what reached Redis before the claim and after it."""
    create_from_booking = task_of(CREATE_SESSIONS)
    mentor, drafts = seed_drafts(seed, 2)
    api = live_app(committed)
    purge_queues()
    prefix = get_settings().redis_key_prefix
    ours = re.compile(re.escape(f"{prefix}outbox:kick") + r"[^ ]*" + re.escape(CREATE_SESSIONS))
    seen: list[str] = []
    marks = {name: f"{name}-{uuid.uuid4().hex}" for name in ("start", "claim", "end")}
    real_claim = outbox_batches.claim_due

    claims: list[int] = []

    def claiming(*args: object, **kwargs: object) -> list[OutboxEvent]:
        if not claims:
            redis_client.echo(marks["claim"])  # reaches Redis after every command the drain sent before this claim
            accept_all(api, mentor, drafts[1:])  # its event finds the key held: no message, its name in the set
        claims.append(len(found := real_claim(*args, **kwargs)))  # type: ignore[arg-type]
        return found

    try:
        accept_all(api, mentor, drafts[:1])
        with committed() as db:
            kicked_for = db.scalar(select(OutboxEvent.id).where(OutboxEvent.aggregate_id == drafts[0]))
        with redis_client.monitor() as monitor:
            watching = threading.Thread(target=_record_until, args=(monitor, marks["end"], seen), daemon=True)
            watching.start()
            wait_until(lambda: bool(redis_client.echo(marks["start"])) and any(marks["start"] in c for c in seen),
                       5, "the monitor hears")
            monkeypatch.setattr(outbox_batches, "claim_due", claiming)
            assert create_from_booking.drain(session_flow.create_sessions_for_events, str(kicked_for)) == 2
            redis_client.echo(marks["end"])
            watching.join(timeout=5)
        start = next(i for i, c in enumerate(seen) if marks["start"] in c)
        claim = next(i for i, c in enumerate(seen) if marks["claim"] in c)
        assert [c for c in seen[start:claim] if ours.search(c)] == []
        after = [c for c in seen[claim:] if ours.search(c)]
        assert any(c.startswith("EVAL") for c in after)  # the second accept's publisher found the key held
        assert any(c.startswith("DEL") for c in after)  # the drain let key and set go
        assert claims == [2]  # the event the set named was in the first claim: no claim more
        assert queued(redis_client, "sessions") == 1  # the first accept's kick only
        assert every_booking_has_one_session(committed, drafts)
    finally:
        purge_queues()


def _record_until(monitor: redis.client.Monitor, mark: str, seen: list[str]) -> None:
    """Each command Redis runs, as its ``MONITOR`` tells it, into ``seen`` until one names ``mark``."""
    for command in monitor.listen():  # type: ignore[no-untyped-call]
        seen.append(str(command["command"]))
        if mark in seen[-1]:
            return
