"""Users, and acting as one: through the API (``Caller``'s headers) or in the domain (``actor_of``)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime

import factory

from api.security import issue_token
from models import User
from tests.factories import Base
from workflows.accounts.users import hash_password
from workflows.actors import Actor

PASSWORD = "correct horse battery staple"
_PASSWORD_HASH = hash_password(PASSWORD)  # hashed once: argon2 is slow on purpose


class UserFactory(Base):
    class Meta:
        model = User

    id = factory.LazyFunction(uuid.uuid4)
    email = factory.Sequence(lambda n: f"user{n}-{uuid.uuid4().hex[:6]}@example.com")
    display_name = factory.Sequence(lambda n: f"User {n}")
    password_hash = _PASSWORD_HASH
    is_admin = False
    # Verified unless a test asks otherwise (email_verified_at=None): most tests are not about addresses.
    email_verified_at = factory.LazyFunction(lambda: datetime.now(UTC))


@dataclass
class Caller:
    """A user and the headers that authenticate as them."""

    user: User

    @property
    def headers(self) -> dict[str, str]:
        token, _ttl = issue_token(self.user.id, self.user.token_version)
        return {"Authorization": f"Bearer {token}"}


def as_caller(user: User) -> Caller:
    return Caller(user)


def actor_of(user: User) -> Actor:
    """The user as the domain sees them act, as a verified token establishes them: with their mentor
    profile if they have one, and admin if they are."""
    profile = user.mentor_profile
    return Actor(user.id, is_admin=user.is_admin, mentor_profile_id=profile.id if profile else None)
