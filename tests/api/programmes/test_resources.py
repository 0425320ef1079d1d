"""Libraries of resources through the API: a programme's, kept by its coordinators and read and searched by its
people with the platform's; the platform's, kept by administrators (in the audit trail) and read by anyone signed in;
a link or a document, never a script; a plan's step suggests either library's, never another programme's."""

from __future__ import annotations

import base64
import json
import uuid
from typing import Any

from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from models import AdminAction, OutboxEvent, Resource
from tests.factories.accounts import Caller, UserFactory, as_caller
from tests.factories.programmes import BASE, joined, running_programme


def _cursor(title: Any) -> str:
    """A cursor as a hostile client makes one: a title of its choosing (a lone surrogate kept as JSON escapes it)."""
    raw = json.dumps([title, str(uuid.uuid4())]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _walk(client: FlaskClient, caller: Caller, url: str, **query: Any) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    cursor = None
    for _ in range(20):
        page = client.get(url, headers=caller.headers, query_string={"limit": 2, **query,
                                                                     **({"cursor": cursor} if cursor else {})})
        assert page.status_code == 200, page.get_json()
        items += page.get_json()["items"]
        cursor = page.get_json()["next_cursor"]
        if cursor is None:
            return items
    raise AssertionError("the cursors never ended")


def test_a_programme_s_library_is_kept_by_its_coordinators_and_read_by_its_people_with_the_platform_s(
        client: FlaskClient, db: Session) -> None:
    coordinator, programme = running_programme(client)
    admin = as_caller(UserFactory(is_admin=True))
    library = f"{BASE}/{programme['id']}/resources"
    for body, words in (({"title": "x", "url": "javascript:alert(1)"}, "http or https"),
                        ({"title": "x", "url": "https://example.org", "body": "words"}, "one of them"),
                        ({"title": "x"}, "one of them"),
                        ({"title": "x", "body": "y", "tags": [f"t{i}" for i in range(11)]}, "tags"),
                        ({"title": "x", "body": "y" * 20001}, "body")):
        refused = client.post(library, headers=coordinator.headers, json=body)
        assert refused.status_code == 422 and words in str(refused.get_json()), refused.get_json()
    assert db.scalar(select(func.count()).select_from(Resource)) == 0  # nothing half-written
    made = [client.post(library, headers=coordinator.headers, json=body).get_json() for body in (
        {"title": "Giving feedback", "body": "Be **specific**.<script>alert(1)</script>", "tags": ["Feedback"]},
        {"title": "100% remote mentoring", "url": "https://example.org/remote", "tags": ["remote"]},
        {"title": "The intranet's guide", "url": "http://10.0.0.7/guide"})]
    assert made[0]["body_html"] == (  # raw HTML shown as words, never run
        "<p>Be <strong>specific</strong>.&lt;script&gt;alert(1)&lt;/script&gt;</p>\n"), made[0]
    assert (made[0]["tags"], made[2]["url"], made[1]["library"]) == (["feedback"], "http://10.0.0.7/guide",
                                                                     "programme")
    platform = client.post("/api/v1/resources", headers=admin.headers, json={
        "title": "Active listening", "body": "Listen, then *feedback* in your own words.", "tags": ["feedback"]})
    assert platform.status_code == 201, platform.get_json()
    assert client.post("/api/v1/resources", headers=coordinator.headers, json={
        "title": "x", "body": "y"}).status_code == 403
    assert db.scalars(select(AdminAction.action).where(AdminAction.target_id == platform.get_json()["id"])
                      .order_by(AdminAction.created_at)).all() == ["library.resource_added"]

    mentee, _ = joined(client, coordinator, programme, "mentee")
    titles = [r["title"] for r in _walk(client, mentee, library)]
    assert titles == ["100% remote mentoring", "Active listening", "Giving feedback", "The intranet's guide"]
    assert [r["title"] for r in _walk(client, mentee, library, q="feedback")] == ["Active listening",
                                                                                  "Giving feedback"]
    assert [r["title"] for r in _walk(client, mentee, library, q="100%")] == ["100% remote mentoring"]
    assert [r["title"] for r in _walk(client, mentee, library, q="e%t")] == []  # % taken as typed, no wildcard
    assert [r["title"] for r in _walk(client, mentee, library, tag="remote")] == ["100% remote mentoring"]
    assert [r["title"] for r in _walk(client, mentee, "/api/v1/resources")] == ["Active listening"]
    for cursor in ("x", _cursor("a\u0000b"), _cursor("\ud800"), _cursor("t" * 201), _cursor(7)):
        assert client.get(library, headers=mentee.headers, query_string={"cursor": cursor}).status_code == 422
    stranger = as_caller(UserFactory())
    assert client.get(library, headers=stranger.headers).status_code == 404
    assert client.post(library, headers=mentee.headers, json={"title": "x", "body": "y"}).status_code == 403
    # A coordinator keeps their programme's library, never the platform's.
    assert client.patch(f"{library}/{platform.get_json()['id']}", headers=coordinator.headers,
                        json={"title": "Mine"}).status_code == 404
    changed = client.patch(f"{library}/{made[1]['id']}", headers=coordinator.headers, json={
        "url": None, "body": "Meet on video, *cameras on*."})
    assert changed.status_code == 200 and (changed.get_json()["url"], changed.get_json()["body"]) == (
        None, "Meet on video, *cameras on*.")
    assert client.delete(f"{library}/{made[2]['id']}", headers=coordinator.headers).status_code == 204
    assert client.get(f"{library}/{made[2]['id']}", headers=mentee.headers).status_code == 404
    changes = db.scalars(select(OutboxEvent.payload).where(OutboxEvent.type == "programme.library_changed")
                         .order_by(OutboxEvent.created_at, OutboxEvent.id)).all()
    assert sorted(tuple(p["changed"]) for p in changes) == sorted([
        ("resource:added", "Giving feedback"), ("resource:added", "100% remote mentoring"),
        ("resource:added", "The intranet's guide"), ("resource:changed", "100% remote mentoring"),
        ("resource:removed", "The intranet's guide")])

    # A plan's step suggests resources of either library, never another programme's.
    other_coordinator, other = running_programme(client)
    elsewhere = client.post(f"{BASE}/{other['id']}/resources", headers=other_coordinator.headers, json={
        "title": "Theirs", "body": "Not yours."}).get_json()
    step = {"anchor": "week", "number": 1, "title": "Feedback"}
    refused = client.put(f"{BASE}/{programme['id']}/plan", headers=coordinator.headers, json={"steps": [
        {**step, "resource_ids": [elsewhere["id"]]}]})
    assert refused.status_code == 422, refused.get_json()
    plan = client.put(f"{BASE}/{programme['id']}/plan", headers=coordinator.headers, json={"steps": [
        {**step, "resource_ids": [made[0]["id"], platform.get_json()["id"]]}]})
    assert plan.status_code == 200, plan.get_json()
    assert sorted(r["title"] for r in plan.get_json()["resources"]) == ["Active listening", "Giving feedback"]
    # A closed programme's library changes no more; it is still read.
    assert client.post(f"{BASE}/{programme['id']}/close", headers=coordinator.headers).status_code == 200
    closed = client.post(library, headers=coordinator.headers, json={"title": "Late", "body": "Too late."})
    assert closed.status_code == 400 and "closed" in closed.get_json()["message"], closed.get_json()
    assert client.get(library, headers=mentee.headers).status_code == 200
