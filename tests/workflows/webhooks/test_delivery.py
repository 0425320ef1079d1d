"""The webhook domain in-process on PostgreSQL (savepoint per test): fan-out, leases, dispatch, outcomes.

Inside one test transaction ``now()`` stands still, so "time passes" is written as moving
``next_attempt_at`` or ``failing_since`` into the past.
"""

from __future__ import annotations

import random
import time
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Connection, func, select, update
from sqlalchemy.orm import Session, sessionmaker

from infra.config import get_settings
from models import Notification, WebhookAttempt, WebhookEndpoint, WebhookMessage
from outbox.recording import pending_dispatches
from tests.database import counting
from tests.factories.accounts import UserFactory
from tests.factories.mentors import MentorProfileFactory
from tests.webhook_domain import (
    db_now,
    delivered_task_args,
    end_backoff,
    event,
    expire_leases,
    lease,
    make_endpoint,
    make_message,
    record_outcome,
    settings,
)
from workflows.actors import Actor
from workflows.webhooks import endpoints, fanout, leases, messages, outcomes, retry
from workflows.webhooks.sending import Outcome


def test_fan_out_reaches_subscribed_endpoints_of_participants_and_admins_only(db: Session) -> None:
    profile = MentorProfileFactory()
    mentee, stranger, admin = UserFactory(), UserFactory(), UserFactory(is_admin=True)
    mentors = make_endpoint(db, profile.user)
    mentees = make_endpoint(db, mentee, event_types=["booking.accepted"])
    admins = make_endpoint(db, admin)
    make_endpoint(db, stranger)
    make_endpoint(db, mentee, event_types=["session.completed"])  # not subscribed
    paused = make_endpoint(db, profile.user)
    paused.enabled = False
    accepted = event(db, "booking.accepted", {"id": str(uuid.uuid4()), "mentor_profile_id": str(profile.id),
                                              "mentee_user_id": str(mentee.id), "status": "accepted"})

    created = fanout.fan_out(db, accepted)

    rows = db.scalars(select(WebhookMessage).where(WebhookMessage.event_id == accepted.id)).all()
    assert {row.endpoint_id for row in rows} == {mentors.id, mentees.id, admins.id}
    assert all(row.id.startswith("msg_") and row.payload == accepted.payload for row in rows)
    assert sorted(delivered_task_args(db)) == sorted(created) == sorted(row.id for row in rows)


def test_group_session_events_reach_every_listed_mentee(db: Session) -> None:
    profile = MentorProfileFactory()
    first, second, outsider = UserFactory(), UserFactory(), UserFactory()
    subscribed = [make_endpoint(db, user) for user in (first, second, outsider)]
    started = event(db, "session.started", {"id": str(uuid.uuid4()), "mentor_profile_id": str(profile.id),
                                             "mentee_user_id": None,
                                             "mentee_user_ids": [str(first.id), str(second.id)]})
    fanout.fan_out(db, started)
    reached = set(db.scalars(select(WebhookMessage.endpoint_id).where(WebhookMessage.event_id == started.id)))
    assert reached == {subscribed[0].id, subscribed[1].id}


def test_fan_out_of_the_same_event_twice_makes_one_message_per_endpoint(db: Session) -> None:
    admins = [make_endpoint(db, UserFactory(is_admin=True)) for _ in range(2)]
    expired = event(db, "booking.expired", {"id": str(uuid.uuid4())})
    assert len(fanout.fan_out(db, expired)) == 2
    assert fanout.fan_out(db, expired) == []
    counted = db.scalar(select(func.count()).where(WebhookMessage.event_id == expired.id))
    assert counted == len(admins)
    assert len(delivered_task_args(db)) == 2


def test_a_batch_fans_out_with_the_same_statements_for_3_events_as_for_30(db: Session, connection: Connection) -> None:
    """Set-based: one insert for a batch's messages, each event with its own audience and views, in event order."""
    admin = make_endpoint(db, UserFactory(is_admin=True))
    statements = []
    for count in (3, 30):
        mentees = [UserFactory() for _ in range(count)]
        theirs = make_endpoint(db, mentees[1])
        # Group events: each mentee takes part in its own, beside another; a mentee's copy leaves the other out.
        batch = [event(db, "session.started", {"id": str(uuid.uuid4()), "mentor_profile_id": None,
                                               "mentee_user_id": None,
                                               "mentee_user_ids": [str(mentee.id), str(uuid.uuid4())]})
                 for mentee in mentees]
        pending_dispatches(db).clear()
        with counting(connection) as counted:
            created = fanout.fan_out_events(db, batch)
            statements.append(counted())
        assert len(created) == count + 1  # the admin's endpoint has every event, the mentee's only its own
        to_admin = db.scalars(select(WebhookMessage).where(WebhookMessage.endpoint_id == admin.id,
                                                           WebhookMessage.event_id.in_([e.id for e in batch]))
                              .order_by(WebhookMessage.next_attempt_at, WebhookMessage.created_at)).all()
        assert [message.event_id for message in to_admin] == [e.id for e in batch]
        assert all(message.payload == e.payload for message, e in zip(to_admin, batch, strict=True))
        (to_mentee,) = db.scalars(select(WebhookMessage).where(WebhookMessage.endpoint_id == theirs.id)).all()
        assert to_mentee.event_id == batch[1].id
        assert to_mentee.payload == {key: value for key, value in batch[1].payload.items() if key != "mentee_user_ids"}
        # A deliver for each endpoint's first new message, unless older ones wait (the admin's, the second time).
        waiting = [to_admin[0].id] if count == 3 else []
        assert sorted(delivered_task_args(db)) == sorted([*waiting, to_mentee.id])
    # the messages, the endpoints' locks, the check for a batch in flight
    assert statements[0] == statements[1] == 3


def test_an_endpoint_with_an_attempt_in_flight_takes_no_second_one_until_the_outcome(db: Session) -> None:
    endpoint = make_endpoint(db)
    first, second = make_message(db, endpoint), make_message(db, endpoint)
    other = make_message(db, make_endpoint(db))

    leased = lease(db, first)
    assert leased is not None and leased.attempt_number == 1
    assert lease(db, first) is None  # leased: no longer due
    assert lease(db, second) is None  # the endpoint is busy
    assert lease(db, other) is not None  # other endpoints are not

    pending_dispatches(db).clear()
    record_outcome(db, leased, Outcome(200, 12), settings=get_settings())
    assert delivered_task_args(db) == [second.id]  # the finished attempt hands the slot on
    assert lease(db, second) is not None


def test_an_attempt_whose_worker_died_counts_as_a_failure_with_backoff(db: Session) -> None:
    endpoint = make_endpoint(db)
    message = make_message(db, endpoint)
    first = lease(db, message)
    assert first is not None
    assert fanout.dispatch_due(db) == []
    expire_leases(db, message)
    assert fanout.dispatch_due(db) == [message.id]
    # The deliver that comes settles the dead attempt as failed: the retry schedule, not at once.
    assert lease(db, message) is None
    db.refresh(message)
    db.refresh(endpoint)
    now = db_now(db)
    assert (message.status, message.attempts, message.lease_id) == ("pending", 1, None)
    assert message.next_attempt_at is not None
    assert timedelta(seconds=3) <= message.next_attempt_at - now <= timedelta(seconds=7)  # 5 s ± 20 %
    assert (endpoint.failing_since, endpoint.consecutive_failures) == (now, 1)
    assert endpoint.backoff_until is not None
    assert timedelta(seconds=3) <= endpoint.backoff_until - now <= timedelta(seconds=7)  # the endpoint's first step
    lost = db.get(WebhookAttempt, first.attempt_id)
    assert lost is not None and lost.error is not None and "worker stopped" in lost.error
    # Once the retry time comes, the same message goes again, same body (same webhook-id).
    expire_leases(db, message)
    end_backoff(db, endpoint)
    second = lease(db, message)
    assert second is not None
    assert (second.message_id, second.attempt_number, second.body) == (message.id, 2, first.body)
    # The dead attempt's late outcome, if it ever came, no longer decides the message.
    assert record_outcome(db, first, Outcome(500, 5, error="HTTP 500"),
                                           settings=get_settings()) == "pending"
    assert record_outcome(db, second, Outcome(204, 5), settings=get_settings()) == "delivered"


def test_a_dead_batch_keeps_its_recorded_deliveries_fails_the_one_in_flight_and_frees_the_unsent(
        db: Session) -> None:
    endpoint = make_endpoint(db)
    sent, in_flight, unsent = (make_message(db, endpoint, due_in=-timedelta(minutes=3 - i)) for i in range(3))
    batch = leases.lease_batch(db, sent.id, settings=get_settings())
    assert [d.message_id for d in batch] == [sent.id, in_flight.id, unsent.id]
    outcomes.record_delivered(db, [(batch[0], Outcome(200, 3))])  # as the batch went on
    # The worker dies during the second attempt; every lease of the batch runs out.
    expire_leases(db, sent, in_flight, unsent)
    # The next lease settles the dead batch, and leases nothing: the attempt in flight failed, the endpoint backs off.
    assert leases.lease_batch(db, unsent.id, settings=get_settings(), limit=1) == []
    for message in (sent, in_flight, unsent):
        db.refresh(message)
    now = db_now(db)
    assert (sent.status, sent.attempts) == ("delivered", 1)  # not sent again
    assert (in_flight.status, in_flight.attempts) == ("pending", 1)
    assert in_flight.next_attempt_at is not None and in_flight.next_attempt_at > now
    # Never sent: its attempt is not spent, and it is due again as soon as the endpoint's backoff ends.
    assert (unsent.attempts, unsent.lease_id) == (0, None)
    assert unsent.next_attempt_at is not None and unsent.next_attempt_at <= now
    end_backoff(db, endpoint)
    assert [d.message_id for d in leases.lease_batch(db, unsent.id, settings=get_settings(), limit=1)] == [unsent.id]
    recorded = db.execute(select(WebhookAttempt.message_id, WebhookAttempt.status_code)).all()
    assert sorted(recorded) == sorted([(sent.id, 200), (in_flight.id, None)])


def test_a_message_that_keeps_killing_its_worker_fails_on_the_normal_schedule(db: Session) -> None:
    config = settings(webhook_retry_schedule=(timedelta(seconds=5), timedelta(minutes=5), timedelta(minutes=30)))
    endpoint = make_endpoint(db)
    message = make_message(db, endpoint)
    for attempt in range(1, 5):
        expire_leases(db, message)
        end_backoff(db, endpoint)
        leased = lease(db, message, config)
        assert leased is not None and leased.attempt_number == attempt
        expire_leases(db, message)  # the worker dies, again
        assert lease(db, message, config) is None  # settled: a failure
        db.refresh(message)
        assert message.attempts == attempt
    assert (message.status, message.next_attempt_at) == ("failed", None)
    assert db.scalar(select(func.count()).select_from(WebhookAttempt)
                     .where(WebhookAttempt.message_id == message.id)) == 4


def test_five_days_of_dead_attempts_disable_the_endpoint(db: Session) -> None:
    endpoint = make_endpoint(db)
    message = make_message(db, endpoint)
    assert lease(db, message) is not None
    db.execute(update(WebhookEndpoint).where(WebhookEndpoint.id == endpoint.id)
               .values(failing_since=func.now() - timedelta(days=5, minutes=1)))
    expire_leases(db, message)
    assert lease(db, message) is None
    db.refresh(endpoint)
    assert not endpoint.enabled and endpoint.disabled_reason is not None


def test_dispatch_due_sends_the_oldest_due_message_of_each_free_enabled_endpoint(db: Session) -> None:
    free = make_endpoint(db)
    oldest = make_message(db, free, due_in=-timedelta(minutes=2))
    make_message(db, free, due_in=-timedelta(minutes=1))
    make_message(db, free, due_in=timedelta(minutes=1))  # not due
    disabled = make_endpoint(db)
    disabled.enabled = False
    make_message(db, disabled, due_in=-timedelta(minutes=3))
    busy = make_endpoint(db)
    in_flight = make_message(db, busy, due_in=-timedelta(minutes=5))
    make_message(db, busy, due_in=-timedelta(minutes=4))
    assert lease(db, in_flight) is not None
    pending_dispatches(db).clear()

    assert fanout.dispatch_due(db) == [oldest.id]
    assert delivered_task_args(db) == [oldest.id]


def test_failures_follow_the_retry_schedule_then_the_message_fails(db: Session) -> None:
    config = settings(webhook_retry_schedule=(timedelta(seconds=10), timedelta(minutes=5)))
    endpoint = make_endpoint(db)
    message = make_message(db, endpoint)
    now = db_now(db)
    expected = [timedelta(seconds=10), timedelta(minutes=5)]
    for step in expected:
        leased = lease(db, message, config)
        assert leased is not None
        status = record_outcome(db, leased, Outcome(503, 40, error="HTTP 503"), settings=config)
        assert status == "pending"
        db.refresh(message)
        assert message.next_attempt_at is not None
        assert step * 0.8 <= message.next_attempt_at - now <= step * 1.2
        message.next_attempt_at = now
        db.flush()
        end_backoff(db, endpoint)
    leased = lease(db, message, config)
    assert leased is not None
    assert record_outcome(db, leased, Outcome(None, 3000, error="timed out"), settings=config) \
        == "failed"
    db.refresh(endpoint)
    assert endpoint.enabled and endpoint.failing_since == now


def test_retry_after_is_honoured_up_to_the_longest_step() -> None:
    schedule = (timedelta(seconds=5), timedelta(minutes=5), timedelta(hours=2))
    rng = random.Random(7)  # noqa: S311 - reproducible jitter
    assert retry.retry_delay(1, schedule, timedelta(minutes=1), rng=rng) == timedelta(minutes=1)
    assert retry.retry_delay(1, schedule, timedelta(days=30), rng=rng) == timedelta(hours=2)
    jittered = retry.retry_delay(2, schedule, timedelta(seconds=1), rng=rng)
    assert jittered is not None and timedelta(minutes=4) <= jittered <= timedelta(minutes=6)
    assert retry.retry_delay(4, schedule, None, rng=rng) is None


@pytest.mark.parametrize(("header", "expected"), [
    ("120", timedelta(seconds=120)),
    ("Wed, 21 Oct 2015 07:28:30 GMT", timedelta(seconds=30)),
    ("Wed, 21 Oct 2015 07:27:00 GMT", timedelta(0)),
    ("soon", None),
    ("", None),
    (None, None),
])
def test_retry_after_reads_seconds_and_http_dates(header: str | None, expected: timedelta | None) -> None:
    now = datetime(2015, 10, 21, 7, 28, tzinfo=UTC)
    assert retry.parse_retry_after(header, now) == expected


@pytest.mark.parametrize("header", ["²", "¹²", "\u0661\u0662\u0660", "\u07c0", "1" * 5000, "9" * 30, "+5", "-5",
                                    "1e3", "5.5", "\x00", "\ud800", "Mon, 01 Jan 99999 00:00:00 GMT",
                                    "Mon, 32 Foo 2015 99:99:99", "Wed, 21 Oct 2015 07:28:30 +9999", "é" * 100])
def test_retry_after_never_raises_whatever_the_receiver_sends(header: str) -> None:
    now = datetime(2015, 10, 21, 7, 28, tzinfo=UTC)
    parsed = retry.parse_retry_after(header, now)
    assert parsed is None or timedelta(0) <= parsed <= timedelta(seconds=10**8)


def test_retry_after_reads_no_digit_but_ascii_ones() -> None:
    now = datetime(2015, 10, 21, 7, 28, tzinfo=UTC)
    numeric = [chr(cp) for cp in range(0x30000) if chr(cp).isnumeric() or chr(cp).isdigit()]
    assert len(numeric) > 1000
    for char in numeric:
        expected = timedelta(seconds=int(char) * 11) if "0" <= char <= "9" else None
        assert retry.parse_retry_after(char * 2, now) == expected, ascii(char)


def test_five_days_of_failures_disable_the_endpoint_and_notify_its_owner(db: Session) -> None:
    owner = UserFactory()
    endpoint = make_endpoint(db, owner)
    endpoint.failing_since = db_now(db) - timedelta(days=5, minutes=1)
    message = make_message(db, endpoint)
    leased = lease(db, message)
    assert leased is not None
    record_outcome(db, leased, Outcome(500, 9, error="HTTP 500"), settings=get_settings())
    db.refresh(endpoint)
    assert not endpoint.enabled
    assert endpoint.disabled_reason is not None and "failed since" in endpoint.disabled_reason
    notice = db.scalars(select(Notification).where(Notification.user_id == owner.id)).one()
    assert (notice.type, notice.data["endpoint_id"]) == ("webhook.endpoint_disabled", str(endpoint.id))
    assert lease(db, make_message(db, endpoint)) is None  # nothing more is attempted


def test_re_enabling_does_not_restart_the_five_days_a_still_failing_endpoint_is_disabled_again(db: Session) -> None:
    owner = UserFactory()
    endpoint = make_endpoint(db, owner)
    endpoint.failing_since = failing_since = db_now(db) - timedelta(days=5, minutes=1)
    leased = lease(db, make_message(db, endpoint))
    assert leased is not None
    record_outcome(db, leased, Outcome(500, 9, error="HTTP 500"), settings=get_settings())
    assert not endpoint.enabled
    endpoints.update_endpoint(db, Actor(owner.id), endpoint.id, {"enabled": True})
    assert (endpoint.enabled, endpoint.failing_since, endpoint.consecutive_failures) == (True, failing_since, 1)
    end_backoff(db, endpoint)
    leased = lease(db, make_message(db, endpoint))
    assert leased is not None
    record_outcome(db, leased, Outcome(500, 9, error="HTTP 500"), settings=get_settings())
    db.refresh(endpoint)
    assert not endpoint.enabled and endpoint.consecutive_failures == 2
    notices = db.scalars(select(Notification.type).where(Notification.user_id == owner.id)).all()
    assert notices == ["webhook.endpoint_disabled"] * 2


def test_a_success_clears_the_failure_record_and_four_days_of_failure_do_not_disable(db: Session) -> None:
    endpoint = make_endpoint(db)
    endpoint.failing_since = db_now(db) - timedelta(days=4)
    endpoint.consecutive_failures = 40
    failing = lease(db, make_message(db, endpoint))
    assert failing is not None
    record_outcome(db, failing, Outcome(502, 9, error="HTTP 502"), settings=get_settings())
    db.refresh(endpoint)
    assert endpoint.enabled and endpoint.failing_since is not None and endpoint.consecutive_failures == 41
    end_backoff(db, endpoint)
    succeeding = lease(db, make_message(db, endpoint))
    assert succeeding is not None
    record_outcome(db, succeeding, Outcome(200, 9), settings=get_settings())
    db.refresh(endpoint)
    assert (endpoint.failing_since, endpoint.consecutive_failures, endpoint.backoff_until) == (None, 0, None)


def test_the_envelope_is_type_timestamp_and_data_of_the_event(db: Session) -> None:
    endpoint = make_endpoint(db, UserFactory(is_admin=True))
    completed = event(db, "session.completed", {"id": "s-1", "status": "completed"})
    (message_id,) = fanout.fan_out(db, completed)
    message = db.get(WebhookMessage, message_id)
    assert message is not None
    leased = lease(db, message)
    assert leased is not None and leased.endpoint_id == endpoint.id
    occurred = completed.created_at.astimezone(UTC).isoformat().replace("+00:00", "Z")
    assert leased.body == (
        '{"type":"session.completed","timestamp":"' + occurred + '","data":{"id":"s-1","status":"completed"}}'
    )


def test_a_batch_leases_the_asked_message_and_the_endpoints_other_due_ones_oldest_first(db: Session) -> None:
    endpoint = make_endpoint(db)
    oldest = make_message(db, endpoint, due_in=-timedelta(minutes=3))
    asked = make_message(db, endpoint, due_in=-timedelta(minutes=2))
    newest = make_message(db, endpoint, due_in=-timedelta(minutes=1))
    later = make_message(db, endpoint, due_in=timedelta(minutes=1))  # not due
    other = make_message(db, make_endpoint(db))

    assert [d.message_id for d in leases.lease_batch(db, asked.id, settings=get_settings(), limit=1)] \
        == [asked.id]
    db.execute(update(WebhookMessage).where(WebhookMessage.id == asked.id)  # as if that attempt had failed
               .values(next_attempt_at=func.now() - timedelta(minutes=2), lease_id=None))
    batch = leases.lease_batch(db, newest.id, settings=get_settings())
    assert [d.message_id for d in batch] == [oldest.id, asked.id, newest.id]
    assert [d.attempt_number for d in batch] == [1, 2, 1] and {d.endpoint_id for d in batch} == {endpoint.id}
    leased = db.execute(select(WebhookMessage.id, WebhookMessage.lease_id).where(WebhookMessage.lease_id.is_not(None)))
    assert sorted(leased) == sorted((d.message_id, d.attempt_id) for d in batch)
    # One batch in flight: the endpoint takes no other, the dispatcher leaves it alone, others go on.
    db.execute(update(WebhookMessage).where(WebhookMessage.id == later.id).values(next_attempt_at=func.now()))
    assert leases.lease_batch(db, later.id, settings=get_settings()) == []
    assert fanout.dispatch_due(db) == [other.id]
    assert [d.message_id for d in leases.lease_batch(db, other.id, settings=get_settings())] == [other.id]


def test_a_batch_cut_short_by_a_failure_records_each_outcome_and_puts_the_unsent_back(db: Session) -> None:
    endpoint = make_endpoint(db)
    first, second, failing, unsent = (make_message(db, endpoint, due_in=-timedelta(minutes=4 - i)) for i in range(4))
    batch = leases.lease_batch(db, first.id, settings=get_settings())
    assert [d.message_id for d in batch] == [first.id, second.id, failing.id, unsent.id]
    pending_dispatches(db).clear()

    results = [Outcome(200, 3), Outcome(204, 4), Outcome(503, 5, error="HTTP 503")]
    statuses = outcomes.record_outcomes(db, batch, results, settings=get_settings())
    assert statuses == ["delivered", "delivered", "pending", "pending"]
    for message in (first, second, failing, unsent):
        db.refresh(message)
    now = db_now(db)
    assert (first.status, first.last_status_code, second.last_status_code) == ("delivered", 200, 204)
    assert failing.attempts == 1 and failing.next_attempt_at is not None and failing.next_attempt_at > now
    assert (failing.lease_id, failing.lease_rank, unsent.lease_rank) == (None, None, None)
    # The unsent message was never attempted: no attempt, no retry step spent, due at once.
    assert unsent.attempts == 0 and unsent.next_attempt_at is not None and unsent.next_attempt_at <= now
    recorded = db.execute(select(WebhookAttempt.message_id, WebhookAttempt.status_code, WebhookAttempt.error)).all()
    assert sorted(recorded) == sorted([(first.id, 200, None), (second.id, 204, None), (failing.id, 503, "HTTP 503")])
    db.refresh(endpoint)
    assert (endpoint.failing_since, endpoint.consecutive_failures) == (now, 1)
    # The endpoint backs off (its first step, 5 s): its next batch is the dispatcher's once that has passed.
    assert endpoint.backoff_until is not None and endpoint.backoff_until > now
    assert delivered_task_args(db) == []
    assert fanout.dispatch_due(db) == []
    end_backoff(db, endpoint)
    assert fanout.dispatch_due(db) == [unsent.id]


def test_fan_out_leaves_an_endpoint_with_a_batch_in_flight_or_a_message_due_to_that_one(db: Session) -> None:
    busy = make_endpoint(db, UserFactory(is_admin=True))
    free = make_endpoint(db, UserFactory(is_admin=True))
    queued = make_endpoint(db, UserFactory(is_admin=True))
    make_message(db, queued, due_in=-timedelta(seconds=1))  # its deliver is queued: it takes the new one too
    make_message(db, free, due_in=timedelta(minutes=5))  # waiting for a retry: no deliver is queued for it
    in_flight = lease(db, make_message(db, busy))
    assert in_flight is not None
    pending_dispatches(db).clear()

    created = fanout.fan_out(db, event(db, "booking.accepted", {"id": str(uuid.uuid4())}))
    by_endpoint = dict(db.execute(select(WebhookMessage.endpoint_id, WebhookMessage.id)
                                  .where(WebhookMessage.id.in_(created))).all())
    assert delivered_task_args(db) == [by_endpoint[free.id]]
    pending_dispatches(db).clear()
    # When the batch in flight finishes, it sends the busy endpoint's new message.
    record_outcome(db, in_flight, Outcome(200, 5), settings=get_settings())
    assert delivered_task_args(db) == [by_endpoint[busy.id]]


def test_a_dispatch_going_on_takes_nothing_out_of_the_batch_a_deliver_leases(
    seed: Session, committed: sessionmaker[Session],
) -> None:
    endpoint = make_endpoint(seed)
    oldest = make_message(seed, endpoint, due_in=-timedelta(minutes=3))
    newer = make_message(seed, endpoint, due_in=-timedelta(minutes=2))
    seed.commit()
    with committed() as dispatching, committed() as delivering:
        # The dispatcher has chosen the endpoint's oldest message and not committed yet.
        assert fanout.dispatch_due(dispatching) == [oldest.id]
        batch = leases.lease_batch(delivering, newer.id, settings=get_settings())
        delivering.commit()
        dispatching.rollback()
    # One batch, in order: a message the dispatcher was looking at is neither skipped nor sent after newer ones.
    assert [d.message_id for d in batch] == [oldest.id, newer.id]


def test_a_message_fanned_out_while_a_batch_records_its_outcome_gets_its_deliver(
    seed: Session, committed: sessionmaker[Session],
) -> None:
    endpoint = make_endpoint(seed)
    in_flight = make_message(seed, endpoint, due_in=-timedelta(seconds=1))
    seed.commit()
    with committed() as leasing:
        (delivery,) = leases.lease_batch(leasing, in_flight.id, settings=get_settings())
        leasing.commit()
    with committed() as outcome, committed() as fanning:
        # The batch's outcome transaction began first (its now() is the earlier one) ...
        db_now(outcome)
        time.sleep(0.01)
        # ... and a fan-out wrote a message while the batch was still in flight: it sent no deliver.
        new = WebhookMessage(id=messages.new_message_id(), endpoint_id=endpoint.id, event_type="booking.accepted",
                             payload={}, next_attempt_at=func.now())
        fanning.add(new)
        fanning.flush()
        fanout.send_deliveries(fanning, [(new.id, endpoint.id)])
        assert delivered_task_args(fanning) == []
        fanning.commit()
        # The outcome, recorded after that commit, sends the new message's deliver.
        outcomes.record_outcomes(outcome, [delivery], [Outcome(200, 5, attempted_at=datetime.now(UTC))],
                                 settings=get_settings())
        assert delivered_task_args(outcome) == [new.id]
        outcome.commit()
