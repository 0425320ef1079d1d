"""The operator commands, run through Flask's CLI runner on the test database."""

from __future__ import annotations

import json

from flask import Flask
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from api.cli import ops
from models import AvailabilityWindow, Booking, HandlerStatus, Listing, OutboxHandler, User
from tests.factories.accounts import UserFactory


def test_create_admin_makes_a_new_admin(app: Flask, db: Session) -> None:
    runner = app.test_cli_runner()
    result = runner.invoke(ops, ["create-admin", "Boss@Example.com", "--password", "a long password"])
    assert result.exit_code == 0, result.output
    boss = db.scalar(select(User).where(User.email == "boss@example.com"))
    assert boss is not None and boss.is_admin


def test_create_admin_promotes_an_existing_user_and_keeps_their_password(app: Flask, db: Session) -> None:
    member = UserFactory(email="member@example.com", is_admin=False)
    password_hash = member.password_hash
    result = app.test_cli_runner().invoke(ops, ["create-admin", "Member@Example.com", "--password", "ignored one"])
    assert result.exit_code == 0, result.output
    db.refresh(member)
    assert member.is_admin and member.password_hash == password_hash
    assert db.scalar(select(func.count()).select_from(User)) == 1


def test_seed_demo_then_outbox_status_then_reconcile(app: Flask, db: Session) -> None:
    runner = app.test_cli_runner()
    seeded = runner.invoke(ops, ["seed-demo", "--mentors", "2", "--mentees", "3", "--bookings", "4"])
    assert seeded.exit_code == 0, seeded.output
    assert db.scalar(select(func.count()).select_from(Listing)) == 2
    assert db.scalar(select(func.count()).select_from(Booking)) == 4
    windows = db.scalars(select(AvailabilityWindow)).all()
    assert len(windows) == 2 * 7 and {(w.start_minute, w.end_minute) for w in windows} == {(480, 1200)}
    status = runner.invoke(ops, ["outbox-status", "--json"])
    report = json.loads(status.output.strip().splitlines()[-1])
    pending = db.scalar(select(func.count()).where(OutboxHandler.status == HandlerStatus.PENDING))
    # 4 requests x (notifications, webhooks), and each mentor's availability set: schedule.changed x webhooks.
    assert report["pending"] == pending == 10
    assert {h["handler"] for h in report["handlers"]} == {"notifications.notify", "webhooks.fan_out"}
    reconciled = runner.invoke(ops, ["reconcile"])
    assert reconciled.exit_code == 0 and "redelivered 10" in reconciled.output
    attempts = db.scalars(select(OutboxHandler.attempts)).all()
    assert set(attempts) == {1}
