"""Requests whose time is taken are settled at once by the system (``workflows/bookings/lifecycle.py``
``settle_clashes``), called directly: an accept declines the mentor's other requests for an overlapping time and
withdraws the mentee's own; a group session scheduled, or a seat taken, does the same; a settled request cannot be
accepted; and the mentee is told why, with the listing's next free times. The races are
``test_overlap_guarantees.py``'s."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from models import Booking, BookingStatus, BundlePurchase, CreditStatus, ListingKind, Notification, OutboxEvent
from tests.database import events_of, notifications_read, refused
from tests.domain_calls import request
from tests.factories.accounts import UserFactory, actor_of
from tests.factories.mentors import ListingFactory
from workflows.bookings import bundles
from workflows.bookings import lifecycle as bookings
from workflows.errors import Conflict
from workflows.notifications import messages
from workflows.sessions import group as group_sessions

START = (datetime.now(UTC) + timedelta(days=3)).replace(hour=10, minute=0, second=0, microsecond=0)


def status_and_reason(db: Session, booking: Booking) -> tuple[BookingStatus, str | None]:
    db.refresh(booking)
    return booking.status, booking.decline_reason or booking.cancel_reason


def test_an_accept_declines_the_mentors_overlapping_requests_and_withdraws_the_mentees_own(db: Session) -> None:
    listing, elsewhere = ListingFactory(slot_step_minutes=15), ListingFactory(slot_step_minutes=15)
    mentee, rival, later = UserFactory(), UserFactory(), UserFactory()
    chosen = request(db, mentee, listing, START)
    rival_request = request(db, rival, listing, START + timedelta(minutes=30))
    own_elsewhere = request(db, mentee, elsewhere, START - timedelta(minutes=45))
    touching = request(db, later, listing, START + timedelta(hours=1))  # starts as the accepted one ends
    unrelated = request(db, rival, elsewhere, START)  # another mentor, another mentee: untouched

    bookings.accept_booking(db, actor_of(listing.mentor_profile.user), chosen.id)

    assert status_and_reason(db, rival_request) == (BookingStatus.DECLINED, bookings.ANOTHER_ACCEPTED)
    assert status_and_reason(db, own_elsewhere) == (BookingStatus.CANCELLED, bookings.MENTEE_BOOKED)
    assert status_and_reason(db, touching) == (BookingStatus.DRAFT, None)
    assert status_and_reason(db, unrelated) == (BookingStatus.DRAFT, None)
    assert events_of(db, rival_request.id) == [("booking.declined", "system"),
                                               ("booking.requested", f"user:{rival.id}")]
    assert events_of(db, own_elsewhere.id) == [("booking.cancelled", "system"),
                                               ("booking.requested", f"user:{mentee.id}")]
    payload = db.scalars(select(OutboxEvent.payload).where(OutboxEvent.aggregate_id == rival_request.id,
                                                           OutboxEvent.type == "booking.declined")).one()
    assert payload["reason"] == bookings.ANOTHER_ACCEPTED


def test_a_settled_request_cannot_be_accepted_and_says_why(db: Session) -> None:
    listing = ListingFactory(slot_step_minutes=15)
    first, second = (request(db, UserFactory(), listing, START + timedelta(minutes=m)) for m in (0, 15))
    mentor = actor_of(listing.mentor_profile.user)
    bookings.accept_booking(db, mentor, first.id)
    error = refused(db, Conflict, lambda: bookings.accept_booking(db, mentor, second.id))
    assert error.message == f"this request was declined by the system: {bookings.ANOTHER_ACCEPTED}"
    assert status_and_reason(db, second) == (BookingStatus.DECLINED, bookings.ANOTHER_ACCEPTED)


def test_a_settled_request_gives_its_bundle_credit_back(db: Session) -> None:
    listing, mentee = ListingFactory(slot_step_minutes=15), UserFactory()
    offer = bundles.create_bundle(db, actor_of(listing.mentor_profile.user), listing.id, sessions_count=2,
                                  price_cents=9000, valid_days=30)
    purchase = bundles.purchase_bundle(db, actor_of(mentee), offer.id)
    paid = request(db, mentee, listing, START + timedelta(minutes=15), bundle_purchase_id=purchase.id)
    assert db.get_one(BundlePurchase, purchase.id).remaining_sessions == 1
    winner = request(db, UserFactory(), listing, START)
    bookings.accept_booking(db, actor_of(listing.mentor_profile.user), winner.id)
    db.refresh(paid)
    assert (paid.status, paid.credit_status) == (BookingStatus.DECLINED, CreditStatus.RETURNED)
    db.expire_all()
    assert db.get_one(BundlePurchase, purchase.id).remaining_sessions == 2


def test_a_group_session_scheduled_over_requests_declines_them(db: Session) -> None:
    mentor_user = UserFactory()
    one_to_one = ListingFactory(mentor_profile__user=mentor_user, slot_step_minutes=15)
    group = ListingFactory(mentor_profile=one_to_one.mentor_profile, kind=ListingKind.GROUP.value, capacity=4)
    waiting = request(db, UserFactory(), one_to_one, START + timedelta(minutes=45))
    after = request(db, UserFactory(), one_to_one, START + timedelta(hours=1))
    group_sessions.schedule_group_session(db, actor_of(mentor_user), group.id, start_time=START)
    assert status_and_reason(db, waiting) == (BookingStatus.DECLINED, bookings.GROUP_SCHEDULED)
    assert status_and_reason(db, after) == (BookingStatus.DRAFT, None)


def test_taking_a_seat_withdraws_the_mentees_overlapping_requests(db: Session) -> None:
    group = ListingFactory(kind=ListingKind.GROUP.value, capacity=4)
    session = group_sessions.schedule_group_session(db, actor_of(group.mentor_profile.user), group.id,
                                                    start_time=START)
    mentee = UserFactory()
    pending = request(db, mentee, ListingFactory(slot_step_minutes=15), START + timedelta(minutes=15))
    group_sessions.join_group_session(db, actor_of(mentee), session.id)
    assert status_and_reason(db, pending) == (BookingStatus.CANCELLED, bookings.MENTEE_BOOKED)


def test_the_mentee_is_told_why_in_their_own_time_with_the_next_free_times_and_the_other_mentor_too(
        db: Session) -> None:
    at = datetime(2031, 6, 2, 9, 30, tzinfo=UTC)  # a Monday
    listing = ListingFactory(title="Code review", mentor_profile__user=UserFactory(display_name="Grace Hopper"),
                             slot_step_minutes=30)
    elsewhere = ListingFactory(title="Apollo guidance", slot_step_minutes=30,
                               mentor_profile__user=UserFactory(display_name="Margaret Hamilton"))
    mentee = UserFactory(display_name="Ada Lovelace", timezone="Europe/Paris", locale="en-GB")
    rival = UserFactory(display_name="Bob Kahn", timezone="America/New_York", locale="en-US")
    chosen = request(db, mentee, listing, at)
    declined = request(db, rival, listing, at)
    withdrawn = request(db, mentee, elsewhere, at)
    bookings.accept_booking(db, actor_of(listing.mentor_profile.user), chosen.id)
    settled = list(db.scalars(select(OutboxEvent).where(
        OutboxEvent.aggregate_id.in_([declined.id, withdrawn.id]),
        OutboxEvent.type.in_(["booking.declined", "booking.cancelled"]))))
    messages.handle_events(db, settled)
    told = {(n.user_id, n.title): (n.body, n.data["link"])
            for n in notifications_read(db, Notification.event_id.in_([e.id for e in settled]))}
    rival_body, rival_link = told[(rival.id, "Booking declined")]
    assert rival_body.startswith(  # New York's time, in US English
        f"Your request to Grace Hopper for \u201cCode review\u201d on Mon, Jun 2, 5:30\u202fAM (America/New_York) was "
        f"declined: "
        f"{bookings.ANOTHER_ACCEPTED}. Its next free times: ")
    assert rival_link == f"#/listings/{listing.id}"
    mentee_body, _ = told[(mentee.id, "Booking request withdrawn")]
    assert mentee_body.startswith(  # Paris time, in British English
        f"Your request to Margaret Hamilton for \u201cApollo guidance\u201d on Mon 2 Jun, 11:30 (Europe/Paris) was "
        f"withdrawn: "
        f"{bookings.MENTEE_BOOKED}. Its next free times: ")
    # The other mentor has no timezone of their own: their profile's (UTC here), named.
    words = ("The request of Ada Lovelace for \u201cApollo guidance\u201d on Mon 2 Jun, 09:30 (UTC) was withdrawn: "
             "they have another session at this time.")
    assert told[(elsewhere.mentor_profile.user_id, "Booking request withdrawn")] == (words, "#/requests")
    assert len(told) == 3


def test_a_mentee_with_no_timezone_reads_the_next_free_times_in_the_mentors_named(db: Session) -> None:
    at = datetime(2031, 6, 2, 9, 30, tzinfo=UTC)
    listing = ListingFactory(title="Code review", slot_step_minutes=30, mentor_profile__timezone="Europe/Paris")
    chosen = request(db, UserFactory(timezone="Europe/Paris"), listing, at)
    zoneless = UserFactory(timezone=None, locale=None)
    declined = request(db, zoneless, listing, at)
    bookings.accept_booking(db, actor_of(listing.mentor_profile.user), chosen.id)
    settled = list(db.scalars(select(OutboxEvent).where(OutboxEvent.aggregate_id == declined.id,
                                                        OutboxEvent.type == "booking.declined")))
    messages.handle_events(db, settled)
    (told,) = notifications_read(db, Notification.event_id.in_([e.id for e in settled]))
    free = told.body.split("Its next free times: ")[1]
    # Every time of the message in the mentor's zone, named (they used to be in UTC); none in UTC.
    assert free.count("(Europe/Paris)") == 3 and "(UTC)" not in told.body, told.body
