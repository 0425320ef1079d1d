"""Email tasks on the ``notifications`` queue (its outbox handler's task is made in ``workers/handlers.py``)."""

from __future__ import annotations

import uuid

from models import DigestPeriod
from outbox import enqueue_after_commit
from workers.base import DbTask
from workers.celery_app import app
from workflows import inbox
from workflows.accounts import emails as account_emails
from workflows.conversations import announcements
from workflows.notifications import digests, mail, message_mail
from workflows.programmes import coordinator_invitations, invitation_mail
from workflows.programmes.lifecycle import SEND_INVITATIONS_TASK

INVITATION_BATCHES_PER_TASK = 5


@app.task(name="notifications.send_email", base=DbTask, bind=True, max_retries=None)
def send_email(self: DbTask, notification_id: str) -> bool:
    """Email one notification when ``SMTP_URL`` is set; one that waits (a confirmation whose session is not made yet,
    a proposal of a publication under way), again in a moment (``mail.SESSION_WAIT`` and
    ``together.PUBLICATION_WAIT`` bound how long; the beat sends it if this message is lost)."""
    try:
        with self.transaction() as db:
            return mail.deliver_email(db, uuid.UUID(notification_id))
    except mail.EmailWaits as waiting:
        raise self.retry(countdown=waiting.countdown) from None


@app.task(name=account_emails.SEND_TASK, base=DbTask, bind=True)
def send_account_email(self: DbTask, token_id: str) -> bool:
    """Mail one verification or password reset link when ``SMTP_URL`` is set."""
    with self.transaction() as db:
        return account_emails.deliver(db, uuid.UUID(token_id))


@app.task(name=SEND_INVITATIONS_TASK, base=DbTask, bind=True)
def send_invitations(self: DbTask, programme_id: str) -> int:
    """Mail a programme's owed invitations within its hourly cap, a batch per transaction; after a few batches the
    task hands the rest to a new one (no task runs long), and stops when the cap is reached or SMTP fails."""
    sent = 0
    for _batch in range(INVITATION_BATCHES_PER_TASK):
        with self.transaction() as db:
            done, failed = invitation_mail.deliver_invitations(db, uuid.UUID(programme_id))
        sent += done
        if done + failed < invitation_mail.MAIL_BATCH:  # none left within the cap, or the server went away
            return sent
    with self.transaction() as db:
        enqueue_after_commit(db, SEND_INVITATIONS_TASK, programme_id)
    return sent


@app.task(name=coordinator_invitations.SEND_TASK, base=DbTask, bind=True)
def send_coordinator_invitation(self: DbTask, invitation_id: str) -> bool:
    """Mail one invitation to coordinate a programme when ``SMTP_URL`` is set (the beat sends it again if lost)."""
    with self.transaction() as db:
        return coordinator_invitations.deliver(db, uuid.UUID(invitation_id))


@app.task(name="notifications.send_due_emails", base=DbTask, bind=True)
def send_due_emails(self: DbTask) -> int:
    """Resend the email tasks whose first message was lost or failed: notifications, account links,
    programmes' invitations (also those that waited for their hourly cap) and invitations to coordinate."""
    with self.transaction() as db:
        due = mail.due_emails(db)
        for notification_id in due:
            enqueue_after_commit(db, inbox.SEND_EMAIL_TASK, str(notification_id))
        links = account_emails.due(db)
        for token_id in links:
            enqueue_after_commit(db, account_emails.SEND_TASK, str(token_id))
        programmes = invitation_mail.owed_mail(db)
        for programme_id in programmes:
            enqueue_after_commit(db, SEND_INVITATIONS_TASK, str(programme_id))
        coordinators = coordinator_invitations.owed(db)
        for invitation_id in coordinators:
            enqueue_after_commit(db, coordinator_invitations.SEND_TASK, str(invitation_id))
    return len(due) + len(links) + len(programmes) + len(coordinators)


@app.task(name=message_mail.SEND_TASK, base=DbTask, bind=True)
def send_message_email(self: DbTask, conversation_id: str, user_id: str) -> bool:
    """Email one person what they have not read in one conversation, if it is still owed."""
    with self.transaction() as db:
        return message_mail.deliver(db, uuid.UUID(conversation_id), uuid.UUID(user_id))


@app.task(name="notifications.send_due_message_emails", base=DbTask, bind=True)
def send_due_message_emails(self: DbTask) -> int:
    """Hand each conversation's email now due to a worker."""
    with self.transaction() as db:
        owed = message_mail.due(db)
        for conversation_id, user_id in owed:
            enqueue_after_commit(db, message_mail.SEND_TASK, str(conversation_id), str(user_id))
    return len(owed)


@app.task(name=digests.SEND_TASK, base=DbTask, bind=True)
def send_digest(self: DbTask, user_id: str, period: str) -> bool:
    """One person's digest of the current period, once."""
    with self.transaction() as db:
        return digests.send(db, uuid.UUID(user_id), DigestPeriod(period))


@app.task(name="notifications.send_due_digests", base=DbTask, bind=True)
def send_due_digests(self: DbTask) -> int:
    """Hand each digest owed now to a worker."""
    with self.transaction() as db:
        owed = digests.due(db)
        for user_id, period in owed:
            enqueue_after_commit(db, digests.SEND_TASK, str(user_id), period.value)
    return len(owed)


@app.task(name=announcements.LIVE_TASK, base=DbTask, bind=True)
def publish_announcement(self: DbTask, event_id: str) -> int:
    """After an announcement's recipients were told: each one's stream too."""
    with self.transaction() as db:
        return announcements.publish_live(db, uuid.UUID(event_id))
