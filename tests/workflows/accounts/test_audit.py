"""The credentials' audit trail (``workflows/accounts/audit.py``), called directly: what an event keeps, and how
admins page through it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import update
from sqlalchemy.orm import Session

from models import AuthEvent, AuthEventKind
from tests.factories.accounts import UserFactory
from workflows.accounts import audit as auth_events

NOW = datetime(2031, 5, 1, 12, tzinfo=UTC)


def test_an_event_keeps_its_user_and_at_most_64_characters_of_the_address_and_none_for_an_empty_one(
        db: Session) -> None:
    user = UserFactory()
    auth_events.record(db, AuthEventKind.SIGN_IN_FAILED, user.id, "2001:db8:1:2::/64" + "x" * 100)
    auth_events.record(db, AuthEventKind.SIGNED_OUT, user.id, "")
    events = auth_events.list_events(db, user_id=user.id, kind=None, limit=10, cursor=None).items
    assert sorted((e.kind, e.client_address) for e in events) == [
        (AuthEventKind.SIGN_IN_FAILED, ("2001:db8:1:2::/64" + "x" * 100)[:64]),
        (AuthEventKind.SIGNED_OUT, None),
    ]


def test_events_are_listed_newest_first_of_one_user_or_one_kind_a_page_at_a_time(db: Session) -> None:
    user, other = UserFactory(), UserFactory()
    recorded = [(user, AuthEventKind.SIGNED_IN), (other, AuthEventKind.SIGNED_IN),
                (user, AuthEventKind.PASSWORD_CHANGED), (user, AuthEventKind.SIGNED_OUT)]
    for minutes, (who, kind) in enumerate(recorded):
        auth_events.record(db, kind, who.id, "198.51.100.7")
        db.execute(update(AuthEvent).where(AuthEvent.user_id == who.id, AuthEvent.kind == kind)
                   .values(created_at=NOW + timedelta(minutes=minutes)))

    first = auth_events.list_events(db, user_id=user.id, kind=None, limit=2, cursor=None)
    assert [e.kind for e in first.items] == [AuthEventKind.SIGNED_OUT, AuthEventKind.PASSWORD_CHANGED]
    assert first.next_cursor is not None
    rest = auth_events.list_events(db, user_id=user.id, kind=None, limit=2, cursor=first.next_cursor)
    assert [e.kind for e in rest.items] == [AuthEventKind.SIGNED_IN] and rest.next_cursor is None
    signed_in = auth_events.list_events(db, user_id=None, kind=AuthEventKind.SIGNED_IN, limit=50, cursor=None).items
    assert [e.user_id for e in signed_in if e.user_id in {user.id, other.id}] == [other.id, user.id]
