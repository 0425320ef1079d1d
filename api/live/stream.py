"""One client's live stream: admission, the replayed history (or a reset), then live events.

Long-lived streams must not starve the request workers. The API runs gunicorn's ``gthread``
workers; a stream occupies one thread, never a process, and is admitted by :mod:`api.live.slots`
(a cap per process and one per user). A stream holds no database connection while it waits, and
ends after ``SSE_MAX_SECONDS``; the client reconnects with ``Last-Event-ID`` and loses nothing:
missed events are replayed from the outbox table, live ones come from Redis pub/sub.

A stream is as good as the credential that opened it: it reads that again every
``CREDENTIAL_CHECK_SECONDS`` (:class:`CredentialCheck`, the same check as every request's), and ends
once it fails: signed out, password changed, account deleted, or its sign-in ended.

Its slots are given back by :meth:`LiveStream.close`, which the response's close callback calls
on every path: a HEAD (the body is never iterated), a client gone before the first byte, an
error, or the normal end. A generator's ``finally`` alone would miss the first two: a generator
never started does not run its ``finally`` when closed.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import redis
import structlog
from flask import Response, current_app
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from api.database import db_session, session_factory
from api.errors import http_error
from api.live.frames import ResourceViews
from api.live.slots import EXTENSION, Refused, StreamLease, StreamSlots
from api.security import current_actor, current_credential
from infra.config import Settings
from workflows import events
from workflows.accounts.sign_ins import Credential, actor_for
from workflows.actors import Actor
from workflows.errors import Unauthenticated
from workflows.live import frames as live
from workflows.live.replay import mentors_of_listings, resume

log = structlog.get_logger(__name__)

# A quiet stream writes a comment this often: proxies keep it open, and a stream whose client left (a
# reload, a closed tab) fails its next write or the one after, and gives its slots back within seconds.
KEEP_ALIVE_SECONDS = 2.0
# How often a stream reads its credential again. One primary-key query per stream this often; a
# process holds at most SSE_MAX_STREAMS_PER_PROCESS streams, so at most that many every 2 s.
CREDENTIAL_CHECK_SECONDS = 2.0
RESET_EVENT = "reset"
RESET_DATA = {"reason": "history_unavailable",
              "message": "Events since your Last-Event-ID can no longer be replayed: reload what you show."}


def live_response(listing_ids: list[uuid.UUID], last_event_id: str) -> Response:
    """The ``text/event-stream`` response of the caller's stream, or a 429 / 503 with ``Retry-After``."""
    settings: Settings = current_app.extensions["settings"]
    slots: StreamSlots = current_app.extensions[EXTENSION]
    try:
        lease = slots.acquire(current_actor().user_id)
    except Refused as refused:
        raise http_error(refused.status, refused.message, words=refused.words,
                         headers={"Retry-After": str(refused.retry_after)}) from None
    try:
        stream = LiveStream.open(settings, lease, listing_ids, last_event_id)
    except redis.RedisError:
        lease.release()
        raise http_error(503, "live updates are unavailable right now; retry shortly",
                         headers={"Retry-After": "5"}) from None
    except BaseException:
        lease.release()
        raise
    response = Response(iter(stream), mimetype="text/event-stream")
    response.call_on_close(stream.close)
    response.headers["Cache-Control"] = "no-cache"
    response.headers["X-Accel-Buffering"] = "no"
    return response


@dataclass
class CredentialCheck:
    """Whether the stream's credential still holds, read again at most every ``CREDENTIAL_CHECK_SECONDS``
    in a session of its own (a stream holds no database connection while it waits)."""

    factory: sessionmaker[Session]
    credential: Credential
    checked_at: float = field(default_factory=time.monotonic)

    def holds(self) -> bool:
        if time.monotonic() - self.checked_at < CREDENTIAL_CHECK_SECONDS:
            return True
        self.checked_at = time.monotonic()
        try:
            with self.factory() as db:
                actor_for(db, self.credential)
        except Unauthenticated:
            return False
        except SQLAlchemyError as exc:
            # Unchecked is not valid: the client reconnects, and is answered once the database is back.
            log.warning("live.credential_check_failed", error=str(exc))
            return False
        return True


@dataclass
class LiveStream:
    """One client's stream: subscribed channels, the replayed history, then live events."""

    settings: Settings
    lease: StreamLease
    actor: Actor
    listings: dict[uuid.UUID, frozenset[uuid.UUID]]
    pubsub: redis.client.PubSub
    reset: bool
    cursor: uuid.UUID | None
    replay: list[tuple[str, str, dict[str, Any]]]
    views: ResourceViews
    check: CredentialCheck

    @classmethod
    def open(cls, settings: Settings, lease: StreamLease, listing_ids: list[uuid.UUID],
             last_event_id: str) -> LiveStream:
        actor = current_actor()
        db = db_session()
        listings = mentors_of_listings(db, listing_ids)
        mentors = list(frozenset[uuid.UUID]().union(*listings.values()))
        client: redis.Redis = current_app.extensions["redis"]
        pubsub = client.pubsub(ignore_subscribe_messages=True)  # type: ignore[no-untyped-call]
        try:
            # Subscribe before reading the history, so nothing falls between the two.
            pubsub.subscribe(*live.subscriptions(settings.redis_key_prefix, actor.user_id, actor.mentor_profile_id,
                                                 mentors))
            missed = resume(db, last_event_id.strip(), timedelta(days=settings.outbox_retention_days),
                            user_id=actor.user_id, mentor_profile_id=actor.mentor_profile_id, slot_mentors=mentors)
        except BaseException:
            pubsub.close()
            raise
        # Read now: the request's session is closed before the stream is iterated.
        replay = [(str(e.id), e.type, e.payload) for e in missed.events]
        return cls(settings, lease, actor, listings, pubsub, missed.reset, missed.cursor, replay,
                   ResourceViews(session_factory(), actor), CredentialCheck(session_factory(), current_credential()))

    def close(self) -> None:
        """Give the subscription and both slots back; safe to call again."""
        self.pubsub.close()
        self.lease.release()

    def frames(self, event_id: str, event_type: str, payload: dict[str, Any]) -> list[str]:
        event = events.parse(event_id, event_type, payload)
        return live.frames(event, self.actor.user_id, self.actor.mentor_profile_id, self.listings, self.views)

    def __iter__(self) -> Iterator[str]:
        seen: set[str] = set()
        try:
            yield "retry: 3000\n\n"
            if self.reset:
                yield live.frame(str(self.cursor or ""), RESET_EVENT, RESET_DATA)
            for event_id, event_type, payload in self.replay:
                seen.add(event_id)
                yield from self.frames(event_id, event_type, payload)
            deadline = time.monotonic() + self.settings.sse_max_seconds
            quiet_since = time.monotonic()
            while (left := deadline - time.monotonic()) > 0 and self.lease.renew_if_due() and self.check.holds():
                message = self.pubsub.get_message(timeout=min(1.0, left))
                if message and message.get("type") == "message":
                    for event in live.events_of(message["data"]):
                        if event["id"] in seen:
                            continue
                        seen.add(event["id"])
                        for text in self.frames(event["id"], event["type"], event["data"]):
                            quiet_since = time.monotonic()
                            yield text
                elif time.monotonic() - quiet_since >= KEEP_ALIVE_SECONDS:
                    quiet_since = time.monotonic()
                    yield ": keep-alive\n\n"
        except redis.RedisError:
            return  # the client reconnects with Last-Event-ID
        finally:
            self.close()
