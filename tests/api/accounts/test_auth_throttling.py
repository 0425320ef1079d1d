"""Sign-in throttling counts failures per (account, client address) and per client address.

Someone who only knows an email cannot keep its owner out: their wrong guesses are
throttled at their address, and the owner signing in from elsewhere still succeeds.
Each test uses its own documentation addresses (RFC 5737 / 3849): counters live in
Redis for the whole run.
"""

from __future__ import annotations

import dataclasses
import uuid
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy.orm import Session, sessionmaker

from api import create_app
from devstack.host import free_port
from infra.config import get_settings, load_settings
from infra.environment import ConfigError
from tests.api_calls import sign_in
from tests.database import notifications_read
from tests.factories.accounts import PASSWORD, UserFactory, as_caller

RUN = uuid.uuid4().hex[:8]


def client_with(session_factory: sessionmaker[Session], **overrides: Any) -> FlaskClient:
    settings = dataclasses.replace(get_settings(), **overrides)
    return create_app(settings, session_factory=session_factory).test_client()


def test_wrong_passwords_from_one_address_do_not_lock_the_owner_out(
    session_factory: sessionmaker[Session], db: Session
) -> None:
    client = client_with(session_factory, auth_rate_limit_per_email="3/minute")
    victim = UserFactory()
    attacker, owner = "203.0.113.10", "198.51.100.10"
    statuses = [sign_in(client, victim.email, f"guess {i}", address=attacker).status_code for i in range(6)]
    assert statuses == [401, 401, 401, 429, 429, 429]
    # The owner, elsewhere, signs in while the attacker is still throttled.
    assert sign_in(client, victim.email, PASSWORD, address=owner).status_code == 200
    refused = sign_in(client, victim.email, PASSWORD, address=attacker)
    assert refused.status_code == 429
    assert 1 <= int(refused.headers["Retry-After"]) <= 60
    assert "too many failed attempts" in refused.get_json()["message"]


def test_successful_sign_ins_are_limited_per_account_not_by_the_failure_limits(
        session_factory: sessionmaker[Session], db: Session) -> None:
    """Successes do not count against the failure limits, but have a per-account limit of their own, wherever
    they come from, checked before the password (a stolen one buys no unlimited tokens)."""
    client = client_with(session_factory, auth_rate_limit_per_email="2/minute", auth_rate_limit_per_ip="2/minute",
                         auth_rate_limit_success_per_account="5/minute")
    user, other = UserFactory(), UserFactory()
    statuses = [sign_in(client, user.email, PASSWORD, address=f"203.0.113.{20 + i % 2}").status_code for i in range(7)]
    assert statuses == [200] * 5 + [429] * 2
    refused = sign_in(client, user.email, PASSWORD, address="198.51.100.20")
    assert refused.status_code == 429 and "sign-ins to this account" in refused.get_json()["message"]
    assert 1 <= int(refused.headers["Retry-After"]) <= 60
    assert sign_in(client, other.email, PASSWORD, address="203.0.113.20").status_code == 200


def test_one_address_guessing_many_accounts_is_throttled_there_only(
    session_factory: sessionmaker[Session], db: Session
) -> None:
    client = client_with(session_factory, auth_rate_limit_per_ip="4/minute")
    users = UserFactory.create_batch(6)
    sprayer = "203.0.113.30"
    statuses = [sign_in(client, u.email, "Winter2026!", address=sprayer).status_code for u in users[:5]]
    assert statuses == [401, 401, 401, 401, 429]
    assert sign_in(client, users[5].email, PASSWORD, address=sprayer).status_code == 429
    assert sign_in(client, users[5].email, PASSWORD, address="198.51.100.30").status_code == 200


def test_ipv6_clients_are_counted_per_64_network(session_factory: sessionmaker[Session], db: Session) -> None:
    client = client_with(session_factory, auth_rate_limit_per_ip="2/minute")
    users = UserFactory.create_batch(3)
    # Three addresses of one /64 (what one subscriber is routed) share the per-address counter.
    statuses = [sign_in(client, u.email, "wrong", address=f"2001:db8:40:1::{i + 1}").status_code
                for i, u in enumerate(users)]
    assert statuses == [401, 401, 429]
    assert sign_in(client, users[2].email, PASSWORD, address="2001:db8:40:2::1").status_code == 200


def test_forwarded_for_is_ignored_without_trusted_proxies(
    session_factory: sessionmaker[Session], db: Session
) -> None:
    client = client_with(session_factory, auth_rate_limit_per_email="3/minute")
    victim = UserFactory()
    attacker = "203.0.113.40"
    # A new made-up X-Forwarded-For on every try does not give the attacker a fresh counter...
    statuses = [sign_in(client, victim.email, "guess", address=attacker, forwarded_for=f"192.0.2.{i}").status_code
                for i in range(5)]
    assert statuses == [401, 401, 401, 429, 429]
    # ...and a header naming the attacker's address does not make the owner share their counter.
    assert sign_in(client, victim.email, PASSWORD, address="198.51.100.40", forwarded_for=attacker).status_code == 200


def test_forwarded_for_names_the_client_behind_trusted_proxies(
    session_factory: sessionmaker[Session], db: Session
) -> None:
    client = client_with(session_factory, auth_rate_limit_per_email="3/minute", trusted_proxies=1)
    victim = UserFactory()
    proxy, attacker, owner = "10.0.0.40", "203.0.113.50", "198.51.100.50"
    # The proxy appends the address it saw; anything the client wrote before it is not trusted.
    statuses = [sign_in(client, victim.email, "guess", address=proxy,
                        forwarded_for=f"192.0.2.{i}, {attacker}").status_code for i in range(5)]
    assert statuses == [401, 401, 401, 429, 429]
    assert sign_in(client, victim.email, PASSWORD, address=proxy, forwarded_for=owner).status_code == 200


def test_registration_stays_limited_per_address(session_factory: sessionmaker[Session], db: Session) -> None:
    client = client_with(session_factory, auth_rate_limit_per_ip="2/minute")
    statuses = [
        client.post("/api/v1/auth/register", environ_base={"REMOTE_ADDR": "203.0.113.60"},
                    json={"email": f"reg{i}-{RUN}@example.com", "password": PASSWORD,
                          "display_name": "x"}).status_code
        for i in range(3)
    ]
    assert statuses == [201, 201, 429]
    other = client.post("/api/v1/auth/register", environ_base={"REMOTE_ADDR": "198.51.100.60"},
                        json={"email": f"reg9-{RUN}@example.com", "password": PASSWORD, "display_name": "x"})
    assert other.status_code == 201


def test_wrong_current_passwords_are_throttled_like_sign_ins(
    session_factory: sessionmaker[Session], db: Session
) -> None:
    client = client_with(session_factory, auth_rate_limit_per_email="2/minute")
    caller = as_caller(UserFactory())
    statuses = [
        client.post("/api/v1/me/password", headers=caller.headers, environ_base={"REMOTE_ADDR": "203.0.113.70"},
                    json={"current_password": f"guess {i}", "new_password": "a brand new passphrase"}).status_code
        for i in range(3)
    ]
    assert statuses == [403, 403, 429]


def test_a_redis_outage_throttles_nobody(session_factory: sessionmaker[Session], db: Session) -> None:
    client = client_with(session_factory, redis_url=f"redis://127.0.0.1:{free_port()}/0",
                         auth_rate_limit_per_email="1/minute", auth_rate_limit_per_ip="1/minute")
    user = UserFactory()
    statuses = [sign_in(client, user.email, "wrong", address="203.0.113.80").status_code for _ in range(3)]
    assert statuses == [401, 401, 401]
    assert sign_in(client, user.email, PASSWORD, address="203.0.113.80").status_code == 200


def test_trusted_proxies_is_a_count_of_hops(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TRUSTED_PROXIES", raising=False)
    assert load_settings().trusted_proxies == 0
    monkeypatch.setenv("TRUSTED_PROXIES", "2")
    assert load_settings().trusted_proxies == 2
    for bad in ("-1", "yes"):
        monkeypatch.setenv("TRUSTED_PROXIES", bad)
        with pytest.raises(ConfigError, match="TRUSTED_PROXIES"):
            load_settings()


def test_registering_known_addresses_counts_as_failed_sign_ins_and_tells_the_owner_once_a_day(
    session_factory: sessionmaker[Session], db: Session
) -> None:
    # The 409 for a known address is what a probe learns from: each one counts against this client as a wrong
    # password would, so probing stops at the limit; the owner is told someone tried, at most once a day.
    from models import Notification

    client = client_with(session_factory, auth_rate_limit_per_ip="3/minute", auth_rate_limit_per_email="3/minute")
    owner = UserFactory(email=f"known-{RUN}@example.com")
    prober = "203.0.113.70"
    statuses = [client.post("/api/v1/auth/register", environ_base={"REMOTE_ADDR": prober}, json={
        "email": owner.email.upper(), "password": "an unguessable phrase here", "display_name": "x"}).status_code
        for _ in range(4)]
    assert statuses == [409, 409, 409, 429]
    # The prober's other guesses are throttled as failed sign-ins are: a sign-in from there waits too.
    assert sign_in(client, owner.email, PASSWORD, address=prober).status_code == 429
    assert sign_in(client, owner.email, PASSWORD, address="198.51.100.70").status_code == 200  # the owner, elsewhere
    told = notifications_read(db, Notification.user_id == owner.id,
                              Notification.type == "account.registration_attempt")
    assert [n.title for n in told] == ["Someone tried to sign up with your email"]
