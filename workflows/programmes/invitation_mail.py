"""Invitation mails: sent from the ``notifications`` queue once the programme takes participants, at most
``PROGRAMME_INVITATIONS_PER_HOUR`` a programme in any hour (one sender per programme at a time); the rest wait
their turn, and beat's sweep sends them."""

from __future__ import annotations

import smtplib
import uuid
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import structlog
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from infra.config import get_settings
from infra.smtp import send_email
from models import (
    EmailStatus,
    InvitationStatus,
    Programme,
    ProgrammeInvitation,
    User,
)
from workflows.clock import utcnow
from workflows.programmes.enrolment import token_of
from workflows.programmes.lifecycle import TAKING_PARTICIPANTS

log = structlog.get_logger(__name__)

MAIL_BATCH = 20  # invitations mailed in one transaction
MAX_MAIL_ATTEMPTS = 5


# --- mailing invitations ----------------------------------------------------------------------------------------

_SUBJECT = "You are invited to {programme}"
_BODY = ("{inviter} invites you to take part in {programme} as a {role}.\n\n{description}"
         "Open this link to join{or_register}:\n\n{link}\n\nIt works until {expires}. If you do not want to take "
         "part, decline on that page, or ignore this message.")


def _expiry(moment: datetime, zone: str | None) -> str:
    local = moment.astimezone(ZoneInfo(zone or "UTC"))
    return f"{local:%Y-%m-%d %H:%M} ({zone or 'UTC'})"


def deliver_invitations(db: Session, programme_id: uuid.UUID, *, batch: int = MAIL_BATCH) -> tuple[int, int]:
    """Mail up to ``batch`` of a programme's owed invitations, within its hourly cap; (sent, failed). One sender
    per programme at a time (a lock for the transaction), so the cap holds with many workers."""
    settings = get_settings()
    if not settings.smtp_url:
        return 0, 0
    db.execute(select(func.pg_advisory_xact_lock(func.hashtextextended(f"programme-invitations:{programme_id}", 0))))
    programme = db.get(Programme, programme_id)
    if programme is None or programme.status not in TAKING_PARTICIPANTS:
        return 0, 0
    now = utcnow()
    db.execute(update(ProgrammeInvitation).where(
        ProgrammeInvitation.programme_id == programme_id, ProgrammeInvitation.email_status == EmailStatus.PENDING,
        (ProgrammeInvitation.status != InvitationStatus.PENDING) | (ProgrammeInvitation.expires_at <= now),
    ).values(email_status=EmailStatus.NONE))
    sent_lately = db.scalar(select(func.count()).select_from(ProgrammeInvitation).where(
        ProgrammeInvitation.programme_id == programme_id, ProgrammeInvitation.emailed_at > now - timedelta(hours=1)))
    room = settings.programme_invitations_per_hour - (sent_lately or 0)
    if room <= 0:
        return 0, 0
    owed = list(db.scalars(select(ProgrammeInvitation).where(
        ProgrammeInvitation.programme_id == programme_id, ProgrammeInvitation.email_status == EmailStatus.PENDING,
    ).order_by(ProgrammeInvitation.created_at, ProgrammeInvitation.id).limit(min(room, batch))
        .with_for_update(skip_locked=True)))
    if not owed:
        return 0, 0
    inviters = {row.id: row.display_name for row in db.execute(select(User.id, User.display_name).where(
        User.id.in_({row.invited_by_user_id for row in owed} - {None})))}
    accounts = {row.email: row.timezone for row in db.execute(
        select(User.email, User.timezone).where(User.email.in_([row.email for row in owed])))}
    sent = failed = 0
    for invitation in owed:
        invitation.email_attempts += 1
        body = _BODY.format(
            inviter=inviters.get(invitation.invited_by_user_id or uuid.UUID(int=0), "A coordinator"),
            programme=f"\u201c{programme.name}\u201d", role=invitation.role.value,
            description=f"{programme.description.strip()}\n\n" if programme.description.strip() else "",
            or_register="" if invitation.email in accounts else " (you choose a password there)",
            link=f"{settings.public_url}/#/programme-invitation?token={token_of('invitation', invitation.id)}",
            expires=_expiry(invitation.expires_at, accounts.get(invitation.email)))
        try:
            send_email(settings.smtp_url, sender=settings.smtp_from, to=invitation.email,
                       subject=" ".join(_SUBJECT.format(programme=f"\u201c{programme.name}\u201d").split()),
                       body=body, message_id=str(invitation.id))
        except (ValueError, UnicodeError, smtplib.SMTPRecipientsRefused) as exc:
            # This address cannot be mailed (refused by the server, or no header can carry it): it fails alone.
            log.warning("programme_invitation.mail_refused", invitation_id=str(invitation.id), error=str(exc))
            invitation.email_status = EmailStatus.FAILED
            failed += 1
            continue
        except (OSError, smtplib.SMTPException) as exc:
            log.warning("programme_invitation.mail_failed", invitation_id=str(invitation.id), error=str(exc))
            if invitation.email_attempts >= MAX_MAIL_ATTEMPTS:
                invitation.email_status = EmailStatus.FAILED
            failed += 1
            break  # the server is away: the sweep tries again
        invitation.email_status, invitation.emailed_at = EmailStatus.SENT, utcnow()
        sent += 1
    log.info("programme_invitation.mailed", programme_id=str(programme_id), sent=sent, failed=failed)
    return sent, failed


def owed_mail(db: Session, *, older_than: timedelta = timedelta(seconds=60), limit: int = 100) -> list[uuid.UUID]:
    """Programmes taking participants with invitation mails owed a while: their message was lost, failed, or
    waited for the hourly cap."""
    return list(db.scalars(select(ProgrammeInvitation.programme_id).join(
        Programme, Programme.id == ProgrammeInvitation.programme_id).where(
        ProgrammeInvitation.email_status == EmailStatus.PENDING,
        ProgrammeInvitation.created_at <= func.now() - older_than,
        Programme.status.in_(TAKING_PARTICIPANTS)).distinct().limit(limit)))


