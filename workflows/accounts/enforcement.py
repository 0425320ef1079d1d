"""Domains whose people sign in through their organisation's provider only: an admin turned password sign-in off
for a provider's email domains (``IdentityProvider.password_sign_in_off``). For an address there, no password
signs in, and none is set: no registration, reset, change or invitation with one. A platform admin gets in when
the provider is down by turning the rule off from the command line (``flask ops password-sign-in``, docs/sign-on.md)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import ClassVar

from sqlalchemy import select
from sqlalchemy.orm import Session

from models import IdentityProvider, ProviderDomain
from workflows.errors import Forbidden, refusal


class PasswordSignInOff(Forbidden):
    """The address's domain signs in through its organisation's provider only (403, naming the provider so a client
    can offer it)."""

    keeps_changes: ClassVar[bool] = True

    def __init__(self, provider: SignOnOnly, user_id: uuid.UUID | None = None) -> None:
        super().__init__(refusal("people of {domain} sign in with {provider}: passwords are not used for this address"),
                         words={"domain": provider.domain, "provider": provider.display_name},
                         provider_id=str(provider.provider_id), provider=provider.display_name)
        self.user_id = user_id


@dataclass(frozen=True)
class SignOnOnly:
    provider_id: uuid.UUID
    display_name: str
    domain: str


def domain_of(email: str) -> str:
    """The address's domain as providers' domains are kept: lower case, an international one in its ASCII form."""
    domain = email.rpartition("@")[2].strip().lower().rstrip(".")
    try:
        return domain.encode("idna").decode("ascii")
    except UnicodeError:
        return domain


def sign_on_only(db: Session, email: str) -> SignOnOnly | None:
    """The provider an (already normalised) address must sign in through, if its domain is one's with passwords off."""
    domain = domain_of(email)
    row = db.execute(select(IdentityProvider.id, IdentityProvider.display_name)
                     .join(ProviderDomain, ProviderDomain.provider_id == IdentityProvider.id)
                     .where(ProviderDomain.domain == domain, IdentityProvider.password_sign_in_off,
                            IdentityProvider.disabled_at.is_(None))).one_or_none()
    return None if row is None else SignOnOnly(row[0], row[1], domain)


def refuse_passwords_for(db: Session, email: str, user_id: uuid.UUID | None = None) -> None:
    """403 (:class:`PasswordSignInOff`) when the address signs in through its organisation's provider only."""
    only = sign_on_only(db, email)
    if only is not None:
        raise PasswordSignInOff(only, user_id)
