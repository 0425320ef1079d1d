"""Moving an accepted booking by agreement (``workflows/bookings/reschedules.py``), called directly on real PostgreSQL:
a proposal of new times, its answers, the move itself (the old booking and session closed, the new pair made and
linked), the bundle credit that moves with it, the calendar event that moves, and who is told. The races are
``test_reschedule_guarantees.py``'s."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import icalendar
import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from models import (
    Booking,
    BookingStatus,
    BundlePurchase,
    CreditStatus,
    ListingKind,
    MentorshipSession,
    MentorStats,
    Notification,
    OutboxEvent,
    OutboxHandler,
    ProposalStatus,
    SessionStatus,
)
from models.accounts.users import User
from models.mentors.listings import Listing
from tests.database import notifications_read, refused
from tests.factories.accounts import UserFactory, actor_of
from tests.factories.mentors import ListingFactory
from workflows import history
from workflows.bookings import bundles, requests, reschedules
from workflows.bookings import lifecycle as bookings
from workflows.calendars import feeds as calendars
from workflows.errors import BusinessRuleViolation, Conflict, Forbidden, InvalidInput
from workflows.notifications import messages
from workflows.sessions import analytics
from workflows.sessions import group as group_sessions
from workflows.sessions import lifecycle as sessions

NOW = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)  # on the listings' slot grid
START = (NOW + timedelta(days=3)).replace(hour=10, minute=0, second=0)
HOUR = timedelta(hours=1)


def accepted(db: Session, listing: Listing, mentee: User, start: datetime = START, **options: object) -> Booking:
    booking = requests.request_booking(db, actor_of(mentee), listing_id=listing.id, start_time=start, now=NOW,
                                       **options)
    bookings.accept_booking(db, actor_of(listing.mentor_profile.user), booking.id)
    return booking


def test_a_mentee_proposes_the_mentor_accepts_and_the_meeting_moves_at_no_cost(db: Session) -> None:
    listing, mentee = ListingFactory(price_cents=9000), UserFactory()
    mentor = actor_of(listing.mentor_profile.user)
    booking = accepted(db, listing, mentee, NOW + timedelta(hours=5))  # inside the late-cancellation window
    old_session = sessions.create_session_from_booking(db, booking.id)
    assert old_session is not None
    times = [NOW + timedelta(days=2), NOW + timedelta(days=2, hours=3)]
    proposal = reschedules.propose(db, actor_of(mentee), booking.id, times, message="A deadline moved", now=NOW)
    assert (proposal.status, proposal.proposed_by, proposal.expires_at) == (ProposalStatus.OPEN, "mentee",
                                                                           booking.start_time)
    moved = reschedules.accept(db, mentor, proposal.id, times[1], now=NOW).booking

    db.refresh(booking)
    db.refresh(old_session)
    assert (booking.status, booking.cancel_reason) == (BookingStatus.RESCHEDULED, reschedules.RESCHEDULED)
    assert (old_session.status, old_session.cancel_reason, old_session.cancel_fee_cents, old_session.cancel_late) == (
        SessionStatus.CANCELLED, "rescheduled", 0, False)
    assert (moved.status, moved.start_time, moved.rescheduled_from_booking_id, moved.chain_booking_id,
            moved.reschedule_count, moved.price_cents) == (BookingStatus.ACCEPTED, times[1], booking.id, booking.id,
                                                           1, 9000)
    assert (proposal.status, proposal.new_booking_id) == (ProposalStatus.ACCEPTED, moved.id)
    rescheduled = db.scalars(select(OutboxEvent).where(OutboxEvent.type == "booking.rescheduled")).one()
    assert rescheduled.aggregate_id == moved.id
    assert {k: rescheduled.payload[k] for k in ("rescheduled_from_booking_id", "previous_start_time", "proposed_by",
                                                "accepted_by")} == {
        "rescheduled_from_booking_id": str(booking.id), "previous_start_time": booking.start_time.isoformat(),
        "proposed_by": "mentee", "accepted_by": "mentor"}
    # The worker makes the new session from booking.rescheduled, once; its calendar event is the chain's.
    new_session = sessions.create_session_from_booking(db, moved.id)
    assert new_session is not None
    assert sessions.create_session_from_booking(db, moved.id) is None
    assert new_session.calendar_sequence == old_session.calendar_sequence + 1
    feed = icalendar.Calendar.from_ical(calendars.calendar_feed(db, calendars.issue_feed_token(db, actor_of(mentee)),
                                                                now=NOW))
    events = [(str(e["UID"]), int(e["SEQUENCE"]), e.decoded("DTSTART")) for e in feed.walk("VEVENT")]
    assert events == [(f"{booking.id}@mentorship", new_session.calendar_sequence, times[1])]
    # Both bookings' histories tell of the move.
    for side in (booking.id, moved.id):
        timeline = history.booking_timeline(db, mentor, side, limit=20, cursor=None).items
        assert "booking.rescheduled" in [entry.type for entry in timeline]
    assert "reschedule.proposed" in [e.type for e in history.booking_timeline(db, mentor, booking.id, limit=20,
                                                                              cursor=None).items]


def test_who_is_told_of_a_proposal_and_of_the_move(db: Session) -> None:
    listing = ListingFactory(title="Code review", mentor_profile__user=UserFactory(display_name="Grace Hopper"))
    mentee = UserFactory(display_name="Ada Lovelace", timezone="Europe/Paris", locale="en-GB")
    booking = accepted(db, listing, mentee)
    new_time = START + timedelta(days=1)
    proposal = reschedules.propose(db, actor_of(listing.mentor_profile.user), booking.id, [new_time], now=NOW)
    reschedules.accept(db, actor_of(mentee), proposal.id, new_time, now=NOW)
    told_events = list(db.scalars(select(OutboxEvent).where(OutboxEvent.type.in_(
        ["reschedule.proposed", "booking.rescheduled", "session.cancelled"]))))
    messages.handle_events(db, told_events)
    told = sorted((n.type, n.user_id == mentee.id, n.title) for n in notifications_read(
        db, Notification.event_id.in_([e.id for e in told_events])))
    assert told == [("booking.rescheduled", False, "Session moved"), ("booking.rescheduled", True, "Session moved"),
                    ("reschedule.proposed", True, "New time proposed")]  # the mentor proposed: the mentee is told
    (proposed,) = notifications_read(db, Notification.user_id == mentee.id, Notification.type == "reschedule.proposed")
    body = proposed.body
    assert body.startswith("Grace Hopper proposes to move \u201cCode review\u201d on ")


def test_a_bundle_credit_moves_with_the_booking_never_spent_twice(db: Session) -> None:
    listing, mentee = ListingFactory(), UserFactory()
    mentor = actor_of(listing.mentor_profile.user)
    offer = bundles.create_bundle(db, mentor, listing.id, sessions_count=2, price_cents=9000, valid_days=30)
    purchase = bundles.purchase_bundle(db, actor_of(mentee), offer.id)
    booking = accepted(db, listing, mentee, bundle_purchase_id=purchase.id)
    proposal = reschedules.propose(db, mentor, booking.id, [START + HOUR * 30], now=NOW)
    moved = reschedules.accept(db, actor_of(mentee), proposal.id, START + HOUR * 30, now=NOW).booking
    db.refresh(booking)
    assert (booking.credit_status, moved.credit_status, moved.bundle_purchase_id) == (
        CreditStatus.MOVED, CreditStatus.HELD, purchase.id)
    db.expire_all()
    assert db.get_one(BundlePurchase, purchase.id).remaining_sessions == 1


def test_proposals_are_checked_against_every_rule_and_answered_once(db: Session) -> None:
    listing, mentee = ListingFactory(slot_step_minutes=30), UserFactory()
    mentor = actor_of(listing.mentor_profile.user)
    booking = accepted(db, listing, mentee)
    taken = accepted(db, listing, UserFactory(), START + timedelta(days=1))
    rule = refused(db, Conflict, lambda: reschedules.propose(db, actor_of(mentee), booking.id,
                                                              [taken.start_time + timedelta(minutes=30)], now=NOW))
    assert rule.details["rule"] == "unavailable"  # another mentee's booking is the mentor's business
    grid = refused(db, Conflict, lambda: reschedules.propose(db, actor_of(mentee), booking.id,
                                                              [START + timedelta(hours=2, minutes=10)], now=NOW))
    assert grid.details["rule"] == "slot_grid"  # between two of the listing's slots: no finer than a page of them
    with pytest.raises(InvalidInput):
        reschedules.propose(db, actor_of(mentee), booking.id, [START + HOUR * i for i in range(2, 6)], now=NOW)
    # Half an hour later overlaps the booking itself: that is fine, it moves.
    half_later = START + timedelta(minutes=30)
    proposal = reschedules.propose(db, actor_of(mentee), booking.id, [half_later], now=NOW)
    second = refused(db, Conflict, lambda: reschedules.propose(db, mentor, booking.id, [START + HOUR * 5], now=NOW))
    assert second.message.startswith("this booking already has an open proposal")
    own = refused(db, BusinessRuleViolation, lambda: reschedules.accept(db, actor_of(mentee), proposal.id,
                                                                        half_later, now=NOW))
    assert own.message == "the other participant accepts your proposal, not you"
    assert refused(db, BusinessRuleViolation, lambda: reschedules.withdraw(db, mentor, proposal.id, now=NOW))
    reschedules.decline(db, mentor, proposal.id, now=NOW)
    assert refused(db, BusinessRuleViolation, lambda: reschedules.accept(db, mentor, proposal.id, half_later, now=NOW))
    db.refresh(booking)
    assert booking.status == BookingStatus.ACCEPTED  # declined: it stays
    again = reschedules.propose(db, actor_of(mentee), booking.id, [half_later], now=NOW)
    moved = reschedules.accept(db, mentor, again.id, half_later, now=NOW).booking
    assert moved.start_time == half_later


def test_a_chain_moves_at_most_the_times_allowed_and_a_seat_not_at_all(db: Session) -> None:
    listing, mentee = ListingFactory(), UserFactory()
    mentor = actor_of(listing.mentor_profile.user)
    booking = accepted(db, listing, mentee)
    for move in (1, 2):
        proposal = reschedules.propose(db, actor_of(mentee), booking.id, [START + timedelta(days=move)], now=NOW)
        booking = reschedules.accept(db, mentor, proposal.id, START + timedelta(days=move), now=NOW).booking
    assert (booking.reschedule_count, booking.chain_booking_id is not None) == (2, True)
    third = refused(db, Conflict, lambda: reschedules.propose(db, actor_of(mentee), booking.id,
                                                               [START + timedelta(days=3)], now=NOW))
    assert third.details["rule"] == "max_reschedules"
    group = ListingFactory(kind=ListingKind.GROUP.value, capacity=3)
    session = group_sessions.schedule_group_session(db, actor_of(group.mentor_profile.user), group.id,
                                                    start_time=START, now=NOW)
    seat = group_sessions.join_group_session(db, actor_of(mentee), session.id, now=NOW)
    assert refused(db, BusinessRuleViolation, lambda: reschedules.propose(
        db, actor_of(mentee), seat.id, [START + timedelta(days=4)], now=NOW)).message.startswith("a seat in a group")


def test_an_open_proposal_expires_at_its_earliest_time(db: Session) -> None:
    listing, mentee = ListingFactory(), UserFactory()
    booking = accepted(db, listing, mentee)
    proposal = reschedules.propose(db, actor_of(mentee), booking.id, [NOW + timedelta(hours=2)], now=NOW)
    assert proposal.expires_at == NOW + timedelta(hours=2)
    assert reschedules.expire_proposals(db, now=NOW + timedelta(hours=1)) == 0
    assert reschedules.expire_proposals(db, now=NOW + timedelta(hours=2)) == 1
    db.refresh(proposal)
    assert proposal.status == ProposalStatus.EXPIRED
    assert db.scalars(select(MentorshipSession).where(MentorshipSession.booking_id == booking.id)).first() is None


def test_a_cancelled_session_closes_its_bookings_open_proposal(db: Session) -> None:
    listing, mentee = ListingFactory(), UserFactory()
    booking = accepted(db, listing, mentee)
    session = sessions.create_session_from_booking(db, booking.id)
    assert session is not None
    proposal = reschedules.propose(db, actor_of(mentee), booking.id, [START + timedelta(days=1)], now=NOW)
    sessions.cancel_session(db, actor_of(listing.mentor_profile.user), session.id, reason="Ill", now=NOW)
    db.refresh(proposal)
    assert proposal.status == ProposalStatus.EXPIRED
    assert db.scalars(select(OutboxEvent.actor).where(OutboxEvent.aggregate_id == proposal.id,
                                                      OutboxEvent.type == "reschedule.expired")).one() == "system"


def test_the_move_is_notified_and_its_old_session_is_not_counted_as_cancelled(db: Session) -> None:
    listing, mentee = ListingFactory(), UserFactory()
    booking = accepted(db, listing, mentee)
    assert sessions.create_session_from_booking(db, booking.id) is not None
    proposal = reschedules.propose(db, actor_of(mentee), booking.id, [START + timedelta(days=1)], now=NOW)
    reschedules.accept(db, actor_of(listing.mentor_profile.user), proposal.id, START + timedelta(days=1), now=NOW)
    handled = {(event_type, handler) for event_type, handler in db.execute(
        select(OutboxEvent.type, OutboxHandler.handler).join(OutboxHandler, OutboxHandler.event_id == OutboxEvent.id)
        .where(OutboxEvent.type.in_(["reschedule.proposed", "booking.rescheduled", "session.cancelled"])))}
    assert {("reschedule.proposed", "notifications.notify"), ("booking.rescheduled", "notifications.notify"),
            ("booking.rescheduled", "sessions.create_from_booking")} <= handled
    cancelled = db.scalars(select(OutboxEvent).where(OutboxEvent.type == "session.cancelled")).one()
    analytics.handle_events(db, [cancelled])
    assert db.get(MentorStats, listing.mentor_profile_id) is None  # nothing counted


def test_the_mentor_asks_and_the_mentee_picks_any_free_time(db: Session) -> None:
    listing = ListingFactory(title="Code review", mentor_profile__user=UserFactory(display_name="Grace Hopper"))
    mentee = UserFactory(display_name="Ada Lovelace", timezone="Europe/Paris", locale="en-GB")
    mentor = actor_of(listing.mentor_profile.user)
    booking = accepted(db, listing, mentee)
    assert refused(db, Forbidden, lambda: reschedules.request_reschedule(db, actor_of(mentee), booking.id,
                                                                         reason="x", now=NOW))
    request = reschedules.request_reschedule(db, mentor, booking.id, reason="I must travel", now=NOW)
    assert (request.kind, request.start_times, request.expires_at) == ("request", [], NOW + timedelta(hours=48))
    event = db.scalars(select(OutboxEvent).where(OutboxEvent.type == "reschedule.requested")).one()
    messages.handle_events(db, [event])
    (told,) = notifications_read(db, Notification.event_id == event.id)
    assert told.user_id == mentee.id
    assert told.body.startswith("Grace Hopper asks you to choose another time for \u201cCode review\u201d on ")
    assert "\u201cI must travel\u201d; or cancel it, at no cost. Its next free times: " in told.body
    anywhere = START + timedelta(days=2, hours=5)  # not proposed by anyone: any free time answers a request
    assert refused(db, BusinessRuleViolation, lambda: reschedules.accept(db, mentor, request.id, anywhere, now=NOW))
    moved = reschedules.accept(db, actor_of(mentee), request.id, anywhere, now=NOW).booking
    assert (moved.start_time, moved.rescheduled_from_booking_id) == (anywhere, booking.id)


def test_declining_the_mentors_request_cancels_at_no_cost_and_silence_too(db: Session) -> None:
    listing, mentee = ListingFactory(price_cents=8000), UserFactory()
    mentor = actor_of(listing.mentor_profile.user)
    soon = accepted(db, listing, mentee, NOW + timedelta(hours=6))  # inside the late-cancellation window
    request = reschedules.request_reschedule(db, mentor, soon.id, reason="Something came up", now=NOW)
    assert request.expires_at == soon.start_time  # never past the start
    reschedules.decline(db, actor_of(mentee), request.id, now=NOW)
    db.refresh(soon)
    assert (soon.status, soon.cancel_late, soon.cancel_fee_cents, soon.cancel_reason) == (
        BookingStatus.CANCELLED, False, 0, reschedules.CANCELLED_ON_REQUEST)
    later = accepted(db, listing, mentee, START + timedelta(days=1))
    unanswered = reschedules.request_reschedule(db, mentor, later.id, reason="Travel", now=NOW)
    assert reschedules.expire_proposals(db, now=NOW + timedelta(hours=48)) == 1
    db.refresh(later)
    db.refresh(unanswered)
    assert (unanswered.status, later.status, later.cancel_fee_cents, later.cancel_reason) == (
        ProposalStatus.EXPIRED, BookingStatus.CANCELLED, 0, reschedules.UNANSWERED)
    session = db.scalars(select(MentorshipSession).where(MentorshipSession.booking_id == later.id)).one()
    assert (session.cancelled_by, session.cancel_late) == ("mentor", False)
    cancelled = db.scalars(select(OutboxEvent).where(OutboxEvent.aggregate_id == session.id,
                                                     OutboxEvent.type == "session.cancelled")).one()
    assert cancelled.actor == f"user:{listing.mentor_profile.user_id}"  # the mentor's cancellation: both are told


def test_a_move_stays_within_its_bundle_credit_and_settles_what_its_buffers_take(db: Session) -> None:
    listing, mentee = ListingFactory(buffer_after_minutes=15, slot_step_minutes=15), UserFactory()
    mentor = actor_of(listing.mentor_profile.user)
    offer = bundles.create_bundle(db, mentor, listing.id, sessions_count=2, price_cents=9000, valid_days=5)
    purchase = bundles.purchase_bundle(db, actor_of(mentee), offer.id)
    booking = accepted(db, listing, mentee, bundle_purchase_id=purchase.id)
    beyond = refused(db, Conflict, lambda: reschedules.propose(db, actor_of(mentee), booking.id,
                                                                [NOW + timedelta(days=8)], now=NOW))
    assert beyond.details["rule"] == "bundle_validity"
    new_time = START + timedelta(days=1)
    close = requests.request_booking(db, actor_of(UserFactory()), listing_id=listing.id,
                                     start_time=new_time + timedelta(minutes=60), now=NOW)  # inside 15 min after
    proposal = reschedules.propose(db, actor_of(mentee), booking.id, [new_time], now=NOW)
    moved = reschedules.accept(db, mentor, proposal.id, new_time, now=NOW).booking
    db.refresh(close)
    assert (close.status, close.decline_reason) == (BookingStatus.DECLINED, bookings.ANOTHER_ACCEPTED)
    # The old booking never had a session: the new one's calendar event still comes after the first invite's 0.
    made = sessions.create_session_from_booking(db, moved.id)
    assert made is not None and made.calendar_sequence == 1
