"""Stream tickets: how a browser's ``EventSource``, which cannot send an ``Authorization`` header,
authenticates a live stream.

A signed-in client asks for a ticket (``POST /events/tickets``) and opens
``GET /events/stream?ticket=…``. A ticket is random, single-use (taken with ``GETDEL``, so two
redemptions cannot both succeed) and short-lived (``EVENT_TICKET_TTL_SECONDS``, a Redis TTL). It
carries the credential it was asked with (user, token version, sign-in), so signing out, or ending
that sign-in, ends tickets not yet used and the streams they opened. Only its SHA-256 is a Redis
key: a URL that ends up in a log holds a spent ticket, never a bearer token.
"""

from __future__ import annotations

import hashlib
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

import redis

from workflows.accounts.sign_ins import Credential
from workflows.clock import utcnow


@dataclass(frozen=True)
class Ticket:
    ticket: str
    expires_at: datetime


class Unavailable(Exception):
    """Redis could not be reached: no ticket can be issued or redeemed now."""


def _key(prefix: str, ticket: str) -> str:
    return f"{prefix}live:ticket:{hashlib.sha256(ticket.encode()).hexdigest()}"


def issue(client: redis.Redis, prefix: str, credential: Credential, ttl_seconds: int) -> Ticket:
    ticket = secrets.token_urlsafe(32)
    sign_in = credential.sign_in_id or ""
    try:
        client.set(_key(prefix, ticket), f"{credential.user_id}:{credential.token_version}:{sign_in}", ex=ttl_seconds)
    except redis.RedisError as exc:
        raise Unavailable from exc
    return Ticket(ticket, utcnow() + timedelta(seconds=ttl_seconds))


def redeem(client: redis.Redis, prefix: str, ticket: str) -> Credential | None:
    """The ticket's credential, once: ``None`` when unknown, used or expired."""
    try:
        value = client.getdel(_key(prefix, ticket))
    except redis.RedisError as exc:
        raise Unavailable from exc
    if value is None:
        return None
    # Tickets issued before sign-ins were recorded hold two fields: they name no sign-in.
    user_id, version, *sign_in = (value.decode() if isinstance(value, bytes) else str(value)).split(":")
    return Credential(uuid.UUID(user_id), int(version), uuid.UUID(sign_in[0]) if sign_in and sign_in[0] else None)
