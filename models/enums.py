"""Enumerations stored as text with check constraints."""

from __future__ import annotations

from enum import StrEnum
from typing import TypeVar

from sqlalchemy import Enum

E = TypeVar("E", bound=StrEnum)


class ListingKind(StrEnum):
    INDIVIDUAL = "individual"
    GROUP = "group"


class BookingStatus(StrEnum):
    DRAFT = "draft"
    ACCEPTED = "accepted"
    DECLINED = "declined"
    CANCELLED = "cancelled"
    EXPIRED = "expired"
    RESCHEDULED = "rescheduled"  # moved by agreement: a new booking at the new time follows it


class SeriesStatus(StrEnum):
    """A series of weekly (or fortnightly) meetings requested at once (``workflows.bookings.series``)."""

    REQUESTED = "requested"  # its occurrences are drafts, answered together
    ACCEPTED = "accepted"  # its occurrences were accepted (those still free), each its own booking and session
    DECLINED = "declined"
    WITHDRAWN = "withdrawn"  # by the mentee, before an answer
    ENDED = "ended"  # cancelled from some date on, nothing left to come


class WaitlistStatus(StrEnum):
    """A place in line for a full group session's seat (``workflows.sessions.waitlists``)."""

    WAITING = "waiting"
    OFFERED = "offered"  # a seat is held for them until the offer's end
    PROMOTED = "promoted"  # they took the seat (or it was given at once)
    EXPIRED = "expired"  # the offer ended untaken; or the seat could not be given
    LEFT = "left"  # they left the line, or declined the offer
    CLOSED = "closed"  # the session was cancelled or began


class SessionStatus(StrEnum):
    SCHEDULED = "scheduled"
    IN_PROGRESS = "in_progress"
    COMPLETED = "completed"
    CANCELLED = "cancelled"
    MISSED = "missed"
    MENTEE_NO_SHOW = "mentee_no_show"  # only the mentor came
    MENTOR_NO_SHOW = "mentor_no_show"  # only the mentee (or a group's mentees) came


class CancelledBy(StrEnum):
    """Who cancelled a session, or a series from a date: one of the pair at their own request or by leaving, a
    programme's coordinator (a pause, an end, a removal), an administrator, or the system (a move by agreement)."""

    MENTOR = "mentor"
    MENTEE = "mentee"
    COORDINATOR = "coordinator"
    ADMIN = "admin"
    SYSTEM = "system"


class CancelCause(StrEnum):
    """Why a session was cancelled: someone asked for it (the session, or its series from a date), its pairing was
    paused or ended, one of the pair left the programme (or deleted their account) or was taken off it, or the
    meeting moved by agreement to another time (its new session takes its place). Unknown (null) for cancellations
    written before causes were recorded, where the pairing's events did not tell."""

    REQUEST = "request"
    PAUSE = "pause"
    END = "end"
    LEAVE = "leave"
    REMOVAL = "removal"
    RESCHEDULE = "reschedule"


class NoShow(StrEnum):
    """Who was absent from a meeting of a mentor and a mentee (a booking, or a seat of a group session): the
    attribution its effects follow. ``none``: nobody (an administrator found both came)."""

    MENTEE = "mentee"
    MENTOR = "mentor"
    NONE = "none"


class DisputeStatus(StrEnum):
    """A participant's dispute of an attribution: waiting for an administrator, then resolved."""

    OPEN = "open"
    RESOLVED = "resolved"


class HandlerStatus(StrEnum):
    PENDING = "pending"
    DONE = "done"


class WebhookMessageStatus(StrEnum):
    PENDING = "pending"
    DELIVERED = "delivered"
    FAILED = "failed"


class CreditStatus(StrEnum):
    """A booking's bundle credit: none used, held by a draft or accepted booking, then returned or forfeited."""

    NONE = "none"
    HELD = "held"
    RETURNED = "returned"
    FORFEITED = "forfeited"
    MOVED = "moved"  # went with a reschedule to the booking that follows: held there


class ProposalStatus(StrEnum):
    """A proposal to move a booking: waiting for the other participant, then taken, turned down, withdrawn by
    its proposer, or past its time."""

    OPEN = "open"
    ACCEPTED = "accepted"
    DECLINED = "declined"
    WITHDRAWN = "withdrawn"
    EXPIRED = "expired"


class EmailStatus(StrEnum):
    """A notification's email: none to send, waiting, sent, or given up on; or held because its address was not
    confirmed when it was due (a booking's confirmation, sent once the address is, if the meeting is still to come); or
    held for its reader's digest."""

    NONE = "none"
    PENDING = "pending"
    SENT = "sent"
    FAILED = "failed"
    UNCONFIRMED = "unconfirmed"
    DIGEST = "digest"  # its reader chose a digest for its kind: the next one carries it


class FeedRevocation(StrEnum):
    """Why a calendar feed stopped working: its owner revoked it, or a change to their account ended it."""

    REVOKED = "revoked"
    PASSWORD_CHANGED = "password_changed"  # noqa: S105 - a reason, not a password
    PASSWORD_RESET = "password_reset"  # noqa: S105 - a reason, not a password
    ACCOUNT_DELETED = "account_deleted"
    ADDRESS_CLAIMED = "address_claimed"  # the address's owner took it back through their organisation's sign-on
    SIGNED_OUT_EVERYWHERE = "signed_out"  # everywhere, by the owner
    DEPROVISIONED = "deprovisioned"  # by their organisation's provider (SCIM)


class AccountTokenPurpose(StrEnum):
    """What a link mailed to an address does: confirm that address, set a new password, or cancel a change of the
    account's email (mailed to the address being left)."""

    VERIFY_EMAIL = "verify_email"
    RESET_PASSWORD = "reset_password"  # noqa: S105 - a purpose, not a password
    CANCEL_EMAIL_CHANGE = "cancel_email"


class ConnectionStatus(StrEnum):
    """A calendar connection: ``connecting`` while its server is asked what it holds, then ``active``, and
    ``broken`` once the server refuses its credentials (until the mentor gives new ones)."""

    CONNECTING = "connecting"
    ACTIVE = "active"
    BROKEN = "broken"


class InvitationStatus(StrEnum):
    """A mentor's invitation to a listing's team: waiting for them, taken, turned down, or withdrawn by the owner."""

    PENDING = "pending"
    ACCEPTED = "accepted"
    DECLINED = "declined"
    WITHDRAWN = "withdrawn"


class ProgrammeStatus(StrEnum):
    """A mentoring programme: being set up, taking participants, under way, over."""

    DRAFT = "draft"
    ENROLLING = "enrolling"
    RUNNING = "running"
    CLOSED = "closed"


class PairingStatus(StrEnum):
    """A mentor and a mentee paired in a programme: asked (its sessions requested, the mentor to accept), meeting,
    on hold, or over."""

    PROPOSED = "proposed"
    ACTIVE = "active"
    PAUSED = "paused"
    ENDED = "ended"


class GoalStatus(StrEnum):
    """A pairing's goal: being worked on, reached, or set aside."""

    OPEN = "open"
    DONE = "done"
    DROPPED = "dropped"


class PairingMode(StrEnum):
    """How a programme pairs its people: its coordinators run the matcher and publish its drafts; each mentee
    chooses among their best mentors and the mentor accepts; or its coordinators pair them one by one."""

    COORDINATOR = "coordinator"
    MENTEE_CHOICE = "mentee_choice"
    MANUAL = "manual"


class MatchRunStatus(StrEnum):
    """A run of the matcher: waiting for the matching worker, under way, over (done, failed or cancelled)."""

    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"
    CANCELLED = "cancelled"


class DraftStatus(StrEnum):
    """A draft pairing: under review, being proposed by a worker, or refused when proposed (its problem kept)."""

    DRAFT = "draft"
    PUBLISHING = "publishing"
    FAILED = "failed"


class PreferenceKind(StrEnum):
    """A coordinator's word on one mentee and mentor for the matcher: never pair them, or pair them if they fit."""

    NEVER = "never"
    PREFER = "prefer"


class ParticipantRole(StrEnum):
    """The part a person takes in one programme (a mentee in one may be a mentor in another)."""

    MENTOR = "mentor"
    MENTEE = "mentee"


class ParticipantStatus(StrEnum):
    """A person's place in a programme: taking part, or gone (by their own leave or a coordinator's removal); the
    row and what it touched stay either way."""

    ACTIVE = "active"
    LEFT = "left"
    REMOVED = "removed"


class AuthEventKind(StrEnum):
    """What happened to an account's credentials, as the audit trail records it."""

    SIGNED_IN = "signed_in"
    SIGN_IN_FAILED = "sign_in_failed"
    LOCKED_OUT = "locked_out"
    SIGNED_OUT = "signed_out"
    REFRESH_REUSED = "refresh_reused"
    PASSWORD_CHANGED = "password_changed"  # noqa: S105 - an event, not a password
    PASSWORD_RESET = "password_reset"  # noqa: S105 - an event, not a password
    EMAIL_CHANGE_REQUESTED = "email_change_requested"
    EMAIL_CHANGED = "email_changed"
    EMAIL_CHANGE_CANCELLED = "email_change_cancelled"
    # Single sign-on: a sign-in through an organisation's provider, an account linked to an identity there, one
    # refused (with the reason in the log), and an admin's changes to the providers.
    SIGNED_IN_SSO = "signed_in_sso"
    ACCOUNT_LINKED = "account_linked"
    SSO_REFUSED = "sso_refused"
    PROVIDER_ADDED = "provider_added"
    PROVIDER_CHANGED = "provider_changed"
    PROVIDER_DISABLED = "provider_disabled"
    PROVIDER_ENABLED = "provider_enabled"
    # Two-step sign-in: a password accepted and a second step asked, a second step passed or failed, a recovery code
    # spent, an authenticator added or removed, a new set of recovery codes, an admin's change of where one is required.
    SECOND_STEP_ASKED = "second_step_asked"
    SECOND_STEP_FAILED = "second_step_failed"
    RECOVERY_CODE_USED = "recovery_code_used"
    AUTHENTICATOR_ADDED = "authenticator_added"
    AUTHENTICATOR_REMOVED = "authenticator_removed"
    RECOVERY_CODES_RENEWED = "recovery_codes_renewed"
    SECOND_STEP_RULE_CHANGED = "second_step_rule_changed"
    # SCIM: an organisation's provider provisioned an account, or deprovisioned it (``provider_id`` names it).
    SCIM_PROVISIONED = "scim_provisioned"
    SCIM_DEPROVISIONED = "scim_deprovisioned"


def stored_as_text(enum: type[E], length: int = 16) -> Enum:
    """The column type of a StrEnum: ``VARCHAR(length)`` holding its values, read back as members.

    No native PostgreSQL enum and no constraint of SQLAlchemy's own: the check constraints come from
    ``check_in``, so the schema is the same as for a plain string column.
    """
    return Enum(enum, native_enum=False, create_constraint=False, length=length, validate_strings=True,
                values_callable=lambda members: [member.value for member in members])


def check_in(column: str, enum: type[StrEnum]) -> str:
    """SQL for a check constraint limiting ``column`` to the enum's values."""
    values = ", ".join(f"'{member.value}'" for member in enum)
    return f"{column} IN ({values})"
