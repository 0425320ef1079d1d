"""What a provider says of itself: its discovery document (``/.well-known/openid-configuration``) and its signing
keys (its ``jwks_uri``), fetched through the outbound guard and kept in this process, bounded in size and time.

A document is kept for ``DOCUMENT_SECONDS``, keys for ``KEYS_SECONDS``; a token signed with a key id the keys kept do
not hold has them fetched again at once, but no more often than every ``REFRESH_SECONDS`` per provider, so tokens
naming made-up keys cannot make the service hammer a provider. One request at a time fetches a provider's document or
keys; the others wait for it at most ``REQUEST_SECONDS`` (a sign-in's start, ``SIGN_ON_START_WAIT_SECONDS``, and
only while a quarter of the API's threads at most wait on providers: :func:`waiting_room`). A fetch that failed is
not tried again for ``FAILURE_SECONDS``: while a provider is down or slow, its sign-ins fail at once instead of each
waiting for it. At most ``MAX_PROVIDERS`` providers are kept (the least recently used go first); a document or key set
larger than ``MAX_DOCUMENT_BYTES``, or with more than ``MAX_KEYS`` keys, is refused.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections import OrderedDict
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import cache
from typing import TYPE_CHECKING, Any

import structlog

from infra import http_targets
from infra.config import Settings
from infra.oidc_http import ProviderClient, ProviderFault

if TYPE_CHECKING:
    from joserfc.jwk import KeySet

log = structlog.get_logger(__name__)

DOCUMENT_SECONDS = 3600.0
KEYS_SECONDS = 3600.0
REFRESH_SECONDS = 60.0
MAX_PROVIDERS = 100
MAX_DOCUMENT_BYTES = 64 * 1024
MAX_KEYS = 50
REQUEST_SECONDS = 10.0
FAILURE_SECONDS = 30.0
# Asymmetric signatures only: never "none", and never HS256 (the client secret would be the key).
ALGORITHMS = ("RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA")
WELL_KNOWN = "/.well-known/openid-configuration"


@dataclass(frozen=True)
class Metadata:
    """The parts of a discovery document the sign-in uses."""

    issuer: str
    authorization_endpoint: str
    token_endpoint: str
    jwks_uri: str
    end_session_endpoint: str | None
    algorithms: tuple[str, ...]


@dataclass
class _Kept:
    metadata: Metadata | None = None
    metadata_at: float = 0.0
    keys: KeySet | None = None
    keys_at: float = 0.0
    refreshed_at: float = -REFRESH_SECONDS
    failed: str | None = None
    failed_at: float = 0.0
    lock: threading.Lock = field(default_factory=threading.Lock)

    @contextmanager
    def fetching(self, wait: float = REQUEST_SECONDS, room: threading.Semaphore | None = None) -> Iterator[None]:
        """The right to fetch for this provider (waiting for another request's fetch at most ``wait``), taken only
        while ``room`` has a place (none waits for one); a failure is remembered for ``FAILURE_SECONDS`` and raised
        again meanwhile."""
        if self.failed is not None and time.monotonic() - self.failed_at < FAILURE_SECONDS:
            raise ProviderFault(self.failed)  # failed a moment ago: said again at once, waiting for nothing
        if room is not None and not room.acquire(blocking=False):
            raise ProviderFault("too many requests of this process wait on providers now")
        try:
            with self._locked(wait):
                yield
        finally:
            if room is not None:
                room.release()

    @contextmanager
    def _locked(self, wait: float) -> Iterator[None]:
        if not self.lock.acquire(timeout=wait):
            raise ProviderFault("the provider is being asked by another request, which takes too long")
        try:
            if self.failed is not None and time.monotonic() - self.failed_at < FAILURE_SECONDS:
                raise ProviderFault(self.failed)
            try:
                yield
            except ProviderFault as exc:
                self.failed, self.failed_at = str(exc), time.monotonic()
                raise
            self.failed = None
        finally:
            self.lock.release()


_kept: OrderedDict[tuple[uuid.UUID, str], _Kept] = OrderedDict()
_kept_lock = threading.Lock()


def client_for(settings: Settings, *, private_network: bool, timeout: float = REQUEST_SECONDS) -> ProviderClient:
    """A client to reach a provider: the webhooks' guard, widened to private networks where an admin allowed it."""
    scope = http_targets.configured_scope(settings)
    if private_network and scope is not http_targets.TargetScope.ANY:
        scope = http_targets.TargetScope.PRIVATE
    return ProviderClient(scope, timeout, MAX_DOCUMENT_BYTES, https_only=settings.https_targets_only)


@cache
def waiting_room(api_threads: int) -> threading.BoundedSemaphore:
    """The places of this process's requests that wait on a provider's document: a quarter of the API's threads (at
    least one), so the others always serve everyone else."""
    return threading.BoundedSemaphore(max(1, api_threads // 4))


def _endpoint(document: dict[str, Any], name: str, *, required: bool = True) -> str | None:
    value = document.get(name)
    if value is None and not required:
        return None
    if not isinstance(value, str) or not value.startswith(("https://", "http://")) or len(value) > 2048:  # noqa: PLR2004
        raise ProviderFault(f"the discovery document has no usable {name}")
    return value


def read_metadata(client: ProviderClient, issuer: str) -> Metadata:
    """The provider's discovery document, checked: it names ``issuer`` exactly (OpenID Connect Discovery §4.3), and
    the endpoints and an asymmetric signing algorithm the sign-in needs."""
    document = client.get_json(issuer.rstrip("/") + WELL_KNOWN)
    if document.get("issuer") != issuer:
        raise ProviderFault(f"the discovery document names another issuer ({str(document.get('issuer'))[:200]!r})")
    offered = document.get("id_token_signing_alg_values_supported") or ["RS256"]
    algorithms = tuple(alg for alg in ALGORITHMS if isinstance(offered, list) and alg in offered)
    if not algorithms:
        raise ProviderFault("the provider signs ID tokens with no algorithm this service accepts (RS256, ES256, …)")
    return Metadata(issuer=issuer, authorization_endpoint=str(_endpoint(document, "authorization_endpoint")),
                    token_endpoint=str(_endpoint(document, "token_endpoint")),
                    jwks_uri=str(_endpoint(document, "jwks_uri")),
                    end_session_endpoint=_endpoint(document, "end_session_endpoint", required=False),
                    algorithms=algorithms)


def read_keys(client: ProviderClient, jwks_uri: str) -> KeySet:
    """The provider's public keys (at most ``MAX_KEYS``; private or symmetric keys are left out)."""
    document = client.get_json(jwks_uri)
    keys = document.get("keys")
    if not isinstance(keys, list) or len(keys) > MAX_KEYS:
        raise ProviderFault(f"the key set is not a list of at most {MAX_KEYS} keys")
    public = [key for key in keys if isinstance(key, dict) and key.get("kty") in ("RSA", "EC", "OKP")
              and "d" not in key and key.get("use", "sig") == "sig"]
    from joserfc.errors import JoseError  # noqa: PLC0415 - joserfc loads where someone signs in (sign_on.flow)
    from joserfc.jwk import KeySet  # noqa: PLC0415

    try:
        return KeySet.import_key_set({"keys": public})
    except (JoseError, ValueError, TypeError) as exc:
        raise ProviderFault(f"the key set cannot be read: {exc}") from None


def _slot(provider_id: uuid.UUID, issuer: str) -> _Kept:
    with _kept_lock:
        key = (provider_id, issuer)
        kept = _kept.get(key)
        if kept is None:
            kept = _kept[key] = _Kept()
            while len(_kept) > MAX_PROVIDERS:
                _kept.popitem(last=False)
        _kept.move_to_end(key)
        return kept


def metadata(client: ProviderClient, provider_id: uuid.UUID, issuer: str, *, wait: float = REQUEST_SECONDS,
             room: threading.Semaphore | None = None) -> Metadata:
    """The provider's document, as kept or fetched now (waiting for another request's fetch at most ``wait``, and
    only with a place in ``room`` when one is given)."""
    kept = _slot(provider_id, issuer)
    if kept.metadata is not None and time.monotonic() - kept.metadata_at <= DOCUMENT_SECONDS:
        return kept.metadata
    with kept.fetching(wait, room):
        if kept.metadata is None or time.monotonic() - kept.metadata_at > DOCUMENT_SECONDS:
            kept.metadata, kept.metadata_at = read_metadata(client, issuer), time.monotonic()
        return kept.metadata


def keys(client: ProviderClient, provider_id: uuid.UUID, issuer: str, *, kid: str | None) -> KeySet:
    """The provider's keys, fetched again when they are old, or when they lack ``kid`` and were not fetched in the
    last ``REFRESH_SECONDS``."""
    found = metadata(client, provider_id, issuer)
    kept = _slot(provider_id, issuer)
    fresh, now = kept.keys, time.monotonic()
    if fresh is not None and now - kept.keys_at <= KEYS_SECONDS and (
            holds(fresh, kid) or now - kept.refreshed_at < REFRESH_SECONDS):
        return fresh  # what is kept, or a key id it lacks though it was fetched a moment ago: nothing to fetch
    with kept.fetching():
        now = time.monotonic()
        stale = kept.keys is None or now - kept.keys_at > KEYS_SECONDS
        unknown = kept.keys is not None and not holds(kept.keys, kid)
        if stale or (unknown and now - kept.refreshed_at >= REFRESH_SECONDS):
            if unknown:
                log.info("sign_on.keys_refreshed", provider_id=str(provider_id), kid=kid[:64] if kid else None)
            kept.keys, kept.keys_at, kept.refreshed_at = read_keys(client, found.jwks_uri), now, now
        assert kept.keys is not None
        return kept.keys


def holds(key_set: KeySet, kid: str | None) -> bool:
    """Whether the key set has the key ``kid`` names (with no kid, its only key)."""
    from joserfc.errors import JoseError  # noqa: PLC0415 - joserfc loads where someone signs in (sign_on.flow)

    try:
        key_set.get_by_kid(kid)
    except (JoseError, ValueError):
        return False
    return True


def forget(provider_id: uuid.UUID) -> None:
    """Drop what is kept of a provider (its issuer or client changed, or it was disabled)."""
    with _kept_lock:
        for key in [key for key in _kept if key[0] == provider_id]:
            del _kept[key]
