"""Every route that takes a body, read from the OpenAPI document (a new route is covered without
editing this file), refuses each kind of bad input with a 4xx and a message, with and without a
token, and no table changes.

Path parameters name real resources of the caller (a mentor who is also an admin), so that the
documented example body, were its bad value let through, would reach the database.
"""

from __future__ import annotations

import io
import json
import re
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from models import Booking, BookingStatus, SessionStatus
from tests.database import fingerprint
from tests.factories.accounts import UserFactory
from tests.factories.sessions import make_session
from workflows.actors import Actor
from workflows.webhooks import endpoints

LIMIT = 1024 * 1024
PLACEHOLDER = "__bad_value__"
DEEP = "[" * 100_000 + "]" * 100_000

# (what, JSON text put in place of one value of the example body, expected status)
BAD_VALUES: tuple[tuple[str, str, int], ...] = (
    ("lone high surrogate", '"ab\\ud800cd"', 422),
    ("lone low surrogate", '"\\udfff"', 422),
    ("NaN", "NaN", 422),
    ("Infinity", "Infinity", 422),
    ("-Infinity", "-Infinity", 422),
    ("float overflowing to infinity", "1e999", 422),
    ("5000-digit integer", "1" * 5000, 400),
    ("5000-digit float", "0." + "1" * 5000, 400),
    ("100,000 levels of nesting", DEEP, 400),
    ("object with a lone surrogate key", '{"\\ud800": 1}', 422),
)
# (what, whole body, expected status)
BAD_BODIES: tuple[tuple[str, str, int], ...] = (
    ("100,000 open brackets", "[" * 100_000, 400),
    ("lone surrogate key", '{"\\udbff": "x"}', 422),
    ("bare NaN", "NaN", 422),
    ("over the size limit", '{"x": "' + "a" * LIMIT + '"}', 413),
)


@dataclass(frozen=True)
class Operation:
    method: str
    path: str
    example: Any
    public: bool


def body_operations(client: FlaskClient) -> list[Operation]:
    spec = client.get("/api/openapi.json").get_json()
    found = []
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            body = operation.get("requestBody") if isinstance(operation, dict) else None
            # A file upload is no JSON body: its bad files are tests/api/programmes/test_programme_enrolment.py's.
            if body and "application/json" in body["content"]:
                media = body["content"]["application/json"]
                example = media.get("example", next(iter(media.get("examples", {}).values()), {}).get("value"))
                found.append(Operation(method.upper(), path, example, operation.get("security") == [{}]))
    return found


def leaf_paths(value: Any, prefix: tuple[str | int, ...] = ()) -> Iterator[tuple[str | int, ...]]:
    """Where a bad value can go: every leaf of the example, and every container too."""
    if prefix:
        yield prefix
    if isinstance(value, dict):
        for key, item in value.items():
            yield from leaf_paths(item, (*prefix, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from leaf_paths(item, (*prefix, index))


def with_value(example: Any, where: tuple[str | int, ...], raw: str) -> str:
    """The example as JSON text with the value at ``where`` replaced by the raw JSON ``raw``."""
    document = json.loads(json.dumps(example))
    parent = document
    for part in where[:-1]:
        parent = parent[part]
    parent[where[-1]] = PLACEHOLDER
    return json.dumps(document).replace(json.dumps(PLACEHOLDER), raw)


@pytest.fixture
def world(db: Session) -> tuple[dict[str, str], dict[str, str]]:
    """Path parameter values naming the caller's own resources, and the caller's headers."""
    mentor, _mentee, session = make_session(db, datetime.now(UTC) + timedelta(minutes=5))
    mentor.user.is_admin = True
    session.status, session.started_at = SessionStatus.IN_PROGRESS, datetime.now(UTC)
    booking = Booking(id=uuid.uuid4(), listing_id=session.listing_id, mentor_profile_id=session.mentor_profile_id,
                      mentee_user_id=UserFactory().id, start_time=session.start_time + timedelta(days=1),
                      end_time=session.end_time + timedelta(days=1), status=BookingStatus.DRAFT, price_cents=1,
                      currency="USD")
    db.add(booking)
    actor = Actor(user_id=mentor.user.id, is_admin=True, mentor_profile_id=session.mentor_profile_id)
    endpoint = endpoints.create_endpoint(db, actor, url="https://hooks.example.com/x")
    db.flush()
    ids = {"profile_id": str(session.mentor_profile_id), "listing_id": str(session.listing_id),
           "booking_id": str(booking.id), "session_id": str(session.id), "endpoint_id": str(endpoint.id)}
    return ids, mentor.headers


def url_of(operation: Operation, ids: dict[str, str]) -> str:
    return re.sub(r"\{(\w+)\}", lambda match: ids.get(match.group(1), str(uuid.uuid4())), operation.path)


def test_every_route_with_a_body_refuses_bad_input_and_changes_nothing(
    client: FlaskClient, db: Session, world: tuple[dict[str, str], dict[str, str]]
) -> None:
    ids, token = world
    operations = body_operations(client)
    assert len(operations) >= 15 and any(op.path == "/api/v1/auth/register" for op in operations)
    for operation in operations:
        url = url_of(operation, ids)
        cases = [(f"{what} at {'.'.join(map(str, where))}", with_value(operation.example, where, raw), status)
                 for where in leaf_paths(operation.example) for what, raw, status in BAD_VALUES]
        cases += list(BAD_BODIES)
        before = fingerprint(db)
        for headers in (token, {}):
            for what, body, status in cases:
                response = client.open(url, method=operation.method, data=body, headers=headers,
                                       content_type="application/json")
                where = f"{operation.method} {operation.path} with {what}, {'with' if headers else 'without'} token"
                allowed = {status} if headers or operation.public else {status, 401}
                assert response.status_code in allowed, (where, response.status_code, response.get_json())
                assert response.get_json()["message"], where
            chunked = client.open(url, method=operation.method, input_stream=io.BytesIO(b"[" + b" " * LIMIT + b"]"),
                                  headers={**headers, "Transfer-Encoding": "chunked"},
                                  content_type="application/json", environ_overrides={"wsgi.input_terminated": True})
            assert chunked.status_code == 413 and chunked.get_json()["message"], (operation.path, "chunked")
        assert fingerprint(db) == before, f"{operation.method} {operation.path} changed a table"


def test_the_targets_are_live(client: FlaskClient, db: Session,
                              world: tuple[dict[str, str], dict[str, str]]) -> None:
    """The resources named above take the documented example: the refusals are the bad values' doing."""
    ids, token = world
    operation = next(op for op in body_operations(client) if op.path.endswith("/complete"))
    before = fingerprint(db)
    response = client.open(url_of(operation, ids), method=operation.method, json=operation.example, headers=token)
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["metadata"] == operation.example["metadata"]
    assert fingerprint(db) != before  # and the fingerprint sees a change
