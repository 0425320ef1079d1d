"""Kicks are de-duplicated per handler, except the relay's: a kick key may outlive the message it
stood for (a worker killed holding it), and the relay has already pushed the row's next redelivery out.
They go out once the outermost transaction commits, never when a savepoint is released."""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime, timedelta

import pytest
import redis
from celery import Celery
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from infra.celery_config import create_celery
from infra.config import get_settings
from models import HandlerStatus, OutboxEvent, OutboxHandler
from outbox import batches as outbox_batches
from outbox import publisher as publish_module
from outbox import record_events
from outbox.publisher import install_publisher, kick_key, publish
from outbox.recording import Dispatch, TaskCall
from tests.factories.accounts import UserFactory, as_caller
from tests.factories.mentors import ListingFactory
from tests.servers import live_app
from tests.workers_fixtures import purge_queues

NOTIFY_TASK = "notifications.notify"


@pytest.fixture
def app() -> Iterator[Celery]:
    purge_queues()
    yield create_celery(get_settings())
    purge_queues()


def _queued(queue: str) -> int:
    settings = get_settings()
    return int(redis.Redis.from_url(settings.redis_url).llen(f"{settings.redis_key_prefix}{queue}"))


def test_a_queued_kick_holds_back_new_ones_but_not_the_relays(app: Celery) -> None:
    def kick(*, redelivery: bool) -> None:
        publish(app, [Dispatch(NOTIFY_TASK, uuid.uuid4(), uuid.uuid4(), redelivery=redelivery)], None)

    kick(redelivery=False)
    kick(redelivery=False)
    assert _queued("notifications") == 1  # the second found the first's key
    kick(redelivery=True)
    assert _queued("notifications") == 2  # the relay's kick goes out whatever the key says
    settings = get_settings()
    assert redis.Redis.from_url(settings.redis_url).exists(f"{settings.redis_key_prefix}{kick_key(NOTIFY_TASK)}")


def _scheduled(db: Session) -> uuid.UUID:
    """An event whose one handler (webhook fan-out) is kicked on the ``webhooks`` queue."""
    return record_events(db, "session.scheduled", [(uuid.uuid4(), {})], actor=None)[0].id


def _publishing(app: Celery, committed: sessionmaker[Session]) -> sessionmaker[Session]:
    factory = sessionmaker(bind=committed.kw["bind"], expire_on_commit=False)
    install_publisher(factory, lambda: app, lambda _events: None)
    return factory


def test_kicks_wait_for_the_outermost_commit_not_a_savepoints_release(
        app: Celery, committed: sessionmaker[Session]) -> None:
    """SQLAlchemy reports a savepoint's release as a commit: a kick sent then would reach a worker
    before the rows it points at are committed, and the real commit would have nothing left to send."""
    with _publishing(app, committed)() as db:
        with db.begin_nested():
            _scheduled(db)
        assert _queued("webhooks") == 0
        db.commit()
    assert _queued("webhooks") == 1


def test_a_savepoints_rollback_forgets_only_what_was_owed_inside_it(
        app: Celery, committed: sessionmaker[Session]) -> None:
    with _publishing(app, committed)() as db:
        kept = _scheduled(db)
        with contextlib.suppress(RuntimeError), outbox_batches.savepoint(db):
            _scheduled(db)
            raise RuntimeError("this row's work failed")
        db.commit()
    assert _queued("webhooks") == 1  # the kick for the event written before the savepoint
    with committed() as db:
        pending = db.scalars(select(OutboxHandler.event_id).where(OutboxHandler.status == HandlerStatus.PENDING))
        assert set(pending) == {kept}  # its handlers' rows (webhooks, the mentor's calendar); none of the other


def test_a_request_with_an_idempotency_key_sends_its_messages_once_it_has_committed(
        app: Celery, seed: Session, committed: sessionmaker[Session], monkeypatch: pytest.MonkeyPatch) -> None:
    """The key is stored in a savepoint after the view has written its event: the request's messages
    must wait for the request's commit, not go out at that savepoint's release."""
    listing, mentee = ListingFactory(), UserFactory()
    seed.commit()
    sent: list[tuple[int, int]] = []
    real_publish = publish_module.publish

    def watching(celery: Celery, dispatches: Sequence[Dispatch | TaskCall], request_id: str | None) -> int:
        ids = {d.event_id for d in dispatches if isinstance(d, Dispatch)}
        with committed() as db:
            visible = db.scalar(select(func.count()).select_from(OutboxEvent).where(OutboxEvent.id.in_(ids)))
        sent.append((len(ids), visible or 0))
        return real_publish(celery, dispatches, request_id)

    monkeypatch.setattr(publish_module, "publish", watching)
    start = (datetime.now(UTC) + timedelta(days=7)).replace(hour=10, minute=0, second=0, microsecond=0)
    response = live_app(committed).test_client().post(
        "/api/v1/bookings", json={"listing_id": str(listing.id), "start_time": start.isoformat()},
        headers={**as_caller(mentee).headers, "Idempotency-Key": "k-1"})
    assert response.status_code == 201, response.get_json()
    assert sent == [(1, 1)]  # booking.requested (for its two handlers), sent once the event was committed
