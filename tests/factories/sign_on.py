"""Signing in through a real OpenID provider (Canaille, ``tests.factories.oidc_provider``): the provider for the run,
a client of this service registered there, the provider added here as an admin adds it, and the browser's round
trip through the API (start, the provider's pages, the callback) with Flask's test client."""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from http.cookies import SimpleCookie
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from flask.testing import FlaskClient
from sqlalchemy.orm import Session
from werkzeug.test import TestResponse

from infra.config import get_settings
from models import IdentityProvider
from tests.factories.accounts import UserFactory
from tests.factories.oidc_provider import Provider, start_provider
from workflows.actors import Actor
from workflows.sign_on import flow, providers
from workflows.sign_on.providers import Rule

ORIGIN = {"Origin": "http://localhost"}  # the test client's host: a refresh by cookie must come from it
PROVIDER_PASSWORD = "a passphrase at the provider"


@pytest.fixture(scope="session")
def oidc_provider(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Provider]:
    """One Canaille for the run (of each test process), started here on a free port."""
    with start_provider(tmp_path_factory.mktemp("oidc-provider")) as provider:
        yield provider


@dataclass
class Organisation:
    """An organisation's provider as this service knows it, and its client at the provider."""

    provider: Provider
    row: IdentityProvider
    client_id: str
    client_secret: str
    domain: str

    @property
    def id(self) -> uuid.UUID:
        return self.row.id


def register_client(provider: Provider, *, trusted: bool = True) -> tuple[str, str]:
    """A client of this service at the provider, with this service's redirect URI (``PUBLIC_URL``'s)."""
    client_id, secret = f"mentorship-{secrets.token_hex(4)}", secrets.token_urlsafe(24)
    settings = get_settings()
    provider.add_client(client_id, secret, [flow.redirect_uri(settings)], [settings.public_url + "/"],
                        trusted=trusted)
    return client_id, secret


def organisation(db: Session, provider: Provider, *, domains: Sequence[str] | None = None,
                 enrolments: Sequence[Rule] = (), trusted: bool = True, **options: Any) -> Organisation:
    """The provider added by an admin, owning a domain of its own (unless ``domains`` says otherwise)."""
    client_id, secret = register_client(provider, trusted=trusted)
    domain = f"org-{secrets.token_hex(4)}.example"
    admin = UserFactory(is_admin=True)
    row = providers.add_provider(db, Actor(user_id=admin.id, is_admin=True), get_settings(),
                                 display_name=f"Org {domain}", issuer=provider.issuer, client_id=client_id,
                                 client_secret=secret, domains=[domain] if domains is None else domains,
                                 enrolments=enrolments, **options)
    db.flush()
    return Organisation(provider, row, client_id, secret, domain)


def person(org: Organisation, *, email: str | None = None, groups: Sequence[str] = ()) -> tuple[str, str]:
    """A user at the provider; their login and email."""
    login = f"p{secrets.token_hex(5)}"
    address = email or f"{login}@{org.domain}"
    org.provider.add_user(login, PROVIDER_PASSWORD, address, "Grace", "Hopper", groups)
    return login, address


def cookies_of(response: TestResponse) -> SimpleCookie:
    jar = SimpleCookie()
    for header in response.headers.getlist("Set-Cookie"):
        jar.load(header)
    return jar


def start(client: FlaskClient, org: Organisation) -> str:
    """Open the start route as a browser does: the provider's authorization URL (the attempt cookie is kept). Each
    from an address of its own: starts are limited per client address, and the suite makes many."""
    address = f"10.{secrets.randbelow(250)}.{secrets.randbelow(250)}.{secrets.randbelow(250) + 1}"
    response = client.get(f"/api/v1/auth/sign-on/{org.id}/start", environ_base={"REMOTE_ADDR": address})
    assert response.status_code == 302, response.text
    location = response.headers["Location"]
    assert location.startswith(org.provider.issuer), location
    return location


def callback_of(redirect: str) -> str:
    """The path and query of the provider's redirect to this service (followed by the test client)."""
    parts = urlsplit(redirect)
    assert parts.path == flow.CALLBACK_PATH, redirect
    return f"{parts.path}?{parts.query}"


def query_of(redirect: str) -> dict[str, str]:
    return {name: values[0] for name, values in parse_qs(urlsplit(redirect).query).items()}


def page_of(response: TestResponse) -> tuple[str, dict[str, str]]:
    """The web app's screen a callback sent the browser to, and its query."""
    assert response.status_code == 302, response.text
    location = response.headers["Location"]
    assert location.startswith("/#/"), location
    route, _, query = location[3:].partition("?")
    return route, {name: values[0] for name, values in parse_qs(query).items()}


def round_trip(client: FlaskClient, org: Organisation, login: str) -> TestResponse:
    """Start, sign in at the provider, and come back: the callback's answer."""
    redirect = org.provider.log_in(start(client, org), login, PROVIDER_PASSWORD)
    return client.get(callback_of(redirect))


def access_token(client: FlaskClient) -> str:
    """What the web app does on ``#/sign-on/done``: spend the refresh cookie for an access token."""
    response = client.post("/api/v1/auth/refresh", json={}, headers=ORIGIN)
    assert response.status_code == 200, response.text
    return str(response.json["access_token"])


def signed_on(client: FlaskClient, org: Organisation, login: str) -> dict[str, str]:
    """The whole sign-in through the provider; the bearer header of the account it signed in to."""
    route, query = page_of(round_trip(client, org, login))
    assert route == "sign-on/done", (route, query)
    return {"Authorization": f"Bearer {access_token(client)}"}
