"""Deleting an account (``workflows/accounts/deletion.py``), called directly: what is cancelled and on which terms,
what is left as history, and what is left of the person."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from infra.config import get_settings
from models import (
    Booking,
    BookingStatus,
    CalendarFeed,
    FeedRevocation,
    Listing,
    MentorProfile,
    MentorshipSession,
    SessionStatus,
    SignIn,
    User,
    WebhookEndpoint,
)
from tests.database import refused
from tests.factories.accounts import PASSWORD, UserFactory, actor_of
from tests.factories.bookings import BookingFactory
from tests.factories.mentors import ListingFactory
from tests.webhook_domain import make_endpoint
from workflows.accounts import deletion as account_deletion
from workflows.accounts import refresh_tokens
from workflows.accounts.sign_ins import ClientInfo
from workflows.accounts.users import WrongCurrentPassword
from workflows.calendars import feeds as calendars
from workflows.errors import Unauthenticated
from workflows.sessions import lifecycle as sessions

NOW = (datetime.now(UTC) + timedelta(days=1)).replace(microsecond=0)


def delete(db: Session, user: User) -> None:
    account_deletion.delete_account(db, actor_of(user), current_password=PASSWORD, now=NOW)
    db.flush()
    db.expire_all()


def test_the_person_is_erased_and_every_credential_ends_but_the_row_stays(db: Session) -> None:
    user = UserFactory(display_name="Grace Hopper", timezone="Europe/Paris", locale="fr-FR")
    signed_in = refresh_tokens.sign_in(db, user, ClientInfo())
    calendars.issue_feed_token(db, actor_of(user))
    endpoint = make_endpoint(db, user)
    version = user.token_version
    delete(db, user)
    gone = db.get_one(User, user.id)
    assert (gone.email, gone.display_name, gone.timezone, gone.locale, gone.deleted_at) == (
        f"deleted-{user.id.hex}@deleted.invalid", "Deleted user", None, None, NOW)
    assert (gone.password_hash, gone.token_version) == (account_deletion.UNUSABLE_HASH, version + 1)
    assert db.get_one(SignIn, signed_in.sign_in_id).revoked_at == NOW
    assert db.get_one(CalendarFeed, user.id).revoked_reason == FeedRevocation.ACCOUNT_DELETED
    disabled = db.get_one(WebhookEndpoint, endpoint.id)
    assert (disabled.enabled, disabled.disabled_reason) == (False, "account deleted")


def test_a_wrong_password_deletes_nothing_and_a_deleted_account_cannot_be_deleted_again(db: Session) -> None:
    user = UserFactory()
    wrong = refused(db, WrongCurrentPassword, lambda: account_deletion.delete_account(
        db, actor_of(user), current_password="not it", now=NOW))
    assert wrong.message == "the current password is wrong"
    assert db.get_one(User, user.id).deleted_at is None
    delete(db, user)
    again = refused(db, Unauthenticated, lambda: account_deletion.delete_account(
        db, actor_of(user), current_password=PASSWORD, now=NOW))
    assert again.message == "the token's user no longer exists"


def test_a_mentors_profile_leaves_the_directory_and_their_listings_stop_taking_bookings(db: Session) -> None:
    listing = ListingFactory()
    profile = listing.mentor_profile
    profile.bio, profile.avatar_url = "About me", "https://img.example.com/me.png"
    delete(db, profile.user)
    unlisted = db.get_one(MentorProfile, profile.id)
    assert (unlisted.listed, unlisted.bio, unlisted.avatar_url) == (False, "", None)
    assert db.get_one(Listing, listing.id).active is False


def test_a_mentees_future_requests_are_withdrawn_and_a_mentors_declined_with_the_reason(db: Session) -> None:
    mentee, listing = UserFactory(), ListingFactory()
    mine = BookingFactory(mentee_user_id=mentee.id, start_time=NOW + timedelta(days=1))
    to_me = BookingFactory(listing=listing, start_time=NOW + timedelta(days=1))
    delete(db, mentee)
    delete(db, listing.mentor_profile.user)
    withdrawn, declined = db.get_one(Booking, mine.id), db.get_one(Booking, to_me.id)
    assert (withdrawn.status, withdrawn.cancel_reason) == (BookingStatus.CANCELLED, "account deleted")
    assert (declined.status, declined.decline_reason) == (BookingStatus.DECLINED, "account deleted")


def accepted_session(db: Session, mentee: User, start: datetime, listing: Listing | None = None
                     ) -> MentorshipSession:
    booking = BookingFactory(mentee_user_id=mentee.id, status=BookingStatus.ACCEPTED, start_time=start,
                             price_cents=8000, **({"listing": listing} if listing else {}))
    session = sessions.create_session_from_booking(db, booking.id)
    assert session is not None
    return session


def test_a_mentee_leaving_inside_the_window_pays_the_late_fee_as_a_cancellation_by_hand_would(db: Session) -> None:
    mentee = UserFactory()
    window = timedelta(hours=get_settings().cancellation_window_hours)
    soon = accepted_session(db, mentee, NOW + window - timedelta(hours=1, microseconds=1))
    later = accepted_session(db, mentee, NOW + window)
    delete(db, mentee)
    late, in_time = db.get_one(MentorshipSession, soon.id), db.get_one(MentorshipSession, later.id)
    assert (late.status, late.cancel_late, late.cancel_fee_cents, late.cancel_reason) == (
        SessionStatus.CANCELLED, True, 4000, "account deleted")
    assert (in_time.status, in_time.cancel_late, in_time.cancel_fee_cents) == (SessionStatus.CANCELLED, False, 0)


def test_an_accepted_booking_without_its_session_yet_gets_one_and_it_is_cancelled(db: Session) -> None:
    mentee = UserFactory()
    accepted = BookingFactory(mentee_user_id=mentee.id, status=BookingStatus.ACCEPTED,
                              start_time=NOW + timedelta(days=3))
    delete(db, mentee)
    session = db.scalars(select(MentorshipSession).where(MentorshipSession.booking_id == accepted.id)).one()
    assert (session.status, session.cancelled_by) == (SessionStatus.CANCELLED, "mentee")
    assert db.get_one(Booking, accepted.id).status == BookingStatus.CANCELLED


def test_what_started_or_ended_is_history_and_stays_as_it_is(db: Session) -> None:
    listing = ListingFactory()
    starting_now = accepted_session(db, UserFactory(), NOW, listing)  # not in the future: left as it is
    ended = accepted_session(db, UserFactory(), NOW - timedelta(days=2), listing)
    past_draft = BookingFactory(listing=listing, start_time=NOW - timedelta(days=1))
    future_draft = BookingFactory(listing=listing, start_time=NOW + timedelta(days=1))
    delete(db, listing.mentor_profile.user)
    assert db.get_one(MentorshipSession, starting_now.id).status == SessionStatus.SCHEDULED
    assert db.get_one(MentorshipSession, ended.id).status == SessionStatus.SCHEDULED
    assert db.get_one(Booking, past_draft.id).status == BookingStatus.DRAFT
    assert db.get_one(Booking, future_draft.id).status == BookingStatus.DECLINED
