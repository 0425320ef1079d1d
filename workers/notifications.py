"""Email tasks on the ``notifications`` queue (its outbox handler's task is made in ``workers/handlers.py``)."""

from __future__ import annotations

import uuid

from outbox import enqueue_after_commit
from workers.base import DbTask
from workers.celery_app import app
from workflows import inbox
from workflows.accounts import emails as account_emails
from workflows.notifications import mail


@app.task(name="notifications.send_email", base=DbTask, bind=True)
def send_email(self: DbTask, notification_id: str) -> bool:
    """Email one notification when ``SMTP_URL`` is set."""
    with self.transaction() as db:
        return mail.deliver_email(db, uuid.UUID(notification_id))


@app.task(name=account_emails.SEND_TASK, base=DbTask, bind=True)
def send_account_email(self: DbTask, token_id: str) -> bool:
    """Mail one verification or password reset link when ``SMTP_URL`` is set."""
    with self.transaction() as db:
        return account_emails.deliver(db, uuid.UUID(token_id))


@app.task(name="notifications.send_due_emails", base=DbTask, bind=True)
def send_due_emails(self: DbTask) -> int:
    """Resend the email tasks whose first message was lost or failed: notifications, and account links."""
    with self.transaction() as db:
        due = mail.due_emails(db)
        for notification_id in due:
            enqueue_after_commit(db, inbox.SEND_EMAIL_TASK, str(notification_id))
        links = account_emails.due(db)
        for token_id in links:
            enqueue_after_commit(db, account_emails.SEND_TASK, str(token_id))
    return len(due) + len(links)
