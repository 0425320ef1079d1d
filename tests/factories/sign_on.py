"""Signing in through a real OpenID provider (Canaille, ``tests.factories.oidc_provider``): the provider for the run,
a client of this service registered there, the provider added here as an admin adds it, and the browser's round
trip through the API (start, the provider's pages, the callback) with Flask's test client; an ID token the provider
issues a client outside this service's flow; and a provider of the tests' own that serves what it is told (one that
lies about its issuer, or serves too many or too large keys)."""

from __future__ import annotations

import gzip
import json
import secrets
import threading
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.cookies import SimpleCookie
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, cast
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from authlib.oauth2.client import OAuth2Client
from flask.testing import FlaskClient
from joserfc import jws
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


def register_client(provider: Provider, *, trusted: bool = True, audience: bool = True) -> tuple[str, str]:
    """A client of this service at the provider, with this service's redirect URI (``PUBLIC_URL``'s), and itself as
    its tokens' audience unless ``audience`` is false."""
    client_id, secret = f"mentorship-{secrets.token_hex(4)}", secrets.token_urlsafe(24)
    settings = get_settings()
    provider.add_client(client_id, secret, [flow.redirect_uri(settings)], [settings.public_url + "/"],
                        trusted=trusted, audience=audience)
    return client_id, secret


def organisation(db: Session, provider: Provider, *, domains: Sequence[str] | None = None,
                 enrolments: Sequence[Rule] = (), trusted: bool = True, audience: bool = True,
                 **options: Any) -> Organisation:
    """The provider added by an admin, owning a domain of its own (unless ``domains`` says otherwise)."""
    client_id, secret = register_client(provider, trusted=trusted, audience=audience)
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


def verified(db: Session, org: Organisation, login: str) -> flow.Verified:
    """A real sign-in at the provider finished in the domain (``flow.start`` and ``flow.finish``, no route): the
    identity the provider vouched for in its ID token, and the attempt it ended."""
    browser = secrets.token_urlsafe(16)
    url = flow.start(db, get_settings(), org.id, browser_secret=browser)
    answer = query_of(org.provider.log_in(url, login, PROVIDER_PASSWORD))
    return flow.finish(db, get_settings(), state=answer["state"], code=answer["code"], error=None,
                       browser_secret=browser)


@dataclass(frozen=True)
class IssuedToken:
    """An ID token the provider's token endpoint gave a client, and the nonce the authorization asked for."""

    id_token: str
    nonce: str

    @property
    def claims(self) -> dict[str, Any]:
        """What the provider put in it (read, not verified)."""
        return cast(dict[str, Any], json.loads(jws.extract_compact(self.id_token.encode()).payload))


def issued_id_token(provider: Provider, client_id: str, client_secret: str, login: str) -> IssuedToken:
    """Sign in as ``login`` for the client ``client_id`` as any relying party does (PKCE, a nonce) and exchange the
    code at the token endpoint (basic auth): the ID token the provider issued, outside this service's flow."""
    verifier, nonce = secrets.token_urlsafe(48), secrets.token_urlsafe(16)
    redirect = flow.redirect_uri(get_settings())
    client = OAuth2Client(None, client_id, redirect_uri=redirect, scope=" ".join(flow.BASE_SCOPES),
                          code_challenge_method="S256")
    url, _state = client.create_authorization_url(provider.discovery["authorization_endpoint"],
                                                  code_verifier=verifier, nonce=nonce)
    code = query_of(provider.log_in(url, login, PROVIDER_PASSWORD))["code"]
    answer = httpx.post(provider.discovery["token_endpoint"], auth=(client_id, client_secret), data={
        "grant_type": "authorization_code", "code": code, "redirect_uri": redirect, "code_verifier": verifier})
    return IssuedToken(str(answer.raise_for_status().json()["id_token"]), nonce)


@dataclass
class DocumentServer:
    """A web server of the tests' own on a free port of 127.0.0.1, answering GETs with the JSON documents put in
    ``documents`` by path (404 else), gzipped for the paths in ``gzipped``; it counts what it was asked."""

    url: str
    documents: dict[str, object] = field(default_factory=dict)
    gzipped: set[str] = field(default_factory=set)
    asked: list[str] = field(default_factory=list)

    def discovery(self, **changes: object) -> dict[str, object]:
        """A discovery document naming this server as its issuer, its keys at ``/keys``; ``changes`` over it."""
        return {"issuer": self.url, "authorization_endpoint": f"{self.url}/authorize",
                "token_endpoint": f"{self.url}/token", "jwks_uri": f"{self.url}/keys",
                "id_token_signing_alg_values_supported": ["RS256", "ES256"], **changes}


def _document_handler(server: DocumentServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            server.asked.append(self.path)
            if self.path not in server.documents:
                self.send_error(404)
                return
            body = json.dumps(server.documents[self.path]).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            if self.path in server.gzipped:
                body = gzip.compress(body)
                self.send_header("Content-Encoding", "gzip")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the standard library's name
            """Quiet: the test reads ``asked``."""

    return Handler


@contextmanager
def document_server() -> Iterator[DocumentServer]:
    """A :class:`DocumentServer` for the length of the block."""
    served = DocumentServer(url="")
    http = ThreadingHTTPServer(("127.0.0.1", 0), _document_handler(served))
    http.daemon_threads = True
    served.url = f"http://127.0.0.1:{http.server_port}"
    thread = threading.Thread(target=http.serve_forever, daemon=True)
    thread.start()
    try:
        yield served
    finally:
        http.shutdown()
        http.server_close()
        thread.join(timeout=10)
