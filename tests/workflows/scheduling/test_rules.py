"""The scheduling rules (``workflows/scheduling/rules.py``), each honoured by the free slots, a request (409 naming the
rule), an accept and a team's choice: time off, date overrides, buffers, notice, horizon, slot steps, limits, and
a mentee's active bookings with one mentor. Called directly, on real PostgreSQL; the races are in
``test_scheduling_guarantees.py``, the time zones in ``test_scheduling_time_zones.py``."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from models import (
    AvailabilityWindow,
    Booking,
    BookingStatus,
    Listing,
    ListingKind,
    ListingMember,
    Notification,
    OutboxEvent,
    TimeOff,
)
from models.accounts.users import User
from tests import domain_calls
from tests.database import notifications_read, refused
from tests.domain_calls import accept
from tests.factories.accounts import UserFactory, actor_of
from tests.factories.bookings import BookingFactory
from tests.factories.mentors import ListingFactory, MentorProfileFactory
from workflows.bookings import lifecycle as bookings
from workflows.errors import Conflict, InvalidInput
from workflows.mentors import listings
from workflows.mentors import profiles as mentors
from workflows.mentors import time_off as mentor_schedule
from workflows.notifications import messages
from workflows.scheduling import slots
from workflows.sessions import group as group_sessions
from workflows.sessions import lifecycle as sessions

NOW = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)  # on every listing's slot grid
# A Monday 10:00 UTC more than a week ahead: its week is entirely to come.
MONDAY = (NOW + timedelta(days=14 - NOW.weekday())).replace(hour=10, minute=0, second=0)
HOUR = timedelta(hours=1)


def request(db: Session, listing: Listing, start: datetime, mentee: User | None = None) -> Booking:
    """A request on this module's clock."""
    return domain_calls.request(db, mentee, listing, start, now=NOW)


def starts(db: Session, listing: Listing, start: datetime, end: datetime) -> list[datetime]:
    return [slot.start_time for slot in slots.free_slots(db, listing.id, start=start, end=end, now=NOW)]


def refusal(db: Session, call: Callable[[], object]) -> tuple[str, str]:
    error = refused(db, Conflict, call)
    return str(error.details.get("rule")), error.message


def nine_to_five(listing: Listing, *weekdays: int) -> None:
    for weekday in weekdays or range(7):
        listing.mentor_profile.availability.append(AvailabilityWindow(
            id=uuid.uuid4(), weekday=weekday, start_minute=9 * 60, end_minute=17 * 60))


# --- time off ---------------------------------------------------------------------------------------------------


def test_time_off_closes_slots_requests_and_accepts_and_may_be_open_ended(db: Session) -> None:
    listing = ListingFactory()
    nine_to_five(listing)
    mentor = actor_of(listing.mentor_profile.user)
    pending = request(db, listing, MONDAY + 2 * HOUR)
    view = mentor_schedule.set_time_off(db, mentor, listing.mentor_profile_id, [
        mentor_schedule.TimeOffSpec(datetime.combine(MONDAY.date(), datetime.min.time()),
                                    datetime.combine(MONDAY.date() + timedelta(days=2), datetime.min.time()),
                                    "Conference")], now=NOW)
    # Pending requests inside it are declined by the system, with the reason the mentee reads, and the listing's
    # next free times (after the time off).
    assert view.declined_requests == [pending.id]
    db.refresh(pending)
    assert (pending.status, pending.decline_reason) == (BookingStatus.DECLINED, bookings.AWAY)
    declined = db.scalars(select(OutboxEvent).where(OutboxEvent.aggregate_id == pending.id,
                                                    OutboxEvent.type == "booking.declined")).one()
    messages.handle_events(db, [declined])
    (told,) = notifications_read(db, Notification.event_id == declined.id)
    assert told.user_id == pending.mentee_user_id
    assert f"was declined: {bookings.AWAY}. Its next free times: " in told.body
    day = MONDAY.replace(hour=0)
    assert starts(db, listing, day - timedelta(days=1), day + timedelta(days=3)) == [
        (MONDAY - timedelta(days=1)).replace(hour=h) for h in range(9, 17)] + [
        (MONDAY + timedelta(days=2)).replace(hour=h) for h in range(9, 17)]
    # A mentee is not told why: the mentor's time off is theirs (the mentor's own accept names it: below).
    assert refusal(db, lambda: request(db, listing, MONDAY + timedelta(days=1))) == (
        "unavailable", "the mentor is not available at that time")
    assert request(db, listing, MONDAY + timedelta(days=2)).status == BookingStatus.DRAFT
    # Until further notice: nothing from then on.
    mentor_schedule.set_time_off(db, mentor, listing.mentor_profile_id, [
        mentor_schedule.TimeOffSpec(MONDAY + timedelta(days=3), None)], now=NOW)
    assert starts(db, listing, MONDAY + timedelta(days=3), MONDAY + timedelta(days=40)) == []
    assert refusal(db, lambda: request(db, listing, MONDAY + timedelta(days=30)))[0] == "unavailable"
    draft = BookingFactory(listing=listing, start_time=MONDAY + timedelta(days=30))  # made before, in a race
    assert refusal(db, lambda: accept(db, draft)) == (
        "time_off", "the mentor is away then (UTC) until further notice")


def test_an_accept_inside_time_off_set_after_the_request_is_refused(db: Session) -> None:
    listing = ListingFactory()
    draft = BookingFactory(listing=listing, start_time=MONDAY)  # made before the time off, in a race
    db.add(TimeOff(id=uuid.uuid4(), mentor_profile_id=listing.mentor_profile_id, start_time=MONDAY - HOUR,
                   end_time=MONDAY + HOUR))
    db.flush()
    assert refusal(db, lambda: accept(db, draft))[0] == "time_off"


def test_time_off_over_accepted_bookings_lists_them_and_the_mentor_cancels_each_without_a_fee(db: Session) -> None:
    listing = ListingFactory(price_cents=9000)
    mentor = actor_of(listing.mentor_profile.user)
    booked = request(db, listing, NOW + timedelta(hours=3))  # inside the late-cancellation window
    accept(db, booked)
    session = sessions.create_session_from_booking(db, booked.id)
    assert session is not None
    view = mentor_schedule.set_time_off(db, mentor, listing.mentor_profile_id, [
        mentor_schedule.TimeOffSpec(NOW + HOUR, NOW + timedelta(days=1), "Ill")], now=NOW)
    # Not cancelled silently: listed, still accepted.
    assert [(b.booking.id, b.session_id) for b in view.affected_bookings] == [(booked.id, session.id)]
    db.refresh(booked)
    assert booked.status == BookingStatus.ACCEPTED
    sessions.cancel_session(db, mentor, session.id, reason="I am ill, sorry", now=NOW)
    db.refresh(booked)
    assert (booked.status, booked.cancel_late, booked.cancel_fee_cents) == (BookingStatus.CANCELLED, False, 0)
    assert mentor_schedule.get_time_off(db, mentor, listing.mentor_profile_id, now=NOW).affected_bookings == []


def test_time_off_periods_must_not_overlap_and_past_ones_are_not_kept(db: Session) -> None:
    profile = MentorProfileFactory()
    mentor = actor_of(profile.user)
    spec = mentor_schedule.TimeOffSpec
    with pytest.raises(InvalidInput, match="must not overlap"):
        mentor_schedule.set_time_off(db, mentor, profile.id, [spec(MONDAY, MONDAY + 2 * HOUR),
                                                              spec(MONDAY + HOUR, None)], now=NOW)
    view = mentor_schedule.set_time_off(db, mentor, profile.id, [
        spec(NOW - timedelta(days=3), NOW - timedelta(days=2)), spec(MONDAY, MONDAY + HOUR)], now=NOW)
    assert [(r.start_time, r.end_time) for r in view.ranges] == [(MONDAY, MONDAY + HOUR)]


# --- date overrides ---------------------------------------------------------------------------------------------


def test_a_date_override_replaces_that_dates_windows_or_closes_it(db: Session) -> None:
    listing = ListingFactory()
    nine_to_five(listing)
    mentor = actor_of(listing.mentor_profile.user)
    friday = (MONDAY + timedelta(days=4)).date()
    late = request(db, listing, datetime.combine(friday, datetime.min.time(), UTC).replace(hour=15))
    early = request(db, listing, datetime.combine(friday, datetime.min.time(), UTC).replace(hour=10))
    view = mentor_schedule.set_date_overrides(db, mentor, listing.mentor_profile_id, [
        mentor_schedule.OverrideSpec(friday, ((9 * 60, 13 * 60),)),
        mentor_schedule.OverrideSpec(friday + timedelta(days=3), ())], now=NOW)
    assert view.declined_requests == [late.id]
    assert [(b.status, b.decline_reason) for b in (db.get_one(Booking, late.id), db.get_one(Booking, early.id))] == [
        (BookingStatus.DECLINED, bookings.HOURS_CHANGED), (BookingStatus.DRAFT, None)]
    day = datetime.combine(friday, datetime.min.time(), UTC)
    assert starts(db, listing, day, day + timedelta(days=1)) == [day.replace(hour=h) for h in (9, 10, 11, 12)]
    assert starts(db, listing, day + timedelta(days=3), day + timedelta(days=4)) == []  # Monday: closed
    rule, message = refusal(db, lambda: request(db, listing, day.replace(hour=14)))
    assert (rule, message) == ("hours", "outside that date's hours (hours are in UTC)")
    # An accept honours a date override too (the request was made before it).
    draft = BookingFactory(listing=listing, start_time=day + timedelta(days=3, hours=10))
    assert refusal(db, lambda: accept(db, draft))[0] == "hours"


# --- buffers ----------------------------------------------------------------------------------------------------


def test_a_buffer_keeps_the_larger_of_the_two_sides_between_sessions_everywhere(db: Session) -> None:
    listing = ListingFactory(buffer_before_minutes=5, buffer_after_minutes=10)
    taken = request(db, listing, MONDAY)
    accept(db, taken)

    def at(delta: timedelta) -> Booking:  # a draft made before the accept, in a race: the accept checks it
        return BookingFactory(listing=listing, start_time=MONDAY + delta, buffer_before_minutes=5,
                              buffer_after_minutes=10)

    # After it, 10 minutes (its after-buffer, larger than the next one's 5 before); before it, 10 (the earlier's
    # after-buffer, larger than this one's 5 before). The mentor's accept names the rule; a mentee is told only
    # that the mentor is not available (below).
    assert refusal(db, lambda: accept(db, at(HOUR + timedelta(minutes=9)))) == (
        "buffer", "too close to another of the mentor's sessions: they keep 10 minutes between sessions")
    assert accept(db, at(HOUR + timedelta(minutes=10)))
    assert refusal(db, lambda: accept(db, at(-HOUR - timedelta(minutes=9))))[0] == "buffer"
    assert accept(db, at(-HOUR - timedelta(minutes=10)))
    # Slots step by the duration from 00:00 and skip what the buffers block; a request there is refused unnamed.
    day = MONDAY.replace(hour=0)
    assert MONDAY + 2 * HOUR not in starts(db, listing, day, day + timedelta(days=1))
    assert MONDAY - 2 * HOUR not in starts(db, listing, day, day + timedelta(days=1))
    assert refusal(db, lambda: request(db, listing, MONDAY + 2 * HOUR))[0] == "unavailable"
    assert MONDAY + 4 * HOUR in starts(db, listing, day, day + timedelta(days=1))


def test_a_booking_keeps_the_buffers_it_was_requested_with(db: Session) -> None:
    listing = ListingFactory(buffer_after_minutes=30, slot_step_minutes=15)
    mentor = actor_of(listing.mentor_profile.user)
    first = request(db, listing, MONDAY)
    accept(db, first)
    session = sessions.create_session_from_booking(db, first.id)
    assert (first.buffer_after_minutes, session.buffer_after_minutes if session else None) == (30, 30)
    listings.update_listing(db, mentor, listing.id, {"buffer_after_minutes": 0})
    # The accepted booking still keeps 30 minutes after it; a new request copies the listing's 0.
    assert refusal(db, lambda: request(db, listing, MONDAY + HOUR + timedelta(minutes=15)))[0] == "unavailable"
    later = request(db, listing, MONDAY + HOUR + timedelta(minutes=30))
    assert later.buffer_after_minutes == 0


def test_an_accept_declines_the_requests_its_buffers_make_impossible(db: Session) -> None:
    listing = ListingFactory(buffer_after_minutes=15, slot_step_minutes=15)
    chosen, close, clear = (request(db, listing, MONDAY + delta) for delta in
                            (timedelta(0), timedelta(minutes=60), timedelta(minutes=75)))
    accept(db, chosen)
    assert [(db.get_one(Booking, b.id).status) for b in (close, clear)] == [BookingStatus.DECLINED,
                                                                             BookingStatus.DRAFT]


def test_a_group_session_keeps_the_buffers_too(db: Session) -> None:
    group = ListingFactory(kind=ListingKind.GROUP.value, capacity=5, buffer_after_minutes=20)
    individual = ListingFactory(mentor_profile=group.mentor_profile, slot_step_minutes=15)
    mentor = actor_of(group.mentor_profile.user)
    group_sessions.schedule_group_session(db, mentor, group.id, start_time=MONDAY, now=NOW)
    assert refusal(db, lambda: request(db, individual, MONDAY + HOUR + timedelta(minutes=15)))[0] == "unavailable"
    assert request(db, individual, MONDAY + HOUR + timedelta(minutes=30)).status == BookingStatus.DRAFT
    assert refusal(db, lambda: group_sessions.schedule_group_session(
        db, mentor, group.id, start_time=MONDAY + HOUR + timedelta(minutes=19), now=NOW))[0] == "buffer"


# --- notice, horizon, slot steps ----------------------------------------------------------------------------------


def test_a_listings_notice_and_horizon_shape_slots_and_requests_but_not_accepts(db: Session) -> None:
    listing = ListingFactory(min_notice_minutes=24 * 60, max_days_ahead=10)
    tomorrow = NOW + timedelta(days=1)
    assert starts(db, listing, NOW, NOW + timedelta(days=2))[0] >= tomorrow
    rule, message = refusal(db, lambda: request(db, listing, tomorrow - timedelta(minutes=1)))
    assert (rule, message) == ("min_notice", "this listing needs 1 day of notice")
    horizon = NOW + timedelta(days=10)
    assert max(starts(db, listing, NOW + timedelta(days=8), NOW + timedelta(days=12))) < horizon
    assert refusal(db, lambda: request(db, listing, horizon))[0] == "max_days_ahead"
    draft = request(db, listing, horizon - HOUR)
    listings.update_listing(db, actor_of(listing.mentor_profile.user), listing.id, {"max_days_ahead": 2})
    assert refusal(db, lambda: request(db, listing, horizon - 2 * HOUR))[0] == "max_days_ahead"
    accept(db, draft)  # checked when requested, never at accept
    assert draft.status == BookingStatus.ACCEPTED


def test_the_global_notice_is_the_default(db: Session, configure: Callable[..., None]) -> None:
    configure(MIN_NOTICE_MINUTES="120")
    listing = ListingFactory()
    assert refusal(db, lambda: request(db, listing, NOW + timedelta(minutes=119)))[0] == "min_notice"
    listing.min_notice_minutes = 0
    assert request(db, listing, NOW + HOUR).status == BookingStatus.DRAFT


def test_a_slot_step_offers_starts_every_step_that_fit(db: Session) -> None:
    listing = ListingFactory(slot_step_minutes=30, duration_minutes=60)
    listing.mentor_profile.availability.append(AvailabilityWindow(
        id=uuid.uuid4(), weekday=0, start_minute=9 * 60, end_minute=11 * 60))
    day = MONDAY.replace(hour=0)
    assert starts(db, listing, day, day + timedelta(days=1)) == [
        day.replace(hour=9), day.replace(hour=9, minute=30), day.replace(hour=10)]


# --- limits -------------------------------------------------------------------------------------------------------


def test_a_mentors_day_limit_counts_every_listing_and_group_sessions(db: Session) -> None:
    listing = ListingFactory()
    listing.mentor_profile.max_sessions_per_day = 2
    group = ListingFactory(mentor_profile=listing.mentor_profile, kind=ListingKind.GROUP.value, capacity=3)
    group_sessions.schedule_group_session(db, actor_of(listing.mentor_profile.user), group.id, start_time=MONDAY,
                                          now=NOW)
    accept(db, request(db, listing, MONDAY + 2 * HOUR))
    day = MONDAY.replace(hour=0)
    assert starts(db, listing, day, day + timedelta(days=1)) == []
    assert starts(db, listing, day + timedelta(days=1), day + timedelta(days=2))  # the next day is open
    rule, message = refusal(db, lambda: request(db, listing, MONDAY + 4 * HOUR))
    assert (rule, message) == ("max_sessions_per_day",
                               "the mentor takes at most 2 sessions a day, and that day is full")
    draft = BookingFactory(listing=listing, start_time=MONDAY + 5 * HOUR)
    assert refusal(db, lambda: accept(db, draft))[0] == "max_sessions_per_day"


def test_a_week_limit_and_a_listings_own_limits(db: Session) -> None:
    listing = ListingFactory(max_sessions_per_day=1)
    other = ListingFactory(mentor_profile=listing.mentor_profile)
    listing.mentor_profile.max_sessions_per_week = 3
    accept(db, request(db, listing, MONDAY))
    # The listing's day is full; another listing of the mentor still takes that day.
    assert refusal(db, lambda: request(db, listing, MONDAY + 2 * HOUR))[0] == "max_sessions_per_day"
    accept(db, request(db, other, MONDAY + 2 * HOUR))
    accept(db, request(db, other, MONDAY + timedelta(days=2)))
    week = MONDAY.replace(hour=0)
    assert starts(db, other, week, week + timedelta(days=7)) == []
    assert refusal(db, lambda: request(db, other, MONDAY + timedelta(days=6)))[0] == "max_sessions_per_week"
    assert starts(db, other, week + timedelta(days=7), week + timedelta(days=8))  # the next week is open


def test_a_mentee_holds_at_most_the_active_bookings_allowed_with_one_mentor(
        db: Session, configure: Callable[..., None]) -> None:
    configure(MAX_ACTIVE_BOOKINGS_PER_MENTOR="2")
    listing, mentee = ListingFactory(), UserFactory()
    other_listing = ListingFactory(mentor_profile=listing.mentor_profile)
    accept(db, request(db, listing, MONDAY, mentee))
    request(db, other_listing, MONDAY + 3 * HOUR, mentee)  # pending counts too, on any listing of the mentor
    rule, message = refusal(db, lambda: request(db, listing, MONDAY + 6 * HOUR, mentee))
    assert rule == "max_active_bookings_per_mentor"
    assert message.startswith("you hold 2 upcoming bookings and requests with this mentor")
    assert request(db, ListingFactory(), MONDAY + 6 * HOUR, mentee).status == BookingStatus.DRAFT  # another mentor
    listing.max_active_bookings_per_mentor = 3  # a listing's own setting wins
    assert request(db, listing, MONDAY + 6 * HOUR, mentee).status == BookingStatus.DRAFT


# --- a team's choice ----------------------------------------------------------------------------------------------


def test_a_team_chooses_a_member_whose_rules_allow_the_time(db: Session) -> None:
    listing = ListingFactory()
    first, second = MentorProfileFactory(), MentorProfileFactory()
    for position, member in enumerate((first, second)):
        db.add(ListingMember(listing_id=listing.id, mentor_profile_id=member.id, position=position))
    db.flush()
    mentor_schedule.set_time_off(db, actor_of(first.user), first.id, [
        mentor_schedule.TimeOffSpec(MONDAY - HOUR, MONDAY + HOUR)], now=NOW)
    assert request(db, listing, MONDAY).mentor_profile_id == second.id
    second.max_sessions_per_day = 1
    bookings.accept_booking(db, actor_of(second.user), db.scalars(
        select(Booking.id).where(Booking.mentor_profile_id == second.id)).one())
    assert request(db, listing, MONDAY - 3 * HOUR).mentor_profile_id == first.id  # second's day is full
    rule, message = refusal(db, lambda: request(db, listing, MONDAY))  # first away, second's day full
    assert (rule, message) == ("unavailable", "no mentor of this listing's team is free at that time")


# --- the history ----------------------------------------------------------------------------------------------


def test_each_change_of_the_schedule_is_in_the_mentors_history(db: Session) -> None:
    profile = MentorProfileFactory()
    listing = ListingFactory(mentor_profile=profile)
    mentor = actor_of(profile.user)
    mentors.set_availability(db, mentor, profile.id, [mentors.WindowSpec(0, 540, 1020)])
    mentor_schedule.set_time_off(db, mentor, profile.id, [mentor_schedule.TimeOffSpec(MONDAY, MONDAY + HOUR)],
                                 now=NOW)
    mentor_schedule.set_date_overrides(db, mentor, profile.id, [
        mentor_schedule.OverrideSpec(date(MONDAY.year + 1, 1, 2), ())], now=NOW)
    listings.update_listing(db, mentor, listing.id, {"buffer_after_minutes": 10})
    listings.update_listing(db, mentor, listing.id, {"title": "Unchanged slots"})  # no schedule change
    # One transaction here, so one timestamp: compared by kind (each change is its own request in use).
    changes = {c["change"]: c for c in db.scalars(select(OutboxEvent.payload).where(
        OutboxEvent.aggregate_id == profile.id, OutboxEvent.type == "schedule.changed"))}
    assert sorted(changes) == ["availability", "date_overrides", "rules", "time_off"]
    time_off = changes["time_off"]
    assert (time_off["start_time"], time_off["end_time"]) == (MONDAY.isoformat(), (MONDAY + HOUR).isoformat())
