"""SCIM 2.0 at ``/scim/v2`` (``api/scim``), as an identity provider's provisioning client uses it: scim2-tester's
conformance checks, and a client (scim2-client) sending what Entra ID and Okta send."""

from __future__ import annotations

from flask import Flask
from scim2_client.engines.wsgi import WSGISCIMClient
from scim2_tester import Status, check_server
from sqlalchemy.orm import Session

from tests.factories.scim import scim_provider


def test_scim2_tester_finds_no_failure(app: Flask, db: Session) -> None:
    _provider, token, _domain = scim_provider(db)
    client = WSGISCIMClient(app, base_url="http://localhost/scim/v2", headers={"Authorization": f"Bearer {token}"})
    results = check_server(client)
    failed = [(r.title, r.reason, r.data) for r in results if r.status not in (Status.SUCCESS, Status.SKIPPED)]
    assert not failed, "\n".join(str(f)[:600] for f in failed)
    assert sum(r.status == Status.SUCCESS for r in results) > 20
