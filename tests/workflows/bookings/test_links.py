"""Signed links that cancel a meeting from an email: what one shows (the fee as the policy has it now), that only
acting cancels, once, and that a link tampered with, expired, or of a reader who changed their password does not."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import jwt
import pytest
from sqlalchemy.orm import Session

from infra.config import get_settings
from models import Booking, BookingStatus, MentorshipSession, Notification, SessionStatus, User
from tests.factories.sessions import make_session
from workflows.bookings import links
from workflows.errors import Conflict, InvalidInput
from workflows.notifications.mail import action_lines

SOON = (datetime.now(UTC) + timedelta(hours=3)).replace(microsecond=0)
LATER = (datetime.now(UTC) + timedelta(days=3)).replace(microsecond=0)


def parties(db: Session, start: datetime) -> tuple[User, User, Booking, MentorshipSession]:
    mentor, mentee, session = make_session(db, start)
    booking = db.get_one(Booking, session.booking_id)
    return mentor.user, mentee.user, booking, session


def test_a_mentee_reads_the_fee_then_cancels_once_from_the_link(db: Session) -> None:
    _, mentee, booking, session = parties(db, SOON)  # inside the window: late
    token = links.cancel_token(mentee, booking)
    shown = links.show(db, token)
    fee = booking.price_cents * get_settings().cancellation_fee_percent // 100
    assert (shown.role, shown.late, shown.fee_cents, shown.done, shown.session_id) == ("mentee", True, fee, False,
                                                                                       session.id)
    assert session.status == SessionStatus.SCHEDULED  # reading it changed nothing
    done = links.act(db, token)
    assert (done.done, session.status, booking.status, booking.cancel_fee_cents) == (
        True, SessionStatus.CANCELLED, BookingStatus.CANCELLED, fee)
    assert booking.cancel_reason == links.REASON
    with pytest.raises(Conflict):
        links.act(db, token)


def test_the_mentors_link_cancels_at_no_cost_and_a_far_meeting_costs_nothing(db: Session) -> None:
    mentor, mentee, booking, session = parties(db, LATER)
    assert (links.show(db, links.cancel_token(mentee, booking)).fee_cents, links.show(
        db, links.cancel_token(mentee, booking)).late) == (0, False)
    shown = links.act(db, links.cancel_token(mentor, booking))
    assert (shown.role, shown.fee_cents, session.status) == ("mentor", 0, SessionStatus.CANCELLED)


def test_a_link_tampered_with_expired_or_of_a_changed_password_does_nothing(db: Session) -> None:
    _, mentee, booking, session = parties(db, LATER)
    token = links.cancel_token(mentee, booking)
    head, body, signature = token.split(".")
    forged = jwt.encode(jwt.decode(token, options={"verify_signature": False}),
                        "another key, long enough to be a real one: 32+ bytes", algorithm="HS256")
    for bad in (f"{head}.{body}.{signature[:-2]}xx", "not-a-token", forged):
        with pytest.raises(InvalidInput):
            links.show(db, bad)
    with pytest.raises(InvalidInput, match="expired"):
        links.show(db, _expired(mentee, booking))
    mentee.token_version += 1  # a password change or a sign-out everywhere
    db.flush()
    with pytest.raises(InvalidInput, match="not valid any more"):
        links.act(db, token)
    assert session.status == SessionStatus.SCHEDULED


def _expired(user: User, booking: Booking) -> str:
    claims = jwt.decode(links.cancel_token(user, booking), options={"verify_signature": False})
    return jwt.encode({**claims, "exp": int((datetime.now(UTC) - timedelta(minutes=1)).timestamp())}, links._key(),
                      algorithm="HS256")


def test_a_confirmation_and_a_reminder_carry_their_links_and_other_mail_does_not(db: Session) -> None:
    _, mentee, booking, session = parties(db, LATER)
    accepted = Notification(user_id=mentee.id, type="booking.accepted", title="t", body="b",
                            data={"resource": {"id": str(booking.id)}})
    reminder = Notification(user_id=mentee.id, type="session.reminder", title="t", body="b",
                            data={"resource": {"id": str(session.id), "booking_id": str(booking.id)}})
    other = Notification(user_id=mentee.id, type="session.updated", title="t", body="b",
                         data={"resource": {"id": str(session.id)}})
    for notification in (accepted, reminder):
        lines = action_lines(db, notification)
        token = lines.split("#/booking-link?token=")[1]
        assert links.show(db, token).booking_id == booking.id
    # The confirmation adds the meeting to a calendar too; the reminder does not again.
    dates = f"{booking.start_time:%Y%m%dT%H%M%SZ}%2F{booking.end_time:%Y%m%dT%H%M%SZ}"
    assert f"dates={dates}" in action_lines(db, accepted) and "outlook.live.com" in action_lines(db, accepted)
    assert "calendar.google.com" not in action_lines(db, reminder)
    assert action_lines(db, other) == ""
