"""What an administrator does to someone's account: disable it, enable it again, delete it.

Disabling stops the person at once and keeps their record: every sign-in ends (the token version moves on, so every
access token, refresh token and live stream of theirs stops), a new sign-in or refresh is refused with 403
(:class:`workflows.accounts.sign_ins.AccountDisabled`), their future bookings and sessions end through the ordinary
workflows as if they had cancelled them themselves (the cancellation policy applies; the other party is told, with
:data:`DISABLED_REASON`, never the admin's own words), and their listings stop taking bookings.

Enabling lets them sign in again; nothing cancelled comes back, and their listings stay inactive until they turn
them on again themselves: a mentor coming back chooses what they offer, rather than finding old listings open.

Deleting is the account deletion its owner can do (:func:`workflows.accounts.deletion.erase_account`), decided by
an admin instead of the password. Each is recorded in the audit trail with the admin's reason. No admin disables or
deletes their own account here, nor the last admin who could still act (409).
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from models import Listing, MentorProfile, User, WebhookEndpoint
from workflows import access
from workflows.accounts import deletion, sign_ins, users
from workflows.actors import Actor
from workflows.clock import utcnow
from workflows.errors import Conflict, NotFound, refusal
from workflows.operations.admin import record_action
from workflows.programmes import pairings

DISABLED_USER = "user.disabled"
ENABLED_USER = "user.enabled"
DELETED_USER = "user.deleted"
ACTIONS = (DISABLED_USER, ENABLED_USER, DELETED_USER)
# What the other party of a cancelled booking or session reads.
DISABLED_REASON = "account disabled"


def _locked_user(db: Session, user_id: uuid.UUID) -> User:
    # FOR NO KEY UPDATE, as a sign-in takes it: a refresh inserting a token (its key on the user) is not held back.
    user = db.get(User, user_id, with_for_update={"key_share": True}, populate_existing=True)
    if user is None or user.deleted_at is not None:
        raise NotFound("user not found")
    return user


def as_themselves(db: Session, user: User) -> Actor:
    """The account's own user as an actor: their commitments end as if they ended them."""
    profile = db.scalar(select(MentorProfile.id).where(MentorProfile.user_id == user.id))
    return Actor(user_id=user.id, is_admin=user.is_admin, mentor_profile_id=profile)


# What an admin may not do to their own account, or to the last admin's, by what they were doing.
_REFUSED = {"disable": (refusal("you cannot disable your own account here"),
                        refusal("the last admin cannot be disabled: grant admin to someone else first")),
            "delete": (refusal("you cannot delete your own account here"),
                       refusal("the last admin cannot be deleted: grant admin to someone else first"))}


def _refuse_self_and_last_admin(db: Session, actor: Actor, user_id: uuid.UUID, doing: str) -> None:
    """409 for the admin's own account, or for the last admin able to act. The admins' rows are locked, in id
    order and before the account's own, so two admins disabling each other at once cannot both succeed."""
    if user_id == actor.user_id:
        raise Conflict(_REFUSED[doing][0], reason="own_account")
    active = set(db.scalars(select(User.id).where(User.is_admin.is_(True), User.deleted_at.is_(None),
                                                  User.disabled_at.is_(None))
                            .order_by(User.id).with_for_update(key_share=True)))
    if user_id in active and active <= {user_id}:
        raise Conflict(_REFUSED[doing][1], reason="last_admin")


def disable_user(db: Session, actor: Actor, user_id: uuid.UUID, *, reason: str, now: datetime | None = None) -> User:
    """Disable an account: its sign-ins end at once, its future commitments are cancelled, its listings stop.
    Disabling a disabled account changes nothing and records nothing."""
    access.require_admin(actor)
    now = now or utcnow()
    _refuse_self_and_last_admin(db, actor, user_id, "disable")
    user = _locked_user(db, user_id)
    if user.disabled_at is not None and user.disabled_reason == DEPROVISIONED_BY_SCIM:
        user.disabled_reason = reason  # the admin's decision now: the provider's provisioning does not undo it
        record_action(db, actor, DISABLED_USER, "user", user.id, reason=reason)
    elif disable_account(db, user, reason=reason, now=now):
        record_action(db, actor, DISABLED_USER, "user", user.id, reason=reason)
    return user


DEPROVISIONED_BY_SCIM = "deprovisioned by the organisation's provider (SCIM)"


def disable_account(db: Session, user: User, *, reason: str, now: datetime) -> bool:
    """Disable a locked account (an admin's decision, or its organisation's deprovisioning): whether it was enabled
    until now."""
    if user.disabled_at is not None:
        return False
    user.disabled_at, user.disabled_reason = now, reason
    db.flush()
    sign_ins.end_all(db, user.id, now=now)
    users.void_email_changes(db, user.id)
    themselves = as_themselves(db, user)
    deletion.cancel_future_commitments(db, themselves, now, reason=DISABLED_REASON)
    if themselves.mentor_profile_id is not None:
        db.execute(update(Listing).where(Listing.mentor_profile_id == themselves.mentor_profile_id, Listing.active)
                   .values(active=False))
    # Their webhook endpoints stop too: a disabled admin's or coordinator's would still receive what they may see.
    db.execute(update(WebhookEndpoint).where(WebhookEndpoint.owner_user_id == user.id, WebhookEndpoint.enabled)
               .values(enabled=False, disabled_reason=DISABLED_REASON))
    return True


def enable_user(db: Session, actor: Actor, user_id: uuid.UUID, *, reason: str) -> User:
    """Let a disabled account sign in again (its listings stay inactive: see the module's docstring). Enabling an
    account that is not disabled changes nothing and records nothing."""
    access.require_admin(actor)
    user = _locked_user(db, user_id)
    if user.disabled_at is None:
        return user
    user.disabled_at = user.disabled_reason = None
    db.flush()
    record_action(db, actor, ENABLED_USER, "user", user.id, reason=reason)
    return user


def delete_user(db: Session, actor: Actor, user_id: uuid.UUID, *, reason: str, now: datetime | None = None) -> None:
    """Delete someone's account as its owner can: future commitments cancelled, the person anonymised."""
    access.require_admin(actor)
    now = now or utcnow()
    _refuse_self_and_last_admin(db, actor, user_id, "delete")
    user = _locked_user(db, user_id)
    pairings.record_ended(db, deletion.erase_account(db, as_themselves(db, user), user, now=now))
    user.is_admin = False  # an anonymised row is no one's admin
    db.flush()
    record_action(db, actor, DELETED_USER, "user", user.id, reason=reason)
