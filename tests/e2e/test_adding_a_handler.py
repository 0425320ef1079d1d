"""Adding a handler is one function and one decorator: declared here, it runs on a real worker once per event.

The worker imports this module (``--include``) as it would ``workflows/handlers.py``, and makes the
handler's task from its declaration. The event type is this module's own, so that no other test's
events reach the handler.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator, Sequence
from typing import TypedDict

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session, sessionmaker

from infra.celery_config import create_celery
from infra.config import get_settings
from models import HandlerStatus, OutboxEvent, OutboxHandler
from outbox import REGISTRY, EventSpec, record_events
from outbox.publisher import install_publisher
from tests.concurrency import wait_until
from tests.workers_fixtures import StartWorker
from workflows.events import participants

PINGED = "test.pinged"
EVENTS = 60


class PingPayload(TypedDict):
    id: str


REGISTRY.event(EventSpec(PINGED, "test", PingPayload, participants))


@REGISTRY.handler("analytics.count_pings", PINGED)
def count_pings(db: Session, events: Sequence[OutboxEvent]) -> None:
    """Writes a row per event it is run for, with no key: a second run for an event would show."""
    db.execute(text("INSERT INTO test_pings (event_id) SELECT unnest(CAST(:ids AS uuid[]))"),
               {"ids": [event.id for event in events]})


@pytest.fixture
def pings(committed: sessionmaker[Session]) -> Iterator[None]:
    engine = committed.kw["bind"]
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE test_pings (event_id uuid NOT NULL)"))
    yield
    with engine.begin() as conn:
        conn.execute(text("DROP TABLE test_pings"))


def test_a_handler_declared_in_a_test_module_runs_once_per_event_on_a_real_worker(
    committed: sessionmaker[Session], start_worker: StartWorker, pings: None,
) -> None:
    recording = sessionmaker(bind=committed.kw["bind"], expire_on_commit=False)
    install_publisher(recording, lambda: create_celery(get_settings(), publisher=True), lambda _events: None)
    recorded: list[uuid.UUID] = []
    for batch in range(EVENTS // 10):  # ten transactions, ten events each; each commit kicks the handler
        with recording() as db:
            items = [(uuid.uuid4(), {"id": f"ping-{batch}-{n}"}) for n in range(10)]
            recorded += [event.id for event in record_events(db, PINGED, items, actor="test")]
            db.commit()
    with committed() as db:
        rows = db.execute(select(OutboxHandler.handler, func.count()).join(OutboxEvent)
                          .where(OutboxEvent.type == PINGED).group_by(OutboxHandler.handler)).all()
    assert rows == [("analytics.count_pings", EVENTS)]  # its row, and no other handler's

    worker = start_worker(queues="analytics", include=__name__, env={"HANDLER_BATCH": "7"})
    # The same kick sent again, twice, as a redelivery would: still once per event.
    app = create_celery(get_settings())
    for event_id in recorded[:2]:
        app.send_task("analytics.count_pings", args=[str(event_id)])

    def pending() -> int:
        with committed() as db:
            return db.scalar(select(func.count()).select_from(OutboxHandler).where(
                OutboxHandler.handler == "analytics.count_pings", OutboxHandler.status == HandlerStatus.PENDING)) or 0

    wait_until(lambda: pending() == 0, 30, "every ping handled")
    with committed() as db:
        runs = db.execute(text("SELECT event_id, count(*) FROM test_pings GROUP BY event_id")).all()
    assert sorted(event_id for event_id, _ in runs) == sorted(recorded)
    assert {count for _, count in runs} == {1}
    assert "analytics.count_pings" in worker.log()
