"""Publishing outbox dispatches to the broker once the database has committed."""

from __future__ import annotations

from collections.abc import Callable

import structlog
from celery import Celery
from sqlalchemy import event
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from models import OutboxEvent
from workers import live_updates
from workflows import outbox
from workflows.outbox import LIVE_KEY, PENDING_KEY, REQUEST_ID_KEY, Dispatch, TaskCall

log = structlog.get_logger(__name__)

#: A key the relay keeps in Redis: when it is gone, Redis has lost its data, and the queued messages with it.
BROKER_MARKER_KEY = "outbox:broker-marker"

# Handlers whose task takes the aggregate id (so an operator can call them by hand).
_AGGREGATE_HANDLERS = frozenset({"sessions.create_from_booking"})


def task_arguments(dispatch: Dispatch | TaskCall) -> tuple[str, list[str], dict[str, str]]:
    if isinstance(dispatch, TaskCall):
        return dispatch.task, list(dispatch.args), {}
    if dispatch.handler in _AGGREGATE_HANDLERS:
        return dispatch.handler, [str(dispatch.aggregate_id)], {"event_id": str(dispatch.event_id)}
    return dispatch.handler, [str(dispatch.event_id)], {}


def publish(app: Celery, dispatches: list[Dispatch | TaskCall], request_id: str | None) -> int:
    """Send every dispatch in one trip to the broker; return how many were sent: all, or 0 on a failure.

    kombu's publish batch buffers the messages, in order, and writes them in
    one Redis pipeline. A failure is logged and left to the outbox relay: the
    database already holds the work, so nothing is lost while the broker is
    away. (A pipeline cut short may have delivered some messages: the relay
    sends them again, and handlers do their work once per event.)
    """
    try:
        with app.producer_or_acquire() as producer, producer.batch():
            for dispatch in dispatches:
                task, args, kwargs = task_arguments(dispatch)
                # A redelivered event keeps the id of the request that first caused it.
                origin = (dispatch.request_id if isinstance(dispatch, Dispatch) else None) or request_id
                app.send_task(task, args=args, kwargs=kwargs, headers={"request_id": origin} if origin else None,
                              producer=producer)
    except Exception as exc:  # noqa: BLE001 - any broker failure is recovered by the relay
        log.warning("outbox.publish_failed", tasks=len(dispatches),
                    error=f"{type(exc).__name__}: {exc}")
        return 0
    return len(dispatches)


def broker_lost_its_queues(app: Celery) -> bool:
    """Whether Redis no longer holds :data:`BROKER_MARKER_KEY` (which this puts back).

    A Redis restarted without its data (no persistence, or a new server) has
    lost every queued and unacknowledged message. Also true against a fresh
    Redis: then pending work is sent once more, and handlers do it once.
    """
    try:
        with app.producer_or_acquire() as producer:
            return bool(producer.channel.client.set(BROKER_MARKER_KEY, "1", nx=True))
    except Exception as exc:  # noqa: BLE001 - the broker is away: nothing to tell yet
        log.warning("outbox.broker_check_failed", error=f"{type(exc).__name__}: {exc}")
        return False


def reschedule_unsent(factory: sessionmaker[Session], dispatches: list[Dispatch | TaskCall]) -> None:
    """Make the outbox rows of messages that did not reach the broker due again now (see ``outbox.reschedule_unsent``).

    Messages of :class:`TaskCall` need nothing: their own tables say when they are due.
    If this fails too, the rows keep their backoff: later, but not lost.
    """
    unsent = [dispatch for dispatch in dispatches if isinstance(dispatch, Dispatch)]
    if not unsent:
        return
    try:
        with factory() as db:
            outbox.reschedule_unsent(db, unsent)
            db.commit()
    except SQLAlchemyError as exc:
        log.warning("outbox.reschedule_failed", tasks=len(unsent), error=f"{type(exc).__name__}: {exc}")


def install_publisher(factory: sessionmaker[Session], app: Callable[[], Celery]) -> None:
    """Publish a session's outbox dispatches after it commits; forget them on rollback.

    Rows whose messages could not be published are made due again at once, so the
    relay sends them as soon as the broker is back, whatever their backoff was.
    """

    @event.listens_for(factory, "after_commit")
    def _after_commit(session: Session) -> None:
        dispatches: list[Dispatch | TaskCall] = session.info.pop(PENDING_KEY, [])
        if dispatches and not publish(app(), dispatches, session.info.get(REQUEST_ID_KEY)):
            reschedule_unsent(factory, dispatches)
        events: list[OutboxEvent] = session.info.pop(LIVE_KEY, [])
        if events:
            live_updates.publish(events)

    @event.listens_for(factory, "after_rollback")
    def _after_rollback(session: Session) -> None:
        session.info.pop(PENDING_KEY, None)
        session.info.pop(LIVE_KEY, None)

