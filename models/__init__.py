"""SQLAlchemy 2 models: the database is the last line of defence."""

from models.base import Base
from models.bookings import Booking
from models.enums import BookingStatus, HandlerStatus, ListingKind, SessionStatus
from models.listings import Listing
from models.mentors import AvailabilityWindow, MentorProfile, Skill, mentor_profile_skills
from models.outbox import IdempotencyKey, OutboxEvent, OutboxHandler
from models.sessions import MentorshipSession
from models.users import User

__all__ = [
    "AvailabilityWindow",
    "Base",
    "Booking",
    "BookingStatus",
    "HandlerStatus",
    "IdempotencyKey",
    "Listing",
    "ListingKind",
    "MentorProfile",
    "MentorshipSession",
    "OutboxEvent",
    "OutboxHandler",
    "SessionStatus",
    "Skill",
    "User",
    "mentor_profile_skills",
]
