"""What the outbox knows of the domain: every event type, and every handler with the event types it handles.

The domain fills the one :data:`REGISTRY` at import: ``workflows/events.py`` declares the events (type, the
aggregate they are about, their payload's ``TypedDict``, their audience rule), ``workflows/handlers.py`` the
handlers (``@REGISTRY.handler("reviews.unlock", EventType.SESSION_COMPLETED)`` over a plain function of a
session and a batch of events). Recording an event writes one row per handler of its type; the workers make
one Celery task per handler (``workers/handlers.py``), named as the handler, routed to the queue its name
begins with. Nothing else lists handlers or event types.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from infra.queues import QUEUES
from models import OutboxEvent

#: A handler's work for a batch of its events, in the transaction that marks their rows done.
Work = Callable[[Session, Sequence[OutboxEvent]], None]
#: Work an operator starts by hand for one aggregate (``celery call <handler> --args='["<id>"]'``).
ByHand = Callable[[Session, uuid.UUID], Any]


@dataclass(frozen=True)
class EventSpec:
    """One event type: the aggregate it is about, its payload's type, and who it concerns (its audience)."""

    event_type: str
    aggregate: str
    payload: type[Any]
    audience: Callable[[Mapping[str, Any]], Any]


@dataclass(frozen=True)
class HandlerSpec:
    """One handler: its name (``<queue>.<verb>``, the Celery task's), the events it handles, and its work."""

    name: str
    event_types: frozenset[str]
    work: Work
    by_hand: ByHand | None = None  # its task then takes an aggregate id first (the event's, or one by hand)

    @property
    def queue(self) -> str:
        return self.name.partition(".")[0]


class Registry:
    """Event types and handlers, each declared once (:meth:`event`, :meth:`handler`)."""

    def __init__(self) -> None:
        self._events: dict[str, EventSpec] = {}
        self._handlers: dict[str, HandlerSpec] = {}

    def event(self, spec: EventSpec) -> None:
        if spec.event_type in self._events:
            raise ValueError(f"event type {spec.event_type} is declared twice")
        self._events[spec.event_type] = spec

    def handler(self, name: str, *event_types: str, by_hand: ByHand | None = None) -> Callable[[Work], Work]:
        """Declare ``name`` as the handler of ``event_types``: the decorated function is its work."""
        queue, _, verb = name.partition(".")
        if queue not in QUEUES or not verb:
            raise ValueError(f"handler {name!r}: name it <queue>.<verb>, the queue one of {', '.join(QUEUES)}")
        unknown = [event_type for event_type in event_types if event_type not in self._events]
        if unknown or not event_types:
            raise ValueError(f"handler {name!r}: unknown or missing event types {unknown}")

        def declare(work: Work) -> Work:
            if name in self._handlers:
                raise ValueError(f"handler {name} is declared twice")
            self._handlers[name] = HandlerSpec(name, frozenset(event_types), work, by_hand)
            return work

        return declare

    @contextmanager
    def declared(self, *specs: EventSpec | HandlerSpec) -> Iterator[None]:
        """Events and handlers declared for a while only (a test's own)."""
        for spec in specs:
            if isinstance(spec, EventSpec):
                self.event(spec)
            else:
                self._handlers[spec.name] = spec
        try:
            yield
        finally:
            for spec in specs:
                if isinstance(spec, EventSpec):
                    self._events.pop(spec.event_type, None)
                else:
                    self._handlers.pop(spec.name, None)

    def spec_of(self, event_type: str) -> EventSpec:
        try:
            return self._events[event_type]
        except KeyError:
            raise ValueError(f"unknown event type {event_type!r}") from None

    def handlers_for(self, event_type: str) -> tuple[str, ...]:
        """The handlers of ``event_type``, by name, in the order they were declared; refuses before any handler is
        declared (so no event is recorded without its work while ``workflows.handlers`` is not imported).

        Kicks go out in this order after a commit, and a worker idle on every queue receives them in it
        (with messages waiting, kombu reads its queues in turn): the handler a user waits for (the accepted
        booking's session) is declared first.
        """
        self.spec_of(event_type)
        if not self._handlers:
            raise RuntimeError("no handler is declared: import workflows.handlers first")
        return tuple(name for name, spec in self._handlers.items() if event_type in spec.event_types)

    def takes_aggregate(self, handler: str) -> bool:
        """Whether the handler's task takes its event's aggregate id first (it can be run by hand for one)."""
        spec = self._handlers.get(handler)
        return spec is not None and spec.by_hand is not None

    def handler_specs(self) -> list[HandlerSpec]:
        return [self._handlers[name] for name in sorted(self._handlers)]

    def handler_names(self) -> list[str]:
        return sorted(self._handlers)

    def event_types(self) -> list[str]:
        return list(self._events)


REGISTRY = Registry()
