"""Signing in through a real SAML IdP (SimpleSAMLphp, ``tests.factories.saml_idp``): the IdP for the run, the IdP
added here as an admin adds it (from its metadata URL) and this service registered there as its SP, and the browser's
round trip through the API with Flask's test client (start, the IdP's pages with httpx, the form the IdP's page posts
back). Without PHP, SimpleSAMLphp or xmlsec1 the tests using ``saml_idp`` are skipped, saying what is missing."""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
from flask.testing import FlaskClient
from sqlalchemy.orm import Session
from werkzeug.test import TestResponse

from infra.config import get_settings
from models import IdentityProvider
from tests.factories.accounts import UserFactory
from tests.factories.saml_idp import Idp, Posted, available, start_idp
from workflows.actors import Actor
from workflows.sign_on import saml_providers
from workflows.sign_on.providers import Rule

IDP_PASSWORD = "a passphrase at the IdP"


@pytest.fixture(scope="session")
def saml_idp(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Idp]:
    """One SimpleSAMLphp for the run (of each test process), on a free port of ``localhost``."""
    if (missing := available()) is not None:
        pytest.skip(f"no SAML IdP on this machine: {missing}. `apt-get install -y --no-install-recommends "
                    "simplesamlphp php-cli php-xml php-mbstring xmlsec1`")
    idp = start_idp(tmp_path_factory.mktemp("saml-idp"))
    yield idp
    idp.stop()


@dataclass
class SamlOrganisation:
    idp: Idp
    row: IdentityProvider
    domain: str

    @property
    def id(self) -> uuid.UUID:
        return self.row.id

    @property
    def acs_path(self) -> str:
        return urlsplit(saml_providers.acs_url(get_settings(), self.id)).path


def saml_organisation(db: Session, idp: Idp, *, domains: Sequence[str] | None = None,
                      enrolments: Sequence[Rule] = (), encrypt: bool = False,
                      idp_settings: dict[str, Any] | None = None, **options: Any) -> SamlOrganisation:
    """The IdP added by an admin from its metadata URL (or the ``metadata_xml`` given), owning a domain of its own;
    this service's SP registered at the IdP (its certificate given, for ``encrypt``)."""
    domain = f"uni-{secrets.token_hex(4)}.example"
    admin = UserFactory(is_admin=True)
    metadata = {"metadata_url": idp.metadata_url} if "metadata_xml" not in options else {}
    row = saml_providers.add_provider(db, Actor(user_id=admin.id, is_admin=True), get_settings(),
                                      display_name=f"Uni {domain}", domains=[domain] if domains is None else domains,
                                      enrolments=enrolments, **metadata, **options)
    db.flush()
    settings = get_settings()
    idp.trust(saml_providers.sp_entity_id(settings, row.id), acs=saml_providers.acs_url(settings, row.id),
              slo=saml_providers.sls_url(settings, row.id), certificate=row.sp_certificate, encrypt=encrypt,
              **(idp_settings or {}))
    return SamlOrganisation(idp, row, domain)


def saml_person(org: SamlOrganisation, *, email: str | None = None, groups: Sequence[str] = (),
                name: str = "Ada Lovelace") -> tuple[str, str]:
    """A user at the IdP; their login and email."""
    login = f"s{secrets.token_hex(5)}"
    address = email or f"{login}@{org.domain}"
    org.idp.add_user(login, IDP_PASSWORD, email=address, name=name, groups=groups)
    return login, address


def saml_start(client: FlaskClient, org: SamlOrganisation) -> tuple[str, str]:
    """Open the start route as a browser does: the IdP's address with the AuthnRequest, and the attempt's cookie
    (``Secure``: Python's cookie jar would not send it back over http, so it is given back by hand). Each from an
    address of its own, as starts are limited per client address."""
    address = f"10.{secrets.randbelow(250)}.{secrets.randbelow(250)}.{secrets.randbelow(250) + 1}"
    response = client.get(f"{saml_providers.PREFIX}/{org.id}/start", environ_base={"REMOTE_ADDR": address})
    assert response.status_code == 302, response.text
    cookie = next(header for header in response.headers.getlist("Set-Cookie")
                  if header.startswith("mentorship_sign_on="))
    assert "SameSite=None" in cookie and "Secure" in cookie, cookie
    return response.headers["Location"], cookie.split(";")[0].split("=", 1)[1]


def saml_log_in(client: FlaskClient, org: SamlOrganisation, login: str,
                at_idp: httpx.Client | None = None) -> tuple[Posted, str]:
    """Start here and sign in at the IdP (in ``at_idp``, the browser's side there, which keeps the IdP's session;
    a new one by default): what its page posts back, and this browser's attempt cookie."""
    location, browser = saml_start(client, org)
    assert location.startswith(org.idp.base), location
    with httpx.Client() as fresh:
        posted = org.idp.log_in(at_idp or fresh, location, login, IDP_PASSWORD)
    assert posted.action == saml_providers.acs_url(get_settings(), org.id), posted.action
    return posted, browser


def post_back(client: FlaskClient, org: SamlOrganisation, fields: dict[str, str], browser: str | None) -> TestResponse:
    """The IdP's page posting its form to the assertion consumer service, with the attempt's cookie."""
    if browser is not None:
        client.set_cookie("mentorship_sign_on", browser, path="/api/v1/auth/sign-on")
    else:
        client.delete_cookie("mentorship_sign_on", path="/api/v1/auth/sign-on")
    return client.post(org.acs_path, data=fields)


def saml_signed_on(client: FlaskClient, org: SamlOrganisation, login: str) -> dict[str, str]:
    """The whole round trip; the access token's header of the sign-in it made."""
    posted, browser = saml_log_in(client, org, login)
    response = post_back(client, org, posted.fields, browser)
    assert response.status_code == 302 and response.headers["Location"] == "/#/sign-on/done", (
        response.headers.get("Location"))
    refreshed = client.post("/api/v1/auth/refresh", json={}, headers={"Origin": "http://localhost"})
    assert refreshed.status_code == 200, refreshed.text
    return {"Authorization": f"Bearer {refreshed.json['access_token']}"}
