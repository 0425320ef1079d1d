"""What every webhook module says about messages: their ids, the task that delivers them, and when one is due.

"Due", "under a live lease" and "endpoint busy" are written once here, as SQL, because fan-out,
leasing, outcomes and the owner's manual retry must all agree on them.
"""

from __future__ import annotations

import uuid
from typing import Any, cast

from sqlalchemy import ColumnElement, Table, and_, func, select
from sqlalchemy.orm import Session

from models import WebhookAttempt, WebhookMessage, WebhookMessageStatus

DELIVER_TASK = "webhooks.deliver"
ALL_EVENTS = "*"
TEST_EVENT = "webhook.test"

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


def message_in_flight(db: Session, message_id: str) -> bool:
    return bool(db.scalar(select(select(1).where(WebhookMessage.id == message_id, leased_now()).exists())))
