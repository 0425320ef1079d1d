"""Calendars (``workflows/calendars/feeds.py``), called directly: one working feed token per user, which sessions a feed
holds, and the invite of a booking whose session does not exist yet. What the feed looks like to a calendar
client is the API tests' (``tests/api/calendars/test_calendars.py``)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from email.utils import parseaddr
from typing import Any

from icalendar import Calendar
from sqlalchemy.orm import Session

from infra.config import get_settings
from models import BookingStatus, FeedRevocation, MentorProfile, MentorshipSession, User
from tests.database import refused
from tests.factories.accounts import UserFactory, actor_of
from tests.factories.bookings import BookingFactory
from tests.factories.mentors import ListingFactory
from tests.factories.sessions import make_session
from workflows.calendars import feeds as calendars
from workflows.errors import NotFound
from workflows.sessions import lifecycle as sessions

NOW = (datetime.now(UTC) + timedelta(days=1)).replace(microsecond=0)


def uids(feed: bytes) -> list[str]:
    return [str(event["UID"]) for event in Calendar.from_ical(feed).walk("VEVENT")]


def test_a_new_token_replaces_the_old_one_and_a_revoked_feed_opens_nothing(db: Session) -> None:
    user = UserFactory()
    first = calendars.issue_feed_token(db, actor_of(user))
    second = calendars.issue_feed_token(db, actor_of(user))
    assert calendars.feed_owner(db, second) == user.id
    replaced = refused(db, NotFound, lambda: calendars.feed_owner(db, first))
    assert replaced.message == "calendar not found"
    assert calendars.revoke_feed_token(db, user.id) is True
    assert calendars.revoke_feed_token(db, user.id) is False  # nothing working left to revoke
    status = calendars.feed_status(db, actor_of(user))
    assert (status.active, status.revoked_reason) == (False, FeedRevocation.REVOKED)
    refused(db, NotFound, lambda: calendars.feed_owner(db, second))


def test_a_deleted_users_feed_opens_nothing_whatever_its_token(db: Session) -> None:
    user = UserFactory()
    token = calendars.issue_feed_token(db, actor_of(user))
    user.deleted_at = NOW
    db.flush()
    assert refused(db, NotFound, lambda: calendars.feed_owner(db, token)).message == "calendar not found"


def test_a_feed_holds_the_sessions_that_ended_in_the_last_thirty_days_and_all_to_come(db: Session) -> None:
    listing = ListingFactory()
    history = NOW - calendars.FEED_HISTORY

    def session_at(start: datetime) -> MentorshipSession:
        booking = BookingFactory(listing=listing, status=BookingStatus.ACCEPTED, start_time=start)
        made = sessions.create_session_from_booking(db, booking.id)
        assert made is not None
        return made

    mentor = actor_of(listing.mentor_profile.user)
    upcoming = session_at(NOW + timedelta(days=2))
    # Ends a moment before the horizon; cancelled (a cancelled session stays in a feed), so the next may overlap it.
    dropped = session_at(history - timedelta(hours=1, microseconds=1))
    sessions.cancel_session(db, mentor, dropped.id, reason="ill", now=history - timedelta(days=1))
    just_kept = session_at(history - timedelta(hours=1))  # ends exactly at the horizon
    token = calendars.issue_feed_token(db, mentor)
    feed = calendars.calendar_feed(db, token, now=NOW)
    assert uids(feed) == [f"{just_kept.booking_id}@mentorship", f"{upcoming.booking_id}@mentorship"]


def test_the_invite_of_a_booking_whose_session_is_not_made_yet_has_the_sessions_uid(db: Session) -> None:
    booking = BookingFactory(status=BookingStatus.ACCEPTED, start_time=NOW + timedelta(days=3))
    invite = calendars.booking_invite(db, booking.mentee_user_id, booking.id)
    assert invite is not None
    calendar = Calendar.from_ical(invite)
    (event,) = calendar.walk("VEVENT")
    assert (str(calendar["METHOD"]), str(event["UID"]), int(event["SEQUENCE"])) == (
        "REQUEST", f"{booking.id}@mentorship", 0)
    assert event.decoded("DTSTART") == booking.start_time
    assert calendars.booking_invite(db, booking.mentee_user_id, UserFactory().id) is None


def people_of(invite: bytes) -> tuple[Any, list[Any]]:
    """The invite's ORGANIZER and its ATTENDEEs, as icalendar reads them."""
    (event,) = Calendar.from_ical(invite).walk("VEVENT")
    attendees = event.get("ATTENDEE", [])
    return event.get("ORGANIZER"), attendees if isinstance(attendees, list) else [attendees]


def test_an_invite_is_organised_by_the_services_mailbox_and_shows_no_one_the_other_persons_address(
        db: Session) -> None:
    mentor, mentee, session = make_session(db, NOW + timedelta(days=2))
    waiting = BookingFactory(status=BookingStatus.ACCEPTED, start_time=NOW + timedelta(days=3))  # no session yet
    mailbox = parseaddr(get_settings().smtp_from)[1]
    host = db.get_one(MentorProfile, waiting.mentor_profile_id).user
    for booking_id, reader, other, mentor_name in (
            (session.booking_id, mentee.user, mentor.user, mentor.user.display_name),
            (session.booking_id, mentor.user, mentee.user, mentor.user.display_name),
            (waiting.id, db.get_one(User, waiting.mentee_user_id), host, host.display_name)):
        invite = calendars.booking_invite(db, reader.id, booking_id)
        assert invite is not None
        organizer, attendees = people_of(invite)
        assert (str(organizer), str(organizer.params["CN"])) == (f"mailto:{mailbox}", mentor_name)
        assert [(str(one), one.params.get("RSVP"), one.params.get("CN")) for one in attendees] == [
            (f"mailto:{reader.email}", "FALSE", reader.display_name)]
        assert other.email.encode() not in invite.replace(b"\r\n ", b"")  # folded lines unfolded
