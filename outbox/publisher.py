"""The outbox's Celery-facing part: publishing after commit, one kick per handler, and a handler's drain.

A handler's task drains every due row of its handler (``outbox/batches.py``), so one queued
or running task per handler is enough: a kick is sent only when Redis holds no kick key for the
handler. The key is set (``SET NX``, with a TTL in case its message is lost) when a kick is sent,
and held by the task the kick starts while it drains. A kick owed that finds the key held sets the
handler's *missed* flag instead, in the same script (:data:`_CLAIM_KICKS`, atomic in Redis): the
task lets key and flag go together, in one ``MULTI``, once a batch comes back short. A flag found set
there means an event was committed, and found the key held, after the kick was sent or the flag last
cleared: the task claims once more (clearing the flag before each claim after its first). Unset, every
event committed since found the key held by this task before that claim began, and is in it, or finds
it gone and sends a kick. If the key outlives its task (a worker killed holding it), the TTL ends it,
and the relay kicks the handler again.

What each part holds: the key, that commits while a handler's task is queued or running send no further
kick (one message per drain, not per commit); the flag, that no drain ends while an event committed during it
waits unclaimed, without claiming once more after every short batch. Their measured worth is in
``bench/NOTES.md``.
"""

from __future__ import annotations

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
#: Set with every kick owed, cleared by a draining task before each claim (see the module's docstring).
MISSED_KEY = "outbox:kick-missed:{handler}"

KICKS = Counter("outbox_handler_kicks_total",
                "Handler kicks owed (after commits, by the relay, by draining tasks), by handler and outcome: "
                "a message sent, or none as one was queued",
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


#: Sets each handler's kick key unless held (or whatever it holds, for the relay's kicks), and the missed flag of each
#: key found held; one atomic script, one round trip. KEYS: each handler's kick key, then its missed flag.
#: ARGV[1]: their TTL in seconds; ARGV[1 + i]: "1" when the i-th handler's kick goes out even if one is queued.
#: Returns, per handler, 1 when its kick is to be sent.
_CLAIM_KICKS = """
local sent = {}
for i = 1, #KEYS / 2 do
  local key, flag = KEYS[2 * i - 1], KEYS[2 * i]
  local forced = ARGV[1 + i] == "1"
  if forced and redis.call("SET", key, "1", "EX", ARGV[1]) or redis.call("SET", key, "1", "NX", "EX", ARGV[1]) then
    sent[i] = 1
  else
    redis.call("SET", flag, "1", "EX", ARGV[1])
    sent[i] = 0
  end
end
return sent
"""


def _claim_kicks(client: Any, dispatches: Sequence[Dispatch | TaskCall]) -> Kicks:
    """Set the kick keys, or the missed flags of those found held, in one script (:data:`_CLAIM_KICKS`)."""
    first: dict[str, Dispatch] = {}
    redelivered: set[str] = set()
    for dispatch in dispatches:
        if isinstance(dispatch, Dispatch):
            first.setdefault(dispatch.handler, dispatch)
            if dispatch.redelivery:
                redelivered.add(dispatch.handler)
    if not first:
        return Kicks(list(dispatches), [])
    # EVAL names its keys whole: kombu's client adds the broker's key prefix to other commands' keys, not to these.
    prefix = getattr(client, "global_keyprefix", "")
    keys = [f"{prefix}{key}" for handler in first for key in (kick_key(handler), missed_key(handler))]
    # The relay's kick goes out even if a key says one is queued (see Dispatch.redelivery).
    forced = ["1" if handler in redelivered else "0" for handler in first]
    results = client.eval(_CLAIM_KICKS, len(keys), *keys, get_settings().handler_kick_ttl_seconds, *forced)
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
                        task, args, kwargs = task_arguments(dispatch)
                        # A redelivered event keeps the id of the request that first caused it.
                        origin = (dispatch.request_id if isinstance(dispatch, Dispatch) else None) or request_id
                        # Ids only: their plain repr is what Flower shows, without Celery's size-bounded one.
                        app.send_task(task, args=args, kwargs=kwargs, argsrepr=repr(args), kwargsrepr=repr(kwargs),
                                      headers={"request_id": origin} if origin else None, producer=producer)
            except Exception:
                if kicks.keys:
                    _forget_kicks(client, kicks.keys)
                raise
    except Exception as exc:  # noqa: BLE001 - any broker failure is recovered by the relay
        log.warning("outbox.publish_failed", tasks=len(dispatches),
                    error=f"{type(exc).__name__}: {exc}")
        return 0
    return len(dispatches)


def _forget_kicks(client: Any, keys: list[str]) -> None:
    try:
        client.delete(*keys)
    except Exception as exc:  # noqa: BLE001 - the broker is away: the keys' TTL ends them
        log.warning("outbox.kick_keys_kept", keys=len(keys), error=f"{type(exc).__name__}: {exc}")


def look_again(app: Celery, handler: str) -> None:
    """Clear the handler's missed flag before a claim: a kick owed after it sets it again.

    If Redis is away, the flag stays: the task claims once more than it needs to at the end, no less.
    """
    try:
        with app.producer_or_acquire() as producer:
            producer.channel.client.delete(missed_key(handler))
    except Exception as exc:  # noqa: BLE001 - see above
        log.warning("outbox.kick_flag_kept", handler=handler, error=f"{type(exc).__name__}: {exc}")


def stop_holding_kicks(app: Celery, handler: str) -> bool:
    """Delete the handler's kick key and missed flag: the next event committed sends a kick (see ``DbTask.drain``).

    Whether the flag was set: a kick found the key held since the flag was last cleared, and its
    event waits for this task, which must claim once more. Also True when Redis is away (the key then
    stays until its TTL: events meanwhile wait for the relay, no longer).
    """
    try:
        with app.producer_or_acquire() as producer, producer.channel.client.pipeline(transaction=True) as pipe:
            pipe.delete(missed_key(handler))
            pipe.delete(kick_key(handler))
            missed, _ = pipe.execute()
    except Exception as exc:  # noqa: BLE001 - see above
        log.warning("outbox.kick_key_kept", handler=handler, error=f"{type(exc).__name__}: {exc}")
        return True
    return bool(missed)


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

