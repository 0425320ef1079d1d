"""The outbox's Celery-facing part: publishing after commit, one kick per handler, and a handler's drain.

A handler's task drains every due row of its handler (``outbox/batches.py``), so one queued
or running task per handler is enough: a kick is sent only when Redis holds no kick key for the
handler. The key is set (``SET NX``, with a TTL in case its message is lost) when a kick is sent,
and held by the task the kick starts while it drains. A kick owed that finds the key held names its
event in the handler's *missed* set instead, in the same script (:data:`_CLAIM_KICKS`, atomic in
Redis): the task lets key and set go together, in one ``MULTI``, once a batch comes back short. An
event named there that the task did not claim was committed, and found the key held, after that
claim began: the task claims once more (emptying the set before each claim after its first). An
event it did claim costs nothing more; every event committed since found the key held by this task
before that claim began, and is in it, or finds it gone and sends a kick. If the key outlives its
task (a worker killed holding it), the TTL ends it, and the relay kicks the handler again.

What each part holds: the key, that commits while a handler's task is queued or running send no further
kick (one message per drain, not per commit); the set, that no drain ends while an event committed during it
waits unclaimed, without claiming once more after every short batch, or for an event it claimed already; the
linger (:func:`hand_over`), that a stream's events are claimed a batch at a time, not one or two per task. Their
measured worth is in ``bench/NOTES.md``.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

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
#: The events whose kick found the key held, named by the publisher, emptied by a draining task before each claim
#: after its first (see the module's docstring).
MISSED_KEY = "outbox:kick-missed-events:{handler}"

KICKS = Counter("outbox_handler_kicks_total",
                "Handler kicks owed (after commits, by the relay, by draining tasks), by handler and outcome: "
                "a message sent, one sent to wait HANDLER_LINGER_MS, or none as one was queued",
                ["handler", "outcome"])


def kick_key(handler: str) -> str:
    return KICK_KEY.format(handler=handler)


def missed_key(handler: str) -> str:
    return MISSED_KEY.format(handler=handler)


@dataclass(frozen=True)
class Kicks:
    """What a publish sends: every task call and one kick per handler whose kick key it set, in order."""

    messages: list[Dispatch | TaskCall]
    keys: list[str]  # the kick keys set, to take back if the send fails


#: Sets each handler's kick key unless held (or whatever it holds, for the relay's kicks); a key found held gets the
#: events that found it in its missed set instead. One atomic script, one round trip. KEYS: each handler's kick key,
#: then its missed set. ARGV[1]: their TTL in seconds; then, per handler: "1" when its kick goes out even if one is
#: queued, the number of its events, and their ids. Returns, per handler, 1 when its kick is to be sent.
_CLAIM_KICKS = """
local ttl, at, sent = ARGV[1], 2, {}
for i = 1, #KEYS / 2 do
  local key, missed = KEYS[2 * i - 1], KEYS[2 * i]
  local forced, count = ARGV[at] == "1", tonumber(ARGV[at + 1])
  if forced and redis.call("SET", key, "1", "EX", ttl) or redis.call("SET", key, "1", "NX", "EX", ttl) then
    sent[i] = 1
  else
    for j = at + 2, at + 1 + count do redis.call("SADD", missed, ARGV[j]) end
    redis.call("EXPIRE", missed, ttl)
    sent[i] = 0
  end
  at = at + 2 + count
end
return sent
"""


def _claim_kicks(client: Any, dispatches: Sequence[Dispatch | TaskCall]) -> Kicks:
    """Set the kick keys, or name the events in the missed sets of those found held, in one script
    (:data:`_CLAIM_KICKS`)."""
    first: dict[str, Dispatch] = {}
    events: dict[str, list[str]] = {}
    redelivered: set[str] = set()
    for dispatch in dispatches:
        if isinstance(dispatch, Dispatch):
            first.setdefault(dispatch.handler, dispatch)
            events.setdefault(dispatch.handler, []).append(str(dispatch.event_id))
            if dispatch.redelivery:
                redelivered.add(dispatch.handler)
    if not first:
        return Kicks(list(dispatches), [])
    # EVAL names its keys whole: kombu's client adds the broker's key prefix to other commands' keys, not to these.
    prefix = getattr(client, "global_keyprefix", "")
    keys = [f"{prefix}{key}" for handler in first for key in (kick_key(handler), missed_key(handler))]
    # The relay's kick goes out even if a key says one is queued (see Dispatch.redelivery).
    arguments = [part for handler in first for part in (
        "1" if handler in redelivered else "0", len(events[handler]), *events[handler])]
    results = client.eval(_CLAIM_KICKS, len(keys), *keys, get_settings().handler_kick_ttl_seconds, *arguments)
    kicked = {handler for handler, was_set in zip(first, results, strict=True) if was_set}
    for handler in first:
        KICKS.labels(handler, "sent" if handler in kicked else "already_queued").inc()
    messages = [d for d in dispatches if isinstance(d, TaskCall) or (d.handler in kicked and first[d.handler] is d)]
    return Kicks(messages, [kick_key(handler) for handler in kicked])


def task_arguments(dispatch: Dispatch | TaskCall) -> tuple[str, list[str], dict[str, str]]:
    if isinstance(dispatch, TaskCall):
        return dispatch.task, list(dispatch.args), {}
    if REGISTRY.takes_aggregate(dispatch.handler):
        return dispatch.handler, [str(dispatch.aggregate_id)], {"event_id": str(dispatch.event_id)}
    return dispatch.handler, [str(dispatch.event_id)], {}


def publish(app: Celery, dispatches: Sequence[Dispatch | TaskCall], request_id: str | None) -> int:
    """Send what ``dispatches`` owe the broker in two trips; return how many were covered: all, or 0 on a failure.

    The first trip sets the kick keys (:func:`_claim_kicks`): a handler whose kick is already queued
    gets no message. The second writes the messages, in order, in one Redis pipeline (kombu's publish
    batch). A failure is logged and left to the outbox relay, and the keys this set are taken back:
    the database already holds the work, so nothing is lost while the broker is away. (A pipeline cut
    short may have delivered some messages: the relay sends them again, and handlers do their work
    once per event.)
    """
    kicks = Kicks([], [])
    try:
        with app.producer_or_acquire() as producer:
            client = producer.channel.client
            kicks = _claim_kicks(client, dispatches)
            try:
                with producer.batch():
                    for dispatch in kicks.messages:
                        _send_one(app, producer, dispatch, request_id)
            except Exception:
                if kicks.keys:
                    _forget_kicks(client, kicks.keys)
                raise
    except Exception as exc:  # noqa: BLE001 - any broker failure is recovered by the relay
        log.warning("outbox.publish_failed", tasks=len(dispatches),
                    error=f"{type(exc).__name__}: {exc}")
        return 0
    return len(dispatches)


def _send_one(app: Celery, producer: Any, dispatch: Dispatch | TaskCall, request_id: str | None, *,
              countdown: float | None = None) -> None:
    task, args, kwargs = task_arguments(dispatch)
    # A redelivered event keeps the id of the request that first caused it.
    origin = (dispatch.request_id if isinstance(dispatch, Dispatch) else None) or request_id
    # Ids only: their plain repr is what Flower shows, without Celery's size-bounded one.
    app.send_task(task, args=args, kwargs=kwargs, argsrepr=repr(args), kwargsrepr=repr(kwargs),
                  headers={"request_id": origin} if origin else None, producer=producer, countdown=countdown)


def hand_over(app: Celery, dispatch: Dispatch, request_id: str | None, *, wait_seconds: float) -> bool:
    """Send ``dispatch``'s kick to start its task ``wait_seconds`` from now, if this sets its handler's kick key
    (``SET NX``); whether it did. False when another publisher holds the key (its kick may yet fail to go out:
    the caller claims the events itself; nothing is named in the missed set, as the event is done) or the broker
    is away. The wait is a countdown: the worker holds the message, no pool process waits."""
    key = kick_key(dispatch.handler)
    try:
        with app.producer_or_acquire() as producer:
            client = producer.channel.client
            if not client.set(key, "1", nx=True, ex=get_settings().handler_kick_ttl_seconds):
                KICKS.labels(dispatch.handler, "already_queued").inc()
                return False
            try:
                _send_one(app, producer, dispatch, request_id, countdown=wait_seconds)
            except Exception:
                _forget_kicks(client, [key])
                raise
    except Exception as exc:  # noqa: BLE001 - the caller claims the events itself
        log.warning("outbox.hand_over_failed", handler=dispatch.handler, error=f"{type(exc).__name__}: {exc}")
        return False
    KICKS.labels(dispatch.handler, "lingered").inc()
    return True


def _forget_kicks(client: Any, keys: list[str]) -> None:
    try:
        client.delete(*keys)
    except Exception as exc:  # noqa: BLE001 - the broker is away: the keys' TTL ends them
        log.warning("outbox.kick_keys_kept", keys=len(keys), error=f"{type(exc).__name__}: {exc}")


def look_again(app: Celery, handler: str) -> None:
    """Empty the handler's missed set before a claim: a kick owed after it names its event there again.

    If Redis is away, the set stays: the task claims once more than it needs to at the end, no less.
    """
    try:
        with app.producer_or_acquire() as producer:
            producer.channel.client.delete(missed_key(handler))
    except Exception as exc:  # noqa: BLE001 - see above
        log.warning("outbox.kick_flag_kept", handler=handler, error=f"{type(exc).__name__}: {exc}")


#: What :func:`stop_holding_kicks` answers when Redis is away: an event may have found the key held, unknown which.
UNKNOWN = None


def stop_holding_kicks(app: Celery, handler: str) -> set[uuid.UUID] | None:
    """Delete the handler's kick key and missed set: the next event committed sends a kick (see ``DbTask.drain``).

    The events the set named: each found the key held since the set was last emptied, and sent no kick; one the
    caller did not claim waits for it, which must claim once more. ``None`` (:data:`UNKNOWN`) when Redis is away
    (the key then stays until its TTL: events meanwhile wait for the relay, no longer).
    """
    try:
        with app.producer_or_acquire() as producer, producer.channel.client.pipeline(transaction=True) as pipe:
            pipe.smembers(missed_key(handler))
            pipe.delete(missed_key(handler))
            pipe.delete(kick_key(handler))
            missed, _, _ = pipe.execute()
    except Exception as exc:  # noqa: BLE001 - see above
        log.warning("outbox.kick_key_kept", handler=handler, error=f"{type(exc).__name__}: {exc}")
        return UNKNOWN
    return {uuid.UUID(member.decode() if isinstance(member, bytes) else member) for member in missed}


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
        if dispatches and not publish(app(), dispatches, request_id):
            reschedule_unsent(factory, dispatches)
        if events:
            on_committed(events)

    @event.listens_for(factory, "after_rollback")
    def _after_rollback(session: Session) -> None:
        # A savepoint's rollback forgets only what was owed inside it (``outbox.batches.savepoint``).
        if session.in_nested_transaction():
            return
        take_owed(session)

