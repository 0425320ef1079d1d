"""An announcement's delivery on real worker processes: the worker is killed with SIGKILL in the middle of telling its
recipients (its first batch written, its second waiting on a row another transaction holds); a new worker and the
relay tell them all again. Each recipient has one notification, one email and one live frame."""

from __future__ import annotations

import json
import threading
import uuid
from collections import Counter
from collections.abc import Callable

import redis
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session, sessionmaker

from infra.config import get_settings
from models import Announcement, Notification, OutboxEvent, User
from tests.concurrency import wait_until
from tests.factories.accounts import UserFactory, actor_of
from tests.mail import Mailbox
from tests.workers_fixtures import BeatProcess, RedisServer, StartWorker
from workflows.conversations import announcements
from workflows.events import EventType

RECIPIENTS = announcements.BATCH + 50  # two batches: the kill lands between them


def _frames(url: str, counted: Counter[str], stop: threading.Event) -> threading.Thread:
    """Count the announcement frames published to each user's live channel, from now on."""
    client = redis.Redis.from_url(url)
    pubsub = client.pubsub()
    pubsub.psubscribe(f"{get_settings().redis_key_prefix}live:user:*")

    def listen() -> None:
        while not stop.is_set():
            message = pubsub.get_message(timeout=0.2)
            if message and message["type"] == "pmessage":
                for one in json.loads(message["data"]):
                    if one["type"] == EventType.ANNOUNCEMENT_POSTED:
                        counted[message["channel"].decode()] += 1
        pubsub.close()
        client.close()  # held to here: a client collected early closes its pool, the subscription's connection too

    thread = threading.Thread(target=listen, daemon=True)
    thread.start()
    return thread


def test_a_worker_killed_mid_delivery_leaves_each_recipient_told_once(
        seed: Session, committed: sessionmaker[Session], start_worker: StartWorker,
        start_beat: Callable[..., BeatProcess], mailbox: Mailbox, private_redis: RedisServer) -> None:
    admin = UserFactory(is_admin=True)
    people = [UserFactory() for _ in range(RECIPIENTS)]
    seed.commit()
    notice = announcements.post(seed, actor_of(admin), None, audience=announcements.Audience.EVERYONE,
                                title="Maintenance on Sunday", body="From 06:00 to 06:30 UTC.")
    seed.commit()
    event_id = seed.scalar(select(OutboxEvent.id).where(OutboxEvent.aggregate_id == notice.id))
    # Another transaction holds the second batch's first recipient: the delivery waits there, its first batch written.
    held = sorted(p.id for p in people)[announcements.BATCH + 10]
    blocker = committed()
    blocker.add(Notification(id=uuid.uuid4(), user_id=held, event_id=event_id, type=EventType.ANNOUNCEMENT_POSTED,
                             title="x", body="x"))
    blocker.flush()

    # A Redis of the test's own: the live frames are counted there, and no other test's Redis work touches them.
    env = {"SMTP_URL": mailbox.url, "REDIS_URL": private_redis.url}
    first = start_worker(queues="notifications,maintenance,events", env=env)
    start_beat(env=env)

    def waiting() -> bool:
        with committed() as db:
            return bool(db.scalar(text("SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
                                       "AND query LIKE 'INSERT INTO notifications%' AND datname = current_database()")))

    wait_until(waiting, 60, "the delivery waiting in its second batch")
    first.kill()
    blocker.rollback()
    blocker.close()
    counted: Counter[str] = Counter()
    stop = threading.Event()
    listener = _frames(private_redis.url, counted, stop)
    with committed() as db:
        assert db.scalar(select(func.count()).select_from(Notification)) == 0  # the first batch died with the worker

    start_worker(queues="notifications,maintenance,events", env=env)

    def delivered() -> bool:
        with committed() as db:
            return db.scalar(select(Announcement.delivered_at).where(Announcement.id == notice.id)) is not None

    wait_until(delivered, 90, "the announcement delivered by the new worker")
    wait_until(lambda: len(counted) == RECIPIENTS, 30, "a live frame for each recipient")
    wait_until(lambda: len(mailbox.inbox.messages) >= RECIPIENTS, 120, "an email for each recipient")
    stop.set()
    listener.join(timeout=5)
    with committed() as db:
        told = Counter(db.scalars(select(Notification.user_id).where(Notification.event_id == event_id)))
        assert told == Counter({p.id: 1 for p in people})  # everyone but the admin who wrote it, once
        assert db.scalar(select(Announcement.recipients).where(Announcement.id == notice.id)) == RECIPIENTS
        addresses = set(db.scalars(select(User.email).where(User.id.in_([p.id for p in people]))))
    assert set(counted.values()) == {1}
    mailed = Counter(m["To"] for m in mailbox.inbox.messages)
    assert set(mailed) == addresses and set(mailed.values()) == {1}
