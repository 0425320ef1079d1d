"""Booking requests and the mentor's decisions (``workflows/bookings/lifecycle.py``), called directly: what a request
must be, what each decision writes, what the cancellation policy charges, and which drafts expire.

Who may make which move, and from which status, is ``test_state_machine.py``'s."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Connection, select
from sqlalchemy.orm import Session

from models import (
    Booking,
    BookingStatus,
    BundlePurchase,
    CalendarConnection,
    ConnectionStatus,
    CreditStatus,
    ListingKind,
    MentorshipSession,
    User,
)
from models.mentors.listings import Listing
from tests.database import counting, events_of, refused
from tests.domain_calls import request
from tests.factories.accounts import UserFactory, actor_of
from tests.factories.bookings import BookingFactory
from tests.factories.mentors import ListingFactory
from tests.factories.sessions import group_session, make_session
from workflows import people as named
from workflows.bookings import bundles, requests
from workflows.bookings import lifecycle as bookings
from workflows.errors import BusinessRuleViolation, Conflict, NotFound

START = (datetime.now(UTC) + timedelta(days=3)).replace(minute=0, second=0, microsecond=0)
# Sweeps read every draft of the database: long ago, so that no other test's committed rows are due.
LONG_AGO = datetime(2021, 3, 1, 9, tzinfo=UTC)


def bundle_purchase(db: Session, listing: Listing, mentee: User, *, sessions: int = 3,
                    now: datetime | None = None) -> BundlePurchase:
    offered = bundles.create_bundle(db, actor_of(listing.mentor_profile.user), listing.id, sessions_count=sessions,
                                    price_cents=10_000, valid_days=30)
    return bundles.purchase_bundle(db, actor_of(mentee), offered.id, now=now)


def test_a_request_is_a_draft_of_the_listings_length_and_price_with_its_event(db: Session) -> None:
    listing = ListingFactory(duration_minutes=45, slot_step_minutes=15, price_cents=7000, currency="EUR")
    mentee = UserFactory()
    booking = request(db, mentee, listing, START, notes="Please read my pull request")
    db.expire_all()
    stored = db.get_one(Booking, booking.id)
    assert (stored.status, stored.mentor_profile_id, stored.mentee_user_id) == (
        BookingStatus.DRAFT, listing.mentor_profile_id, mentee.id)
    assert (stored.start_time, stored.end_time) == (START, START + timedelta(minutes=45))
    assert (stored.price_cents, stored.currency, stored.notes) == (7000, "EUR", "Please read my pull request")
    assert (stored.credit_status, stored.decided_at) == (CreditStatus.NONE, None)
    assert events_of(db, booking.id) == [("booking.requested", f"user:{mentee.id}")]


@pytest.mark.parametrize(("listing_of", "message"), [
    (lambda: ListingFactory(active=False), "this listing is not taking bookings"),
    (lambda: ListingFactory(kind=ListingKind.GROUP, capacity=5),
     "group listings are joined through their group sessions, not booked"),
])
def test_only_an_active_individual_listing_takes_requests(
        db: Session, listing_of: Callable[[], Listing], message: str) -> None:
    listing = listing_of()
    error = refused(db, BusinessRuleViolation, lambda: request(db, UserFactory(), listing, START))
    assert error.message == message
    assert db.scalars(select(Booking)).all() == []


def test_a_mentor_cannot_book_their_own_listing_nor_anyone_a_listing_that_does_not_exist(db: Session) -> None:
    listing = ListingFactory()
    own = refused(db, BusinessRuleViolation, lambda: request(db, listing.mentor_profile.user, listing, START))
    assert own.message == "you cannot book your own listing"
    unknown = refused(db, NotFound, lambda: requests.request_booking(
        db, actor_of(UserFactory()), listing_id=uuid.uuid4(), start_time=START))
    assert unknown.message == "listing not found"


def test_a_request_must_start_after_now(db: Session) -> None:
    listing, mentee = ListingFactory(), UserFactory()
    now = START - timedelta(hours=5)
    past = refused(db, BusinessRuleViolation, lambda: request(db, mentee, listing, now - timedelta(microseconds=1),
                                                              now=now))
    assert (past.message, past.details) == ("a booking must start in the future", {"earliest_start": now.isoformat()})
    assert request(db, mentee, listing, now + timedelta(hours=1), now=now).status == BookingStatus.DRAFT


def test_a_request_gives_the_notice_the_service_asks_for_and_not_a_second_less(
        db: Session, configure: Callable[..., None]) -> None:
    configure(MIN_NOTICE_MINUTES="90")
    listing, mentee = ListingFactory(slot_step_minutes=30), UserFactory()
    now = START - timedelta(hours=5)
    earliest = now + timedelta(minutes=90)
    short = refused(db, Conflict, lambda: request(db, mentee, listing, earliest - timedelta(seconds=1), now=now))
    assert (short.message, short.details) == ("this listing needs 90 minutes of notice",
                                              {"rule": "min_notice", "earliest_start": earliest.isoformat()})
    assert request(db, mentee, listing, earliest, now=now).start_time == earliest


def test_a_mentee_already_taken_at_that_time_cannot_request_it(db: Session) -> None:
    mentee = UserFactory()
    BookingFactory(mentee_user_id=mentee.id, status=BookingStatus.ACCEPTED, start_time=START - timedelta(minutes=30),
                   end_time=START + timedelta(minutes=30))
    error = refused(db, Conflict, lambda: request(db, mentee, ListingFactory(), START))
    assert error.message == "you already have an accepted booking or a seat at that time"
    # Ending as this one starts leaves it free.
    assert request(db, mentee, ListingFactory(slot_step_minutes=30), START + timedelta(minutes=30)).status == \
        BookingStatus.DRAFT


def _decline(db: Session, booking: Booking) -> None:
    bookings.decline_booking(db, actor_of(booking.listing.mentor_profile.user), booking.id, "away")


def _withdraw(db: Session, booking: Booking) -> None:
    bookings.cancel_booking(db, actor_of(db.get_one(User, booking.mentee_user_id)), booking.id, "changed my mind")


def _expire(db: Session, booking: Booking) -> None:
    assert bookings.expire_stale_drafts(db, now=booking.start_time) == 1


@pytest.mark.parametrize("end", [_decline, _withdraw, _expire], ids=["declined", "withdrawn", "expired"])
def test_a_draft_holds_a_bundle_credit_and_returns_it_however_it_ends(
        db: Session, end: Callable[[Session, Booking], None]) -> None:
    listing, mentee = ListingFactory(), UserFactory()
    # Long ago, as the expiry sweep's drafts are.
    now = LONG_AGO - timedelta(days=1)
    purchase = bundle_purchase(db, listing, mentee, sessions=3, now=now)
    booking = request(db, mentee, listing, LONG_AGO, bundle_purchase_id=purchase.id, now=now)
    db.refresh(purchase)
    assert (booking.credit_status, purchase.remaining_sessions) == (CreditStatus.HELD, 2)
    end(db, booking)
    db.refresh(purchase)
    assert (booking.credit_status, purchase.remaining_sessions) == (CreditStatus.RETURNED, 3)


def test_accepting_records_when_it_was_decided_and_the_mentors_event(db: Session) -> None:
    booking = BookingFactory()
    mentor = booking.listing.mentor_profile.user
    bookings.accept_booking(db, actor_of(mentor), booking.id)
    db.expire_all()
    stored = db.get_one(Booking, booking.id)
    assert stored.status == BookingStatus.ACCEPTED
    assert stored.decided_at is not None and stored.decided_at <= stored.start_time
    assert events_of(db, booking.id) == [("booking.accepted", f"user:{mentor.id}")]


def test_an_accept_reads_the_mentors_calendars_and_both_names_with_its_locks(db: Session, connection: Connection
                                                                               ) -> None:
    # One statement takes the accept's turns and reads what it needs besides: whether the mentor's calendars must be
    # read first (read before fresh_since, and not backing off), the oldest read, and the answer's two names.
    now = datetime.now(UTC)
    listing = ListingFactory()
    mentor = actor_of(listing.mentor_profile.user)
    drafts = [BookingFactory(listing=listing, start_time=START + timedelta(hours=2 * n)) for n in range(5)]
    fresh_since = now - timedelta(minutes=5)

    def accept(draft: Booking) -> tuple[named.NamedBooking, datetime | None]:
        with counting(connection) as count:
            accepted = bookings.accept_on_fresh_calendars(db, mentor, draft.id, fresh_since=fresh_since)
            assert count() == 5  # the turn, the booking, the rules' check, the update, the event
        return accepted

    named_booking, synced = accept(drafts[0])  # no calendar connected
    assert synced is None and named_booking.mentor.display_name == listing.mentor_profile.user.display_name
    assert named_booking.mentee.display_name == db.get_one(User, drafts[0].mentee_user_id).display_name
    calendar = CalendarConnection(id=uuid.uuid4(), mentor_profile_id=listing.mentor_profile_id, kind="ics",
                                  host="calendar.example.com", credentials="sealed", status=ConnectionStatus.ACTIVE,
                                  synced_at=now - timedelta(minutes=1))
    db.add(calendar)
    db.flush()
    assert accept(drafts[1])[1] == calendar.synced_at
    calendar.synced_at = now - timedelta(hours=1)
    db.flush()
    with pytest.raises(bookings.CalendarsStale), db.begin_nested():
        bookings.accept_on_fresh_calendars(db, mentor, drafts[2].id, fresh_since=fresh_since)
    assert db.get_one(Booking, drafts[2].id).status == BookingStatus.DRAFT
    calendar.failures, calendar.next_sync_at = 1, now + timedelta(minutes=10)  # backing off: the last read stands
    db.flush()
    assert accept(drafts[3])[1] == calendar.synced_at
    calendar.failures, calendar.synced_at = 0, None  # never read: read first
    db.flush()
    with pytest.raises(bookings.CalendarsStale), db.begin_nested():
        bookings.accept_on_fresh_calendars(db, mentor, drafts[4].id, fresh_since=fresh_since)
    # Another mentor's stale calendar is not theirs to have read: their accept is refused as any stranger's is.
    other = actor_of(ListingFactory().mentor_profile.user)
    refused(db, NotFound, lambda: bookings.accept_on_fresh_calendars(db, other, drafts[4].id, fresh_since=now))


def test_a_draft_whose_start_has_passed_cannot_be_accepted(db: Session) -> None:
    booking = BookingFactory(start_time=datetime.now(UTC) - timedelta(minutes=1))
    error = refused(db, BusinessRuleViolation, lambda: bookings.accept_booking(
        db, actor_of(booking.listing.mentor_profile.user), booking.id))
    assert error.message == "this booking's start time has passed"
    db.expire_all()
    assert db.get_one(Booking, booking.id).status == BookingStatus.DRAFT
    assert events_of(db, booking.id) == []


def test_accepting_over_the_mentors_accepted_booking_is_a_conflict_but_one_that_touches_it_is_not(
        db: Session) -> None:
    listing = ListingFactory()
    mentor = actor_of(listing.mentor_profile.user)
    BookingFactory(listing=listing, status=BookingStatus.ACCEPTED, start_time=START)
    overlapping = BookingFactory(listing=listing, start_time=START + timedelta(minutes=59))
    touching = BookingFactory(listing=listing, start_time=START + timedelta(hours=1))
    error = refused(db, Conflict, lambda: bookings.accept_booking(db, mentor, overlapping.id))
    assert (error.message, error.details) == (
        "the mentor already has an accepted booking or a session at that time", {"rule": "busy"})
    assert bookings.accept_booking(db, mentor, touching.id).booking.status == BookingStatus.ACCEPTED
    db.expire_all()
    # The refused draft overlaps the one just accepted too: the system declined it (settle_clashes).
    refused_draft = db.get_one(Booking, overlapping.id)
    assert (refused_draft.status, refused_draft.decline_reason) == (BookingStatus.DECLINED, bookings.ANOTHER_ACCEPTED)


def test_accepting_over_one_of_the_mentors_group_sessions_is_a_conflict(db: Session) -> None:
    session, _mentees = group_session(db, START + timedelta(minutes=30), seats=1)
    listing = ListingFactory(mentor_profile=db.get_one(Listing, session.listing_id).mentor_profile)
    draft = BookingFactory(listing=listing, start_time=START)
    error = refused(db, Conflict, lambda: bookings.accept_booking(
        db, actor_of(listing.mentor_profile.user), draft.id))
    assert (error.message, error.details) == (
        "the mentor already has an accepted booking or a session at that time", {"rule": "busy"})


def test_accepting_a_mentee_already_taken_at_that_time_is_a_conflict(db: Session) -> None:
    mentee = UserFactory()
    BookingFactory(mentee_user_id=mentee.id, status=BookingStatus.ACCEPTED, start_time=START)
    draft = BookingFactory(mentee_user_id=mentee.id, start_time=START + timedelta(minutes=30))
    error = refused(db, Conflict, lambda: bookings.accept_booking(
        db, actor_of(draft.listing.mentor_profile.user), draft.id))
    assert error.message == "the mentee already has an accepted booking or a seat at this time"


def test_declining_and_withdrawing_record_the_reason_and_who_did_it(db: Session) -> None:
    declined, withdrawn = BookingFactory(), BookingFactory()
    mentor = declined.listing.mentor_profile.user
    mentee = db.get_one(User, withdrawn.mentee_user_id)
    bookings.decline_booking(db, actor_of(mentor), declined.id, "away that week")
    bookings.cancel_booking(db, actor_of(mentee), withdrawn.id, "found the answer")
    db.expire_all()
    first, second = db.get_one(Booking, declined.id), db.get_one(Booking, withdrawn.id)
    assert (first.status, first.decline_reason, first.decided_at is not None) == (
        BookingStatus.DECLINED, "away that week", True)
    assert (second.status, second.cancel_reason, second.decided_at) == (
        BookingStatus.CANCELLED, "found the answer", None)
    assert events_of(db, declined.id) == [("booking.declined", f"user:{mentor.id}")]
    assert events_of(db, withdrawn.id) == [("booking.cancelled", f"user:{mentee.id}")]


@pytest.mark.parametrize(("percent", "late", "fee"), [("50", True, 499), ("100", True, 999), ("0", True, 0),
                                                      ("50", False, 0)])
def test_a_late_cancellation_costs_the_fee_percent_of_the_price_rounded_down_and_an_early_one_nothing(
        db: Session, configure: Callable[..., None], percent: str, late: bool, fee: int) -> None:
    configure(CANCELLATION_FEE_PERCENT=percent)
    booking = BookingFactory(status=BookingStatus.ACCEPTED, price_cents=999)
    assert bookings.end_with_session_cancellation(db, booking, late=late, reason="ill") == (fee, False)
    db.flush()
    db.expire_all()
    stored = db.get_one(Booking, booking.id)
    assert (stored.status, stored.cancel_late, stored.cancel_fee_cents, stored.cancel_reason) == (
        BookingStatus.CANCELLED, late, fee, "ill")


@pytest.mark.parametrize(("late", "credit", "remaining"), [(True, CreditStatus.FORFEITED, 2),
                                                           (False, CreditStatus.RETURNED, 3)])
def test_a_booking_paid_with_a_credit_forfeits_it_when_late_instead_of_a_fee_and_gets_it_back_otherwise(
        db: Session, late: bool, credit: CreditStatus, remaining: int) -> None:
    listing, mentee = ListingFactory(price_cents=8000), UserFactory()
    purchase = bundle_purchase(db, listing, mentee, sessions=3)
    booking = request(db, mentee, listing, START, bundle_purchase_id=purchase.id)
    bookings.accept_booking(db, actor_of(listing.mentor_profile.user), booking.id)
    assert bookings.end_with_session_cancellation(db, booking, late=late, reason="ill") == (0, not late)
    db.flush()
    db.refresh(purchase)
    assert (booking.credit_status, booking.cancel_fee_cents, purchase.remaining_sessions) == (credit, 0, remaining)


def test_drafts_whose_start_has_come_expire_with_their_event_and_nothing_else_does(db: Session) -> None:
    due = BookingFactory(start_time=LONG_AGO)
    not_yet = BookingFactory(start_time=LONG_AGO + timedelta(microseconds=1))
    accepted = BookingFactory(status=BookingStatus.ACCEPTED, start_time=LONG_AGO - timedelta(hours=1))
    assert bookings.expire_stale_drafts(db, now=LONG_AGO) == 1
    assert (due.status, not_yet.status, accepted.status) == (
        BookingStatus.EXPIRED, BookingStatus.DRAFT, BookingStatus.ACCEPTED)
    assert events_of(db, due.id) == [("booking.expired", "system")]
    assert bookings.expire_stale_drafts(db, now=LONG_AGO) == 0


def test_a_sweep_expires_at_most_its_limit_the_earliest_first(db: Session) -> None:
    drafts = [BookingFactory(start_time=LONG_AGO - timedelta(hours=hours)) for hours in (1, 3, 2)]
    assert bookings.expire_stale_drafts(db, now=LONG_AGO, limit=2) == 2
    assert [d.status for d in drafts] == [BookingStatus.DRAFT, BookingStatus.EXPIRED, BookingStatus.EXPIRED]


def test_a_seat_belongs_to_its_group_session_and_an_accepted_booking_to_the_session_made_from_it(
        db: Session) -> None:
    session, (seated,) = group_session(db, START, seats=1)
    seat = db.scalars(select(Booking).where(Booking.group_session_id == session.id)).one()
    _mentor, _mentee, individual = make_session(db, START + timedelta(days=1))
    accepted = db.get_one(Booking, individual.booking_id)
    draft = BookingFactory()
    assert seat.mentee_user_id == seated
    assert named.session_ids_for(db, [seat, accepted, draft]) == {seat.id: session.id, accepted.id: individual.id}
    assert db.get_one(MentorshipSession, individual.id).booking_id == accepted.id
