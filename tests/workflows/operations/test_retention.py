"""Retention: history past its horizon goes in bounded batches; newer rows and pending work stay.

The workflow tests run in one transaction per test, where ``now()`` stands still: "old" is written
as moving a row's time into the past.
"""

from __future__ import annotations

import dataclasses
import json
import time
import uuid
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select, text, update
from sqlalchemy.orm import Session, sessionmaker

from infra.config import Settings, get_settings
from models import (
    AccountToken,
    HandlerStatus,
    IdempotencyKey,
    IdentityProvider,
    Notification,
    OutboxEvent,
    OutboxHandler,
    Protocol,
    RefreshToken,
    SamlAssertionSeen,
    SecondStepChallenge,
    SessionReminder,
    SignIn,
    WebhookAttempt,
    WebhookMessage,
)
from tests.factories.accounts import UserFactory
from tests.factories.sessions import individual_session
from tests.webhook_domain import db_now, event, make_endpoint, make_message
from tests.workers_fixtures import StartWorker
from workers import app as celery_app
from workflows.operations import retention

TARGETS = {target.name: target for target in retention.TARGETS}


def settings(**changes: Any) -> Settings:
    return dataclasses.replace(get_settings(), **changes)


def prune_all(db: Session, name: str, config: Settings | None = None) -> list[int]:
    """Run batches until one comes back short; the size of each."""
    config = config or get_settings()
    batches = [TARGETS[name].prune_batch(db, config)]
    while batches[-1] == config.retention_batch_size:
        batches.append(TARGETS[name].prune_batch(db, config))
    return batches


def finished_event(db: Session, age: timedelta) -> OutboxEvent:
    """An event whose every handler is done, written ``age`` ago."""
    recorded = event(db, "booking.requested", {"id": str(uuid.uuid4())})
    db.execute(update(OutboxHandler).where(OutboxHandler.event_id == recorded.id)
               .values(status=HandlerStatus.DONE, done_at=func.now()))
    db.execute(update(OutboxEvent).where(OutboxEvent.id == recorded.id).values(created_at=func.now() - age))
    return recorded


def kept_events(db: Session, events: list[OutboxEvent]) -> set[uuid.UUID]:
    return set(db.scalars(select(OutboxEvent.id).where(OutboxEvent.id.in_([e.id for e in events]))))


def test_outbox_events_past_the_horizon_go_while_newer_ones_and_pending_work_stay(db: Session) -> None:
    gone = finished_event(db, timedelta(days=31))
    recent = finished_event(db, timedelta(days=29))
    handler_pending = finished_event(db, timedelta(days=31))
    db.execute(update(OutboxHandler).where(OutboxHandler.event_id == handler_pending.id,
                                           OutboxHandler.handler == "webhooks.fan_out")
               .values(status=HandlerStatus.PENDING, done_at=None))
    endpoint = make_endpoint(db)
    retrying = finished_event(db, timedelta(days=31))
    make_message(db, endpoint).event_id = retrying.id
    delivered = finished_event(db, timedelta(days=31))
    sent = make_message(db, endpoint)
    sent.event_id, sent.status = delivered.id, "delivered"
    notified = Notification(id=uuid.uuid4(), user_id=UserFactory().id, event_id=gone.id, type="booking.requested",
                            title="t", body="b")
    db.add(notified)
    db.flush()

    assert prune_all(db, "outbox_events") == [2]

    everything = [gone, recent, handler_pending, retrying, delivered]
    assert kept_events(db, everything) == {recent.id, handler_pending.id, retrying.id}
    assert db.scalar(select(func.count()).where(OutboxHandler.event_id.in_([gone.id, delivered.id]))) == 0
    # What was made from a pruned event stays, without the link.
    db.refresh(sent)
    db.refresh(notified)
    assert (sent.status, sent.event_id, notified.event_id) == ("delivered", None, None)


def test_pruning_goes_in_bounded_batches(db: Session) -> None:
    events = [finished_event(db, timedelta(days=40)) for _ in range(7)]
    assert prune_all(db, "outbox_events", settings(retention_batch_size=3)) == [3, 3, 1]
    assert kept_events(db, events) == set()


def test_a_batch_stays_within_its_size_whatever_plan_the_server_picks(db: Session) -> None:
    """A nested loop scans the victims again for each row: they must have been chosen once."""
    events = [finished_event(db, timedelta(days=40)) for _ in range(7)]
    for planner_option in ("enable_hashjoin", "enable_mergejoin", "enable_material", "enable_memoize", "enable_hashagg",
                           "enable_sort"):
        db.execute(text(f"SET LOCAL {planner_option} = off"))
    assert prune_all(db, "outbox_events", settings(retention_batch_size=3)) == [3, 3, 1]
    assert kept_events(db, events) == set()


def test_webhook_attempts_past_the_horizon_go(db: Session) -> None:
    message = make_message(db, make_endpoint(db))
    now = db_now(db)
    old, new = (WebhookAttempt(id=uuid.uuid4(), message_id=message.id, attempted_at=now - timedelta(days=days),
                               status_code=500, duration_ms=3) for days in (31, 29))
    db.add_all([old, new])
    db.flush()
    assert prune_all(db, "webhook_attempts") == [1]
    assert set(db.scalars(select(WebhookAttempt.id).where(WebhookAttempt.message_id == message.id))) == {new.id}
    assert db.get(WebhookMessage, message.id) is not None


def test_idempotency_keys_older_than_a_day_go(db: Session) -> None:
    user = UserFactory()
    now = db_now(db)
    for key, hours in (("old", 25), ("new", 23)):
        db.add(IdempotencyKey(user_id=user.id, key=key, endpoint="POST /api/v1/bookings", request_hash="0" * 64,
                              status_code=201, response_body={}, created_at=now - timedelta(hours=hours)))
    db.flush()
    assert prune_all(db, "idempotency_keys") == [1]
    assert list(db.scalars(select(IdempotencyKey.key).where(IdempotencyKey.user_id == user.id))) == ["new"]


def test_read_notifications_go_after_the_horizon_unread_ones_and_pending_emails_stay(db: Session) -> None:
    user = UserFactory()
    now = db_now(db)

    def notification(title: str, *, read_days_ago: int | None, email_status: str = "none") -> None:
        db.add(Notification(id=uuid.uuid4(), user_id=user.id, type="booking.requested", title=title, body="",
                            created_at=now - timedelta(days=200), email_status=email_status,
                            read_at=None if read_days_ago is None else now - timedelta(days=read_days_ago)))

    notification("read long ago", read_days_ago=91)
    notification("read lately", read_days_ago=89)
    notification("never read", read_days_ago=None)
    notification("email to send", read_days_ago=91, email_status="pending")
    db.flush()
    assert prune_all(db, "notifications") == [1]
    assert set(db.scalars(select(Notification.title).where(Notification.user_id == user.id))) == {
        "read lately", "never read", "email to send"}


def sign_in_expiring(db: Session, user_id: uuid.UUID, expires_at: datetime) -> SignIn:
    sign_in = SignIn(id=uuid.uuid4(), user_id=user_id, last_used_at=expires_at - timedelta(days=30),
                     expires_at=expires_at)
    db.add(sign_in)
    db.flush()
    return sign_in


def test_refresh_tokens_go_a_day_after_they_expire(db: Session) -> None:
    user = UserFactory()
    now = db_now(db)
    family = sign_in_expiring(db, user.id, now + timedelta(days=5)).id
    tokens = {name: RefreshToken(id=uuid.uuid4(), user_id=user.id, family_id=family, token_hash=uuid.uuid4().hex * 2,
                                 expires_at=now + expires)
              for name, expires in (("long expired", -timedelta(hours=25)), ("just expired", -timedelta(hours=23)),
                                    ("valid", timedelta(days=5)))}
    db.add_all(tokens.values())
    db.flush()
    assert prune_all(db, "refresh_tokens") == [1]
    kept = set(db.scalars(select(RefreshToken.id).where(RefreshToken.user_id == user.id)))
    assert kept == {tokens["just expired"].id, tokens["valid"].id}


def test_account_links_go_a_day_after_they_expire(db: Session) -> None:
    user = UserFactory()
    now = db_now(db)
    links = {name: AccountToken(id=uuid.uuid4(), user_id=user.id, purpose="reset_password", email=user.email,
                                token_hash=uuid.uuid4().hex * 2, created_at=now + expires - timedelta(minutes=30),
                                expires_at=now + expires)
             for name, expires in (("long expired", -timedelta(hours=25)), ("just expired", -timedelta(hours=23)),
                                   ("valid", timedelta(minutes=20)))}
    db.add_all(links.values())
    db.flush()
    assert prune_all(db, "account_tokens") == [1]
    kept = set(db.scalars(select(AccountToken.id).where(AccountToken.user_id == user.id)))
    assert kept == {links["just expired"].id, links["valid"].id}


def test_second_step_challenges_go_a_day_after_they_expire(db: Session) -> None:
    user = UserFactory()
    now = db_now(db)
    challenges = {name: SecondStepChallenge(id=uuid.uuid4(), user_id=user.id, token_hash=uuid.uuid4().hex * 2,
                                            created_at=now + expires - timedelta(minutes=5), expires_at=now + expires)
                  for name, expires in (("long expired", -timedelta(hours=25)), ("just expired", -timedelta(hours=23)),
                                        ("live", timedelta(minutes=4)))}
    db.add_all(challenges.values())
    db.flush()
    assert prune_all(db, "second_step_challenges") == [1]
    kept = set(db.scalars(select(SecondStepChallenge.id).where(SecondStepChallenge.user_id == user.id)))
    assert kept == {challenges["just expired"].id, challenges["live"].id}


def test_saml_assertions_taken_are_forgotten_a_day_after_they_expire(db: Session) -> None:
    provider = IdentityProvider(id=uuid.uuid4(), protocol=Protocol.SAML, display_name="Uni",
                                issuer=f"https://idp-{uuid.uuid4().hex[:8]}.example", client_id="sp",
                                client_secret="sealed", saml_metadata="<md/>", sp_certificate="pem")
    db.add(provider)
    db.flush()
    now = db_now(db)
    db.add_all([SamlAssertionSeen(provider_id=provider.id, assertion_id=name, expires_at=now + expires)
                for name, expires in (("long expired", -timedelta(hours=25)), ("just expired", -timedelta(hours=23)),
                                      ("live", timedelta(minutes=4)))])
    db.flush()
    assert prune_all(db, "saml_assertions_seen") == [1]
    kept = set(db.scalars(select(SamlAssertionSeen.assertion_id).where(SamlAssertionSeen.provider_id == provider.id)))
    assert kept == {"just expired", "live"}


def test_sign_ins_go_a_day_after_they_expire_once_their_tokens_are_gone(db: Session) -> None:
    user = UserFactory()
    now = db_now(db)
    _gone, token_left, just_expired, live = (sign_in_expiring(db, user.id, now + expires) for expires in (
        -timedelta(hours=25), -timedelta(hours=25), -timedelta(hours=23), timedelta(days=5)))
    # Not pruned yet: a token of it remains, and goes first (the refresh_tokens target runs before).
    db.add(RefreshToken(id=uuid.uuid4(), user_id=user.id, family_id=token_left.id, token_hash=uuid.uuid4().hex * 2,
                        expires_at=token_left.expires_at))
    db.flush()
    assert prune_all(db, "sign_ins") == [1]
    assert set(db.scalars(select(SignIn.id).where(SignIn.user_id == user.id))) == {
        token_left.id, just_expired.id, live.id}
    assert [target.name for target in retention.TARGETS].index("refresh_tokens") < \
        [target.name for target in retention.TARGETS].index("sign_ins")
    assert prune_all(db, "refresh_tokens") == [1] and prune_all(db, "sign_ins") == [1]
    assert set(db.scalars(select(SignIn.id).where(SignIn.user_id == user.id))) == {just_expired.id, live.id}


def test_reminders_go_a_day_after_their_session_started_at_the_latest(db: Session) -> None:
    # The longest offset is 24 hours by default: a reminder row is kept three days, then goes.
    now = db_now(db)
    session = individual_session(db, now - timedelta(days=3))
    for offset, age in ((86400, timedelta(days=4)), (3600, timedelta(hours=47))):
        db.add(SessionReminder(session_id=session.id, user_id=session.mentee_user_id, offset_seconds=offset,
                               sent_at=now - age))
    db.flush()
    assert prune_all(db, "session_reminders") == [1]
    assert list(db.scalars(select(SessionReminder.offset_seconds).where(SessionReminder.session_id == session.id))) \
        == [3600]


def test_the_beat_task_prunes_a_bounded_number_of_batches_per_run(
    seed: Session, committed: sessionmaker[Session], start_worker: StartWorker
) -> None:
    user = UserFactory()
    seed.add_all([IdempotencyKey(user_id=user.id, key=f"k{n}", endpoint="POST /api/v1/bookings",
                                 request_hash="0" * 64, status_code=201, response_body={}) for n in range(6)])
    seed.commit()
    seed.execute(update(IdempotencyKey).where(IdempotencyKey.key != "k0")
                 .values(created_at=func.now() - timedelta(days=2)))
    seed.commit()
    worker = start_worker(queues="maintenance", env={"RETENTION_BATCH_SIZE": "2", "RETENTION_MAX_BATCHES": "2"})

    def keys() -> set[str]:
        with committed() as db:
            return set(db.scalars(select(IdempotencyKey.key)))

    def run_once(expected_runs: int) -> dict[str, int]:
        celery_app.send_task("maintenance.prune_history")
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            done = [json.loads(line) for line in worker.log().splitlines() if '"retention.pruned"' in line]
            if len(done) == expected_runs:
                return {k: v for k, v in done[-1].items() if k in TARGETS}
            time.sleep(0.2)
        raise AssertionError(f"the task did not run:\n{worker.log()}")

    # Two batches of two: four of the five old keys go in the first run, the last in the next.
    assert run_once(1)["idempotency_keys"] == 4
    assert len(keys()) == 2
    assert run_once(2)["idempotency_keys"] == 1
    assert keys() == {"k0"}


def test_beat_prunes_history_every_five_minutes() -> None:
    entry = celery_app.conf.beat_schedule["prune-history"]
    assert entry["task"] == "maintenance.prune_history"
    assert entry["schedule"] == timedelta(minutes=5)
