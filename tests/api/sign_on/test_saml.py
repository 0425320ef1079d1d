"""Signing in through an organisation's SAML 2.0 IdP over HTTP (``api/sign_on/saml.py``), against a real IdP
(SimpleSAMLphp, started by the tests on ``localhost``; the service's addresses are ``PUBLIC_URL``'s, ``127.0.0.1``)."""

from __future__ import annotations

from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from models import UserIdentity
from tests.factories.saml_idp import Idp
from tests.factories.saml_sign_on import saml_organisation, saml_person, saml_signed_on


def test_a_first_saml_sign_in_makes_a_verified_account_and_the_next_one_signs_in_to_it(
        client: FlaskClient, db: Session, saml_idp: Idp) -> None:
    org = saml_organisation(db, saml_idp)
    login, email = saml_person(org)
    headers = saml_signed_on(client, org, login)
    me = client.get("/api/v1/me", headers=headers).json
    assert (me["email"], me["display_name"], me["email_verified"], me["has_password"]) == (
        email, "Ada Lovelace", True, False)
    identity = db.scalars(select(UserIdentity).where(UserIdentity.user_id == me["id"])).one()
    assert identity.issuer == saml_idp.entity_id
    print(identity.subject)
