"""Fan-out: one message per endpoint that may see an event, and the ``deliver`` tasks that send them.

Messages are written with the event's handler, in its transaction; ``deliver`` is queued after
commit, at most once per endpoint that needs one, so a burst of events to one endpoint cannot crowd
the others out of the queue. Retries wait in the database and come back through :func:`dispatch_due`.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from datetime import timedelta

import structlog
from sqlalchemy import (
    Boolean,
    Insert,
    Interval,
    Text,
    Uuid,
    and_,
    bindparam,
    case,
    cast,
    column,
    func,
    literal,
    not_,
    or_,
    select,
    true,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB, array, insert
from sqlalchemy.orm import Session

from infra.config import Settings, get_settings
from models import MentorProfile, OutboxEvent, User, WebhookEndpoint, WebhookMessage
from outbox import enqueue_after_commit
from workflows.events import PRIVATE_EVENTS, from_outbox
from workflows.roles import Role
from workflows.webhooks.messages import (
    ALL_EVENTS,
    DELIVER_TASK,
    MESSAGES,
    due_now,
    endpoint_busy,
    endpoint_ready,
    owner_batches_in_flight,
)

log = structlog.get_logger(__name__)


def _fan_out_statement() -> Insert:
    """One message per enabled, subscribed endpoint allowed to see each of a batch's events, as one statement.

    The events come in as arrays zipped by ``unnest`` (id, type, mentor profile, mentees, both views),
    so a batch costs one round trip, as one event does. Subscribed: to every event (``*``) or to the
    event's type. Allowed: an admin's endpoint (not for a conversation's events, which only their own people's
    endpoints receive), or one owned by the mentor, a mentee, a coordinator or a conversation's person the event
    concerns (:func:`workflows.events.participants`). An admin's and the mentor's endpoints
    get the mentor's view of the event, a mentee's and a coordinator's the mentee's (a programme's
    event, the coordinators', has nothing the mentee's view leaves out).
    """
    given = func.unnest(
        bindparam("event_ids", type_=ARRAY(Uuid)), bindparam("event_types", type_=ARRAY(Text)),
        bindparam("mentor_profile_ids", type_=ARRAY(Uuid)), bindparam("mentees", type_=ARRAY(Text)),
        bindparam("payloads", type_=ARRAY(JSONB)), bindparam("mentee_views", type_=ARRAY(JSONB)),
        bindparam("private", type_=ARRAY(Boolean)),
    ).table_valued(
        column("event_id", Uuid), column("event_type", Text), column("mentor_profile_id", Uuid),
        column("mentees", Text), column("payload", JSONB), column("mentee_view", JSONB), column("private", Boolean),
        with_ordinality="ordinal",
    ).render_derived()
    mentor_user = (select(MentorProfile.user_id).where(MentorProfile.id == given.c.mentor_profile_id)
                   .scalar_subquery())
    owner = WebhookEndpoint.owner_user_id
    sees_all = or_(and_(User.is_admin, not_(given.c.private)), owner == mentor_user)
    # ``?``: the event's mentees (a JSON list of user ids, as text: a list per event) hold the owner.
    visible = or_(sees_all, cast(given.c.mentees, JSONB).has_key(cast(owner, Text)))
    targets = (
        select(
            literal("msg_") + func.replace(func.gen_random_uuid().cast(WebhookMessage.id.type), "-", ""),
            WebhookEndpoint.id,
            given.c.event_id,
            given.c.event_type,
            case((sees_all, given.c.payload), else_=given.c.mentee_view),
            func.now(),
            # A batch's events, fanned out in event order, keep that order in each endpoint's queue (due at
            # the same time, they go oldest first): a microsecond apart from the statement's start.
            func.statement_timestamp() + given.c.ordinal * literal(timedelta(microseconds=1), Interval),
        )
        .select_from(given)
        .join(WebhookEndpoint, true())
        .join(User, User.id == WebhookEndpoint.owner_user_id)
        # ``?|``: the endpoint's list holds ``*`` or the event's type.
        .where(WebhookEndpoint.enabled,
               WebhookEndpoint.event_types.has_any(array([literal(ALL_EVENTS, Text), given.c.event_type])),
               visible)
    )
    columns = ["id", "endpoint_id", "event_id", "event_type", "payload", "next_attempt_at", "created_at"]
    return (
        insert(MESSAGES).from_select(columns, targets)
        .on_conflict_do_nothing(index_elements=["endpoint_id", "event_id"])
        .returning(MESSAGES.c.id, MESSAGES.c.endpoint_id, MESSAGES.c.created_at)
    )


_FAN_OUT = _fan_out_statement()


def _write_messages(db: Session, events: Sequence[OutboxEvent]) -> list[tuple[str, uuid.UUID]]:
    """Write ``events``' messages (:data:`_FAN_OUT`); the (message, endpoint) pairs it created, in event order."""
    domain_events = [from_outbox(event) for event in events]
    rows = db.execute(_FAN_OUT, {
        "event_ids": [event.id for event in events], "event_types": [event.type for event in events],
        "mentor_profile_ids": [e.participants.mentor_profile_id for e in domain_events],
        "mentees": [json.dumps([str(user_id) for user_id in e.participants.user_ids]) for e in domain_events],
        "payloads": [e.view_for(Role.MENTOR) for e in domain_events],
        "mentee_views": [e.view_for(Role.MENTEE) for e in domain_events],
        "private": [event.type in PRIVATE_EVENTS for event in events],
    }).all()
    return [(row.id, row.endpoint_id) for row in sorted(rows, key=lambda row: (row.created_at, row.id))]


def fan_out_events(db: Session, events: Sequence[OutboxEvent]) -> list[str]:
    """One message per enabled, subscribed endpoint allowed to see each event; deliveries sent after commit.

    One insert for the whole batch (each event with its own audience and views), then one
    :func:`send_deliveries`: each endpoint's lock is taken once, and one ``deliver`` queued per endpoint
    that needs it.
    """
    created = _write_messages(db, events) if events else []
    send_deliveries(db, created)
    log.info("webhooks.fanned_out", events=len(events), messages=len(created))
    return [message_id for message_id, _ in created]


def fan_out(db: Session, event: OutboxEvent) -> list[str]:
    """:func:`fan_out_events` for one event."""
    return fan_out_events(db, [event])


def send_deliveries(db: Session, messages: Sequence[tuple[str, uuid.UUID]]) -> None:
    """Send ``deliver`` after commit for new (message, endpoint) pairs, once per endpoint that needs it.

    An endpoint needs none when a batch is in flight (it sends the next ``deliver`` itself when it
    finishes), an older message of it is due (its ``deliver`` is queued; if that was lost, the
    periodic dispatcher resends it), or it is backing off (the dispatcher sends one when the backoff
    ends): a burst of events to one endpoint queues one task, not one per event, so it cannot crowd
    other endpoints out of the queue. The endpoint row lock, held until commit, orders this with the
    batch's outcome transaction: if the outcome commits first, the check here finds the endpoint free
    and sends; if this commits first, the outcome's :func:`kick_owner` sees the new message. Owners'
    slots are left to the lease: a ``deliver`` that finds them all taken leaves its message to the
    next of that owner's batches to finish.
    """
    endpoint_ids = sorted({endpoint_id for _, endpoint_id in messages})
    if not endpoint_ids:
        return
    db.execute(select(WebhookEndpoint.id).where(WebhookEndpoint.id.in_(endpoint_ids))
               .order_by(WebhookEndpoint.id).with_for_update(key_share=True))
    older_due = select(1).where(
        WebhookMessage.endpoint_id == WebhookEndpoint.id, due_now(),
        WebhookMessage.id.not_in([m for m, _ in messages]),
    ).exists()
    # A statement of its own, after the locks: it sees any outcome committed while this waited for them.
    taken_care_of = set(db.scalars(
        select(WebhookEndpoint.id)
        .where(WebhookEndpoint.id.in_(endpoint_ids),
               or_(endpoint_busy(WebhookEndpoint.id), older_due, ~endpoint_ready()))
    ))
    for message_id, endpoint_id in messages:
        if endpoint_id not in taken_care_of:
            enqueue_after_commit(db, DELIVER_TASK, message_id)
            taken_care_of.add(endpoint_id)  # this message's batch takes the endpoint's other new messages


def handle_events(db: Session, events: Sequence[OutboxEvent]) -> None:
    """The ``webhooks.fan_out`` outbox handler."""
    fan_out_events(db, events)


def kick_owner(db: Session, owner_user_id: uuid.UUID, *, settings: Settings) -> list[str]:
    """Send ``deliver`` after commit for the owner's next batches, as many as it has slots free (:func:`next_batches`).

    A finished batch calls it: the slot it frees goes to whichever of the owner's endpoints has waited longest,
    itself included, so one endpoint's backlog does not keep the owner's others waiting.
    """
    chosen = next_batches(db, settings=settings, owner_user_id=owner_user_id)
    for message_id in chosen:
        enqueue_after_commit(db, DELIVER_TASK, message_id)
    return chosen


def next_batches(db: Session, *, settings: Settings, owner_user_id: uuid.UUID | None = None,
                 limit: int = 500) -> list[str]:
    """The message each next batch starts with: the oldest due message of endpoints ready and free, oldest first.

    Per owner, no more endpoints than it has slots free (``WEBHOOK_MAX_INFLIGHT_PER_OWNER`` less its batches in
    flight), those that have waited longest first. Nothing is locked: the lease decides who sends what (a second
    ``deliver`` for a message finds it leased, its endpoint busy or its owner's slots taken), and a lock here
    would make a lease going on at the same time skip the message, sending it after newer ones in a batch of
    its own.
    """
    ready = (
        select(WebhookEndpoint.id, WebhookEndpoint.owner_user_id)
        .where(endpoint_ready(), ~endpoint_busy(WebhookEndpoint.id),
               *([] if owner_user_id is None else [WebhookEndpoint.owner_user_id == owner_user_id]))
        .subquery("ready")
    )
    # Each free endpoint's oldest due message, one probe of the pending messages' index each: the cost grows
    # with the endpoints, never with a backlog (and no plan can run it again for every due message).
    head = (
        select(WebhookMessage.id, WebhookMessage.next_attempt_at, WebhookMessage.created_at)
        .where(WebhookMessage.endpoint_id == ready.c.id, due_now())
        .order_by(WebhookMessage.next_attempt_at, WebhookMessage.created_at)
        .limit(1)
        .lateral("head")
    )
    free = (
        select(head.c.id, head.c.next_attempt_at, ready.c.owner_user_id, func.row_number().over(
            partition_by=ready.c.owner_user_id, order_by=(head.c.next_attempt_at, head.c.created_at),
        ).label("turn"))
        .select_from(ready.join(head, true()))
        .subquery("free")
    )
    return list(db.scalars(
        select(free.c.id)
        .where(free.c.turn <= settings.webhook_max_inflight_per_owner - owner_batches_in_flight(free.c.owner_user_id))
        .order_by(free.c.next_attempt_at)
        .limit(limit)
    ))


def dispatch_due(db: Session, *, settings: Settings | None = None, limit: int = 500) -> list[str]:
    """Send ``deliver`` for the next batches of every owner (:func:`next_batches`).

    Retries, endpoints whose backoff has ended, the owners' endpoints that waited for a free slot, and
    messages whose first ``deliver`` was lost (broker down, worker killed, lease expired) all come back this way.
    """
    due = next_batches(db, settings=settings or get_settings(), limit=limit)
    for message_id in due:
        enqueue_after_commit(db, DELIVER_TASK, message_id)
    if due:
        log.info("webhooks.dispatched_due", count=len(due))
    return due
