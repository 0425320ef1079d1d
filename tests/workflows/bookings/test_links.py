"""Signed links that cancel or move a meeting from an email: what one shows (the fee as the policy has it now, or the
free times to move to), that only acting cancels (once) or proposes the time chosen, and that a link tampered with,
expired, or of a reader who changed their password does not."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import jwt
import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from infra.config import get_settings
from models import (
    Booking,
    BookingStatus,
    Listing,
    ListingMember,
    MentorshipSession,
    Notification,
    ProposalStatus,
    RescheduleProposal,
    SessionStatus,
    User,
)
from tests.factories.bookings import BookingFactory
from tests.factories.mentors import MentorProfileFactory
from tests.factories.sessions import group_session, make_session
from workflows.bookings import links
from workflows.errors import Conflict, InvalidInput
from workflows.notifications.mail import action_lines
from workflows.scheduling import slots

SOON = (datetime.now(UTC) + timedelta(hours=3)).replace(microsecond=0)
LATER = (datetime.now(UTC) + timedelta(days=3)).replace(microsecond=0)


def parties(db: Session, start: datetime) -> tuple[User, User, Booking, MentorshipSession]:
    mentor, mentee, session = make_session(db, start)
    booking = db.get_one(Booking, session.booking_id)
    return mentor.user, mentee.user, booking, session


def test_a_mentee_reads_the_fee_then_cancels_once_from_the_link(db: Session) -> None:
    _, mentee, booking, session = parties(db, SOON)  # inside the window: late
    token = links.link_token(mentee, booking)
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
    assert (links.show(db, links.link_token(mentee, booking)).fee_cents, links.show(
        db, links.link_token(mentee, booking)).late) == (0, False)
    shown = links.act(db, links.link_token(mentor, booking))
    assert (shown.role, shown.fee_cents, session.status) == ("mentor", 0, SessionStatus.CANCELLED)


def test_a_link_tampered_with_expired_or_of_a_changed_password_does_nothing(db: Session) -> None:
    _, mentee, booking, session = parties(db, LATER)
    token = links.link_token(mentee, booking)
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
    claims = jwt.decode(links.link_token(user, booking), options={"verify_signature": False})
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
        move, cancel = (line.split("#/booking-link?token=")[1] for line in lines.splitlines()
                        if "#/booking-link" in line)
        assert [(v.action, v.booking_id) for v in (links.show(db, move), links.show(db, cancel))] == [
            (links.MOVE, booking.id), (links.CANCEL, booking.id)]
    # The confirmation adds the meeting to a calendar too; the reminder does not again.
    dates = f"{booking.start_time:%Y%m%dT%H%M%SZ}%2F{booking.end_time:%Y%m%dT%H%M%SZ}"
    assert f"dates={dates}" in action_lines(db, accepted) and "outlook.live.com" in action_lines(db, accepted)
    assert "calendar.google.com" not in action_lines(db, reminder)
    assert action_lines(db, other) == ""


def test_a_move_link_offers_free_times_the_reader_can_take_and_proposes_the_one_chosen(db: Session) -> None:
    mentor, mentee, booking, session = parties(db, LATER)
    offered_to_mentor = [t.start_time for t in links.show(db, links.link_token(mentor, booking, links.MOVE)).free_times]
    # The mentee meets someone else at one of those times: not offered to them.
    elsewhere = make_session(db, offered_to_mentor[1])[2]
    db.get_one(Booking, elsewhere.booking_id).mentee_user_id = elsewhere.mentee_user_id = mentee.id
    db.flush()
    token = links.link_token(mentee, booking, links.MOVE)
    shown = links.show(db, token)
    starts = [t.start_time for t in shown.free_times]
    assert shown.action == links.MOVE and len(starts) == links.FREE_TIMES_SHOWN and starts == sorted(starts)
    assert booking.start_time not in starts and all(s > datetime.now(UTC) for s in starts)
    assert offered_to_mentor[1] not in starts and offered_to_mentor[2] in starts
    with pytest.raises(InvalidInput, match="choose the time"):
        links.act(db, token)
    done = links.act(db, token, start_time=starts[3])
    (proposal,) = db.scalars(select(RescheduleProposal).where(RescheduleProposal.booking_id == booking.id))
    assert (done.proposed_start, proposal.start_times, proposal.proposed_by, proposal.status) == (
        starts[3], [starts[3]], "mentee", ProposalStatus.OPEN)
    assert (session.status, booking.status) == (SessionStatus.SCHEDULED, BookingStatus.ACCEPTED)  # until accepted
    # One open proposal at a time: the link says so as the app does.
    with pytest.raises(Conflict, match="open proposal"):
        links.act(db, token, start_time=starts[4])


def test_a_group_seats_mail_offers_no_move(db: Session) -> None:
    session, (mentee_id,) = group_session(db, LATER, seats=1)
    reminder = Notification(user_id=mentee_id, type="session.reminder", title="t", body="b",
                            data={"resource": {"id": str(session.id)}})
    lines = action_lines(db, reminder)
    assert "Cancel it" in lines and "Move it" not in lines


def test_a_team_listings_move_link_offers_its_bookings_mentors_free_times_only(db: Session) -> None:
    _, mentee, booking, _ = parties(db, LATER)
    listing = db.get_one(Listing, booking.listing_id)
    other = MentorProfileFactory()
    db.add_all([ListingMember(listing_id=listing.id, mentor_profile_id=booking.mentor_profile_id, position=0),
                ListingMember(listing_id=listing.id, mentor_profile_id=other.id, position=1)])
    now = datetime.now(UTC)
    busy = slots.free_slots(db, listing.id, start=now, end=now + links.FREE_TIMES_WITHIN)[3].start_time
    # The booking's mentor meets someone else then; the other member is free.
    BookingFactory(listing=listing, mentor_profile_id=booking.mentor_profile_id, status=BookingStatus.ACCEPTED,
                   start_time=busy, end_time=busy + timedelta(hours=1))
    db.flush()
    assert busy in [s.start_time for s in slots.free_slots(db, listing.id, start=now, end=now + timedelta(days=1))]
    offered = [t.start_time for t in links.show(db, links.link_token(mentee, booking, links.MOVE)).free_times]
    assert offered and busy not in offered
