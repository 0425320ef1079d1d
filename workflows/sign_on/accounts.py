"""Which account an identity at a provider signs in to, and no takeover.

An identity already linked (its issuer and subject) signs in to its account, whatever email the provider gives now:
a changed email never moves the link to someone else's account. An identity seen for the first time:

- whose email is no account's: a new account, with no password, named from the claims; its email counts as verified
  when the provider owns the address's domain and does not say ``email_verified: false`` (else a link to confirm it is
  mailed, as at registration);
- whose email is an existing account's: linked at once only when the provider owns the domain (and does not say the
  address is unverified), and the account has no other identity at this provider; otherwise its owner must prove the
  account first, with its password (:func:`link_with_password`): emails that match prove nothing.

An address whose domain a provider owns with password sign-in off (``workflows.accounts.enforcement``) signs in
through that provider only: no other provider makes an account there, and no password proves one.

Each link is told to the account's owner ("your account is now linked to …").
"""

from __future__ import annotations

import hmac
import secrets
import unicodedata
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import structlog
from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from models import FeedRevocation, IdentityProvider, ProviderDomain, SignIn, SignOnAttempt, User, UserIdentity
from models.accounts.users import UNIQUE_EMAIL
from models.sign_on import MAX_DISPLAY_NAME
from workflows import inbox, wording
from workflows.accounts import emails as account_emails
from workflows.accounts import enforcement, refresh_tokens, sign_ins
from workflows.accounts.enforcement import domain_of
from workflows.accounts.refresh_tokens import SignedIn
from workflows.accounts.sign_ins import ClientInfo, digest
from workflows.accounts.users import (
    MAX_EMAIL_LENGTH,
    WrongCredentials,
    WrongCurrentPassword,
    end_made_unconfirmed,
    verify_current_password,
    void_email_changes,
)
from workflows.clock import utcnow
from workflows.errors import InvalidInput, add_or_conflict
from workflows.sign_on import enrolment
from workflows.sign_on.flow import REASONS, SignOnFailed, Verified

log = structlog.get_logger(__name__)

UNIQUE_IDENTITY = "uq_user_identities_issuer_subject"
# An account with a password is told to change it; one with none, what it can do instead.
LINKED = {True: wording.notice("account.linked.password", "Your account is now linked to {provider}", (
    "You can now sign in with {provider}. If this was not you, change your password and tell your administrator.")),
          False: wording.notice("account.linked", "Your account is now linked to {provider}", (
              "You can now sign in with {provider}. If this was not you, sign out everywhere from your settings and "
              "tell your administrator."))}


@dataclass(frozen=True)
class SignedOn:
    """The account the identity signs in to; ``linked`` when the link was made now, ``created`` with the account."""

    user: User
    provider: IdentityProvider
    claims: dict[str, Any]
    linked: bool = False
    created: bool = False
    id_token: str | None = None  # the provider's, kept with the sign-in for signing out there (``id_token_hint``)


@dataclass(frozen=True)
class LinkNeeded:
    """An account holds the identity's email, and must be proven with its password before it is linked: the ticket
    (shown once) to send back with the password."""

    ticket: str
    provider: IdentityProvider
    email: str


def owns(db: Session, provider_id: uuid.UUID, email: str) -> bool:
    return owner_of(db, email) == provider_id


def owner_of(db: Session, email: str) -> uuid.UUID | None:
    """The provider owning the address's domain, if one does."""
    return db.scalar(select(ProviderDomain.provider_id).where(ProviderDomain.domain == domain_of(email)))


def usable_email(value: object) -> str | None:
    """An address from the claims as accounts keep them, or ``None`` when it is no usable one (no ``@``, too long,
    or with control characters, which text columns cannot hold)."""
    if not isinstance(value, str):
        return None
    email = value.strip().lower()
    if "@" not in email[1:] or len(email) > MAX_EMAIL_LENGTH or not email.isprintable():
        return None
    return email


def _email(claims: dict[str, Any], provider_id: uuid.UUID) -> str:
    email = usable_email(claims.get("email"))
    if email is None:
        raise SignOnFailed("email", "the ID token carries no usable email", provider_id)
    return email


def display_name(claims: dict[str, Any], email: str) -> str:
    """A name from the claims (``name``, else given and family names, else ``preferred_username``), else the
    address's local part: printable, at most 100 characters."""
    parts = [claims.get(key) for key in ("given_name", "family_name")]
    candidates = (claims.get("name"), " ".join(p for p in parts if isinstance(p, str) and p.strip()),
                  claims.get("preferred_username"), email.partition("@")[0])
    for candidate in candidates:
        if isinstance(candidate, str):
            # A line break (or any control character) becomes a space: the name is read inside others' mails.
            printable = " ".join("".join(" " if unicodedata.category(c)[0] == "C" else c for c in candidate).split())
            if printable:
                return printable[:MAX_DISPLAY_NAME]
    return "Member"


def _link(db: Session, user: User, provider: IdentityProvider, subject: str, email: str, *, now: datetime) -> None:
    add_or_conflict(db, UserIdentity(id=uuid.uuid4(), user_id=user.id, provider_id=provider.id,
                                     issuer=provider.issuer, subject=subject, email=email, last_sign_in_at=now),
                    {UNIQUE_IDENTITY: SignOnFailed("account", "the identity was linked meanwhile", provider.id),
                     "uq_user_identities_user_provider": SignOnFailed(
                         "account", "the account has another identity at this provider", provider.id)})
    inbox.notify_user(
        db, user.id, type_="account.linked", said=LINKED[user.password_hash is not None],
        words={"provider": provider.display_name},
        data={"provider_id": str(provider.id), "link": "#/settings"})
    log.info("sign_on.linked", user_id=str(user.id), provider_id=str(provider.id))


def resolve(db: Session, verified: Verified, *, now: datetime | None = None) -> SignedOn | LinkNeeded:
    """The account the verified identity signs in to (made or linked now if need be), or the proof it needs."""
    now = now or utcnow()
    provider, claims, subject = verified.provider, verified.claims, verified.subject
    known = db.scalar(select(UserIdentity).where(UserIdentity.issuer == provider.issuer,
                                                 UserIdentity.subject == subject).with_for_update())
    if known is not None:
        user = db.get(User, known.user_id)
        if user is None or user.deleted_at is not None:
            raise SignOnFailed("account", "the linked account was deleted", provider.id)
        if user.disabled_at is not None:
            raise sign_ins.AccountDisabled(user.id)
        known.email = usable_email(claims.get("email")) or known.email
        known.last_sign_in_at = now
        return SignedOn(user, provider, claims, id_token=verified.id_token or None)
    email = _email(claims, provider.id)
    trusted = owns(db, provider.id, email) and not said_unverified(claims)
    existing = db.scalar(select(User).where(User.email == email).with_for_update())
    if existing is not None and existing.disabled_at is not None:
        raise sign_ins.AccountDisabled(existing.id)
    only = enforcement.sign_on_only(db, email)
    if not trusted and only is not None and (existing is not None or only.provider_id != provider.id):
        # Its domain signs in through its own provider only: no other provider makes an account there, and no password
        # proves one.
        raise SignOnFailed("account", f"{only.domain} signs in through {only.display_name} only", provider.id)
    if existing is None:
        user = User(id=uuid.uuid4(), email=email, password_hash=None, display_name=display_name(claims, email),
                    email_verified_at=now if trusted else None, timezone=verified.timezone, locale=verified.locale)
        add_or_conflict(db, user, {UNIQUE_EMAIL: SignOnFailed("account", "the email was taken meanwhile",
                                                              provider.id)})
        _link(db, user, provider, subject, email, now=now)
        if not trusted:
            account_emails.request_verification(db, user)
        return SignedOn(user, provider, claims, linked=True, created=True, id_token=verified.id_token or None)
    other = db.scalar(select(UserIdentity.id).where(UserIdentity.user_id == existing.id,
                                                    UserIdentity.provider_id == provider.id))
    if other is not None:  # the provider vouches for another subject with this address: never a second link
        log.warning("sign_on.subject_mismatch", user_id=str(existing.id), provider_id=str(provider.id))
        raise SignOnFailed("account", "the account is linked to another identity at this provider", provider.id)
    if trusted:
        if existing.email_verified_at is None:
            evict_squatters(db, existing, now=now)
        _link(db, existing, provider, subject, email, now=now)
        return SignedOn(existing, provider, claims, linked=True, id_token=verified.id_token or None)
    owner = owner_of(db, email)
    if owner is not None and owner != provider.id:
        # The address's organisation has its own provider: only that one vouches for it, and no other leads anyone
        # to prove the account with its password (a page a foreign provider's identity could be linked through).
        raise SignOnFailed("account", f"{domain_of(email)} signs in through its own organisation's provider",
                           provider.id, check="domain")
    if existing.password_hash is None:
        raise SignOnFailed("account", "the account has no password to prove it with", provider.id)
    ticket = secrets.token_urlsafe(32)
    db.execute(update(SignOnAttempt).where(SignOnAttempt.id == verified.attempt_id).values(
        link_ticket_hash=digest(ticket), link_user_id=existing.id,
        link_claims={"issuer": provider.issuer, "claims": kept_claims(claims)}))
    return LinkNeeded(ticket, provider, email)


def said_unverified(claims: dict[str, Any]) -> bool:
    """Whether the provider says the address is not verified (``false``, or ``"false"`` as some providers send it)."""
    said = claims.get("email_verified")
    return said is False or (isinstance(said, str) and said.strip().lower() == "false")


def kept_claims(claims: dict[str, Any]) -> dict[str, Any]:
    """What is kept of the claims while the account's password is awaited: strings (no NUL), whole numbers, booleans
    and lists of strings, as JSON holds them (a provider's claims are not all storable)."""
    def clean(value: Any) -> Any:
        if isinstance(value, str):
            return value.replace("\x00", "")[:1000]
        if isinstance(value, bool) or (isinstance(value, int) and abs(value) < 2**53):
            return value
        if isinstance(value, list):
            return [clean(item) for item in value[:200] if isinstance(item, str)]
        return None
    return {str(name).replace("\x00", "")[:100]: clean(value) for name, value in list(claims.items())[:100]
            if clean(value) is not None}


def evict_squatters(db: Session, user: User, *, now: datetime) -> None:
    """The provider owning the address proves whose it is, and the account's address was never confirmed: whoever
    made the account (a password, or an identity at a provider that does not own the domain) may not be its owner.
    Their password, identities, sign-ins and changes of email waiting go, and so do the calendar feed and webhook
    endpoints they made (the owner is told); the owner may set a password later."""
    log.warning("sign_on.unconfirmed_account_claimed", user_id=str(user.id))
    user.password_hash = None
    db.execute(delete(UserIdentity).where(UserIdentity.user_id == user.id))
    sign_ins.end_all(db, user.id, now=now)
    void_email_changes(db, user.id)
    end_made_unconfirmed(db, user.id, FeedRevocation.ADDRESS_CLAIMED)
    user.email_verified_at = now


def sign_in(db: Session, signed_on: SignedOn, client: ClientInfo, *, now: datetime | None = None) -> SignedIn:
    """The account's new sign-in through the provider, refreshed for ``session_hours`` at most; then the provider's
    programme rules applied. The provider is read again under a share lock: an admin's disabling of it either comes
    before (no sign-in) or after (it ends this one too)."""
    now = now or utcnow()
    provider = db.get(IdentityProvider, signed_on.provider.id, with_for_update={"read": True}, populate_existing=True)
    if provider is None or provider.disabled_at is not None:
        raise SignOnFailed("disabled", "the provider was disabled meanwhile", signed_on.provider.id)
    reauth_at = now + timedelta(hours=provider.session_hours)
    signed_in = refresh_tokens.sign_in(db, signed_on.user, client, now=now, provider_id=provider.id,
                                       reauth_at=reauth_at)
    if signed_on.id_token:
        db.execute(update(SignIn).where(SignIn.id == signed_in.sign_in_id).values(id_token=signed_on.id_token))
    enrolment.apply(db, provider.id, signed_on.user, signed_on.claims)
    return signed_in


def link_user_of(db: Session, ticket: str) -> uuid.UUID | None:
    """The account a link ticket waits on (for the sign-in throttle), if any."""
    return db.scalar(select(SignOnAttempt.link_user_id).where(SignOnAttempt.link_ticket_hash == digest(ticket)))


def link_with_password(db: Session, ticket: str, password: str, *, browser_secret: str | None,
                       now: datetime | None = None) -> SignedOn:
    """Link the identity a ticket waits with once its account's password is given, in the browser that started the
    sign-in (a ticket sent to someone else links nothing); the ticket is spent either way (another try starts at the
    provider again). 401 for a wrong password, 422 for a ticket unknown, used, of another browser or older than the
    attempt."""
    now = now or utcnow()
    attempt = db.scalar(update(SignOnAttempt).where(SignOnAttempt.link_ticket_hash == digest(ticket),
                                                    SignOnAttempt.browser_hash == digest(browser_secret or ""))
                        .values(link_ticket_hash=None).returning(SignOnAttempt))
    if attempt is None or attempt.link_user_id is None or attempt.link_claims is None or attempt.expires_at <= now:
        raise InvalidInput(REASONS["link"], field="ticket")
    user = db.get(User, attempt.link_user_id, with_for_update=True, populate_existing=True)
    provider = db.get(IdentityProvider, attempt.provider_id)
    if user is None or user.deleted_at is not None or provider is None or provider.disabled_at is not None \
            or not hmac.compare_digest(str(attempt.link_claims.get("issuer")), provider.issuer):
        raise InvalidInput(REASONS["link"], field="ticket")
    enforcement.refuse_passwords_for(db, user.email, user.id)  # passwords turned off since the ticket was given
    try:
        verify_current_password(user, password)
    except WrongCurrentPassword:
        raise WrongCredentials(user.id) from None
    if user.disabled_at is not None:
        raise sign_ins.AccountDisabled(user.id)
    claims: dict[str, Any] = attempt.link_claims["claims"]
    _link(db, user, provider, str(claims["sub"]), _email(claims, provider.id), now=now)
    return SignedOn(user, provider, claims, linked=True)
