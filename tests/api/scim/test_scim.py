"""SCIM 2.0 at ``/scim/v2`` (``api/scim``), as an identity provider's provisioning client uses it: scim2-tester's
conformance checks, and a client (scim2-client) sending what Entra ID and Okta send."""

from __future__ import annotations

import secrets
import uuid

from flask import Flask
from scim2_client.engines.wsgi import WSGISCIMClient
from scim2_tester import Status, check_server
from sqlalchemy.orm import Session

from infra import sealing
from infra.config import get_settings
from models import IdentityProvider, ProviderDomain
from tests.factories.accounts import UserFactory
from workflows.actors import Actor
from workflows.sign_on import scim


def scim_provider(db: Session) -> tuple[IdentityProvider, str, str]:
    """An organisation's provider owning a domain, and the SCIM token an admin issued it."""
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


def test_scim2_tester_finds_no_failure(app: Flask, db: Session) -> None:
    _provider, token, _domain = scim_provider(db)
    client = WSGISCIMClient(app, base_url="http://localhost/scim/v2", headers={"Authorization": f"Bearer {token}"})
    results = check_server(client)
    failed = [(r.title, r.reason, r.data) for r in results if r.status not in (Status.SUCCESS, Status.SKIPPED)]
    assert not failed, "\n".join(str(f)[:600] for f in failed)
    assert sum(r.status == Status.SUCCESS for r in results) > 20
