"""Webhook endpoints as their owners manage them (``workflows/webhooks/endpoints.py``), called directly: the event
types one subscribes to, the cap per user, and the per-minute limit of tests with the wait it names. Ownership,
re-enabling and manual retries through the routes are the API tests'
(``tests/api/webhooks/test_webhook_endpoints.py``)."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from models import WebhookEndpoint, WebhookMessage
from tests.database import refused
from tests.factories.accounts import UserFactory, actor_of
from tests.webhook_domain import make_endpoint
from workflows.errors import Conflict, InvalidInput, RateLimited
from workflows.webhooks import endpoints


def test_event_types_are_every_event_or_known_ones_each_once_in_the_order_given() -> None:
    assert endpoints.normalise_event_types(["*"]) == ["*"]
    assert endpoints.normalise_event_types(["session.completed", "booking.accepted", "session.completed"]) == [
        "session.completed", "booking.accepted"]
    assert "webhook.test" in endpoints.EVENT_TYPES and "booking.requested" in endpoints.EVENT_TYPES


@pytest.mark.parametrize(("chosen", "message"), [
    ([], 'event_types must name at least one event type, or be ["*"] for all'),
    (["*", "booking.accepted"], 'event_types is either ["*"] (every event) or a list of event types, not both'),
    (["booking.accepted", "booking.exploded"], "unknown event types: booking.exploded"),
])
def test_no_types_all_and_some_at_once_or_an_unknown_type_are_refused(chosen: list[str], message: str) -> None:
    with pytest.raises(InvalidInput) as refused_types:
        endpoints.normalise_event_types(chosen)
    assert refused_types.value.message == message


def test_a_user_has_at_most_the_configured_number_of_endpoints(db: Session, configure: Callable[..., None]) -> None:
    configure(WEBHOOK_MAX_ENDPOINTS_PER_USER="2")
    owner = UserFactory()
    make_endpoint(db, owner)
    make_endpoint(db, owner)
    error = refused(db, Conflict, lambda: make_endpoint(db, owner))
    assert (error.message, error.details) == (
        "you have 2 webhook endpoints, the most one user may have; delete one first", {"limit": 2})
    assert make_endpoint(db, UserFactory()).secret.startswith("whsec_")  # another user is not held back
    assert len(db.scalars(select(WebhookEndpoint.id).where(WebhookEndpoint.owner_user_id == owner.id)).all()) == 2


def test_tests_beyond_the_minutes_limit_are_refused_with_the_seconds_until_one_is_a_minute_old(
        db: Session, configure: Callable[..., None]) -> None:
    configure(WEBHOOK_TESTS_PER_MINUTE="2")
    owner = UserFactory()
    endpoint = make_endpoint(db, owner)
    for _ in range(2):
        endpoints.send_test(db, actor_of(owner), endpoint.id)
    error = refused(db, RateLimited, lambda: endpoints.send_test(db, actor_of(owner), endpoint.id))
    assert isinstance(error, RateLimited)
    # The two tests were sent at this transaction's now(): the first is a minute old sixty seconds later.
    assert (error.message, error.retry_after) == ("at most 2 test deliveries a minute per endpoint; retry in 60 s", 60)
    assert len(db.scalars(select(WebhookMessage.id).where(WebhookMessage.endpoint_id == endpoint.id)).all()) == 2
    endpoints.send_test(db, actor_of(owner), make_endpoint(db, owner).id)  # per endpoint


def test_a_disabled_endpoint_takes_no_test(db: Session) -> None:
    owner = UserFactory()
    endpoint = make_endpoint(db, owner)
    endpoints.update_endpoint(db, actor_of(owner), endpoint.id, {"enabled": False})
    error = refused(db, Conflict, lambda: endpoints.send_test(db, actor_of(owner), endpoint.id))
    assert (error.message, error.details) == ("the endpoint is disabled; enable it first",
                                              {"disabled_reason": "disabled by its owner"})
