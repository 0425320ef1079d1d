"""An organisation's provider that provisions by SCIM: its row (no provider need answer: SCIM is the provider
calling this service), the email domain it owns, and the SCIM token an admin issued it."""

from __future__ import annotations

import secrets
import uuid

from sqlalchemy.orm import Session

from infra import sealing
from infra.config import get_settings
from models import IdentityProvider, ProviderDomain
from tests.factories.accounts import UserFactory
from workflows.actors import Actor
from workflows.sign_on import scim


def scim_provider(db: Session) -> tuple[IdentityProvider, str, str]:
    """The provider, its SCIM token and its domain."""
    domain = f"org-{secrets.token_hex(4)}.example"
    provider = IdentityProvider(id=uuid.uuid4(), display_name=f"Org {domain}", issuer=f"https://{domain}/idp",
                                client_id="mentorship", client_secret=sealing.seal(get_settings(), "s"))
    db.add(provider)
    db.flush()
    db.add(ProviderDomain(domain=domain, provider_id=provider.id))
    admin = UserFactory(is_admin=True)
    token = scim.issue_token(db, Actor(user_id=admin.id, is_admin=True), provider.id)
    db.flush()
    return provider, token, domain
