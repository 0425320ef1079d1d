"""Sign-ins (``workflows/accounts/sign_ins.py``), called directly: how many a user keeps, which one goes first beyond
that, and when a credential stops standing for its user."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from models import RefreshToken, SignIn, User
from tests.database import refused
from tests.factories.accounts import UserFactory, actor_of
from workflows.accounts import refresh_tokens, sign_ins
from workflows.accounts.sign_ins import ClientInfo, Credential
from workflows.errors import NotFound, Unauthenticated

NOW = datetime(2031, 5, 1, 12, tzinfo=UTC)
LATER = NOW + timedelta(days=30)


def start(db: Session, user: User, at: datetime = NOW) -> SignIn:
    return sign_ins.start(db, user.id, ClientInfo(), expires_at=at + timedelta(days=30), now=at)


def live(db: Session, user: User) -> list[uuid.UUID]:
    return [s.id for s in sign_ins.list_sign_ins(db, actor_of(user), None, now=NOW)]


def test_beyond_the_cap_a_new_sign_in_ends_the_least_recently_used(db: Session, configure: Callable[..., None]
                                                                    ) -> None:
    configure(MAX_REFRESH_TOKENS_PER_USER="2")
    user = UserFactory()
    oldest, used_lately = start(db, user), start(db, user, NOW + timedelta(minutes=1))
    oldest.last_used_at = NOW + timedelta(minutes=5)  # refreshed since: now the most recently used
    db.flush()
    newest = start(db, user, NOW + timedelta(minutes=10))
    assert set(live(db, user)) == {oldest.id, newest.id}
    db.refresh(used_lately)
    assert used_lately.revoked_at == NOW + timedelta(minutes=10)


def test_ending_a_sign_in_revokes_its_refresh_tokens_and_no_others(db: Session) -> None:
    user = UserFactory()
    mine = refresh_tokens.sign_in(db, user, ClientInfo(), now=NOW)
    other = refresh_tokens.sign_in(db, user, ClientInfo(), now=NOW)
    sign_ins.end_sign_in(db, actor_of(user), mine.sign_in_id, now=NOW)
    revoked = dict(db.execute(select(RefreshToken.family_id, RefreshToken.revoked_at)
                              .where(RefreshToken.user_id == user.id)).all())
    assert revoked == {mine.sign_in_id: NOW, other.sign_in_id: None}
    assert live(db, user) == [other.sign_in_id]


def test_only_ones_own_live_sign_in_can_be_ended(db: Session) -> None:
    user, stranger = UserFactory(), UserFactory()
    theirs = start(db, user)
    for actor, sign_in_id, now in ((stranger, theirs.id, NOW), (user, uuid.uuid4(), NOW),
                                   (user, theirs.id, theirs.expires_at)):
        error = refused(db, NotFound, lambda a=actor, s=sign_in_id, n=now: sign_ins.end_sign_in(
            db, actor_of(a), s, now=n))
        assert error.message == "sign-in not found"
    assert live(db, user) == [theirs.id]


def test_sign_ins_are_listed_most_recently_used_first_with_the_callers_own_marked(db: Session) -> None:
    user = UserFactory()
    first, second = start(db, user), start(db, user, NOW + timedelta(minutes=1))
    expired = start(db, user, NOW - timedelta(days=31))
    listed = sign_ins.list_sign_ins(db, actor_of(user), first.id, now=NOW)
    assert [(s.id, s.current) for s in listed] == [(second.id, False), (first.id, True)]
    assert expired.id not in live(db, user)


def test_a_credential_stands_for_its_user_while_its_version_and_its_sign_in_hold(db: Session) -> None:
    user = UserFactory(is_admin=True)
    signed_in = start(db, user)
    credential = Credential(user.id, user.token_version, signed_in.id)
    actor = sign_ins.actor_for(db, credential)
    assert (actor.user_id, actor.is_admin, actor.mentor_profile_id) == (user.id, True, None)
    sign_ins.end_sign_in(db, actor_of(user), signed_in.id, now=NOW)
    ended = refused(db, Unauthenticated, lambda: sign_ins.actor_for(db, credential))
    assert ended.message == ("the token's sign-in has ended (signed out there, or its refresh token was reused)")


def test_ending_everything_moves_the_version_on_and_a_credential_of_no_sign_in_stops_too(db: Session) -> None:
    user = UserFactory()
    signed_in = start(db, user)
    without_sign_in = Credential(user.id, user.token_version)
    assert sign_ins.actor_for(db, without_sign_in).user_id == user.id
    sign_ins.end_all(db, user.id, now=NOW)
    revoked = refused(db, Unauthenticated, lambda: sign_ins.actor_for(db, without_sign_in))
    assert revoked.message == "the token has been revoked (signed out, or the password changed)"
    db.refresh(signed_in)
    assert signed_in.revoked_at == NOW


def test_a_credential_naming_someone_elses_sign_in_or_no_user_stands_for_no_one(db: Session) -> None:
    user, other = UserFactory(), UserFactory()
    others = start(db, other)
    borrowed = refused(db, Unauthenticated, lambda: sign_ins.actor_for(
        db, Credential(user.id, user.token_version, others.id)))
    assert borrowed.message.startswith("the token's sign-in has ended")
    nobody = refused(db, Unauthenticated, lambda: sign_ins.actor_for(db, Credential(uuid.uuid4(), 0)))
    assert nobody.message == "the token's user no longer exists"


def test_what_a_client_says_of_itself_is_kept_printable_bounded_and_only_a_real_address() -> None:
    info = ClientInfo.of("Firefox\x00\n on Linux" + "x" * 1000, "2001:db8::1")
    assert info.user_agent is not None and "\x00" not in info.user_agent and "\n" not in info.user_agent
    assert info.user_agent.startswith("Firefox on Linux") and len(info.user_agent) < 1000
    assert info.ip_address == "2001:db8::1"
    assert ClientInfo.of("\x07", "not an address") == ClientInfo(None, None)
