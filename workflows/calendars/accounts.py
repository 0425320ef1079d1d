"""A mentor's calendar account, sealed: its address and credentials kept as one Fernet token under
``CREDENTIALS_KEYS`` (``infra.sealing``; a rotation adds a new key first, re-encrypts with
``flask ops reseal-credentials``, then drops the old), and a client that sends them to the account's own origin
only; and the table of its lifecycle (``CONNECTIONS``)."""

from __future__ import annotations

from enum import StrEnum

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from infra import calendar_http, http_targets, sealing
from infra.calendar_http import CalendarClient, CalendarFault
from infra.config import Settings
from models import CalendarConnection, CalendarSource, ConnectionStatus
from models.calendars import SEALED_HREF, SUBSCRIPTION
from workflows.roles import Role
from workflows.state_machine import StateMachine, move

REQUEST_SECONDS = 10.0  # each request to a calendar server, whole
SYNC_SECONDS = 30.0  # every request of one sync, together


class ConnectionAction(StrEnum):
    CONNECT = "connect"
    BREAK = "break"
    MEND = "mend"


# A connection is written ``connecting`` while its server is asked what it holds (given up, it is deleted), is
# ``active`` once it answered, ``broken`` when a sync finds its credentials refused, and active again with new ones.
CONNECTIONS = StateMachine("calendar connection", CalendarConnection, {
    ConnectionAction.CONNECT: move(ConnectionStatus.CONNECTING, ConnectionStatus.ACTIVE, Role.MENTOR),
    ConnectionAction.BREAK: move(ConnectionStatus.ACTIVE, ConnectionStatus.BROKEN, Role.SYSTEM),
    ConnectionAction.MEND: move({ConnectionStatus.ACTIVE, ConnectionStatus.BROKEN}, ConnectionStatus.ACTIVE,
                                Role.MENTOR),
}, verbs={ConnectionAction.BREAK: "mark broken", ConnectionAction.MEND: "give new credentials to"})


def seal(settings: Settings, secret: dict[str, str | None]) -> str:
    return sealing.seal(settings, secret)


def unseal(settings: Settings, token: str) -> dict[str, str | None]:
    try:
        opened: dict[str, str | None] = sealing.unseal(settings, token)
    except sealing.Unreadable:
        raise CalendarFault("the stored credentials cannot be read with the keys configured: connect again") from None
    return opened


def reseal(db: Session, settings: Settings) -> int:
    """Encrypt every connection's credentials again with the first key (a key rotation's middle step); a
    subscription's address left in the clear anywhere else is taken out (it is in the credentials)."""
    connections = list(db.scalars(select(CalendarConnection).with_for_update()))
    for connection in connections:
        connection.credentials = sealing.reseal(settings, connection.credentials)
    db.execute(update(CalendarSource).where(
        CalendarSource.connection_id.in_(select(CalendarConnection.id).where(CalendarConnection.kind == SUBSCRIPTION)),
        CalendarSource.href != SEALED_HREF).values(href=SEALED_HREF))
    return len(connections)


def client_for(settings: Settings, secret: dict[str, str | None], total: float | None = None) -> CalendarClient:
    """A client of the account: its credentials sent to its own origin only, https only where webhooks are; its
    requests together within ``total`` seconds when given."""
    return CalendarClient(http_targets.configured_scope(settings), REQUEST_SECONDS, settings.calendar_max_bytes,
                          secret.get("username"), secret.get("password"),
                          origin=calendar_http.origin_of(str(secret["url"])) if secret.get("url") else None,
                          https_only=settings.https_targets_only, total=total)
