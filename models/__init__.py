"""SQLAlchemy 2 models: the database is the last line of defence."""

from models.accounts.account_tokens import AccountToken
from models.accounts.audit import AdminAction, AuthEvent
from models.accounts.second_steps import (
    Authenticator,
    RecoveryCode,
    SecondStepChallenge,
    SecondStepRequirement,
    SecurityKey,
)
from models.accounts.telling import DigestPeriod, EmailChoice, EmailDigest, NotificationPreference, Telling
from models.accounts.tokens import RefreshToken, SignIn
from models.accounts.users import User
from models.base import Base
from models.bookings.bookings import Booking
from models.bookings.bundles import Bundle, BundlePurchase
from models.bookings.reschedules import RescheduleProposal
from models.bookings.series import BookingSeries
from models.calendars import BusyInterval, CalendarConnection, CalendarSource, CalendarWrite
from models.conversations import (
    Announcement,
    Audience,
    Block,
    Conversation,
    ConversationKind,
    ConversationRead,
    ConversationReport,
    Message,
    PointsTo,
    ReportReason,
)
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
    PreferenceKind,
    ProgrammeStatus,
    ProposalStatus,
    SeriesStatus,
    SessionStatus,
    WaitlistStatus,
    WebhookMessageStatus,
)
from models.matching import MatchCandidate, MatchDraft, MatchPreference, MatchRun
from models.mentors.listings import Listing
from models.mentors.mentors import (
    AvailabilityWindow,
    DateOverride,
    MentorProfile,
    Skill,
    TimeOff,
    mentor_profile_skills,
)
from models.mentors.teams import ListingMember, TeamInvitation
from models.outbox import IdempotencyKey, OutboxEvent, OutboxHandler
from models.programmes.enrolment import (
    ParticipantAvailability,
    ProgrammeInvitation,
    ProgrammeJoinLink,
    ProgrammeParticipant,
)
from models.programmes.goals import ActionItem, PairingGoal, SessionGoal
from models.programmes.nudges import NudgeSent, NudgeStep, ProgrammeNudge
from models.programmes.pairings import Pairing, PairingSurvey
from models.programmes.programmes import CoordinatorInvitation, Programme, ProgrammeCoordinator
from models.questions import Question, QuestionKind
from models.reports import PairingTally, ProgrammeTally, ProgrammeWeek
from models.scim import ScimGroup, ScimGroupMember, ScimToken, ScimUser
from models.sessions.attendance import AttendanceDispute
from models.sessions.engagement import MentorStats, Notification, Review, ReviewEligibility
from models.sessions.reminders import CalendarFeed, SessionReminder
from models.sessions.sessions import MentorshipSession
from models.sessions.waitlists import WaitlistEntry
from models.sign_on import (
    IdentityProvider,
    Protocol,
    ProviderDomain,
    ProviderEnrolment,
    SamlAssertionSeen,
    SignOnAttempt,
    UserIdentity,
)
from models.webhooks import WebhookAttempt, WebhookEndpoint, WebhookMessage

__all__ = [
    "AccountToken",
    "AccountTokenPurpose",
    "ActionItem",
    "AdminAction",
    "Announcement",
    "AttendanceDispute",
    "Audience",
    "AuthEvent",
    "AuthEventKind",
    "Authenticator",
    "AvailabilityWindow",
    "Base",
    "Block",
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
    "Conversation",
    "ConversationKind",
    "ConversationRead",
    "ConversationReport",
    "CoordinatorInvitation",
    "CreditStatus",
    "DateOverride",
    "DigestPeriod",
    "DisputeStatus",
    "DraftStatus",
    "EmailChoice",
    "EmailDigest",
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
    "MatchPreference",
    "MatchRun",
    "MatchRunStatus",
    "MentorProfile",
    "MentorStats",
    "MentorshipSession",
    "Message",
    "NoShow",
    "Notification",
    "NotificationPreference",
    "NudgeSent",
    "NudgeStep",
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
    "PointsTo",
    "PreferenceKind",
    "Programme",
    "ProgrammeCoordinator",
    "ProgrammeInvitation",
    "ProgrammeJoinLink",
    "ProgrammeNudge",
    "ProgrammeParticipant",
    "ProgrammeStatus",
    "ProgrammeTally",
    "ProgrammeWeek",
    "ProposalStatus",
    "Protocol",
    "ProviderDomain",
    "ProviderEnrolment",
    "Question",
    "QuestionKind",
    "RecoveryCode",
    "RefreshToken",
    "ReportReason",
    "RescheduleProposal",
    "Review",
    "ReviewEligibility",
    "SamlAssertionSeen",
    "ScimGroup",
    "ScimGroupMember",
    "ScimToken",
    "ScimUser",
    "SecondStepChallenge",
    "SecondStepRequirement",
    "SecurityKey",
    "SeriesStatus",
    "SessionGoal",
    "SessionReminder",
    "SessionStatus",
    "SignIn",
    "SignOnAttempt",
    "Skill",
    "TeamInvitation",
    "Telling",
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
