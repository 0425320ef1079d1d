"""Webhook deliveries end to end: real PostgreSQL, Redis and worker processes, and a real HTTP receiver.

The receiver and ``fast_beat`` are in ``tests/webhook_receiver.py``: the receiver verifies every request with
the ``standardwebhooks`` package exactly as a customer would, and ``fast_beat`` brings retries scheduled in the
database back within the test's time.
"""

from __future__ import annotations

import itertools
import json
import threading
import time
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from celery import Celery
from prometheus_client import CollectorRegistry
from prometheus_client.multiprocess import MultiProcessCollector
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session, sessionmaker
from standardwebhooks import Webhook
from standardwebhooks.webhooks import WebhookVerificationError

from models import HandlerStatus, Notification, OutboxHandler, WebhookEndpoint, WebhookMessage
from tests.concurrency import wait_until
from tests.factories.accounts import UserFactory, as_caller
from tests.factories.mentors import ListingFactory
from tests.servers import live_app
from tests.webhook_receiver import HANG, Receiver, admin, attempts, emit, endpoint, messages, statuses
from tests.workers_fixtures import StartWorker
from workflows.actors import Actor
from workflows.webhooks import sending
from workflows.webhooks.messages import DELIVER_TASK, new_message_id

FAST_RETRIES = {"WEBHOOK_RETRY_SCHEDULE": "1s,1s,1s"}


def test_a_booking_request_reaches_the_mentors_endpoint_once_signed_in_the_envelope(
    seed: Session, committed: sessionmaker[Session], start_worker: StartWorker, receiver: Receiver,
) -> None:
    listing = ListingFactory()
    mentee = UserFactory()
    seed.commit()
    mentor = as_caller(listing.mentor_profile.user)
    start_worker(queues="webhooks")
    client = live_app(committed).test_client()
    created = client.post("/api/v1/webhook-endpoints", headers=mentor.headers,
                          json={"url": receiver.url("/mentor"), "event_types": ["booking.requested"]})
    assert created.status_code == 201, created.get_json()
    receiver.secrets["/mentor"] = created.get_json()["secret"]
    start = (datetime.now(UTC) + timedelta(days=2)).replace(minute=0, second=0, microsecond=0)
    booking = client.post("/api/v1/bookings", headers=as_caller(mentee).headers,
                          json={"listing_id": str(listing.id), "start_time": start.isoformat()}).get_json()

    wait_until(lambda: len(receiver.at("/mentor")) == 1, 15, "the delivery")
    (request,) = receiver.at("/mentor")
    assert request.verify_error is None
    assert request.payload is not None
    assert request.payload["type"] == "booking.requested"
    assert request.payload["data"]["id"] == booking["id"]
    assert request.payload["data"]["mentee_user_id"] == str(mentee.id)
    assert datetime.fromisoformat(request.payload["timestamp"]) <= datetime.now(UTC)
    assert json.loads(request.body) == request.payload
    endpoint_id = uuid.UUID(created.get_json()["id"])
    wait_until(lambda: statuses(committed, endpoint_id)() == ["delivered"], 5, "the outcome")
    deliveries = client.get(f"/api/v1/webhook-endpoints/{endpoint_id}/deliveries", headers=mentor.headers)
    (delivery,) = deliveries.get_json()["items"]
    assert (delivery["webhook_id"], delivery["status"], delivery["attempt_count"]) == (
        request.webhook_id, "delivered", 1)
    assert [a["status_code"] for a in delivery["attempts"]] == [200]
    time.sleep(0.5)
    assert len(receiver.at("/mentor")) == 1


def test_failed_attempts_are_retried_from_the_database_with_the_same_webhook_id(
    seed: Session, committed: sessionmaker[Session], start_worker: StartWorker, receiver: Receiver,
    celery_app: Celery, fast_beat: None,
) -> None:
    target = endpoint(seed, receiver, admin(seed), "/flaky")
    receiver.answer("/flaky", 500, 500, 200)
    counted_before = attempt_counts()
    start_worker(queues="webhooks", env=FAST_RETRIES)
    emit(committed, celery_app)
    wait_until(lambda: statuses(committed, target.id)() == ["delivered"], 20, "delivery after two failures")
    requests = receiver.at("/flaky")
    assert len(requests) == 3
    assert all(r.verify_error is None for r in requests)
    assert len({r.webhook_id for r in requests}) == 1
    assert len({r.body for r in requests}) == 1
    (message,) = messages(committed, target.id)
    assert (message.id, message.attempts, message.last_status_code) == (requests[0].webhook_id, 3, 200)
    assert [(a.status_code, a.error) for a in attempts(committed, message.id)] == [
        (500, "HTTP 500"), (500, "HTTP 500"), (200, None)]
    gaps = [later.at - earlier.at for earlier, later in itertools.pairwise(requests)]
    assert all(gap >= 0.75 for gap in gaps), gaps  # the 1 s schedule, less 20 % jitter
    # The worker counted each attempt by outcome, for /metrics.
    counted = attempt_counts()
    assert (counted["http_error"] - counted_before["http_error"],
            counted["delivered"] - counted_before["delivered"]) == (2, 1)


def attempt_counts() -> dict[str, float]:
    """``webhook_attempts_total`` by outcome, summed over every process of this run."""
    registry = CollectorRegistry()
    MultiProcessCollector(registry)
    counts = {"delivered": 0.0, "http_error": 0.0, "network_error": 0.0}
    for metric in registry.collect():
        for sample in metric.samples:
            if sample.name == "webhook_attempts_total":
                counts[sample.labels["outcome"]] += sample.value
    return counts


def test_410_gone_disables_the_endpoint_and_tells_its_owner(
    seed: Session, committed: sessionmaker[Session], start_worker: StartWorker, receiver: Receiver,
    celery_app: Celery, fast_beat: None,
) -> None:
    owner = admin(seed)
    target = endpoint(seed, receiver, owner, "/gone")
    receiver.answer("/gone", 410)
    start_worker(queues="webhooks", env=FAST_RETRIES)
    emit(committed, celery_app)
    wait_until(lambda: statuses(committed, target.id)() == ["failed"], 15, "the failed delivery")
    with committed() as db:
        stored = db.get(WebhookEndpoint, target.id)
        assert stored is not None
        assert (stored.enabled, stored.disabled_reason) == (False, "the endpoint answered 410 Gone")
        notice = db.scalars(select(Notification).where(Notification.user_id == owner.user_id)).one()
    assert notice.type == "webhook.endpoint_disabled"
    later = emit(committed, celery_app)
    wait_until(lambda: fan_out_done(committed, later), 10, "the next event's fan-out")
    assert len(messages(committed, target.id)) == 1  # a disabled endpoint gets no new messages
    assert len(receiver.at("/gone")) == 1


def fan_out_done(committed: sessionmaker[Session], event_id: uuid.UUID) -> bool:
    with committed() as db:
        status = db.scalar(select(OutboxHandler.status).where(
            OutboxHandler.event_id == event_id, OutboxHandler.handler == "webhooks.fan_out"))
    return status == HandlerStatus.DONE


def test_a_target_resolving_to_a_private_address_is_refused_at_delivery_time(
    seed: Session, committed: sessionmaker[Session], start_worker: StartWorker, receiver: Receiver,
    celery_app: Celery,
) -> None:
    # Created while private targets were allowed (as here, in tests); the worker now refuses them.
    target = endpoint(seed, receiver, admin(seed), "/internal")
    start_worker(queues="webhooks", env={"WEBHOOK_ALLOW_PRIVATE_TARGETS": "false"})
    emit(committed, celery_app)
    message_id = wait_until_one_message(committed, target.id)
    wait_until(lambda: len(attempts(committed, message_id)) == 1 and attempts(committed, message_id)[0].error
               is not None, 15, "the refused attempt")
    (attempt,) = attempts(committed, message_id)
    assert attempt.status_code is None
    assert attempt.error is not None
    assert "nothing sent" in attempt.error and "loopback" in attempt.error
    (message,) = messages(committed, target.id)
    assert message.status == "pending" and message.next_attempt_at is not None  # retried on the schedule
    assert receiver.at("/internal") == []


def wait_until_one_message(committed: sessionmaker[Session], endpoint_id: uuid.UUID) -> str:
    wait_until(lambda: len(messages(committed, endpoint_id)) == 1, 15, "the message")
    return messages(committed, endpoint_id)[0].id


def test_an_event_handled_three_times_yields_one_message_per_endpoint(
    seed: Session, committed: sessionmaker[Session], start_worker: StartWorker, receiver: Receiver,
    celery_app: Celery,
) -> None:
    listing = ListingFactory()
    mentee = UserFactory()
    seed.commit()
    mentor = Actor(listing.mentor_profile.user.id, mentor_profile_id=listing.mentor_profile_id)
    mentors = endpoint(seed, receiver, mentor, "/mentor")
    admins = endpoint(seed, receiver, admin(seed), "/admin")
    strangers = endpoint(seed, receiver, Actor(UserFactory().id), "/stranger")
    seed.commit()
    payload = {"id": str(uuid.uuid4()), "mentor_profile_id": str(listing.mentor_profile_id),
               "mentee_user_id": str(mentee.id), "status": "accepted"}
    emit(committed, celery_app, payload=payload, copies=3)
    start_worker(queues="webhooks", concurrency=4)
    wait_until(lambda: len(receiver.at("/mentor")) == 1 and len(receiver.at("/admin")) == 1, 15, "both deliveries")
    time.sleep(0.5)  # the other two copies ran before the deliveries they would have duplicated
    assert [len(messages(committed, e.id)) for e in (mentors, admins, strangers)] == [1, 1, 0]
    assert len(receiver.at("/mentor")) == len(receiver.at("/admin")) == 1
    assert receiver.at("/stranger") == []
    assert all(r.verify_error is None for r in receiver.received)


def test_a_hanging_endpoint_does_not_delay_deliveries_to_a_healthy_one(
    seed: Session, committed: sessionmaker[Session], start_worker: StartWorker, receiver: Receiver,
    celery_app: Celery,
) -> None:
    timeout = 3.0
    owner = admin(seed)
    hanging = endpoint(seed, receiver, owner, "/hang")
    healthy = endpoint(seed, receiver, owner, "/ok")
    receiver.answer("/hang", HANG)
    events = 4
    # Queued before the worker starts, each event fans out to both endpoints, so hanging and healthy
    # deliveries interleave in the queue: without a per-endpoint limit the hanging ones would take
    # both worker slots and the healthy ones would wait for the timeout (measured: +6 s).
    for _ in range(events):
        emit(committed, celery_app)
    began = time.monotonic()
    start_worker(queues="webhooks", concurrency=2, env={"WEBHOOK_TIMEOUT_SECONDS": str(timeout)})
    # The healthy deliveries may all be done before the first hanging request even arrives: wait for both.
    wait_until(lambda: len(receiver.at("/ok")) == events and receiver.at("/hang"), 4 * timeout,
               "every healthy delivery and the first hanging request")
    first_hang = receiver.at("/hang")[0].at
    healthy_done = max(r.at for r in receiver.at("/ok"))
    print(f"healthy deliveries done {healthy_done - first_hang:+.2f} s after the first hanging request "
          f"(timeout {timeout} s); worker up after {first_hang - began:.1f} s")
    assert healthy_done - first_hang < timeout * 2 / 3, "a healthy delivery waited for the hanging endpoint"
    assert receiver.most_in_flight["/hang"] == 1
    # A batch records its outcomes once its last request has its answer.
    wait_until(lambda: statuses(committed, healthy.id)() == ["delivered"] * events, 5, "the healthy outcomes")
    assert all(r.verify_error is None for r in receiver.received)
    wait_until(lambda: any(a.error and "timed out" in a.error
                           for m in messages(committed, hanging.id) for a in attempts(committed, m.id)),
               2 * timeout, "the hanging attempt to time out")


def test_a_backlog_goes_out_in_batches_one_request_at_a_time_and_nothing_is_left_behind(
    seed: Session, committed: sessionmaker[Session], start_worker: StartWorker, receiver: Receiver,
    celery_app: Celery,
) -> None:
    """Events fan out while the endpoint's batch is in flight. No dispatcher runs here (no beat): what
    their fan-out leaves to the batch in flight goes out only if that batch sends it when it finishes."""
    target = endpoint(seed, receiver, admin(seed), "/backlog")
    receiver.answer("/backlog", HANG, 200)
    receiver.delays["/backlog"] = 0.005
    start_worker(queues="webhooks", concurrency=2)

    def emit_concurrently(count: int) -> None:
        emitters = [threading.Thread(target=lambda: [emit(committed, celery_app) for _ in range(count // 2)])
                    for _ in range(2)]
        for emitter in emitters:
            emitter.start()
        for emitter in emitters:
            emitter.join()

    emit(committed, celery_app)
    wait_until(lambda: len(receiver.at("/backlog")) == 1, 15, "the first, hanging, request")
    emit_concurrently(20)
    wait_until(lambda: len(messages(committed, target.id)) == 21, 15, "the fan-out of every event")
    time.sleep(0.5)
    assert len(receiver.at("/backlog")) == 1  # the endpoint's batch is in flight: nothing else goes to it
    receiver.release.set()
    wait_until(lambda: statuses(committed, target.id)() == ["delivered"] * 21, 15, "the backlog")
    backlog = [m.id for m in messages(committed, target.id)][1:]
    assert [r.webhook_id for r in receiver.at("/backlog")][1:] == backlog  # in order, in one batch

    emit_concurrently(40)  # while the batches they cause are in flight
    wait_until(lambda: statuses(committed, target.id)() == ["delivered"] * 61, 30, "every delivery")
    received = receiver.at("/backlog")
    assert sorted(r.webhook_id for r in received) == sorted(m.id for m in messages(committed, target.id))
    assert all(r.verify_error is None for r in received)
    assert receiver.most_in_flight["/backlog"] == 1
    each = [len(attempts(committed, m.id)) for m in messages(committed, target.id)]
    assert each == [1] * 61  # none was sent twice or left for a retry


def test_a_slow_endpoints_backlog_holds_a_worker_slot_for_about_a_batch_window_only(
    seed: Session, committed: sessionmaker[Session], start_worker: StartWorker, receiver: Receiver,
    celery_app: Celery,
) -> None:
    """One worker slot, a slow endpoint with a backlog: another endpoint's delivery waits for the slow
    endpoint's batch window and one more attempt, not for its whole backlog."""
    owner = admin(seed)
    slow = endpoint(seed, receiver, owner, "/slow", event_types=["booking.accepted"])
    endpoint(seed, receiver, owner, "/fast", event_types=["booking.declined"])
    receiver.delays["/slow"] = 0.5  # each answer: the backlog of 20 takes 10 s one at a time
    start_worker(queues="webhooks", concurrency=1)
    for _ in range(20):
        emit(committed, celery_app, "booking.accepted")
    wait_until(lambda: len(receiver.at("/slow")) >= 1, 15, "the slow endpoint's first request")
    began = time.monotonic()
    emit(committed, celery_app, "booking.declined")
    wait_until(lambda: len(receiver.at("/fast")) == 1, 15, "the other endpoint's delivery")
    waited = time.monotonic() - began
    pending = [status for status in statuses(committed, slow.id)() if status == "pending"]
    print(f"the fast endpoint waited {waited:.2f} s; {len(pending)} slow messages still pending")
    # Two of the slow endpoint's batches at most (each: BATCH_SECONDS, then one more answer), and slack.
    assert waited < 2 * (sending.BATCH_SECONDS + 0.5) + 2.5, "it waited for the slow endpoint's backlog"
    assert len(pending) >= 8  # the slow endpoint's backlog was still there: it was not simply done first
    wait_until(lambda: statuses(committed, slow.id)() == ["delivered"] * 20, 30, "the slow backlog, in the end")
    assert receiver.most_in_flight["/slow"] == 1


def test_a_manual_retry_keeps_the_webhook_id_and_is_signed_with_the_rotated_secret_and_the_old_one_for_now(
    seed: Session, committed: sessionmaker[Session], start_worker: StartWorker, receiver: Receiver,
) -> None:
    owner = UserFactory()
    seed.commit()
    target = endpoint(seed, receiver, Actor(owner.id), "/manual")
    old_secret = target.secret
    start_worker(queues="webhooks")
    client = live_app(committed).test_client()
    headers = as_caller(owner).headers
    url = f"/api/v1/webhook-endpoints/{target.id}"
    sent = client.post(f"{url}/test", headers=headers)
    assert sent.status_code == 202
    message_id = sent.get_json()["webhook_id"]
    wait_until(lambda: statuses(committed, target.id)() == ["delivered"], 15, "the test delivery")

    new_secret = client.post(f"{url}/rotate-secret", headers=headers).get_json()["secret"]
    assert new_secret != old_secret
    receiver.secrets["/manual"] = new_secret
    retried = client.post(f"{url}/deliveries/{message_id}/retry", headers=headers)
    assert retried.status_code == 202 and retried.get_json()["status"] == "pending"
    wait_until(lambda: len(receiver.at("/manual")) == 2, 15, "the second delivery")

    first, second = receiver.at("/manual")
    assert first.webhook_id == second.webhook_id == message_id
    assert first.payload is not None and first.payload["type"] == "webhook.test"
    assert first.verify_error is None and second.verify_error is None  # each with the secret of its time
    Webhook(old_secret).verify(first.body, first.headers)
    with pytest.raises(WebhookVerificationError):
        Webhook(new_secret).verify(first.body, first.headers)
    # Within the rotation's overlap the retry carries both signatures: a receiver not yet switched verifies it.
    Webhook(old_secret).verify(second.body, second.headers)
    assert len(second.headers["webhook-signature"].split(" ")) == 2
    wait_until(lambda: statuses(committed, target.id)() == ["delivered"], 5, "the retried outcome")
    assert [a.status_code for a in attempts(committed, message_id)] == [200, 200]


def test_a_worker_killed_mid_batch_keeps_its_deliveries_and_retries_the_one_in_flight_on_schedule(
    seed: Session, committed: sessionmaker[Session], start_worker: StartWorker, receiver: Receiver,
    celery_app: Celery, fast_beat: None,
) -> None:
    target = endpoint(seed, receiver, admin(seed), "/crash")
    receiver.answer("/crash", 200, 200, HANG, 200)
    # Three messages due at once: one deliver leases them as one batch.
    ids = [new_message_id() for _ in range(3)]
    for rank, message_id in enumerate(ids):
        seed.add(WebhookMessage(id=message_id, endpoint_id=target.id, event_type="booking.accepted",
                                payload={"n": rank}, next_attempt_at=datetime.now(UTC) - timedelta(minutes=3 - rank)))
    seed.commit()
    celery_app.send_task(DELIVER_TASK, args=[ids[0]])
    worker = start_worker(queues="webhooks")
    wait_until(lambda: len(receiver.at("/crash")) == 3, 15, "the third attempt, which hangs")
    # The batch is still in flight, and the first two deliveries are already on record.
    def by_id() -> list[str]:
        status = {m.id: m.status for m in messages(committed, target.id)}
        return [status[message_id] for message_id in ids]

    wait_until(lambda: by_id()[:2] == ["delivered", "delivered"], 5, "the deliveries recorded while the batch goes on")
    worker.kill()
    receiver.release.set()
    assert by_id() == ["delivered", "delivered", "pending"]
    # The lease outlives any attempt (about a minute by default); let the clock run out instead of waiting.
    with committed() as db:
        db.execute(update(WebhookMessage).where(WebhookMessage.id == ids[2])
                   .values(next_attempt_at=func.now() - timedelta(seconds=1)))
        db.commit()
    start_worker(queues="webhooks", env=FAST_RETRIES)
    wait_until(lambda: statuses(committed, target.id)() == ["delivered"] * 3, 15, "the retry after the crash")
    received = [r.webhook_id for r in receiver.at("/crash")]
    assert received == [ids[0], ids[1], ids[2], ids[2]], "a delivered message was sent again"
    lost, done = attempts(committed, ids[2])
    assert lost.error is not None and "worker stopped" in lost.error
    assert (done.status_code, done.error) == (200, None)
    # The dead attempt was a failure: the retry waited for its step of the schedule (1 s ± 20 %).
    retried = receiver.at("/crash")[3]
    assert retried.at - receiver.at("/crash")[2].at >= 0.8
