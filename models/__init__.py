"""SQLAlchemy 2 models: the database is the last line of defence."""

from models.account_tokens import AccountToken
from models.attendance import AttendanceDispute
from models.audit import AdminAction, AuthEvent
from models.base import Base
from models.bookings import Booking
from models.bundles import Bundle, BundlePurchase
from models.calendars import BusyInterval, CalendarConnection, CalendarSource, CalendarWrite
from models.engagement import MentorStats, Notification, Review, ReviewEligibility
from models.enrolment import ParticipantAvailability, ProgrammeInvitation, ProgrammeJoinLink, ProgrammeParticipant
from models.enums import (
    AccountTokenPurpose,
    AuthEventKind,
    BookingStatus,
    CancelCause,
    CancelledBy,
    ConnectionStatus,
    CreditStatus,
    DisputeStatus,
    DraftStatus,
    EmailStatus,
    FeedRevocation,
    GoalStatus,
    HandlerStatus,
    InvitationStatus,
    ListingKind,
    MatchRunStatus,
    NoShow,
    PairingMode,
    PairingStatus,
    ParticipantRole,
    ParticipantStatus,
    ProgrammeStatus,
    ProposalStatus,
    SeriesStatus,
    SessionStatus,
    WaitlistStatus,
    WebhookMessageStatus,
)
from models.goals import ActionItem, PairingGoal, SessionGoal
from models.listings import Listing
from models.matching import MatchCandidate, MatchDraft, MatchRun
from models.mentors import AvailabilityWindow, DateOverride, MentorProfile, Skill, TimeOff, mentor_profile_skills
from models.outbox import IdempotencyKey, OutboxEvent, OutboxHandler
from models.pairings import Pairing, PairingSurvey
from models.programmes import Programme, ProgrammeCoordinator
from models.questions import Question, QuestionKind
from models.reminders import CalendarFeed, SessionReminder
from models.reports import PairingTally, ProgrammeTally, ProgrammeWeek
from models.reschedules import RescheduleProposal
from models.series import BookingSeries
from models.sessions import MentorshipSession
from models.sign_on import IdentityProvider, ProviderDomain, ProviderEnrolment, SignOnAttempt, UserIdentity
from models.teams import ListingMember, TeamInvitation
from models.tokens import RefreshToken, SignIn
from models.users import User
from models.waitlists import WaitlistEntry
from models.webhooks import WebhookAttempt, WebhookEndpoint, WebhookMessage

__all__ = [
    "AccountToken",
    "AccountTokenPurpose",
    "ActionItem",
    "AdminAction",
    "AttendanceDispute",
    "AuthEvent",
    "AuthEventKind",
    "AvailabilityWindow",
    "Base",
    "Booking",
    "BookingSeries",
    "BookingStatus",
    "Bundle",
    "BundlePurchase",
    "BusyInterval",
    "CalendarConnection",
    "CalendarFeed",
    "CalendarSource",
    "CalendarWrite",
    "CancelCause",
    "CancelledBy",
    "ConnectionStatus",
    "CreditStatus",
    "DateOverride",
    "DisputeStatus",
    "DraftStatus",
    "EmailStatus",
    "FeedRevocation",
    "GoalStatus",
    "HandlerStatus",
    "IdempotencyKey",
    "IdentityProvider",
    "InvitationStatus",
    "Listing",
    "ListingKind",
    "ListingMember",
    "MatchCandidate",
    "MatchDraft",
    "MatchRun",
    "MatchRunStatus",
    "MentorProfile",
    "MentorStats",
    "MentorshipSession",
    "NoShow",
    "Notification",
    "OutboxEvent",
    "OutboxHandler",
    "Pairing",
    "PairingGoal",
    "PairingMode",
    "PairingStatus",
    "PairingSurvey",
    "PairingTally",
    "ParticipantAvailability",
    "ParticipantRole",
    "ParticipantStatus",
    "Programme",
    "ProgrammeCoordinator",
    "ProgrammeInvitation",
    "ProgrammeJoinLink",
    "ProgrammeParticipant",
    "ProgrammeStatus",
    "ProgrammeTally",
    "ProgrammeWeek",
    "ProposalStatus",
    "ProviderDomain",
    "ProviderEnrolment",
    "Question",
    "QuestionKind",
    "RefreshToken",
    "RescheduleProposal",
    "Review",
    "ReviewEligibility",
    "SeriesStatus",
    "SessionGoal",
    "SessionReminder",
    "SessionStatus",
    "SignIn",
    "SignOnAttempt",
    "Skill",
    "TeamInvitation",
    "TimeOff",
    "User",
    "UserIdentity",
    "WaitlistEntry",
    "WaitlistStatus",
    "WebhookAttempt",
    "WebhookEndpoint",
    "WebhookMessage",
    "WebhookMessageStatus",
    "mentor_profile_skills",
]
