"""Coordinators named by address: an admin names someone who may have no account yet, and their rights start only
once that address is confirmed as an account's, never on an account that merely claims it.

Naming the address of a confirmed account grants the rights at once. Any other address gets an invitation
(``pending``), mailed with a link whose token is derived from the row's id with the server's key (its SHA-256 alone
is kept). It is ``accepted``, and the rights start, when the address is confirmed: by registering from the link
(the mail reached it), by opening the link signed in to the account of that address, or by that account confirming
(the link mailed to the address, and a signed-in or new account: ``accept`` and ``register``), or by a password
reset of an account of that address (``granted_on_confirmation``: the reset ends every other sign-in of it). A mere
click on an account's confirmation link is not enough: whoever made the account need not be who clicked. The grant
goes through ``lifecycle.set_coordinators``: the people told, the programme's history, and the admin audit trail
naming the admin who invited (with their reason), while that admin still is one (else the invitation no longer
stands). A grant never fails the request that confirmed the address: a programme at its coordinators' limit keeps
the invitation waiting. An admin may withdraw a pending invitation; it lapses after ``TTL``.
"""

from __future__ import annotations

import smtplib
import uuid
from dataclasses import dataclass
from datetime import timedelta

import structlog
from marshmallow import ValidationError, validate
from sqlalchemy import func, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from infra.config import get_settings
from infra.smtp import send_email
from models import CoordinatorInvitation, EmailStatus, InvitationStatus, Programme, User
from models.programmes.programmes import MAX_COORDINATORS
from outbox import enqueue_after_commit
from workflows.access import record_admin_action, require_admin
from workflows.accounts import audit
from workflows.accounts.users import normalise_email, register_user
from workflows.actors import Actor
from workflows.clock import utcnow
from workflows.errors import BusinessRuleViolation, Forbidden, InvalidInput, NotFound, refusal
from workflows.notifications import mail
from workflows.pagination import Page, paginate
from workflows.programmes import access as programme_access
from workflows.programmes.enrolment import digest, token_of
from workflows.programmes.lifecycle import ProgrammeView, coordinators_of, set_coordinators

log = structlog.get_logger(__name__)

TTL = timedelta(days=14)
SEND_TASK = "notifications.send_coordinator_invitation"
INVALID = refusal("this invitation link is not valid (used, withdrawn or expired): ask the admin for a new one")
NO_LONGER = refusal("this invitation no longer stands (the admin who sent it is no longer one, or the programme has "
                    "all the coordinators it may have): ask an administrator")
EMAIL = validate.Email(error="not an email address")
_PURPOSE = "coordinator-invitation"


@dataclass(frozen=True)
class Named:
    """What naming an address did: the rights granted now (``programme``), or an invitation sent (``invitation``)."""

    programme: ProgrammeView | None = None
    invitation: CoordinatorInvitation | None = None


def name_by_address(db: Session, actor: Actor, programme_id: uuid.UUID, email: str, *, reason: str) -> Named:
    """Name a coordinator by address (an admin): a confirmed account's is granted now; any other address gets an
    invitation (a lapsed one before it withdrawn). 400 for one who coordinates it already or is invited already, or
    a programme at its coordinators' limit (those invited counted); 422 for no email address."""
    require_admin(actor)
    programme, _ = programme_access.may_change(db, actor, programme_id)
    address = normalise_email(email)
    try:
        EMAIL(address)
    except ValidationError:
        raise InvalidInput("not an email address: {address}", words={"address": address[:80]}, field="email") from None
    user = db.scalar(select(User).where(User.email == address, User.deleted_at.is_(None)))
    before = coordinators_of(db, programme_id)
    if user is not None and user.id in before:
        raise BusinessRuleViolation("{address} coordinates this programme already",
                                    words={"address": address}, field="email")
    db.execute(update(CoordinatorInvitation).where(  # lapsed: no longer in the way of a new one
        CoordinatorInvitation.programme_id == programme_id, CoordinatorInvitation.status == InvitationStatus.PENDING,
        CoordinatorInvitation.expires_at <= func.now()).values(status=InvitationStatus.WITHDRAWN,
                                                             decided_at=func.now(), email_status=EmailStatus.NONE))
    waiting = db.scalar(select(func.count()).select_from(CoordinatorInvitation).where(
        CoordinatorInvitation.programme_id == programme_id,
        CoordinatorInvitation.status == InvitationStatus.PENDING)) or 0
    if len(before) + waiting >= MAX_COORDINATORS:
        raise BusinessRuleViolation("a programme has at most {max_coordinators} coordinators, those invited counted",
                                    words={"max_coordinators": MAX_COORDINATORS},
                                    field="email")
    if user is not None and user.email_verified_at is not None:
        return Named(programme=set_coordinators(db, actor, programme_id, [*before, user.id],
                                                audited_as=audit.PROGRAMME_COORDINATOR_NAMED, reason=reason))
    row_id = uuid.uuid4()
    mail = EmailStatus.PENDING if get_settings().smtp_url else EmailStatus.NONE
    made = db.scalar(insert(CoordinatorInvitation).values(
        id=row_id, programme_id=programme.id, email=address, invited_by_user_id=actor.user_id, reason=reason,
        status=InvitationStatus.PENDING, token_hash=digest(token_of(_PURPOSE, row_id)), created_at=utcnow(),
        expires_at=utcnow() + TTL, email_status=mail,
    ).on_conflict_do_nothing(index_elements=["programme_id", "email"], index_where=CoordinatorInvitation.status
                             == InvitationStatus.PENDING).returning(CoordinatorInvitation.id))
    if made is None:
        raise BusinessRuleViolation("{address} is invited already: withdraw that invitation to send another",
                                    words={"address": address},
                                    field="email")
    record_admin_action(db, actor, audit.PROGRAMME_COORDINATOR_INVITED, "coordinator_invitation", row_id,
                        reason=f"{address} for {programme.name}: {reason}")
    if mail == EmailStatus.PENDING:
        enqueue_after_commit(db, SEND_TASK, str(row_id))
    invitation = db.get_one(CoordinatorInvitation, row_id)
    return Named(invitation=invitation)


def list_invitations(db: Session, actor: Actor, programme_id: uuid.UUID, *, limit: int, cursor: str | None
                     ) -> Page[CoordinatorInvitation]:
    """A programme's coordinator invitations, newest first (admins)."""
    require_admin(actor)
    programme_access.may_read(db, actor, programme_id)
    return paginate(db, select(CoordinatorInvitation).where(CoordinatorInvitation.programme_id == programme_id),
                    CoordinatorInvitation.created_at, CoordinatorInvitation.id, limit=limit, cursor=cursor,
                    descending=True)


def withdraw(db: Session, actor: Actor, programme_id: uuid.UUID, invitation_id: uuid.UUID, *, reason: str
             ) -> CoordinatorInvitation:
    """Withdraw a pending invitation (an admin): its link stops working; recorded."""
    require_admin(actor)
    invitation = db.scalar(select(CoordinatorInvitation).where(
        CoordinatorInvitation.id == invitation_id, CoordinatorInvitation.programme_id == programme_id)
        .with_for_update())
    if invitation is None:
        raise NotFound("invitation not found")
    if invitation.status != InvitationStatus.PENDING:
        raise BusinessRuleViolation("cannot withdraw an invitation that is {status}",
                                    words={"status": invitation.status.value})
    invitation.status, invitation.decided_at = InvitationStatus.WITHDRAWN, utcnow()
    if invitation.email_status == EmailStatus.PENDING:
        invitation.email_status = EmailStatus.NONE
    record_admin_action(db, actor, audit.PROGRAMME_COORDINATOR_INVITATION_WITHDRAWN, "coordinator_invitation",
                        invitation.id, reason=f"{invitation.email}: {reason}")
    return invitation


def _grant(db: Session, invitation: CoordinatorInvitation, user: User) -> bool:
    """The rights start, through the programme's workflow, as the admin who invited (the audit names them); whether
    they did. An inviter no longer an admin (revoked, disabled, gone) vouches for nothing: the invitation no longer
    stands. A programme at its coordinators' limit keeps it waiting."""
    admin = db.scalar(select(User).where(User.id == invitation.invited_by_user_id).with_for_update(read=True)) \
        if invitation.invited_by_user_id else None
    if admin is None or not admin.is_admin or admin.disabled_at is not None or admin.deleted_at is not None:
        log.warning("coordinator_invitation.inviter_gone", invitation_id=str(invitation.id))
        invitation.status, invitation.decided_at = InvitationStatus.WITHDRAWN, utcnow()
        return False
    db.execute(select(Programme.id).where(Programme.id == invitation.programme_id).with_for_update())
    before = coordinators_of(db, invitation.programme_id)
    if user.id not in before and len(before) >= MAX_COORDINATORS:
        log.warning("coordinator_invitation.programme_full", invitation_id=str(invitation.id))
        return False
    invitation.status, invitation.decided_at, invitation.user_id = InvitationStatus.ACCEPTED, utcnow(), user.id
    if invitation.email_status == EmailStatus.PENDING:
        invitation.email_status = EmailStatus.NONE
    if user.id not in before:
        set_coordinators(db, Actor(admin.id, is_admin=True), invitation.programme_id, [*before, user.id],
                         audited_as=audit.PROGRAMME_COORDINATOR_NAMED,
                         reason=f"invited as {invitation.email}: {invitation.reason or ''}")
    return True


def granted_on_confirmation(db: Session, user: User) -> int:
    """Grant the pending, unexpired invitations of a user's address, where its owner proved they hold both the address
    and the account (a password reset, an emailed link opened signed in, an account made from one); how many."""
    if user.email_verified_at is None:
        return 0
    waiting = list(db.scalars(select(CoordinatorInvitation).where(
        CoordinatorInvitation.email == user.email, CoordinatorInvitation.status == InvitationStatus.PENDING,
        CoordinatorInvitation.expires_at > func.now()).with_for_update()))
    return sum(_grant(db, invitation, user) for invitation in waiting)


@dataclass(frozen=True)
class Preview:
    invitation: CoordinatorInvitation
    programme: Programme
    account_exists: bool

    @property
    def usable(self) -> bool:
        return self.invitation.status == InvitationStatus.PENDING and self.invitation.expires_at > utcnow()


def _by_token(db: Session, token: str, *, lock: bool) -> tuple[CoordinatorInvitation, Programme]:
    query = select(CoordinatorInvitation).where(CoordinatorInvitation.token_hash == digest(token))
    invitation = db.scalar(query.with_for_update() if lock else query)
    if invitation is None:
        raise InvalidInput(INVALID)
    return invitation, db.get_one(Programme, invitation.programme_id)


def preview(db: Session, token: str) -> Preview:
    """What a link names (no sign-in: the token is the key): the programme, the address, whether it has an account."""
    invitation, programme = _by_token(db, token, lock=False)
    exists = db.scalar(select(func.count()).select_from(User).where(User.email == invitation.email,
                                                                   User.deleted_at.is_(None))) or 0
    return Preview(invitation, programme, bool(exists))  # the route shows the address only while it is usable


def _pending(db: Session, token: str) -> CoordinatorInvitation:
    invitation, _ = _by_token(db, token, lock=True)
    if invitation.status != InvitationStatus.PENDING or invitation.expires_at <= utcnow():
        raise InvalidInput(INVALID)
    return invitation


def accept(db: Session, actor: Actor, token: str) -> uuid.UUID:
    """Open the link signed in to the account of its address: the address is confirmed (the mail reached it), and
    the rights start; 403 for another account. The programme's id."""
    invitation = _pending(db, token)
    user = db.get(User, actor.user_id, with_for_update=True)
    if user is None or user.email != invitation.email:
        raise Forbidden("this invitation is for another address: sign in with the account of that address")
    if user.email_verified_at is None:
        user.email_verified_at = utcnow()  # the link was mailed to this address, opened by its account
        mail.send_held(db, user.id)
    if not _grant(db, invitation, user):
        raise BusinessRuleViolation(NO_LONGER)
    granted_on_confirmation(db, user)  # other programmes' invitations of this address
    return invitation.programme_id


def register(db: Session, token: str, *, password: str, display_name: str, timezone: str | None = None,
             locale: str | None = None) -> tuple[User, uuid.UUID]:
    """A new account of the invited address, confirmed (the mail reached it), coordinating the programme (and any
    other programme that invited the address). 409 when the address has an account: sign in and open the link."""
    invitation = _pending(db, token)
    name = display_name.strip() or invitation.email.split("@")[0]
    user = register_user(db, email=invitation.email, password=password, display_name=name[:100], verified=True,
                         timezone=timezone, locale=locale)
    if not _grant(db, invitation, user):
        raise BusinessRuleViolation(NO_LONGER)
    granted_on_confirmation(db, user)
    return user, invitation.programme_id


_SUBJECT = "You are invited to coordinate {programme}"
_BODY = """Hello,

{inviter} invites you to coordinate the mentoring programme {programme}: you will invite its people, pair them and
follow their sessions.

Open this link to accept{or_register}:
{link}

It works until {expires} (UTC). If you did not expect this, ignore this message.
"""


def deliver(db: Session, invitation_id: uuid.UUID) -> bool:
    """Mail one invitation if it is still owed; ``True`` when sent now."""
    settings = get_settings()
    invitation = db.scalar(select(CoordinatorInvitation).where(CoordinatorInvitation.id == invitation_id)
                           .with_for_update(skip_locked=True))
    if invitation is None or invitation.email_status != EmailStatus.PENDING or not settings.smtp_url:
        return False
    if invitation.status != InvitationStatus.PENDING or invitation.expires_at <= utcnow():
        invitation.email_status = EmailStatus.NONE
        return False
    programme = db.get_one(Programme, invitation.programme_id)
    inviter = db.get(User, invitation.invited_by_user_id) if invitation.invited_by_user_id else None
    exists = db.scalar(select(func.count()).select_from(User).where(User.email == invitation.email)) or 0
    body = _BODY.format(inviter=inviter.display_name if inviter else "An administrator",
                        programme=f"\u201c{programme.name}\u201d",
                        or_register="" if exists else " (you choose a password there)",
                        link=f"{settings.public_url}/#/coordinator-invitation?token="
                             f"{token_of(_PURPOSE, invitation.id)}",
                        expires=invitation.expires_at.strftime("%Y-%m-%d %H:%M"))
    try:
        send_email(settings.smtp_url, sender=settings.smtp_from, to=invitation.email, body=body,
                   subject=_SUBJECT.format(programme=f"\u201c{programme.name}\u201d"), message_id=str(invitation.id))
    except (ValueError, UnicodeError, smtplib.SMTPRecipientsRefused) as exc:
        log.warning("coordinator_invitation.mail_refused", invitation_id=str(invitation.id), error=str(exc))
        invitation.email_status = EmailStatus.FAILED  # this address cannot be mailed; a server away is tried again
        return False
    invitation.email_status, invitation.emailed_at = EmailStatus.SENT, utcnow()
    return True


def owed(db: Session, *, older_than: timedelta = timedelta(seconds=60), limit: int = 100) -> list[uuid.UUID]:
    """Invitations whose mail is owed for a while: their first message was lost (the beat sends them again)."""
    return list(db.scalars(select(CoordinatorInvitation.id).where(
        CoordinatorInvitation.email_status == EmailStatus.PENDING, CoordinatorInvitation.expires_at > func.now(),
        CoordinatorInvitation.created_at < func.now() - older_than).limit(limit)))
