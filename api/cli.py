"""Operator commands: ``flask --app "api:create_app()" ops …``."""

from __future__ import annotations

import json
import uuid
from contextlib import AbstractContextManager
from datetime import UTC, datetime, timedelta

import click
from flask import Flask, current_app
from flask.cli import AppGroup
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from infra.config import get_settings
from infra.db import transaction as db_transaction
from models import AuthEventKind, ListingKind, Programme, User
from workflows.accounts import audit as auth_events
from workflows.accounts import authenticators
from workflows.accounts import users as accounts
from workflows.actors import Actor
from workflows.bookings import requests
from workflows.calendars import accounts as calendar_accounts
from workflows.errors import DomainError, NotFound
from workflows.mentors import listings
from workflows.mentors import profiles as mentors
from workflows.operations import outbox as operations
from workflows.reports import tallies
from workflows.sign_on import providers as sign_on_providers

ops = AppGroup("ops", help="Operator commands: admins, demo data, outbox, webhook recovery.")

DEMO_PASSWORD = "demo password 123"  # noqa: S105 - printed for the demo accounts, never a real secret
DEMO_SKILLS = ("python", "system design", "go", "postgresql", "career")
# Every demo mentor takes bookings 08:00-20:00 UTC, every day of the week.
DEMO_WINDOW = (8 * 60, 20 * 60)
DEMO_HOURS_PER_DAY = (DEMO_WINDOW[1] - DEMO_WINDOW[0]) // 60


def transaction() -> AbstractContextManager[Session]:
    """One session, committed if the command succeeds (published work goes out after the commit)."""
    factory: sessionmaker[Session] = current_app.extensions["db_session_factory"]
    return db_transaction(factory)


@ops.command("create-admin")
@click.argument("email")
@click.option("--display-name", default="Administrator", show_default=True)
@click.password_option(help="Asked for when not given.")
def create_admin(email: str, display_name: str, password: str) -> None:
    """Create an administrator, or make an existing user one."""
    try:
        with transaction() as db:
            user = db.scalar(select(User).where(User.email == accounts.normalise_email(email)))
            if user is None:
                user = accounts.register_user(db, email=email, password=password, display_name=display_name,
                                              verified=True)
            user.is_admin = True
    except DomainError as refused:  # a password too short or too easy to guess, an email too long
        raise click.ClickException(refused.message) from None
    click.echo(f"admin: {user.email} ({user.id})")


@ops.command("seed-demo")
@click.option("--mentors", "mentor_count", default=5, show_default=True)
@click.option("--mentees", "mentee_count", default=10, show_default=True)
@click.option("--bookings", "booking_count", default=20, show_default=True)
def seed_demo(mentor_count: int, mentee_count: int, booking_count: int) -> None:
    """Sample mentors with availability (08:00-20:00 UTC daily) and listings, mentees, and booking requests."""
    tag = uuid.uuid4().hex[:6]
    created_listings: list[uuid.UUID] = []
    mentees: list[Actor] = []
    with transaction() as db, click.progressbar(length=mentor_count + mentee_count + booking_count,
                                                label="seeding demo data") as progress:
        for index in range(mentor_count):
            user = accounts.register_user(db, email=f"mentor{index}-{tag}@demo.example", password=DEMO_PASSWORD,
                                          display_name=f"Demo mentor {index}")
            actor = Actor(user_id=user.id)
            skill = DEMO_SKILLS[index % len(DEMO_SKILLS)]
            profile = mentors.create_mentor_profile(db, actor, headline=f"Mentor for {skill}", bio="Demo profile.",
                                                    timezone="UTC", skills=[skill])
            actor = Actor(user_id=user.id, mentor_profile_id=profile.id)
            mentors.set_availability(db, actor, profile.id, [
                mentors.WindowSpec(weekday=day, start_minute=DEMO_WINDOW[0], end_minute=DEMO_WINDOW[1])
                for day in range(7)
            ])
            listing = listings.create_listing(db, actor, title=f"{skill.title()} session", description="Demo.",
                                              skill=skill, duration_minutes=60, price_cents=5000, currency="USD",
                                              kind=ListingKind.INDIVIDUAL, capacity=None)
            created_listings.append(listing.id)
            progress.update(1)
        for index in range(mentee_count):
            user = accounts.register_user(db, email=f"mentee{index}-{tag}@demo.example", password=DEMO_PASSWORD,
                                          display_name=f"Demo mentee {index}")
            mentees.append(Actor(user_id=user.id))
            progress.update(1)
        # One-hour requests inside the windows, from 08:00 UTC the day after tomorrow.
        first = (datetime.now(UTC) + timedelta(days=2)).replace(hour=0, minute=0, second=0, microsecond=0)
        first += timedelta(minutes=DEMO_WINDOW[0])
        for index in range(booking_count):
            if created_listings and mentees:
                hour = index // len(created_listings)
                requests.request_booking(db, mentees[index % len(mentees)],
                                         listing_id=created_listings[index % len(created_listings)],
                                         start_time=first + timedelta(days=hour // DEMO_HOURS_PER_DAY,
                                                                      hours=hour % DEMO_HOURS_PER_DAY))
            progress.update(1)
    click.echo(f"demo accounts: mentor0-{tag}@demo.example … mentee0-{tag}@demo.example …, "
               f"password {DEMO_PASSWORD!r}")


@ops.command("outbox-status")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
def outbox_status(as_json: bool) -> None:  # noqa: FBT001 - a click flag
    """Work not done yet, per handler."""
    with transaction() as db:
        report = operations.outbox_report(db)
    if as_json:
        click.echo(json.dumps({
            "pending": report.pending,
            "oldest_pending_at": report.oldest_pending_at.isoformat() if report.oldest_pending_at else None,
            "handlers": [{"handler": h.handler, "pending": h.pending, "failing": h.failing,
                          "last_error": h.last_error} for h in report.handlers],
        }))
        return
    click.echo(f"pending handler rows: {report.pending}; oldest event: {report.oldest_pending_at or '-'}")
    for handler in report.handlers:
        click.echo(f"  {handler.handler:32} pending {handler.pending:6}  failing {handler.failing:6}"
                   f"  {handler.last_error or ''}")


@ops.command("reconcile")
def reconcile() -> None:
    """Redo work not done: send every pending handler's task now."""
    with transaction() as db:
        sent = operations.reconcile(db)
    click.echo(f"redelivered {sent} pending handler(s)")


@ops.command("replay-webhooks")
@click.argument("endpoint_id", type=click.UUID)
@click.option("--since", type=click.DateTime(formats=["%Y-%m-%dT%H:%M:%S%z", "%Y-%m-%dT%H:%M:%S"]), required=True,
              help="Start of the window (UTC if no offset).")
@click.option("--until", type=click.DateTime(formats=["%Y-%m-%dT%H:%M:%S%z", "%Y-%m-%dT%H:%M:%S"]), default=None)
def replay_webhooks(endpoint_id: uuid.UUID, since: datetime, until: datetime | None) -> None:
    """Send an endpoint's failed webhook messages of a time window again (same webhook-id)."""
    since = since if since.tzinfo else since.replace(tzinfo=UTC)
    until = until if until is None or until.tzinfo else until.replace(tzinfo=UTC)
    with transaction() as db:
        count = operations.recover_failed_messages(db, endpoint_id, since=since, until=until)
    click.echo(f"recovered {count} failed message(s)")


@ops.command("reseal-credentials")
def reseal_credentials() -> None:
    """Seal every stored credential again with the first of CREDENTIALS_KEYS: calendar connections, sign-on
    providers' client secrets and authenticators' keys (the middle step of a key rotation: add the new key first, run
    this, then drop the old key)."""
    _reseal()


@ops.command("reseal-calendars", hidden=True)
def reseal_calendars() -> None:
    """The former name of reseal-credentials."""
    _reseal()


def _reseal() -> None:
    with transaction() as db:
        calendars = calendar_accounts.reseal(db, get_settings())
        secrets = sign_on_providers.reseal(db, get_settings())
        keys = authenticators.reseal(db, get_settings())
    click.echo(f"resealed {calendars} calendar connection(s), {secrets} sign-on provider(s) and {keys} "
               "authenticator(s)")


@ops.command("remove-second-steps")
@click.argument("email")
def remove_second_steps(email: str) -> None:
    """Remove every authenticator app and recovery code of an account, for someone who lost both (check who they are
    by other means first): their next password sign-in needs no code, or sets one up where one is required. The
    owner is told, and the audit log of sign-ins records it."""
    try:
        with transaction() as db:
            removed = authenticators.remove_all(db, email)
            user_id = db.scalar(select(User.id).where(User.email == email.strip().lower()))
            auth_events.record(db, AuthEventKind.AUTHENTICATOR_REMOVED, user_id, None)
    except NotFound as missing:
        raise click.ClickException(missing.message) from None
    click.echo(f"removed {removed} authenticator(s) and the recovery codes of {email}")


@ops.command("password-sign-in")
@click.argument("provider_id", type=click.UUID)
@click.option("--on/--off", "allowed", required=True,
              help="--on: people of the provider's domains may sign in with a password again (the way in while the "
                   "provider is down); --off: through the provider only.")
def password_sign_in(provider_id: uuid.UUID, *, allowed: bool) -> None:
    """Turn password sign-in on or off for the email domains of a sign-on provider, from the command line: how a
    platform admin gets in when their organisation's provider is down (then signs in with their password, or resets
    it). Recorded in the audit log of sign-ins."""
    try:
        with transaction() as db:
            provider = sign_on_providers.set_password_sign_in(db, provider_id, off=not allowed)
            auth_events.record(db, AuthEventKind.PROVIDER_CHANGED, None, None)
    except DomainError as refused:
        raise click.ClickException(refused.message) from None
    state = "on" if allowed else "off (through the provider only)"
    click.echo(f"{provider.display_name}: password sign-in is {state}")


@ops.command("rebuild-reports")
@click.argument("programme_ids", type=click.UUID, nargs=-1)
def rebuild_reports(programme_ids: tuple[uuid.UUID, ...]) -> None:
    """Build the programme dashboards' summaries again from their source rows: the programmes named, else every one
    (after an upgrade that brought the dashboards in), each in a transaction of its own."""
    with transaction() as db:
        chosen = list(programme_ids) or list(db.scalars(select(Programme.id).order_by(Programme.id)))
    for programme_id in chosen:
        with transaction() as db:
            weeks = tallies.rebuild(db, programme_id)
        click.echo(f"{programme_id}: {weeks} week(s)")
    click.echo(f"rebuilt {len(chosen)} programme(s)")


def init_cli(app: Flask) -> None:
    app.cli.add_command(ops)
