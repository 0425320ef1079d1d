"""What a provider says of itself (``workflows/sign_on/discovery.py``): its discovery document and keys, kept in this
process and bounded, read from a real provider (Canaille, started by the tests) or from a provider of the tests' own
(``document_server``) that counts what it is asked, or lies; and the outbound guard each request goes through.

With Canaille, whether something was fetched again shows in what comes back: a fetch makes a new object, what is kept
is the same one.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator

import pytest
from joserfc.jwk import ECKey, KeySet

from infra import http_targets
from infra.config import Settings, get_settings
from infra.oidc_http import ProviderClient, ProviderFault
from tests.factories.oidc_provider import Provider
from tests.factories.sign_on import DocumentServer, document_server
from workflows.sign_on import discovery


@pytest.fixture
def outbound() -> ProviderClient:
    """A client as the sign-in makes one (the tests' settings switch the guard off)."""
    return discovery.client_for(get_settings(), private_network=False)


@pytest.fixture
def served() -> Iterator[DocumentServer]:
    """A provider of the tests' own, serving what a test puts in it."""
    with document_server() as server:
        yield server


def public_keys(count: int) -> list[dict[str, object]]:
    return [dict(ECKey.generate_key("P-256", auto_kid=True).as_dict(private=False)) for _ in range(count)]


def test_the_document_and_keys_are_kept_until_forgotten(outbound: ProviderClient, oidc_provider: Provider) -> None:
    provider_id, issuer = uuid.uuid4(), oidc_provider.issuer
    first = discovery.metadata(outbound, provider_id, issuer)
    assert (first.issuer, first.jwks_uri) == (issuer, oidc_provider.discovery["jwks_uri"])
    assert first.algorithms == ("RS256",)  # Canaille announces "none" too: never taken
    keys = discovery.keys(outbound, provider_id, issuer, kid=None)
    assert discovery.metadata(outbound, provider_id, issuer) is first
    assert discovery.keys(outbound, provider_id, issuer, kid=None) is keys
    discovery.forget(provider_id)
    again = discovery.metadata(outbound, provider_id, issuer)
    assert again is not first and again == first
    assert discovery.keys(outbound, provider_id, issuer, kid=None) is not keys


def test_at_most_max_providers_are_kept_the_least_recently_used_going_first(
        monkeypatch: pytest.MonkeyPatch, outbound: ProviderClient, served: DocumentServer) -> None:
    monkeypatch.setattr(discovery, "MAX_PROVIDERS", 2)
    served.documents[discovery.WELL_KNOWN] = served.discovery()
    first, second, third = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()

    def fetches_after(*provider_ids: uuid.UUID) -> int:
        """How many times the document was asked for once the sign-in read it for ``provider_ids``."""
        for provider_id in provider_ids:
            discovery.metadata(outbound, provider_id, served.url)
        return served.asked.count(discovery.WELL_KNOWN)

    assert fetches_after(first, second, first) == 2  # the first is kept, and now the more recently used
    assert fetches_after(third) == 3  # the second goes to make room
    assert fetches_after(first) == 3
    assert fetches_after(second) == 4


def test_a_document_naming_another_issuer_is_refused(outbound: ProviderClient, served: DocumentServer,
                                                      oidc_provider: Provider) -> None:
    # A server that hands out the real provider's document, to be taken for it (a mix-up).
    served.documents[discovery.WELL_KNOWN] = oidc_provider.discovery
    with pytest.raises(ProviderFault, match="names another issuer"):
        discovery.metadata(outbound, uuid.uuid4(), served.url)
    with pytest.raises(ProviderFault, match="names another issuer"):
        discovery.metadata(outbound, uuid.uuid4(), served.url + "/")  # the issuer is compared exactly
    served.documents[discovery.WELL_KNOWN] = served.discovery()
    assert discovery.metadata(outbound, uuid.uuid4(), served.url).jwks_uri == f"{served.url}/keys"


def test_a_key_set_of_more_than_max_keys_is_refused(outbound: ProviderClient, served: DocumentServer) -> None:
    served.documents[discovery.WELL_KNOWN] = served.discovery()
    served.documents["/keys"] = {"keys": public_keys(discovery.MAX_KEYS)}
    assert len(discovery.keys(outbound, uuid.uuid4(), served.url, kid=None).keys) == discovery.MAX_KEYS
    served.documents["/keys"] = {"keys": public_keys(discovery.MAX_KEYS + 1)}
    with pytest.raises(ProviderFault, match=f"at most {discovery.MAX_KEYS} keys"):
        discovery.keys(outbound, uuid.uuid4(), served.url, kid=None)


@pytest.mark.parametrize("gzipped", [False, True], ids=["plain", "gzip"])
def test_a_document_or_key_set_larger_than_max_document_bytes_is_refused(
        outbound: ProviderClient, served: DocumentServer, gzipped: bool) -> None:
    if gzipped:  # a few hundred bytes on the wire, too many once inflated
        served.gzipped.update({discovery.WELL_KNOWN, "/keys"})
    padding = "x" * discovery.MAX_DOCUMENT_BYTES
    served.documents[discovery.WELL_KNOWN] = served.discovery(padding=padding)
    with pytest.raises(ProviderFault, match="larger than"):
        discovery.metadata(outbound, uuid.uuid4(), served.url)
    served.documents[discovery.WELL_KNOWN] = served.discovery(padding=padding[:1000])
    served.documents["/keys"] = {"keys": public_keys(1), "padding": padding}
    with pytest.raises(ProviderFault, match="larger than"):
        discovery.keys(outbound, uuid.uuid4(), served.url, kid=None)
    served.documents["/keys"] = {"keys": public_keys(1), "padding": padding[:1000]}
    assert isinstance(discovery.keys(outbound, uuid.uuid4(), served.url, kid=None), KeySet)


def test_a_provider_on_loopback_is_reached_only_when_an_admin_placed_it_on_a_private_network(
        configure: Callable[..., None], oidc_provider: Provider) -> None:
    configure(WEBHOOK_ALLOW_PRIVATE_TARGETS="false", WEBHOOK_ALLOW_LOOPBACK_TARGETS="false")
    settings: Settings = get_settings()
    public = discovery.client_for(settings, private_network=False)
    with pytest.raises(ProviderFault, match="loopback"):
        discovery.metadata(public, uuid.uuid4(), oidc_provider.issuer)
    private = discovery.client_for(settings, private_network=True)
    assert discovery.metadata(private, uuid.uuid4(), oidc_provider.issuer).issuer == oidc_provider.issuer
    assert (public.scope, private.scope) == (http_targets.TargetScope.PUBLIC, http_targets.TargetScope.PRIVATE)
