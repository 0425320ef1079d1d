"""A stream watching a team listing's slots hears of every member's calendar changes, not only the owner's."""

from __future__ import annotations

from sqlalchemy.orm import Session

from models import ListingMember
from tests.factories.accounts import UserFactory
from tests.factories.bookings import BookingFactory
from tests.factories.mentors import ListingFactory, MentorProfileFactory
from workflows import events, payloads
from workflows.live import frames as live
from workflows.live.replay import mentors_of_listings


def test_a_members_accepted_booking_changes_the_team_listings_slots(db: Session) -> None:
    team, plain = ListingFactory(), ListingFactory()
    member = MentorProfileFactory()
    db.add_all([ListingMember(listing_id=team.id, mentor_profile_id=team.mentor_profile_id, position=0),
                ListingMember(listing_id=team.id, mentor_profile_id=member.id, position=1)])
    db.flush()
    watched = mentors_of_listings(db, [team.id, plain.id])
    assert watched == {team.id: frozenset({team.mentor_profile_id, member.id}),
                       plain.id: frozenset({plain.mentor_profile_id})}
    booking = BookingFactory(listing=team, mentor_profile_id=member.id)
    event = events.parse("0b9f7c5a-3f2e-4d1a-8c6b-5e4d3c2b1a09", "booking.accepted", payloads.booking_payload(booking))
    (frame,) = live.frames(event, UserFactory().id, None, watched)
    assert f'"listing_id":"{team.id}"' in frame and '"slots_changed":true' in frame
