"""A library's rules (``workflows.programmes.resources``): a web address and nothing else, tags made plain and each
once, a bound on a library's size that refuses the next and writes nothing, and titles of suggested resources only
while their library holds them."""

from __future__ import annotations

import uuid

import pytest
from flask.testing import FlaskClient
from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session

from models import Resource
from models.programmes.resources import MAX_RESOURCES
from tests.factories.accounts import UserFactory, actor_of
from tests.factories.programmes import running_programme
from workflows.errors import BusinessRuleViolation, InvalidInput
from workflows.programmes import resources


@pytest.mark.parametrize(("given", "kept"), [
    (" https://example.org/a?b=1#c ", "https://example.org/a?b=1#c"), ("http://10.0.0.7/wiki", "http://10.0.0.7/wiki"),
    ("javascript:alert(1)", None), ("JAVASCRIPT://example.org/%0Aalert(1)", None), ("data:text/html,x", None),
    ("mailto:a@example.org", None), ("https://", None), ("http://[::1", None), ("https://example.org/a b", None),
    ("https://example.org/\u202e", None), ("https://e.org/" + "a" * 2000, None)])
def test_a_link_is_a_web_address_of_a_host_and_nothing_else(given: str, kept: str | None) -> None:
    assert resources.web_address(given) == kept


def test_a_full_library_refuses_the_next_resource_and_tags_are_kept_plain(client: FlaskClient, db: Session) -> None:
    _, programme = running_programme(client)
    admin = actor_of(UserFactory(is_admin=True))
    made = resources.add(db, admin, None, title="  Active   listening ", body="Listen.",
                         tags=[" Feedback", "feedback ", "first  term"])
    assert (made.title, made.tags) == ("Active listening", ["feedback", "first term"])
    with pytest.raises(InvalidInput):
        resources.add(db, admin, None, title="x", body="y", tags=["t" * 41])
    programme_id = uuid.UUID(programme["id"])
    db.execute(insert(Resource), [{"id": uuid.uuid4(), "programme_id": programme_id, "title": f"R{i}", "body": "b"}
                                  for i in range(MAX_RESOURCES)])
    with pytest.raises(BusinessRuleViolation):
        resources.add(db, admin, programme_id, title="One more", body="b")
    assert db.scalar(select(func.count()).select_from(Resource).where(Resource.programme_id == programme_id)) \
        == MAX_RESOURCES
    # The platform's library is its own: full programmes leave it room.
    assert resources.titles(db, programme_id, [made.id]) == {made.id: "Active listening"}
    resources.remove(db, admin, None, made.id)
    assert resources.titles(db, programme_id, [made.id]) == {}
