"""Stream tickets: how a browser's ``EventSource``, which cannot send an ``Authorization`` header,
authenticates a live stream.

A signed-in client asks for a ticket (``POST /events/tickets``) and opens
``GET /events/stream?ticket=…``. A ticket is random, single-use (taken with ``GETDEL``, so two
redemptions cannot both succeed) and short-lived (``EVENT_TICKET_TTL_SECONDS``, a Redis TTL). It
carries the user's token version, so signing out ends tickets not yet used. Only its SHA-256 is a
Redis key: a URL that ends up in a log holds a spent ticket, never a bearer token.
"""

from __future__ import annotations

import hashlib
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

import redis

from workflows.clock import utcnow


@dataclass(frozen=True)
class Ticket:
    ticket: str
    expires_at: datetime


class Unavailable(Exception):
    """Redis could not be reached: no ticket can be issued or redeemed now."""


def _key(prefix: str, ticket: str) -> str:
    return f"{prefix}live:ticket:{hashlib.sha256(ticket.encode()).hexdigest()}"


def issue(client: redis.Redis, prefix: str, user_id: uuid.UUID, token_version: int, ttl_seconds: int) -> Ticket:
    ticket = secrets.token_urlsafe(32)
    try:
        client.set(_key(prefix, ticket), f"{user_id}:{token_version}", ex=ttl_seconds)
    except redis.RedisError as exc:
        raise Unavailable from exc
    return Ticket(ticket, utcnow() + timedelta(seconds=ttl_seconds))


def redeem(client: redis.Redis, prefix: str, ticket: str) -> tuple[uuid.UUID, int] | None:
    """The ticket's user and token version, once: ``None`` when unknown, used or expired."""
    try:
        value = client.getdel(_key(prefix, ticket))
    except redis.RedisError as exc:
        raise Unavailable from exc
    if value is None:
        return None
    user_id, _, version = (value.decode() if isinstance(value, bytes) else str(value)).partition(":")
    return uuid.UUID(user_id), int(version)
