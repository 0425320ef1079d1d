"""Series of meetings (``workflows/bookings/series.py``): weekly times that keep the mentor's wall-clock time across a
change of summer time, a time that is not free left out with the reason, one accept for the series (each time its own
booking, its session made once), a time taken meanwhile skipped, bundle credits per time (the number missing when
too few), a series' times answered only with it, counted as one pending request, and cancelling this and all
following."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import Connection, event, select
from sqlalchemy.orm import Session

from models import (
    Booking,
    BookingStatus,
    BundlePurchase,
    CalendarConnection,
    ConnectionStatus,
    MentorshipSession,
    Notification,
    OutboxEvent,
)
from tests.database import notifications_read, refused
from tests.factories.accounts import UserFactory, actor_of
from tests.factories.bookings import BookingFactory
from tests.factories.mentors import ListingFactory
from workflows.accounts import deletion as account_deletion
from workflows.actors import Actor
from workflows.bookings import bundles, requests, reschedules, series, series_requests
from workflows.bookings import lifecycle as bookings
from workflows.errors import Conflict, InvalidInput
from workflows.notifications import mail, messages
from workflows.roles import Role
from workflows.sessions import lifecycle as sessions

PARIS = "Europe/Paris"
NOW = datetime.now(UTC)
# A Tuesday at 18:00 in Paris, in winter time, twelve days before the clocks change (the last Sunday of March).
_CHANGE = date(NOW.year + 1, 3, 31) - timedelta(days=(date(NOW.year + 1, 3, 31).weekday() + 1) % 7)
FIRST = datetime.combine(_CHANGE - timedelta(days=12), time(18))


def paris(moment: datetime) -> datetime:
    """A wall-clock time in Paris, as an instant."""
    return moment.replace(tzinfo=ZoneInfo(PARIS)).astimezone(UTC)


@pytest.fixture
def parties(db: Session) -> tuple[Actor, Actor, Any]:
    listing = ListingFactory(title="Thesis pairing")
    listing.mentor_profile.timezone = PARIS
    db.flush()
    return actor_of(listing.mentor_profile.user), actor_of(UserFactory(display_name="Ada Lovelace")), listing


def shape(listing: Any, **changes: Any) -> series_requests.Shape:
    return series_requests.Shape(**{"listing_id": listing.id, "first_start": paris(FIRST), "every_weeks": 1, "count": 8,
                           **changes})


def test_weekly_times_keep_the_mentors_wall_clock_across_summer_time_and_a_busy_one_is_left_out(
        db: Session, parties: tuple[Actor, Actor, Any]) -> None:
    mentor, mentee, listing = parties
    # Another mentee holds the third Tuesday.
    other = requests.request_booking(db, actor_of(UserFactory()), listing_id=listing.id,
                                     start_time=paris(FIRST + timedelta(weeks=2)))
    bookings.accept_booking(db, mentor, other.id)

    planned = series_requests.preview(db, mentee, shape(listing))
    assert [p.start for p in planned] == [paris(FIRST + timedelta(weeks=n)) for n in range(8)]
    assert {p.start.astimezone(UTC).hour for p in planned} == {17, 16}  # 18:00 in Paris, winter then summer time
    assert [(p.free, p.rule) for p in planned][2] == (False, "unavailable")  # another's booking: the mentor's
    assert sum(p.free for p in planned) == 7

    made = series_requests.request(db, mentee, shape(listing), notes="Chapter by chapter")
    drafts = series.bookings_of(db, [made.id])[made.id]
    assert len(drafts) == 7 and {d.status for d in drafts} == {BookingStatus.DRAFT}
    assert [left["rule"] for left in made.left_out] == ["unavailable"]
    requested = db.scalars(select(OutboxEvent).where(OutboxEvent.aggregate_id == made.id)).one()
    assert requested.type == "booking_series.requested" and len(requested.payload["occurrences"]) == 8
    # One request, told once: no booking.requested per time.
    assert db.scalars(select(OutboxEvent).where(OutboxEvent.type == "booking.requested",
                                                OutboxEvent.aggregate_id.in_([d.id for d in drafts]))).all() == []

    # Dropped and moved before sending: the mentee's choice, each checked.
    moved_to = paris(FIRST + timedelta(weeks=2, days=1))
    again = series_requests.preview(db, mentee, shape(listing, exclude=(paris(FIRST + timedelta(weeks=7)),),
                                             moves={paris(FIRST + timedelta(weeks=2)): moved_to}))
    assert (again[2].start, again[2].free, again[2].moved_from) == (moved_to, True, paris(FIRST + timedelta(weeks=2)))
    assert (again[7].free, again[7].reason) == (False, series_requests.DROPPED)


def test_one_accept_makes_each_time_a_booking_with_its_session_once_and_skips_a_time_taken_meanwhile(
        db: Session, parties: tuple[Actor, Actor, Any]) -> None:
    mentor, mentee, listing = parties
    made = series_requests.request(db, mentee, shape(listing, count=4))
    week = [paris(FIRST + timedelta(weeks=n)) for n in range(4)]
    # The second time taken by another request accepted first: the system declines that time at once, and says so.
    other = requests.request_booking(db, actor_of(UserFactory()), listing_id=listing.id, start_time=week[1])
    bookings.accept_booking(db, mentor, other.id)
    # The mentor now takes one session a day, and the fourth time's day has one: that time is skipped at the accept.
    listing.mentor_profile.max_sessions_per_day = 1
    db.flush()
    morning = requests.request_booking(db, actor_of(UserFactory()), listing_id=listing.id,
                                       start_time=week[3] - timedelta(hours=8))
    bookings.accept_booking(db, mentor, morning.id)

    error = refused(db, Conflict, lambda: bookings.accept_booking(db, mentor, series.first_pending(db, made.id)))
    assert "answer the series" in error.message
    accepted = series.accept(db, mentor, made.id)
    assert accepted.series.status == "accepted"
    times = {b.start_time: b for b in series.bookings_of(db, [made.id])[made.id]}
    assert [times[t].status for t in week] == [BookingStatus.ACCEPTED, BookingStatus.DECLINED,
                                               BookingStatus.ACCEPTED, BookingStatus.DECLINED]
    assert times[week[1]].decline_reason == bookings.ANOTHER_ACCEPTED
    assert times[week[3]].decline_reason.startswith(series.TAKEN_MEANWHILE)
    payload = series.series_payload(accepted.series, list(times.values()))
    assert (payload["accepted_count"], payload["skipped_count"]) == (2, 1)

    # Each accepted time's session, made once from its booking.accepted, however often the work runs.
    ids = [times[week[0]].id, times[week[2]].id]
    for booking_id in ids + ids:
        sessions.create_session_from_booking(db, booking_id)
    assert len(db.scalars(select(MentorshipSession).where(MentorshipSession.booking_id.in_(ids))).all()) == 2

    # The mentee hears of the time declined when it was taken, and of the series once, not of each time.
    messages.handle_events(db, list(db.scalars(select(OutboxEvent).where(OutboxEvent.created_at >= NOW))))
    told = notifications_read(db, Notification.user_id == mentee.user_id)
    assert sorted(n.title for n in told) == ["Booking declined", "Series accepted"]
    accepted_note = next(n for n in told if n.title == "Series accepted")
    assert "2 meetings" in accepted_note.body and "1 of the times was taken meanwhile" in accepted_note.body
    # Its email carries an invite for each time accepted.
    invites = mail.email_attachments(db, accepted_note)
    assert [a.filename for a in invites] == ["invite-1.ics", "invite-2.ics"]
    assert all(f"{times[week[n]].id}@mentorship".encode() in invite.content
               for n, invite in zip((0, 2), invites, strict=True))


def test_bundle_credits_are_held_per_time_refused_with_the_number_missing_and_returned_on_decline(
        db: Session, parties: tuple[Actor, Actor, Any]) -> None:
    mentor, mentee, listing = parties
    offer = bundles.create_bundle(db, mentor, listing.id, sessions_count=5, price_cents=20000, valid_days=400)
    purchase = bundles.purchase_bundle(db, mentee, offer.id, valid_from=NOW)
    error = refused(db, Conflict, lambda: series_requests.request(db, mentee, shape(listing, count=8),
                                                          bundle_purchase_id=purchase.id))
    assert error.details["missing"] == 3 and "3 missing" in error.message
    assert db.get_one(BundlePurchase, purchase.id).remaining_sessions == 5  # nothing held

    made = series_requests.request(db, mentee, shape(listing, count=4), bundle_purchase_id=purchase.id)
    db.refresh(purchase)
    assert purchase.remaining_sessions == 1
    series.decline(db, mentor, made.id, reason="Booked up this spring")
    db.refresh(purchase)
    assert purchase.remaining_sessions == 5
    assert made.status == "declined"


def test_a_series_is_one_pending_request_and_its_times_are_only_answered_with_it(
        db: Session, parties: tuple[Actor, Actor, Any]) -> None:
    _mentor, mentee, listing = parties
    made = series_requests.request(db, mentee, shape(listing, count=6))
    # The mentee may still ask this mentor for other times (MAX_PENDING_REQUESTS_PER_MENTOR is 3): the series is one.
    for hours in (1, 2):
        requests.request_booking(db, mentee, listing_id=listing.id, start_time=paris(FIRST + timedelta(hours=hours)))
    error = refused(db, Conflict, lambda: requests.request_booking(
        db, mentee, listing_id=listing.id, start_time=paris(FIRST + timedelta(hours=3))))
    assert "3 pending requests to this mentor" in error.message
    error = refused(db, Conflict, lambda: bookings.cancel_booking(db, mentee, series.first_pending(db, made.id)))
    assert "answer the series" in error.message
    series.withdraw(db, mentee, made.id)
    assert {b.status for b in series.bookings_of(db, [made.id])[made.id]} == {BookingStatus.CANCELLED}


def test_this_and_all_following_are_cancelled_by_the_policy_and_a_mentor_ends_a_series_with_a_reason(
        db: Session, parties: tuple[Actor, Actor, Any]) -> None:
    mentor, mentee, listing = parties
    made = series_requests.request(db, mentee, shape(listing, count=5))
    series.accept(db, mentor, made.id)
    times = series.bookings_of(db, [made.id])[made.id]
    for one in times:
        assert sessions.create_session_from_booking(db, one.id) is not None  # as the worker makes them
    # The fifth time moved on its own, a day later, by agreement: it stays in the series.
    proposal = reschedules.propose(db, mentee, times[4].id, [times[4].start_time + timedelta(days=1)])
    moved = reschedules.accept(db, mentor, proposal.id, times[4].start_time + timedelta(days=1)).booking
    assert moved.series_id == made.id
    sessions.create_session_from_booking(db, moved.id)

    cut = times[3].start_time
    series.cancel(db, mentee, made.id, from_time=cut)
    after = {b.id: b.status for b in series.bookings_of(db, [made.id])[made.id]}
    assert [after[b.id] for b in times[:4]] == [BookingStatus.ACCEPTED] * 3 + [BookingStatus.CANCELLED]
    assert (after[times[4].id], after[moved.id]) == (BookingStatus.RESCHEDULED, BookingStatus.CANCELLED)
    times = [*times[:4], moved]
    cancelled = db.scalars(select(MentorshipSession).where(
        MentorshipSession.booking_id.in_([b.id for b in times[3:]]))).all()
    assert {(s.status, s.cancelled_by, s.cancel_late) for s in cancelled} == {("cancelled", "mentee", False)}
    assert made.status == "accepted" and made.cancelled_from == cut

    refused(db, InvalidInput, lambda: series.cancel(db, mentor, made.id))  # a mentor says why
    series.cancel(db, mentor, made.id, reason="I am moving abroad")
    assert made.status == "ended" and made.end_reason == "I am moving abroad"
    assert {b.status for b in series.bookings_of(db, [made.id])[made.id]} == {BookingStatus.CANCELLED,
                                                                               BookingStatus.RESCHEDULED}
    ended = db.scalars(select(OutboxEvent).where(OutboxEvent.aggregate_id == made.id,
                                                 OutboxEvent.type == "booking_series.cancelled")
                       .order_by(OutboxEvent.created_at)).all()
    assert [e.payload["cancelled_by"] for e in ended] == [Role.MENTEE.value, Role.MENTOR.value]


def test_a_time_the_constraints_refuse_at_the_accept_is_skipped_and_the_others_accepted_one_by_one(
        db: Session, parties: tuple[Actor, Actor, Any]) -> None:
    mentor, mentee, listing = parties
    made = series_requests.request(db, mentee, shape(listing, count=3))
    second = paris(FIRST + timedelta(weeks=1))
    # The mentee's accepted booking elsewhere at the second time, written as a race would leave it (no request of
    # theirs was settled): only the exclusion constraint sees it.
    BookingFactory(mentee_user_id=mentee.user_id, start_time=second, end_time=second + timedelta(hours=1),
                   status=BookingStatus.ACCEPTED)
    series.accept(db, mentor, made.id)
    times = {b.start_time: b for b in series.bookings_of(db, [made.id])[made.id]}
    assert [times[paris(FIRST + timedelta(weeks=n))].status for n in range(3)] == [
        BookingStatus.ACCEPTED, BookingStatus.DECLINED, BookingStatus.ACCEPTED]
    assert times[second].decline_reason == (
        f"{series.TAKEN_MEANWHILE}: the mentee already has an accepted booking or a seat at this time")
    assert len(db.scalars(select(OutboxEvent).where(OutboxEvent.type == "booking.accepted",
                                                    OutboxEvent.aggregate_id.in_([b.id for b in times.values()]))
                          ).all()) == 2


def test_a_time_moved_near_another_is_accepted_one_by_one_so_the_rules_see_both(
        db: Session, parties: tuple[Actor, Actor, Any]) -> None:
    mentor, mentee, listing = parties
    week = [paris(FIRST + timedelta(weeks=n)) for n in range(3)]
    # The second time moved to the day after the first: one week holds two of the series' times.
    made = series_requests.request(db, mentee, shape(listing, count=3, moves={week[1]: week[0] + timedelta(days=1)}))
    listing.mentor_profile.max_sessions_per_week = 1  # set after the request: only the accept can see it
    db.flush()
    series.accept(db, mentor, made.id)
    times = {b.start_time: b for b in series.bookings_of(db, [made.id])[made.id]}
    assert [times[t].status for t in (week[0], week[0] + timedelta(days=1), week[2])] == [
        BookingStatus.ACCEPTED, BookingStatus.DECLINED, BookingStatus.ACCEPTED]
    assert "at most 1 sessions a week" in (times[week[0] + timedelta(days=1)].decline_reason or "")


def test_times_moved_too_close_are_refused_and_a_pending_series_does_not_stop_an_account_deletion(
        db: Session, parties: tuple[Actor, Actor, Any]) -> None:
    mentor, mentee, listing = parties
    listing.slot_step_minutes = 30  # a time moved half an hour is one of its slots
    week = [paris(FIRST + timedelta(weeks=n)) for n in range(3)]
    error = refused(db, InvalidInput, lambda: series_requests.request(
        db, mentee, shape(listing, count=3, moves={week[2]: week[1] + timedelta(minutes=30)})))
    assert "too close" in error.message
    asked = series_requests.request(db, mentee, shape(listing, count=3))
    later = shape(listing, count=2, first_start=week[0] + timedelta(hours=3))
    other = series_requests.request(db, actor_of(UserFactory()), later)
    account_deletion.cancel_future_commitments(db, mentee, datetime.now(UTC))
    assert asked.status == "withdrawn"
    account_deletion.cancel_future_commitments(db, mentor, datetime.now(UTC))
    assert other.status == "declined"
    assert {b.status for b in series.bookings_of(db, [asked.id, other.id])[other.id]} == {BookingStatus.DECLINED}


def test_a_series_accept_reads_the_mentors_calendars_with_its_turns_and_writes_nothing_when_one_is_stale(
        db: Session, connection: Connection, parties: tuple[Actor, Actor, Any]) -> None:
    """As a single accept: the calendars' freshness comes in the statement that takes the turns (no statement of
    its own), and a calendar read before ``fresh_since`` stops the accept before it writes anything."""
    mentor, mentee, listing = parties
    made = series_requests.request(db, mentee, shape(listing, count=3))
    now = datetime.now(UTC)
    calendar = CalendarConnection(id=uuid.uuid4(), mentor_profile_id=listing.mentor_profile_id, kind="ics",
                                  host="calendar.example.com", credentials="sealed", status=ConnectionStatus.ACTIVE,
                                  synced_at=now - timedelta(hours=1))
    db.add(calendar)
    db.flush()
    with pytest.raises(bookings.CalendarsStale), db.begin_nested():
        series.accept(db, mentor, made.id, fresh_since=now - timedelta(minutes=5))
    assert {b.status for b in db.scalars(select(Booking).where(Booking.series_id == made.id))} == {BookingStatus.DRAFT}
    calendar.synced_at = now - timedelta(minutes=1)
    db.flush()
    read: list[str] = []

    def seen(*args: Any) -> None:
        read.append(args[2])

    event.listen(connection, "before_cursor_execute", seen)
    try:
        accepted = series.accept(db, mentor, made.id, fresh_since=now - timedelta(minutes=5))
    finally:
        event.remove(connection, "before_cursor_execute", seen)
    assert accepted.series.status == "accepted"
    assert sum("calendar_connections" in text for text in read) == 1  # in the turns' statement, nothing else
