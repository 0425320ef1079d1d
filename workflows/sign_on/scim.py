"""SCIM 2.0 provisioning by an organisation's identity provider (RFC 7643, RFC 7644): the domain side. The API
(``api.sign_on.scim``) parses and validates what the provider sends with scim2-models; here are plain values.

A provider provisions with its own bearer token (shown once, kept as its SHA-256; a new one revokes the old). A user
it provisions is an account of this service linked to it: no password, no mail to confirm; its address counts as
verified where the provider owns the address's domain (as at a sign-in through it), and the person signs in through
the provider. An account that exists with that address is taken over by the provisioning only there (whoever made
it while its address was unconfirmed loses it, as at a sign-in through the provider): elsewhere it is someone else's
to prove (409 ``uniqueness``), and a new account's address stays unconfirmed. An address of a domain another provider
owns is refused; an administrator's account, or one linked to another provider, is never provisioned or changed; an
account the provider vouched for keeps an address in its domains, and any change of address ends its sign-ins.

``active: false`` or ``DELETE`` deprovisions at once: the account is disabled (its sign-ins and live streams end,
its future sessions are cancelled, its listings stop, its webhook endpoints stop), its calendar feed stops, and each
programme it takes part in is left, with the reason, as if it had left (its pairings end, its coordinators are told).
Nothing is deleted that retention keeps: a deleted resource's account stays, disabled. ``active: true`` again
enables an account this deprovisioning disabled (an admin's decision stays).

Groups feed the provider's programme rules: a person's groups at the provider are the ``groups`` claim those rules
read, applied again whenever a group or the person changes. The enterprise extension's ``department`` and
``manager`` are kept with the user.
"""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import structlog
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from models import (
    AuthEventKind,
    FeedRevocation,
    IdentityProvider,
    ParticipantStatus,
    ProgrammeParticipant,
    ScimGroup,
    ScimGroupMember,
    ScimToken,
    ScimUser,
    User,
    UserIdentity,
)
from models.sign_on import MAX_ENTERPRISE_VALUE, MAX_EXTERNAL_ID, MAX_USER_NAME
from workflows import access
from workflows.accounts import audit as auth_events
from workflows.accounts import sign_ins
from workflows.accounts.sign_ins import digest
from workflows.actors import Actor
from workflows.calendars import feeds
from workflows.clock import utcnow
from workflows.errors import Conflict, InvalidInput, NotFound
from workflows.operations import accounts as account_admin
from workflows.operations.admin import record_action
from workflows.programmes import enrolment as programme_enrolment
from workflows.sign_on import enrolment, providers
from workflows.sign_on.accounts import display_name, evict_squatters, owner_of, owns, usable_email

log = structlog.get_logger(__name__)

DEPROVISIONED = account_admin.DEPROVISIONED_BY_SCIM
TOKEN_ISSUED, TOKEN_REVOKED = "sign_on.scim_token_issued", "sign_on.scim_token_revoked"
MAX_PAGE = 200  # ``count`` at most, per page
USED_EVERY_SECONDS = 60  # a token's ``last_used_at`` is written at most this often


@dataclass(frozen=True)
class UserData:
    """What a user resource says that the account takes; ``resource`` is the whole of it, served back as sent."""

    user_name: str
    external_id: str | None = None
    active: bool = True
    email: str | None = None
    display_name: str | None = None
    department: str | None = None
    manager: str | None = None
    resource: dict[str, Any] = field(default_factory=dict)


def _provider_for_admin(db: Session, actor: Actor, provider_id: uuid.UUID) -> IdentityProvider:
    access.require_admin(actor)
    return providers.get_provider(db, provider_id, lock=True)


def issue_token(db: Session, actor: Actor, provider_id: uuid.UUID) -> str:
    """A new bearer token for the provider's SCIM client (admins), shown this once; the one it had stops now."""
    provider = _provider_for_admin(db, actor, provider_id)
    now = utcnow()
    replaced = db.scalars(update(ScimToken).where(ScimToken.provider_id == provider.id, ScimToken.revoked_at.is_(None))
                          .values(revoked_at=now).returning(ScimToken.id)).first()
    token = "scim_" + secrets.token_urlsafe(32)
    db.add(ScimToken(id=uuid.uuid4(), provider_id=provider.id, token_hash=digest(token), created_by=actor.user_id))
    db.flush()
    record_action(db, actor, TOKEN_ISSUED, "identity_provider", provider.id,
                  reason="the previous token was revoked" if replaced else None)
    return token


def revoke_token(db: Session, actor: Actor, provider_id: uuid.UUID) -> None:
    """The provider's SCIM token stops working (admins); 404 when it has none."""
    provider = _provider_for_admin(db, actor, provider_id)
    if db.scalars(update(ScimToken).where(ScimToken.provider_id == provider.id, ScimToken.revoked_at.is_(None))
                  .values(revoked_at=utcnow()).returning(ScimToken.id)).first() is None:
        raise NotFound("this provider has no SCIM token")
    record_action(db, actor, TOKEN_REVOKED, "identity_provider", provider.id)


def live_token(db: Session, provider_id: uuid.UUID) -> ScimToken | None:
    return db.scalar(select(ScimToken).where(ScimToken.provider_id == provider_id, ScimToken.revoked_at.is_(None)))


def provider_of_token(db: Session, token: str, *, now: datetime | None = None) -> IdentityProvider | None:
    """The enabled provider a live token is of, or ``None``."""
    now = now or utcnow()
    row = db.execute(select(ScimToken, IdentityProvider).join(IdentityProvider,
                                                              IdentityProvider.id == ScimToken.provider_id)
                     .where(ScimToken.token_hash == digest(token), ScimToken.revoked_at.is_(None))).first()
    if row is None or row[1].disabled_at is not None:
        return None
    token_row, provider = row
    if token_row.last_used_at is None or (now - token_row.last_used_at).total_seconds() > USED_EVERY_SECONDS:
        db.execute(update(ScimToken).where(ScimToken.id == token_row.id).values(last_used_at=now))
    return provider


def _trail(db: Session, kind: AuthEventKind, user_id: uuid.UUID, provider_id: uuid.UUID, what: str) -> None:
    """The account's audit trail: provisioned or deprovisioned, by which provider."""
    auth_events.record(db, kind, user_id, None, refusal=auth_events.Refusal(provider_id, "scim", what))


def bounded(value: str | None, limit: int, name: str) -> str | None:
    if value is None:
        return None
    value = " ".join(value.split()) if name != "externalId" else value.strip()
    if not value or len(value) > limit or not value.isprintable():
        raise InvalidInput("{name} is 1 to {limit} printable characters", words={"name": name, "limit": limit},
                           field=name, reason="invalidValue")
    return value


def _email(data: UserData) -> str | None:
    """The address the account takes: the primary email, else the userName when it is one."""
    return usable_email(data.email) or usable_email(data.user_name)


def _address(db: Session, provider: IdentityProvider, email: str) -> bool:
    """Whether the provider owns the address's domain; 400 when another provider does (only that one vouches for
    its people, as at a sign-in)."""
    owner = owner_of(db, email)
    if owner is not None and owner != provider.id:
        raise InvalidInput("{email} belongs to another organisation's sign-on provider", words={"email": email},
                           field="emails", reason="invalidValue")
    return owner == provider.id


def _yours(db: Session, provider: IdentityProvider, user: User) -> None:
    """409 for an account SCIM may not take or change: an administrator's, or one linked to another provider."""
    if user.is_admin:
        raise Conflict("an administrator's account is not provisioned by SCIM", field="emails",
                       reason="uniqueness")
    if db.scalar(select(UserIdentity.id).where(UserIdentity.user_id == user.id,
                                               UserIdentity.provider_id != provider.id).limit(1)) is not None:
        raise Conflict("the account of this email signs in through another provider", field="emails",
                       reason="uniqueness")


def _named(data: UserData, email: str) -> str:
    return display_name({"name": data.display_name} if data.display_name else {}, email)


def _account(db: Session, provider: IdentityProvider, data: UserData, *, now: datetime) -> User | None:
    """The account a user resource with an email is: a new one, or the existing one of that address where the
    provider owns its domain (and no other resource has it: whoever made it unconfirmed loses it, as at a sign-in
    through the provider); none while the resource gives no email."""
    email = _email(data)
    if email is None:
        return None
    owned = _address(db, provider, email)
    user = db.scalar(select(User).where(User.email == email).with_for_update())
    if user is not None and (not owned or user.deleted_at is not None
                             or db.scalar(select(ScimUser.id).where(ScimUser.user_id == user.id))):
        # An account of an address the provider does not own is someone else's to prove: never taken over.
        raise Conflict("an account with this email exists", field="emails", reason="uniqueness")
    if user is None:
        user = User(id=uuid.uuid4(), email=email, password_hash=None, email_verified_at=now if owned else None,
                    display_name=_named(data, email))
        db.add(user)
        db.flush()
        return user
    _yours(db, provider, user)
    if user.email_verified_at is None:
        evict_squatters(db, user, now=now)
    if user.disabled_at is not None and user.disabled_reason == DEPROVISIONED and data.active:
        user.disabled_at = user.disabled_reason = None  # provisioned again after a DELETE
    elif user.disabled_at is not None and data.active:
        raise Conflict("the account of this email was disabled by an administrator", field="emails",
                       reason="uniqueness")
    return user


def _row(db: Session, provider: IdentityProvider, scim_id: uuid.UUID, *, lock: bool = False) -> ScimUser:
    row = db.scalar(select(ScimUser).where(ScimUser.id == scim_id, ScimUser.provider_id == provider.id)
                    .with_for_update(of=ScimUser) if lock else
                    select(ScimUser).where(ScimUser.id == scim_id, ScimUser.provider_id == provider.id))
    if row is None:
        raise NotFound("no user has this id here", reason="not_found")
    return row


def _unique(db: Session, provider: IdentityProvider, data: UserData, *, but: uuid.UUID | None = None) -> None:
    taken = select(ScimUser.id).where(ScimUser.provider_id == provider.id, ScimUser.id != but) if but else \
        select(ScimUser.id).where(ScimUser.provider_id == provider.id)
    if db.scalar(taken.where(func.lower(ScimUser.user_name) == data.user_name.lower())) is not None:
        raise Conflict("a user with this userName exists", field="userName", reason="uniqueness")
    if data.external_id and db.scalar(taken.where(ScimUser.external_id == data.external_id)) is not None:
        raise Conflict("a user with this externalId exists", field="externalId", reason="uniqueness")


def _kept(data: UserData) -> dict[str, Any]:
    return {"resource": data.resource,
            "department": bounded(data.department, MAX_ENTERPRISE_VALUE, "department"),
            "manager": bounded(data.manager, MAX_ENTERPRISE_VALUE, "manager")}


def create_user(db: Session, provider: IdentityProvider, data: UserData, *, now: datetime | None = None) -> ScimUser:
    """Provision a user: a new account, or the existing one of that address where the provider owns its domain."""
    now = now or utcnow()
    user_name = bounded(data.user_name, MAX_USER_NAME, "userName") or ""
    external_id = bounded(data.external_id, MAX_EXTERNAL_ID, "externalId")
    data = UserData(**{**data.__dict__, "user_name": user_name, "external_id": external_id})
    _unique(db, provider, data)
    user = _account(db, provider, data, now=now)
    row = ScimUser(id=uuid.uuid4(), provider_id=provider.id, user_id=user and user.id, user_name=user_name,
                   external_id=external_id, active=True, attributes=_kept(data), created_at=now, updated_at=now)
    db.add(row)
    db.flush()
    if not data.active:
        _set_active(db, row, active=False, now=now)
    if user is not None:
        _trail(db, AuthEventKind.SCIM_PROVISIONED, user.id, provider.id, "provisioned")
    log.info("scim.user_provisioned", provider_id=str(provider.id), scim_id=str(row.id),
             user_id=str(user.id) if user else None)
    return row


def get_user(db: Session, provider: IdentityProvider, scim_id: uuid.UUID) -> ScimUser:
    return _row(db, provider, scim_id)


def check_version(row: ScimUser | ScimGroup, version: int | None) -> None:
    if version is not None and version != row.version:
        raise Conflict("the resource changed since that version (If-Match)", reason="precondition_failed")


def replace_user(db: Session, provider: IdentityProvider, scim_id: uuid.UUID, data: UserData, *,
                 version: int | None = None, now: datetime | None = None) -> ScimUser:
    """Replace what the user resource says (PUT, or a PATCH applied); ``version`` from ``If-Match``."""
    now = now or utcnow()
    row = _row(db, provider, scim_id, lock=True)
    check_version(row, version)
    data = UserData(**{**data.__dict__, "user_name": bounded(data.user_name, MAX_USER_NAME, "userName") or "",
                       "external_id": bounded(data.external_id, MAX_EXTERNAL_ID, "externalId")})
    _unique(db, provider, data, but=row.id)
    user = db.get(User, row.user_id, with_for_update={"key_share": True}) if row.user_id else None
    email = _email(data)
    made = user is None
    if user is None:
        user = _account(db, provider, data, now=now)  # the first email it gives makes its account
        row.user_id = user.id if user else None
        if user is not None:
            _trail(db, AuthEventKind.SCIM_PROVISIONED, user.id, provider.id, "provisioned")
    else:
        _yours(db, provider, user)
        if email is not None and email != user.email:
            _readdress(db, provider, user, email, now=now)
    if user is not None and data.display_name:
        user.display_name = _named(data, user.email)
    row.user_name, row.external_id, row.attributes = data.user_name, data.external_id, _kept(data)
    row.version, row.updated_at = row.version + 1, now
    db.flush()
    if data.active != row.active or (made and row.user_id is not None and not row.active):
        _set_active(db, row, active=data.active, now=now)
    return row


def _readdress(db: Session, provider: IdentityProvider, user: User, email: str, *, now: datetime) -> None:
    """A provisioned account's new address: in the provider's own domains (verified), or, for an account whose
    address no provider vouched for, another such address (unconfirmed); its sign-ins end either way."""
    owned = _address(db, provider, email)
    if not owned and owns(db, provider.id, user.email):
        raise InvalidInput("{email} is not in a domain this provider owns: an account it vouched for keeps one",
                           words={"email": email}, field="emails", reason="invalidValue")
    if db.scalar(select(User.id).where(User.email == email, User.id != user.id)) is not None:
        raise Conflict("another account has this email", field="emails", reason="uniqueness")
    user.email, user.email_verified_at = email, now if owned else None
    sign_ins.end_all(db, user.id, now=now)


def _set_active(db: Session, row: ScimUser, *, active: bool, now: datetime) -> None:
    """Deprovision (or provision again) the account."""
    row.active = active
    user = db.get(User, row.user_id, with_for_update={"key_share": True}, populate_existing=True) \
        if row.user_id else None
    if user is None or user.is_admin:
        return
    if active:
        if user.disabled_at is not None and user.disabled_reason == DEPROVISIONED:
            user.disabled_at = user.disabled_reason = None
        db.flush()
        _trail(db, AuthEventKind.SCIM_PROVISIONED, user.id, row.provider_id, "provisioned again")
        apply_rules(db, row.provider_id, [row.id])
        return
    account_admin.disable_account(db, user, reason=DEPROVISIONED, now=now)
    _trail(db, AuthEventKind.SCIM_DEPROVISIONED, user.id, row.provider_id, "deprovisioned")
    feeds.revoke_feed_token(db, user.id, FeedRevocation.DEPROVISIONED)
    themselves = account_admin.as_themselves(db, user)
    for programme_id in db.scalars(select(ProgrammeParticipant.programme_id).where(
            ProgrammeParticipant.user_id == user.id, ProgrammeParticipant.status == ParticipantStatus.ACTIVE)
            .order_by(ProgrammeParticipant.programme_id)):
        programme_enrolment.leave(db, themselves, programme_id, reason=DEPROVISIONED)
    log.info("scim.user_deprovisioned", provider_id=str(row.provider_id), scim_id=str(row.id),
             user_id=str(user.id))


def delete_user(db: Session, provider: IdentityProvider, scim_id: uuid.UUID, *, version: int | None = None,
                now: datetime | None = None) -> None:
    """The resource goes; its account is deprovisioned and kept (disabled) for what retention keeps."""
    now = now or utcnow()
    row = _row(db, provider, scim_id, lock=True)
    check_version(row, version)
    if row.active:
        _set_active(db, row, active=False, now=now)
    db.delete(row)
    db.flush()


def find_users(db: Session, provider: IdentityProvider, *, attribute: str | None = None, value: str | None = None,
               start: int = 1, count: int = 100) -> tuple[int, list[ScimUser]]:
    """The users matching one ``eq`` filter (``userName`` without case, ``externalId``, ``emails``), a page of them
    (``start`` from 1) and how many match."""
    query = select(ScimUser).where(ScimUser.provider_id == provider.id)
    if attribute == "userName":
        query = query.where(func.lower(ScimUser.user_name) == (value or "").lower())
    elif attribute == "externalId":
        query = query.where(ScimUser.external_id == value)
    elif attribute == "emails":
        query = query.join(User, User.id == ScimUser.user_id).where(User.email == (value or "").strip().lower())
    elif attribute == "id":
        query = query.where(ScimUser.id == uuid_of(value))
    total = db.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = db.scalars(query.order_by(ScimUser.created_at, ScimUser.id).offset(max(start, 1) - 1)
                      .limit(max(0, min(count, MAX_PAGE)))).all()
    return total, list(rows)


def uuid_of(value: str | None) -> uuid.UUID | None:
    try:
        return uuid.UUID(value or "")
    except ValueError:
        return None


def apply_rules(db: Session, provider_id: uuid.UUID, scim_user_ids: Iterable[uuid.UUID]) -> None:
    """The provider's programme rules, for each of these active users, with their groups as the ``groups`` claim."""
    ids = set(scim_user_ids)
    if not ids or not providers.rules_of(db, provider_id):
        return
    names: dict[uuid.UUID, list[str]] = {i: [] for i in ids}
    for scim_user_id, name in db.execute(select(ScimGroupMember.scim_user_id, ScimGroup.display_name)
                                         .join(ScimGroup, ScimGroup.id == ScimGroupMember.group_id)
                                         .where(ScimGroupMember.scim_user_id.in_(ids))):
        names[scim_user_id].append(name)
    for row in db.scalars(select(ScimUser).where(ScimUser.id.in_(ids), ScimUser.active).order_by(ScimUser.id)):
        user = db.get(User, row.user_id) if row.user_id else None
        if user is not None and user.disabled_at is None:
            enrolment.apply(db, provider_id, user, {"groups": sorted(names[row.id])})
