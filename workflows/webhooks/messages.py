"""What every webhook module says about messages: their ids, the task that delivers them, and when one is due.

"Due", "under a live lease", "endpoint busy", "endpoint ready" and "an owner's batches in flight" are
written once here, as SQL, because fan-out, leasing, dispatch, outcomes and the owner's manual retry must
all agree on them.
"""

from __future__ import annotations

import uuid
from typing import Any, cast

from sqlalchemy import ColumnElement, ScalarSelect, Table, and_, func, or_, select
from sqlalchemy.orm import Session, aliased

from models import WebhookAttempt, WebhookEndpoint, WebhookMessage, WebhookMessageStatus
from workflows.events import EventType

DELIVER_TASK = "webhooks.deliver"
ALL_EVENTS = "*"
TEST_EVENT = EventType.WEBHOOK_TEST

# The batch paths write many rows with one statement each: table-level statements, without the ORM's
# per-object bookkeeping (and no object of the session is left stale: the ORM holds none of these rows).
MESSAGES = cast(Table, WebhookMessage.__table__)
ATTEMPTS = cast(Table, WebhookAttempt.__table__)


def new_message_id() -> str:
    return f"msg_{uuid.uuid4().hex}"


def due_now() -> ColumnElement[bool]:
    """A message waiting to be sent: pending, and its next attempt's time (or a dead lease's end) has come.

    "Now" is the statement's start, not the transaction's: a message written with its writer's
    ``now()`` by a transaction that committed while this one waited for the endpoint's lock is
    due to it (a batch's outcome, begun before that write, must see it to send its ``deliver``).
    """
    return and_(WebhookMessage.status == WebhookMessageStatus.PENDING,
                WebhookMessage.next_attempt_at <= func.statement_timestamp())


def leased_now() -> ColumnElement[bool]:
    """A message with an attempt in flight: pending, leased, and the lease not yet run out (as of the statement)."""
    return and_(WebhookMessage.status == WebhookMessageStatus.PENDING, WebhookMessage.lease_id.is_not(None),
                WebhookMessage.next_attempt_at > func.statement_timestamp())


def endpoint_busy(endpoint_id: Any) -> ColumnElement[bool]:
    """Whether a batch is in flight for ``endpoint_id``: one of its messages is under a live lease."""
    return select(1).where(WebhookMessage.endpoint_id == endpoint_id, leased_now()).exists()


def endpoint_ready() -> ColumnElement[bool]:
    """An endpoint that may start a batch once free: enabled, and not backing off (as of the statement)."""
    return and_(WebhookEndpoint.enabled, or_(WebhookEndpoint.backoff_until.is_(None),
                                             WebhookEndpoint.backoff_until <= func.statement_timestamp()))


def owner_batches_in_flight(owner_user_id: Any) -> ScalarSelect[int]:
    """How many of ``owner_user_id``'s endpoints have a batch in flight: what ``WEBHOOK_MAX_INFLIGHT_PER_OWNER`` caps.

    Counted from the leases themselves, so a batch whose worker died stops counting when its lease runs out.
    """
    owned = aliased(WebhookEndpoint)
    return (select(func.count()).select_from(owned)
            .where(owned.owner_user_id == owner_user_id, endpoint_busy(owned.id)).scalar_subquery())


def message_in_flight(db: Session, message_id: str) -> bool:
    return bool(db.scalar(select(select(1).where(WebhookMessage.id == message_id, leased_now()).exists())))
