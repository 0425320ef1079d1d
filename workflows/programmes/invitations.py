"""Invitations to a programme: the addresses its coordinators typed or uploaded, and no others.

Each is recorded at once (one pending invitation per address and programme; an address already invited or taking
part is reported, not invited again); its mail goes out later (``workflows.programmes.invitation_mail``). The link
in a mail carries a token derived from the invitation's id with the server's key, whose SHA-256 alone is kept. An
address with no account registers from it (the address counts as verified: the mail reached it); the account of
that address joins with a click, from the link or from the web app, which lists the invitations of a confirmed
address. An invitation is pending until the person joins or declines or a coordinator withdraws it; it lapses at
``expires_at``.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta

import structlog
from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from infra.config import get_settings
from models import (
    EmailStatus,
    InvitationStatus,
    ParticipantStatus,
    Programme,
    ProgrammeInvitation,
    ProgrammeParticipant,
    User,
)
from models.programmes.enrolment import PENDING_INVITATION
from outbox import enqueue_after_commit
from workflows.accounts.users import register_user
from workflows.actors import Actor
from workflows.clock import utcnow
from workflows.errors import BusinessRuleViolation, Conflict, Forbidden, InvalidInput, NotFound, refusal
from workflows.notifications import mail
from workflows.programmes import access as programme_access
from workflows.programmes import coordinator_invitations
from workflows.programmes.enrolment import Via, digest, join, refuse_if_closed, token_of
from workflows.programmes.lifecycle import SEND_INVITATIONS_TASK, TAKING_PARTICIPANTS
from workflows.programmes.rows import Invitee, InviteReport, RowError

log = structlog.get_logger(__name__)

MAX_DISPLAY_NAME = 100  # a user's name, as the accounts keep it

INVITATION_TTL = timedelta(days=14)
RESEND_AFTER = timedelta(hours=24)  # an invitation mailed again at most once a day: no one is flooded
INVALID_INVITATION = refusal("this invitation is invalid, used, withdrawn or expired: ask the programme's coordinators")


# --- inviting ---------------------------------------------------------------------------------------------------


def invite(db: Session, actor: Actor, programme_id: uuid.UUID, rows: Sequence[Invitee],
           errors: Sequence[RowError]) -> InviteReport:
    """Invite ``rows`` (its coordinators or an admin; a closed programme invites no one): each address once (a
    second row of it, in any case, is refused naming the first); one already invited or taking part is passed
    over. Mails are queued; those beyond the hourly cap wait their turn."""
    programme, _ = programme_access.may_change(db, actor, programme_id)
    refuse_if_closed(programme)
    report = InviteReport(errors=list(errors))
    first: dict[str, int] = {}
    wanted: list[Invitee] = []
    for row in rows:
        if row.email in first:
            report.errors.append(RowError(row.line, f"the same address as line {first[row.email]}",
                                          row.typed or row.email))
            continue
        first[row.email] = row.line
        wanted.append(row)
    taking_part = set(db.scalars(
        select(User.email).join(ProgrammeParticipant, ProgrammeParticipant.user_id == User.id)
        .where(ProgrammeParticipant.programme_id == programme_id,
               ProgrammeParticipant.status == ParticipantStatus.ACTIVE, User.email.in_(list(first))))) if first \
        else set()
    kept = db.scalar(select(func.count()).select_from(ProgrammeInvitation)
                     .where(ProgrammeInvitation.programme_id == programme_id)) or 0
    fresh = [row for row in wanted if row.email not in taking_part]
    report.skipped.extend(RowError(row.line, "already takes part", row.typed or row.email) for row in wanted
                          if row.email in taking_part)
    waiting = set(db.scalars(select(ProgrammeInvitation.email).where(
        ProgrammeInvitation.programme_id == programme_id, ProgrammeInvitation.status == InvitationStatus.PENDING,
        ProgrammeInvitation.email.in_([row.email for row in fresh])))) if fresh else set()
    cap = get_settings().max_invitations  # rows passed over (already invited, taking part) do not count
    if kept + sum(row.email not in waiting for row in fresh) > cap:
        raise BusinessRuleViolation("a programme keeps at most {cap} invitations; it has {kept}",
                                    words={"cap": cap, "kept": kept})
    now = utcnow()
    mail = EmailStatus.PENDING if get_settings().smtp_url else EmailStatus.NONE
    values = []
    for index, row in enumerate(fresh):
        row_id = uuid.uuid4()
        values.append({"id": row_id, "programme_id": programme_id, "email": row.email, "name": row.name,
                       "role": row.role, "capacity": row.capacity, "status": InvitationStatus.PENDING,
                       "token_hash": digest(token_of("invitation", row_id)), "invited_by_user_id": actor.user_id,
                       # a microsecond apart: mailed, and listed, in the order given
                       "created_at": now + timedelta(microseconds=index), "expires_at": now + INVITATION_TTL,
                       "email_status": mail})
    made: set[str] = set()
    for start in range(0, len(values), 1000):
        made.update(db.scalars(insert(ProgrammeInvitation).values(values[start:start + 1000])
                               .on_conflict_do_nothing(index_elements=["programme_id", "email"],
                                                       index_where=PENDING_INVITATION)
                               .returning(ProgrammeInvitation.email)))
    report.invited = [row for row in fresh if row.email in made]
    report.skipped.extend(RowError(row.line, "already invited", row.typed or row.email) for row in fresh
                          if row.email not in made)
    report.skipped.sort(key=lambda skipped: skipped.line)
    report.errors.sort(key=lambda error: error.line)
    if report.invited and mail == EmailStatus.PENDING and programme.status in TAKING_PARTICIPANTS:
        enqueue_after_commit(db, SEND_INVITATIONS_TASK, str(programme_id))
    log.info("programme.invited", programme_id=str(programme_id), invited=len(report.invited),
             skipped=len(report.skipped), errors=len(report.errors))
    return report


def _settle(invitation: ProgrammeInvitation, status: InvitationStatus, user_id: uuid.UUID | None = None) -> None:
    invitation.status = status
    invitation.decided_at = utcnow()
    invitation.user_id = user_id
    if invitation.email_status == EmailStatus.PENDING:
        invitation.email_status = EmailStatus.NONE  # decided before its mail went: none goes


def _waiting(db: Session, programme_id: uuid.UUID, invitation_id: uuid.UUID, verb: str) -> ProgrammeInvitation:
    """The programme's invitation, locked, if it still waits for an answer; 404, or 400 saying it cannot ``verb``."""
    invitation = db.scalar(select(ProgrammeInvitation).where(ProgrammeInvitation.id == invitation_id,
                                                             ProgrammeInvitation.programme_id == programme_id)
                           .with_for_update())
    if invitation is None:
        raise NotFound("invitation not found")
    if invitation.status != InvitationStatus.PENDING:
        raise BusinessRuleViolation("cannot {verb} an invitation that is {status}",
                                    words={"verb": verb, "status": invitation.status.value},
                                    current_status=invitation.status.value)
    return invitation


def withdraw_invitation(db: Session, actor: Actor, programme_id: uuid.UUID, invitation_id: uuid.UUID
                        ) -> ProgrammeInvitation:
    """Withdraw a pending invitation (its coordinators): its link stops working, and an unsent mail never goes."""
    programme_access.may_read(db, actor, programme_id)
    invitation = _waiting(db, programme_id, invitation_id, "withdraw")
    _settle(invitation, InvitationStatus.WITHDRAWN)
    return invitation


def resend_invitation(db: Session, actor: Actor, programme_id: uuid.UUID, invitation_id: uuid.UUID
                      ) -> ProgrammeInvitation:
    """Mail a waiting invitation again, with the same link (its coordinators): it lapses ``INVITATION_TTL`` from
    now, lapsed or not. Its mail is queued as a new invitation's (within the programme's hourly cap); 409 while
    one is owed, or within ``RESEND_AFTER`` of the last; 400 for one answered or withdrawn, or with no mail server."""
    programme, _ = programme_access.may_change(db, actor, programme_id)
    refuse_if_closed(programme)
    invitation = _waiting(db, programme_id, invitation_id, "send again")
    if db.scalar(select(ProgrammeParticipant.id).join(User, User.id == ProgrammeParticipant.user_id).where(
            ProgrammeParticipant.programme_id == programme_id, ProgrammeParticipant.status == ParticipantStatus.ACTIVE,
            User.email == invitation.email)) is not None:
        raise BusinessRuleViolation("{email} takes part already: withdraw the invitation instead",
                                    words={"email": invitation.email})
    if not get_settings().smtp_url:
        raise BusinessRuleViolation("no mail goes from this service (no SMTP_URL): share a join link instead")
    now = utcnow()
    if invitation.email_status == EmailStatus.PENDING:
        raise Conflict("its mail has not gone yet: it goes within the programme's hourly cap",
                       reason="invitation_not_mailed_yet")
    if invitation.emailed_at is not None and invitation.emailed_at > now - RESEND_AFTER:
        raise Conflict("mailed less than {hours} hours ago: send it again from {emailed_at}",
                       words={"hours": RESEND_AFTER.days * 24,
                              "emailed_at": (invitation.emailed_at + RESEND_AFTER).isoformat(timespec="minutes")},
                       retry_at=(invitation.emailed_at + RESEND_AFTER).isoformat(), reason="invitation_mailed_recently")
    invitation.expires_at = now + INVITATION_TTL
    invitation.email_status, invitation.email_attempts = EmailStatus.PENDING, 0
    if programme.status in TAKING_PARTICIPANTS:
        enqueue_after_commit(db, SEND_INVITATIONS_TASK, str(programme_id))
    log.info("programme.invitation_resent", programme_id=str(programme_id), invitation_id=str(invitation_id))
    return invitation


@dataclass(frozen=True)
class InvitationView:
    """What the holder of an invitation's link reads before answering it."""

    invitation: ProgrammeInvitation
    programme: Programme
    account_exists: bool

    @property
    def usable(self) -> bool:
        return (self.invitation.status == InvitationStatus.PENDING and self.invitation.expires_at > utcnow()
                and self.programme.status in TAKING_PARTICIPANTS)


def _by_token(db: Session, token: str, *, lock: bool) -> tuple[ProgrammeInvitation, Programme]:
    query = select(ProgrammeInvitation).where(ProgrammeInvitation.token_hash == digest(token))
    invitation = db.scalar(query.with_for_update() if lock else query)
    if invitation is None:
        raise InvalidInput(INVALID_INVITATION)
    programme = db.get(Programme, invitation.programme_id)
    assert programme is not None  # its programme's row goes with it
    return invitation, programme


def _pending(db: Session, token: str) -> tuple[ProgrammeInvitation, Programme]:
    """The invitation of ``token``, locked, if it can still be answered; 422 otherwise, 400 for a programme that
    does not take participants now."""
    invitation, programme = _by_token(db, token, lock=True)
    if invitation.status != InvitationStatus.PENDING or invitation.expires_at <= utcnow():
        raise InvalidInput(INVALID_INVITATION)
    return invitation, programme


def inspect_invitation(db: Session, token: str) -> InvitationView:
    """The invitation of a link (no sign-in: the token is the key): the programme, the role, the address, and
    whether that address has an account (sign in, or register)."""
    invitation, programme = _by_token(db, token, lock=False)
    exists = db.scalar(select(func.count()).select_from(User).where(User.email == invitation.email)) or 0
    return InvitationView(invitation, programme, bool(exists))


def _accept(db: Session, invitation: ProgrammeInvitation, programme: Programme, user: User) -> ProgrammeParticipant:
    row = join(db, programme, user.id, invitation.role, invitation.capacity, via=Via.INVITATION)
    _settle(invitation, InvitationStatus.ACCEPTED, user.id)
    if user.email_verified_at is None and user.email == invitation.email:
        user.email_verified_at = utcnow()  # the link was mailed to this address
        mail.send_held(db, user.id)
    return row


def accept_invitation(db: Session, actor: Actor, token: str) -> ProgrammeParticipant:
    """Join with an invitation's link, signed in to the account of its address (403 for another account)."""
    invitation, programme = _pending(db, token)
    user = db.get(User, actor.user_id)
    if user is None or user.email != invitation.email:
        raise Forbidden("this invitation is for another address: sign in with the account of that address")
    joined = _accept(db, invitation, programme, user)
    # The mailed link opened by the signed-in account of its address: both proved, so rights waiting for it start.
    coordinator_invitations.granted_on_confirmation(db, user)
    return joined


def accept_mine(db: Session, actor: Actor, invitation_id: uuid.UUID) -> ProgrammeParticipant:
    """Join from the web app's list of one's invitations (a confirmed address's, :func:`my_invitations`)."""
    user = db.get(User, actor.user_id)
    invitation = db.scalar(select(ProgrammeInvitation).where(ProgrammeInvitation.id == invitation_id)
                           .with_for_update())
    if user is None or invitation is None or user.email_verified_at is None or invitation.email != user.email:
        raise NotFound("invitation not found")
    if invitation.status != InvitationStatus.PENDING or invitation.expires_at <= utcnow():
        raise InvalidInput(INVALID_INVITATION)
    programme = db.get(Programme, invitation.programme_id)
    assert programme is not None
    return _accept(db, invitation, programme, user)


def my_invitations(db: Session, actor: Actor) -> list[tuple[ProgrammeInvitation, Programme]]:
    """The pending invitations of one's address, once it is confirmed, of programmes taking participants."""
    user = db.get(User, actor.user_id)
    if user is None or user.email_verified_at is None:
        return []
    return [(row.ProgrammeInvitation, row.Programme) for row in db.execute(
        select(ProgrammeInvitation, Programme).join(Programme, Programme.id == ProgrammeInvitation.programme_id)
        .where(ProgrammeInvitation.email == user.email, ProgrammeInvitation.status == InvitationStatus.PENDING,
               ProgrammeInvitation.expires_at > func.now(), Programme.status.in_(TAKING_PARTICIPANTS))
        .order_by(ProgrammeInvitation.created_at.desc()).limit(50))]


def decline_invitation(db: Session, token: str) -> ProgrammeInvitation:
    """Decline with the link (no sign-in): the invitation ends; its coordinators see it declined."""
    invitation, _ = _pending(db, token)
    _settle(invitation, InvitationStatus.DECLINED)
    return invitation


def register_from_invitation(db: Session, token: str, *, password: str, display_name: str,
                             timezone: str | None = None, locale: str | None = None
                             ) -> tuple[User, ProgrammeParticipant]:
    """A new account of the invited address, confirmed (the mail reached it), joined to the programme. 409 when
    that address has an account: sign in and accept."""
    invitation, programme = _pending(db, token)
    if programme.status not in TAKING_PARTICIPANTS:
        raise BusinessRuleViolation("the programme is {status}: it takes no participants now",
                                    words={"status": programme.status.value},
                                    field="programme")
    name = display_name.strip() or invitation.name or invitation.email.split("@")[0]
    user = register_user(db, email=invitation.email, password=password, display_name=name[:MAX_DISPLAY_NAME],
                         verified=True, timezone=timezone, locale=locale)
    joined = _accept(db, invitation, programme, user)
    coordinator_invitations.granted_on_confirmation(db, user)  # an account made from the mailed link
    return user, joined


