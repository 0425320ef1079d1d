"""SQLAlchemy 2 models: the database is the last line of defence."""

from models.base import Base
from models.bookings import Booking
from models.bundles import Bundle, BundlePurchase
from models.engagement import MentorStats, Notification, Review, ReviewEligibility
from models.enums import BookingStatus, HandlerStatus, ListingKind, SessionStatus
from models.listings import Listing
from models.mentors import AvailabilityWindow, MentorProfile, Skill, mentor_profile_skills
from models.outbox import IdempotencyKey, OutboxEvent, OutboxHandler
from models.sessions import MentorshipSession
from models.users import User
from models.webhooks import WebhookAttempt, WebhookEndpoint, WebhookMessage

__all__ = [
    "AvailabilityWindow",
    "Base",
    "Booking",
    "BookingStatus",
    "Bundle",
    "BundlePurchase",
    "HandlerStatus",
    "IdempotencyKey",
    "Listing",
    "ListingKind",
    "MentorProfile",
    "MentorStats",
    "MentorshipSession",
    "Notification",
    "OutboxEvent",
    "OutboxHandler",
    "Review",
    "ReviewEligibility",
    "SessionStatus",
    "Skill",
    "User",
    "WebhookAttempt",
    "WebhookEndpoint",
    "WebhookMessage",
    "mentor_profile_skills",
]
