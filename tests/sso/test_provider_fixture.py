"""The OpenID provider the sign-in tests run against (Canaille, started by ``tests.factories.oidc_provider``),
used here as a relying party uses it: authorize, sign in, exchange the code, verify the ID token."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from authlib.oauth2.client import OAuth2Client
from joserfc import jwt
from joserfc.jwk import KeySet

from tests.factories.oidc_provider import Provider, ProviderError

CLIENT_ID = "booking-service"
CLIENT_SECRET = "booking-service-secret"
REDIRECT_URI = "http://127.0.0.1:5000/auth/oidc/callback"
SIGNED_OUT_URI = "http://127.0.0.1:5000/signed-out"
PASSWORD = "a long provider password"


@dataclass
class Authorization:
    url: str
    state: str
    code_verifier: str
    nonce: str


def authorization(provider: Provider, client_id: str = CLIENT_ID, redirect_uri: str = REDIRECT_URI) -> Authorization:
    client = OAuth2Client(None, client_id, "unused here", redirect_uri=redirect_uri,
                          scope="openid profile email groups", code_challenge_method="S256")
    code_verifier, nonce = secrets.token_urlsafe(48), secrets.token_urlsafe(16)
    url, state = client.create_authorization_url(
        provider.discovery["authorization_endpoint"], code_verifier=code_verifier, nonce=nonce)
    return Authorization(url=url, state=state, code_verifier=code_verifier, nonce=nonce)


def answer_of(location: str) -> dict[str, str]:
    """The query of the redirect back to the client, one value a name."""
    return {name: values[0] for name, values in parse_qs(urlsplit(location).query).items()}


def exchange(provider: Provider, code: str, code_verifier: str) -> httpx.Response:
    return httpx.post(provider.discovery["token_endpoint"], auth=(CLIENT_ID, CLIENT_SECRET), data={
        "grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT_URI, "code_verifier": code_verifier,
    })


def id_token_claims(provider: Provider, id_token: str) -> dict[str, Any]:
    token = jwt.decode(id_token, KeySet.import_key_set(provider.jwks()), algorithms=["RS256"])
    jwt.JWTClaimsRegistry(leeway=5, iss={"essential": True, "value": provider.issuer}).validate(token.claims)
    return token.claims


def provider_sign_in(provider: Provider, login: str) -> dict[str, Any]:
    """Sign in as ``login`` with a new browser; the claims of the ID token the code is exchanged for."""
    asked = authorization(provider)
    answer = answer_of(provider.log_in(asked.url, login, PASSWORD))
    assert answer["state"] == asked.state
    tokens = exchange(provider, answer["code"], asked.code_verifier).raise_for_status().json()
    claims = id_token_claims(provider, tokens["id_token"])
    assert claims["nonce"] == asked.nonce
    return claims


@pytest.fixture(scope="module")
def provider(oidc_provider: Provider) -> Provider:
    """The provider with this module's client and users."""
    oidc_provider.add_client(CLIENT_ID, CLIENT_SECRET, [REDIRECT_URI], [SIGNED_OUT_URI])
    oidc_provider.add_user("ada", PASSWORD, "ada@example.com", "Ada", "Lovelace", ["mentors", "coordinators"])
    return oidc_provider


def test_a_sign_in_gives_a_code_whose_id_token_the_provider_signed(provider: Provider) -> None:
    asked = authorization(provider)
    location = provider.log_in(asked.url, "ada", PASSWORD)
    assert location.startswith(REDIRECT_URI + "?")
    answer = answer_of(location)
    assert answer["state"] == asked.state and answer["iss"] == provider.issuer

    response = exchange(provider, answer["code"], asked.code_verifier)
    assert response.status_code == 200, response.text
    tokens = response.json()
    assert tokens["token_type"].lower() == "bearer" and tokens["refresh_token"]
    claims = id_token_claims(provider, tokens["id_token"])
    assert claims["iss"] == provider.issuer
    assert claims["aud"] == [CLIENT_ID]  # Canaille's audience is always a list
    assert claims["sub"] == "ada"
    assert claims["nonce"] == asked.nonce
    assert claims["email"] == "ada@example.com"
    assert (claims["name"], claims["given_name"], claims["family_name"]) == ("Ada Lovelace", "Ada", "Lovelace")
    assert sorted(claims["groups"]) == ["coordinators", "mentors"]
    assert "email_verified" not in claims  # Canaille never says


def test_a_code_is_exchanged_once(provider: Provider) -> None:
    asked = authorization(provider)
    code = answer_of(provider.log_in(asked.url, "ada", PASSWORD))["code"]
    assert exchange(provider, code, asked.code_verifier).status_code == 200

    replayed = exchange(provider, code, asked.code_verifier)
    assert replayed.status_code == 400
    assert replayed.json()["error"] == "invalid_grant"


def test_two_sign_ins_of_one_user_in_the_same_second_both_get_tokens(provider: Provider) -> None:
    """Canaille's access tokens alone would be equal, and the second refused (see canaille_server.py)."""
    asked = [authorization(provider) for _ in range(2)]
    codes = [answer_of(provider.log_in(each.url, "ada", PASSWORD))["code"] for each in asked]
    responses = [exchange(provider, code, each.code_verifier) for code, each in zip(codes, asked, strict=True)]
    assert [response.status_code for response in responses] == [200, 200], responses[-1].text
    assert responses[0].json()["access_token"] != responses[1].json()["access_token"]


def test_a_second_authorization_in_the_same_browser_skips_the_sign_in(provider: Provider) -> None:
    with httpx.Client() as browser:
        provider.log_in(authorization(provider).url, "ada", PASSWORD, http=browser)
        # A wrong password is never asked for: the provider's session signs the second one in.
        location = provider.log_in(authorization(provider).url, "ada", "not the password", http=browser)
    assert "code" in answer_of(location)


def test_ending_the_session_signs_out_and_returns_to_the_client(provider: Provider) -> None:
    with httpx.Client() as browser:
        asked = authorization(provider)
        code = answer_of(provider.log_in(asked.url, "ada", PASSWORD, http=browser))["code"]
        id_token = exchange(provider, code, asked.code_verifier).json()["id_token"]
        # The ID token's audience is a list: without client_id Canaille would not know where to return.
        ended = browser.get(provider.end_session_endpoint, params={
            "id_token_hint": id_token, "client_id": CLIENT_ID, "post_logout_redirect_uri": SIGNED_OUT_URI,
            "state": "after-sign-out",
        })
        assert (ended.status_code, ended.headers["location"]) == (302, SIGNED_OUT_URI + "?state=after-sign-out")
        with pytest.raises(ProviderError, match="Login failed"):
            provider.log_in(authorization(provider).url, "ada", "not the password", http=browser)


def test_changes_at_the_provider_show_at_the_next_sign_in(provider: Provider) -> None:
    provider.add_user("grace", PASSWORD, "grace@example.com", "Grace", "Hopper", ["mentors"])
    assert provider_sign_in(provider, "grace")["groups"] == ["mentors"]

    provider.change_user("grace", email="grace.hopper@example.org", groups=["coordinators"])
    claims = provider_sign_in(provider, "grace")
    assert (claims["email"], claims["groups"]) == ("grace.hopper@example.org", ["coordinators"])

    provider.change_user("grace", groups=[])
    assert "groups" not in provider_sign_in(provider, "grace")


def test_refusing_consent_sends_the_user_back_with_access_denied(provider: Provider) -> None:
    redirect_uri = "http://127.0.0.1:5001/callback"
    provider.add_client("untrusted-client", "its secret", [redirect_uri], [], trusted=False)
    asked = authorization(provider, "untrusted-client", redirect_uri)

    answer = answer_of(provider.deny(asked.url, "ada", PASSWORD))
    assert (answer["error"], answer["state"]) == ("access_denied", asked.state)
    assert "code" in answer_of(provider.log_in(asked.url, "ada", PASSWORD))
