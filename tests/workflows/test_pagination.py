"""Page sizes have one home, ``workflows/pagination.py``: the domain refuses others, the API documents its bound."""

from __future__ import annotations

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from models import User
from tests.factories.accounts import UserFactory
from workflows.errors import InvalidInput
from workflows.pagination import DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE, paginate


@pytest.mark.parametrize("limit", [0, MAX_PAGE_SIZE + 1])
def test_a_page_outside_the_bounds_is_refused(db: Session, limit: int) -> None:
    with pytest.raises(InvalidInput, match=f"1 to {MAX_PAGE_SIZE}"):
        paginate(db, select(User), User.created_at, User.id, limit=limit, cursor=None)


def test_the_largest_page_holds_max_page_size_items(db: Session) -> None:
    UserFactory.create_batch(MAX_PAGE_SIZE + 1)
    page = paginate(db, select(User), User.created_at, User.id, limit=MAX_PAGE_SIZE, cursor=None)
    assert len(page.items) == MAX_PAGE_SIZE and page.next_cursor is not None


def test_every_list_operation_documents_the_same_page_sizes(client: FlaskClient) -> None:
    limits = [parameter["schema"] for path in client.get("/api/openapi.json").json["paths"].values()
              for operation in path.values() if isinstance(operation, dict)
              for parameter in operation.get("parameters", [])
              if parameter.get("in") == "query" and parameter["name"] == "limit"]
    assert len(limits) > 10
    assert all((schema["minimum"], schema["maximum"], schema["default"]) == (1, MAX_PAGE_SIZE, DEFAULT_PAGE_SIZE)
               for schema in limits), limits
