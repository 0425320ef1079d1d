"""Argon2 work is bounded per process: PASSWORD_CHECKS_PER_PROCESS at once, more wait briefly, then 503."""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator

import pytest
from argon2 import PasswordHasher
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from infra.config import get_settings
from models import User
from tests.factories.accounts import PASSWORD, UserFactory
from workflows.accounts import users as accounts
from workflows.errors import Overloaded


@pytest.fixture
def one_slot(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """This process allows one argon2 computation at a time, and waits 50 ms for it."""
    monkeypatch.setenv("PASSWORD_CHECKS_PER_PROCESS", "1")
    monkeypatch.setattr(accounts, "HASHING_WAIT_SECONDS", 0.05)
    get_settings.cache_clear()
    accounts._hashing_slots.cache_clear()
    yield
    monkeypatch.delenv("PASSWORD_CHECKS_PER_PROCESS")
    get_settings.cache_clear()
    accounts._hashing_slots.cache_clear()


def verify_at_once(user: User, count: int) -> list[str]:
    barrier = threading.Barrier(count)
    outcomes: list[str] = []

    def check() -> None:
        barrier.wait()
        try:
            accounts.verify_current_password(user, PASSWORD)
            outcomes.append("ok")
        except Overloaded:
            outcomes.append("busy")

    threads = [threading.Thread(target=check) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return outcomes


def test_checks_beyond_the_bound_are_refused_rather_than_queued(one_slot: None) -> None:
    user = User(email="slow@example.com", display_name="Slow", password_hash=PasswordHasher().hash(PASSWORD))
    with accounts._hashing_slot():  # the process's one slot is busy with another check
        assert verify_at_once(user, 4) == ["busy"] * 4  # each waited 50 ms, then gave up
    assert verify_at_once(user, 1) == ["ok"]


def test_within_the_bound_every_check_runs(db: Session) -> None:
    assert int(os.environ.get("PASSWORD_CHECKS_PER_PROCESS", "4")) >= 4
    user = User(email="slow@example.com", display_name="Slow", password_hash=PasswordHasher().hash(PASSWORD))
    assert verify_at_once(user, 4) == ["ok"] * 4


def test_a_sign_in_without_a_slot_is_answered_503_with_retry_after(
        one_slot: None, client: FlaskClient, db: Session) -> None:
    user = UserFactory()
    with accounts._hashing_slot():  # the process's one slot is taken
        busy = client.post("/api/v1/auth/token", json={"email": user.email, "password": PASSWORD})
    assert busy.status_code == 503 and busy.headers["Retry-After"] == "1"
    assert "too many password checks" in busy.get_json()["message"]
    assert client.post("/api/v1/auth/token", json={"email": user.email, "password": PASSWORD}).status_code == 200
