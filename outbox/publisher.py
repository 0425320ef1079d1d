"""The outbox's Celery-facing part: publishing after commit, one kick per handler, and a handler's drain.

A handler's task drains every due row of its handler (``workflows.outbox_batches``), so one queued
or running task per handler is enough: a kick is sent only when Redis holds no kick key for the
handler. The key is set (``SET NX``, with a TTL in case its message is lost) when a kick is sent,
and held by the task the kick starts while it drains (its TTL starts again then). Each kick owed
after a commit also sets the handler's *missed* flag, in the same ``MULTI`` as the key: a task
clears the flag before each claim, and once a batch comes back short it deletes flag and key in
one ``MULTI``. A flag found set there means an event was committed, and found the key held, since
that batch's claim began: the task claims once more. Unset, every event committed since found the
key held by this task before that claim began, and is in it, or finds it gone and sends a kick.
If the key outlives its task (a worker killed holding it), the TTL ends it, and the relay kicks
the handler again.

A handler owed kicks by at least :data:`BUSY_COMMITS` commits in one :data:`BUSY_WINDOW_MS` window of
the clock (counted in Redis across every process) is busy. A kick it is sent after a commit then
waits ``HANDLER_LINGER_MS`` in the worker before its task starts, and a task that found events
arriving while it drained hands them to such a kick of its own instead of claiming again at once:
each claim takes the events of that time in one batch, not one or two (a worker's cost is mostly
per claim, not per row). A commit with no other owing that handler in its window, and the commits
of one booking's workflow, never wait. The countdown is an ``eta`` from the publisher's clock that
the worker compares with its own: hosts keep their clocks in step (NTP), as Celery expects.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from enum import Enum
from typing import Any, NamedTuple

import structlog
from celery import Celery
from prometheus_client import Counter
from sqlalchemy import event
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

import infra.metrics  # noqa: F401 - names metric files by host and pid before these metrics exist
from infra.config import get_settings
from models import OutboxEvent
from outbox import relay
from outbox.recording import Dispatch, TaskCall, request_id_of, take_owed
from outbox.registry import REGISTRY

log = structlog.get_logger(__name__)

#: A key the relay keeps in Redis: when it is gone, Redis has lost its data, and the queued messages with it.
BROKER_MARKER_KEY = "outbox:broker-marker"

#: Redis key of a handler's queued kick (under the broker's key prefix, as kombu's own keys are).
KICK_KEY = "outbox:kick:{handler}"
#: Set with every kick owed, cleared by a draining task before each claim (see the module's docstring).
MISSED_KEY = "outbox:kick-missed:{handler}"
#: A list with an item per commit that owed the handler a kick in one window of the clock (its number).
#: A list, not a counter: kombu prefixes LPUSH, PEXPIRE and LLEN with ``REDIS_KEY_PREFIX``, not INCR.
COMMITS_KEY = "outbox:commits:{handler}:{window}"
BUSY_WINDOW_MS = 100
BUSY_COMMITS = 3  # one booking's workflow owes webhook fan-out two: a stream is more

KICKS = Counter("outbox_handler_kicks_total",
                "Handler kicks owed (after commits, by the relay, by draining tasks), by handler and outcome: "
                "a message sent at once, one sent to wait HANDLER_LINGER_MS, or none as one was queued",
                ["handler", "outcome"])


def kick_key(handler: str) -> str:
    return KICK_KEY.format(handler=handler)


def missed_key(handler: str) -> str:
    return MISSED_KEY.format(handler=handler)


def commits_key(handler: str) -> str:
    """The list counting the commits that owed ``handler`` a kick in the window of the clock this falls in."""
    return COMMITS_KEY.format(handler=handler, window=time.time_ns() // 1_000_000 // BUSY_WINDOW_MS)


class Linger(Enum):
    """Whether a publish's kicks wait ``HANDLER_LINGER_MS`` in the worker before their task starts."""

    NEVER = "never"  # the relay's kicks, a full batch's next one: there is work to take now
    IF_BUSY = "if_busy"  # kicks owed after a commit: counted in their handler's window, they wait if it is busy
    ALWAYS = "always"  # a drain handing a busy handler's next events to its next task


@dataclass(frozen=True)
class Kicks:
    """What a publish sends: every task call and one kick per handler whose kick key it set, in order."""

    messages: list[Dispatch | TaskCall]
    keys: list[str]  # the kick keys set, to take back if the send fails
    lingering: frozenset[str] = frozenset()  # busy handlers, whose kick waits HANDLER_LINGER_MS


def _claim_kicks(client: Any, dispatches: Sequence[Dispatch | TaskCall], linger: Linger) -> Kicks:
    """Set the kick keys in one ``MULTI``, and count each handler's commits there (:attr:`Linger.IF_BUSY`)."""
    first: dict[str, Dispatch] = {}
    redelivered: set[str] = set()
    for dispatch in dispatches:
        if isinstance(dispatch, Dispatch):
            first.setdefault(dispatch.handler, dispatch)
            if dispatch.redelivery:
                redelivered.add(dispatch.handler)
    if not first:
        return Kicks(list(dispatches), [])
    settings = get_settings()
    if settings.handler_linger_ms == 0:
        linger = Linger.NEVER
    counted = linger is Linger.IF_BUSY
    per_handler = 4 if counted else 2  # commands per handler in the MULTI
    # One MULTI: a draining task deletes flag and key together, so it sees the flag of any kick that found its key.
    with client.pipeline(transaction=True) as pipe:
        for handler in first:
            # The relay's kick goes out even if a key says one is queued (see Dispatch.redelivery).
            pipe.set(kick_key(handler), "1", nx=handler not in redelivered, ex=settings.handler_kick_ttl_seconds)
            pipe.set(missed_key(handler), "1", ex=settings.handler_kick_ttl_seconds)
            if counted:  # this window's list: its length is the commits so far; it outlives the window briefly
                key = commits_key(handler)
                pipe.lpush(key, "1")
                pipe.pexpire(key, 2 * BUSY_WINDOW_MS)
        results = pipe.execute()
    kicked = {handler for handler, was_set in zip(first, results[::per_handler], strict=True) if was_set}
    waiting = set(first) if linger is Linger.ALWAYS else set()
    if counted:
        waiting = {handler for handler, commits in zip(first, results[2::4], strict=True) if commits >= BUSY_COMMITS}
    lingering = waiting & kicked - redelivered  # the relay's kicks are late already
    for handler in first:
        KICKS.labels(handler, "lingered" if handler in lingering else "sent" if handler in kicked
                     else "already_queued").inc()
    messages = [d for d in dispatches if isinstance(d, TaskCall) or (d.handler in kicked and first[d.handler] is d)]
    return Kicks(messages, [kick_key(handler) for handler in kicked], frozenset(lingering))


def task_arguments(dispatch: Dispatch | TaskCall) -> tuple[str, list[str], dict[str, str]]:
    if isinstance(dispatch, TaskCall):
        return dispatch.task, list(dispatch.args), {}
    if REGISTRY.takes_aggregate(dispatch.handler):
        return dispatch.handler, [str(dispatch.aggregate_id)], {"event_id": str(dispatch.event_id)}
    return dispatch.handler, [str(dispatch.event_id)], {}


def publish(app: Celery, dispatches: Sequence[Dispatch | TaskCall], request_id: str | None, *,
            linger: Linger = Linger.NEVER) -> int:
    """Send what ``dispatches`` owe the broker in two trips; return how many were covered: all, or 0 on a failure.

    The first trip sets the kick keys (:func:`_claim_kicks`): a handler whose kick is already queued
    gets no message, and a kick may wait ``HANDLER_LINGER_MS`` (see :class:`Linger`; a countdown: the
    worker holds the message, no pool process waits). The second writes the messages, in order, in one
    Redis pipeline (kombu's publish batch). A failure is logged and left to the outbox relay, and the
    keys this set are taken back: the database already holds the work, so nothing is lost while the
    broker is away. (A pipeline cut short may have delivered some messages: the relay sends them
    again, and handlers do their work once per event.)
    """
    return len(dispatches) if _send(app, dispatches, request_id, linger) is not None else 0


def hand_over(app: Celery, dispatch: Dispatch, request_id: str | None) -> bool:
    """Send ``dispatch``'s kick, waiting ``HANDLER_LINGER_MS``, if this sets its handler's kick key.

    False if another publisher holds the key (its kick may yet fail: the caller claims the events
    itself) or the broker is away.
    """
    kicks = _send(app, [dispatch], request_id, Linger.ALWAYS)
    return kicks is not None and bool(kicks.keys)


def _send(app: Celery, dispatches: Sequence[Dispatch | TaskCall], request_id: str | None,
          linger: Linger) -> Kicks | None:
    """:func:`publish`'s two trips; the kicks sent, or None on a failure."""
    kicks = Kicks([], [])
    try:
        with app.producer_or_acquire() as producer:
            client = producer.channel.client
            kicks = _claim_kicks(client, dispatches, linger)
            wait = get_settings().handler_linger_ms / 1000
            try:
                with producer.batch():
                    for dispatch in kicks.messages:
                        task, args, kwargs = task_arguments(dispatch)
                        # A redelivered event keeps the id of the request that first caused it.
                        origin = (dispatch.request_id if isinstance(dispatch, Dispatch) else None) or request_id
                        lingering = isinstance(dispatch, Dispatch) and dispatch.handler in kicks.lingering
                        # Ids only: their plain repr is what Flower shows, without Celery's size-bounded one.
                        app.send_task(task, args=args, kwargs=kwargs, countdown=wait if lingering else None,
                                      argsrepr=repr(args), kwargsrepr=repr(kwargs),
                                      headers={"request_id": origin} if origin else None, producer=producer)
            except Exception:
                if kicks.keys:
                    _forget_kicks(client, kicks.keys)
                raise
    except Exception as exc:  # noqa: BLE001 - any broker failure is recovered by the relay
        log.warning("outbox.publish_failed", tasks=len(dispatches),
                    error=f"{type(exc).__name__}: {exc}")
        return None
    return kicks


def _forget_kicks(client: Any, keys: list[str]) -> None:
    try:
        client.delete(*keys)
    except Exception as exc:  # noqa: BLE001 - the broker is away: the keys' TTL ends them
        log.warning("outbox.kick_keys_kept", keys=len(keys), error=f"{type(exc).__name__}: {exc}")


def hold_kicks(app: Celery, handler: str) -> bool:
    """Whether the handler's kick key is set, for the task about to drain (see ``DbTask.drain``); its TTL starts again.

    Clears the missed flag too, as before every claim (:func:`look_again`). False also when Redis is
    away: publishers cannot set the key then either (the relay sends their work).
    """
    try:
        with app.producer_or_acquire() as producer, producer.channel.client.pipeline(transaction=False) as pipe:
            pipe.set(kick_key(handler), "1", xx=True, ex=get_settings().handler_kick_ttl_seconds)
            pipe.delete(missed_key(handler))
            held, _ = pipe.execute()
    except Exception as exc:  # noqa: BLE001 - see above
        log.warning("outbox.kick_key_unknown", handler=handler, error=f"{type(exc).__name__}: {exc}")
        return False
    return bool(held)


def look_again(app: Celery, handler: str) -> None:
    """Clear the handler's missed flag before a claim: a kick owed after it sets it again.

    If Redis is away, the flag stays: the task claims once more than it needs to at the end, no less.
    """
    try:
        with app.producer_or_acquire() as producer:
            producer.channel.client.delete(missed_key(handler))
    except Exception as exc:  # noqa: BLE001 - see above
        log.warning("outbox.kick_flag_kept", handler=handler, error=f"{type(exc).__name__}: {exc}")


class Released(NamedTuple):
    """What a draining task learns as it lets go of its handler's kick key."""

    missed: bool  # a kick found the key held since the flag was last cleared: its event waits for this task
    busy: bool  # the handler is busy (see the module's docstring)


def stop_holding_kicks(app: Celery, handler: str) -> Released:
    """Delete the handler's kick key and missed flag: the next event committed sends a kick (see ``DbTask.drain``).

    ``missed``, the task must claim once more (or hand over to a kick of its own); also when Redis is
    away (the key then stays until its TTL: events meanwhile wait for the relay, no longer).
    """
    try:
        with app.producer_or_acquire() as producer, producer.channel.client.pipeline(transaction=True) as pipe:
            pipe.delete(missed_key(handler))
            pipe.delete(kick_key(handler))
            pipe.llen(commits_key(handler))
            missed, _, commits = pipe.execute()
    except Exception as exc:  # noqa: BLE001 - see above
        log.warning("outbox.kick_key_kept", handler=handler, error=f"{type(exc).__name__}: {exc}")
        return Released(missed=True, busy=False)
    return Released(missed=bool(missed), busy=commits >= BUSY_COMMITS)


def clear_kicks(app: Celery) -> None:
    """Forget every handler's kick key (the queues were purged: the kicks they stood for are gone)."""
    with app.producer_or_acquire() as producer:
        producer.channel.client.delete(*(key(handler) for handler in REGISTRY.handler_names()
                                         for key in (kick_key, missed_key)))


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
    """Make the outbox rows of messages that did not reach the broker due again now (``relay.reschedule_unsent``).

    Messages of :class:`TaskCall` need nothing: their own tables say when they are due.
    If this fails too, the rows keep their backoff: later, but not lost.
    """
    unsent = [dispatch for dispatch in dispatches if isinstance(dispatch, Dispatch)]
    if not unsent:
        return
    try:
        with factory() as db:
            relay.reschedule_unsent(db, unsent)
            db.commit()
    except SQLAlchemyError as exc:
        log.warning("outbox.reschedule_failed", tasks=len(unsent), error=f"{type(exc).__name__}: {exc}")


def install_publisher(factory: sessionmaker[Session], app: Callable[[], Celery],
                      on_committed: Callable[[list[OutboxEvent]], None]) -> None:
    """Publish a session's outbox dispatches after its outermost transaction commits, and hand its events to
    ``on_committed`` (the live streams); forget both on its rollback.

    Rows whose messages could not be published are made due again at once, so the
    relay sends them as soon as the broker is back, whatever their backoff was.
    """

    @event.listens_for(factory, "after_commit")
    def _after_commit(session: Session) -> None:
        # SQLAlchemy calls this at a savepoint's release too: nothing is committed until the outermost commit.
        if session.in_nested_transaction():
            return
        request_id = request_id_of(session)
        dispatches, events = take_owed(session)
        if dispatches and not publish(app(), dispatches, request_id, linger=Linger.IF_BUSY):
            reschedule_unsent(factory, dispatches)
        if events:
            on_committed(events)

    @event.listens_for(factory, "after_rollback")
    def _after_rollback(session: Session) -> None:
        # A savepoint's rollback forgets only what was owed inside it (``outbox.batches.savepoint``).
        if session.in_nested_transaction():
            return
        take_owed(session)

