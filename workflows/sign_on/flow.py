"""A sign-in at an organisation's provider, by the book: OpenID Connect's authorization code flow with PKCE (S256),
``state`` and ``nonce``.

:func:`start` records the attempt (its ``state`` as a SHA-256, the ``nonce``, the PKCE verifier, and a SHA-256 of a
secret the browser keeps in a cookie) and builds the provider's authorization URL with Authlib's OAuth 2.0 client.
:func:`finish`, at the callback, spends the attempt (once: a second callback with its ``state`` finds it used), checks
the browser is the one that started it, exchanges the code at the token endpoint (Authlib's client, posting through
the outbound guard, with the client secret and the PKCE verifier), and verifies the ID token with joserfc: its
signature by a key the provider publishes (fetched again once for a key id it does not hold), its algorithm one the
provider announced and asymmetric, ``iss``, ``aud`` (and ``azp``), ``exp``, ``iat`` and ``nonce``. Whatever fails ends
in :class:`SignOnFailed`, whose ``reason`` the callback's page explains.

No transaction stays open while the provider is asked: :func:`start` and :func:`finish` read (and spend) what they
need, keep the provider's fields in a :class:`ProviderView`, and call ``pause`` (the caller ends or commits its
transaction there) before the first request to the provider; they write again only after it answered.

Authlib and joserfc (5 MB of an API process) are imported by the functions that sign someone in, so an API process
no one signs in through a provider holds neither (the bench's ``rss_mb_api_worker``): the ``_libraries`` rule.
"""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, ClassVar

import httpx
import structlog
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from infra import sealing
from infra.config import Settings
from infra.oidc_http import ProviderFault
from models import IdentityProvider, ProviderEnrolment, SignOnAttempt
from workflows.accounts.sign_ins import digest
from workflows.clock import utcnow
from workflows.errors import Forbidden, refusal
from workflows.sign_on import discovery

log = structlog.get_logger(__name__)

ATTEMPT_TTL = timedelta(minutes=10)
LEEWAY_SECONDS = 60  # clocks of the provider and the service may differ this much
MAX_TOKEN_AGE = timedelta(minutes=10)  # an ID token issued longer ago than this is not taken
MAX_ID_TOKEN = 16 * 1024
MAX_CODE = 2048
CALLBACK_PATH = "/api/v1/auth/sign-on/callback"
BASE_SCOPES = ("openid", "email", "profile")


class SignOnFailed(Forbidden):
    """The sign-in at the provider did not end in a verified identity. ``reason`` is one of :data:`REASONS` (what the
    person is told); ``check`` the one that refused it, for the admin's audit trail (``aud``, ``azp``, ``iss``,
    ``signature``, ``algorithm``, ``key``, ``nonce``, ``exp``, ``iat``, ``sub``…, else the reason itself); the
    attempt stays spent."""

    keeps_changes: ClassVar[bool] = True

    def __init__(self, reason: str, detail: str, provider_id: uuid.UUID | None = None, *,
                 check: str | None = None) -> None:
        super().__init__(REASONS[reason], reason=reason)
        self.reason = reason
        self.detail = detail
        self.provider_id = provider_id
        self.check = check or reason


REASONS = {
    "denied": refusal("the sign-in was cancelled at your organisation's sign-in page"),
    "state": refusal("this sign-in was not started in this browser, or was finished already: start again"),
    "expired": refusal("this sign-in took too long: start again"),
    "provider": refusal("your organisation's sign-in could not be reached: try again in a moment"),
    "code": refusal("your organisation's sign-in refused to finish it (the code was used or expired): start again"),
    "token": refusal("your organisation's sign-in answered with an identity this service cannot trust"),
    "disabled": refusal("sign-in through this organisation is turned off: ask your administrator"),
    "email": refusal("your organisation did not share your email address: allow it, or ask your administrator"),
    "account": refusal("this identity cannot sign in to an account here"),
    "link": refusal("this link to your account is unknown, used or expired: start again"),
    "account-disabled": refusal("this account has been disabled by an administrator"),
}


@dataclass(frozen=True)
class ProviderView:
    """What asking a provider needs of its row, read before the transaction ends: nothing is loaded while it is
    asked."""

    id: uuid.UUID
    issuer: str
    client_id: str
    client_secret: str
    private_network: bool

    @classmethod
    def of(cls, row: IdentityProvider | ProviderView) -> ProviderView:
        return cls(row.id, row.issuer, row.client_id, row.client_secret, row.private_network)


Pause = Callable[[], None]


def _no_pause() -> None:
    """A caller whose session is not the request's (a test's, a worker's) keeps its transaction."""


@dataclass(frozen=True)
class Verified:
    """An identity the provider vouched for in a verified ID token."""

    provider: IdentityProvider
    claims: dict[str, Any]
    attempt_id: uuid.UUID
    id_token: str = ""
    timezone: str | None = None  # the browser's, from the start: an account made now takes them
    locale: str | None = None

    @property
    def subject(self) -> str:
        return str(self.claims["sub"])


def redirect_uri(settings: Settings) -> str:
    """Where the providers send people back: register it as the client's redirect URI at each."""
    return settings.public_url + CALLBACK_PATH


def enabled_provider(db: Session, provider_id: uuid.UUID) -> IdentityProvider:
    provider = db.get(IdentityProvider, provider_id)
    if provider is None:  # anyone may name any id: nothing to put in a provider's audit trail
        raise SignOnFailed("disabled", "the provider is unknown")
    if provider.disabled_at is not None:
        raise SignOnFailed("disabled", "the provider is disabled", provider_id)
    return provider


def _metadata(settings: Settings, provider: IdentityProvider | ProviderView, *,
              starting: bool = False) -> discovery.Metadata:
    """The provider's document. A start (anyone's, signed in or not) waits for it at most
    ``SIGN_ON_START_WAIT_SECONDS``, and only while few requests of this process wait on providers: a slow provider
    cannot hold the API's threads."""
    wait = settings.sign_on_start_wait_seconds if starting else discovery.REQUEST_SECONDS
    client = discovery.client_for(settings, private_network=provider.private_network, timeout=wait)
    try:
        return discovery.metadata(client, provider.id, provider.issuer, wait=wait,
                                  room=discovery.waiting_room(settings.api_threads) if starting else None)
    except ProviderFault as exc:
        raise SignOnFailed("provider", str(exc), provider.id) from None


def _scopes(db: Session, provider_id: uuid.UUID) -> str:
    """OpenID's own scopes, and ``groups`` when a programme rule reads that claim (providers that know no such scope
    ignore it)."""
    claims = set(db.scalars(select(ProviderEnrolment.claim).where(ProviderEnrolment.provider_id == provider_id)))
    return " ".join((*BASE_SCOPES, *(["groups"] if "groups" in claims else [])))


def start(db: Session, settings: Settings, provider_id: uuid.UUID, *, browser_secret: str,
          now: datetime | None = None, pause: Pause = _no_pause, timezone: str | None = None,
          locale: str | None = None) -> str:
    """Record a new attempt for the browser holding ``browser_secret`` (with its ``timezone`` and ``locale``, which
    an account made by it takes); the provider's authorization URL. Nothing is written before ``pause``: the
    provider's document is read after it."""
    now = now or utcnow()
    provider = ProviderView.of(enabled_provider(db, provider_id))
    scopes = _scopes(db, provider.id)
    pause()
    metadata = _metadata(settings, provider, starting=True)
    state, nonce, verifier = secrets.token_urlsafe(32), secrets.token_urlsafe(32), secrets.token_urlsafe(64)
    db.add(SignOnAttempt(id=uuid.uuid4(), provider_id=provider.id, state_hash=digest(state),
                         browser_hash=digest(browser_secret), nonce=nonce, code_verifier=verifier, created_at=now,
                         expires_at=now + ATTEMPT_TTL, timezone=timezone, locale=locale))
    db.flush()
    from authlib.oauth2.client import OAuth2Client  # noqa: PLC0415 - the _libraries rule (the module's docstring)

    client = OAuth2Client(None, client_id=provider.client_id, redirect_uri=redirect_uri(settings), scope=scopes,
                          code_challenge_method="S256")
    url, _state = client.create_authorization_url(metadata.authorization_endpoint, state=state,
                                                  code_verifier=verifier, nonce=nonce)
    return str(url)


def _spend(db: Session, state: str, browser_secret: str | None, now: datetime) -> SignOnAttempt:
    """The attempt of ``state`` started by this browser, marked used in the same statement that finds it: a second
    callback finds none, and another browser (one a leaked callback address was opened in) neither finds nor spends
    it."""
    spent: SignOnAttempt | None = db.scalar(
        update(SignOnAttempt).where(SignOnAttempt.state_hash == digest(state),
                                    SignOnAttempt.browser_hash == digest(browser_secret or ""),
                                    SignOnAttempt.used_at.is_(None))
        .values(used_at=now).returning(SignOnAttempt))
    if spent is None:
        raise SignOnFailed("state", "no attempt of this state waits in this browser (unknown, used, or another's)")
    if spent.expires_at <= now:
        raise SignOnFailed("expired", "the attempt is older than ten minutes", spent.provider_id)
    return spent


def finish(db: Session, settings: Settings, *, state: str | None, code: str | None, error: str | None,
           browser_secret: str | None, issuer: str | None = None, now: datetime | None = None,
           pause: Pause = _no_pause) -> Verified:
    """The identity the provider vouched for at the end of the attempt of ``state``; :class:`SignOnFailed` else.
    ``issuer`` is the callback's ``iss`` when the provider sends one (RFC 9207): it must be the attempt's. The
    attempt is spent before ``pause`` (the caller commits it there), the provider asked after it."""
    now = now or utcnow()
    if not state:
        raise SignOnFailed("state", "the callback carries no state")
    attempt = _spend(db, state, browser_secret, now)
    if error:
        raise SignOnFailed("denied", f"the provider answered {error[:64]!r}", attempt.provider_id)
    if not code or len(code) > MAX_CODE:
        raise SignOnFailed("code", "the callback carries no usable code", attempt.provider_id)
    provider = ProviderView.of(enabled_provider(db, attempt.provider_id))
    if issuer is not None and issuer != provider.issuer:
        raise SignOnFailed("token", f"the callback names another issuer ({issuer[:100]!r})", provider.id,
                           check="iss")
    attempt_id, nonce, verifier = attempt.id, attempt.nonce, attempt.code_verifier
    timezone, locale = attempt.timezone, attempt.locale
    pause()
    metadata = _metadata(settings, provider)
    id_token = exchange(settings, provider, metadata, code=code, verifier=verifier)
    claims = verify_id_token(settings, provider, id_token, nonce=nonce, now=now)
    return Verified(enabled_provider(db, provider.id), claims, attempt_id, id_token, timezone, locale)


def exchange(settings: Settings, provider: IdentityProvider | ProviderView, metadata: discovery.Metadata, *, code: str,
             verifier: str) -> str:
    """The ID token the token endpoint gives for ``code`` (Authlib's client: basic auth, the PKCE verifier)."""
    from authlib.oauth2.base import OAuth2Error  # noqa: PLC0415 - the _libraries rule (the module's docstring)
    from authlib.oauth2.client import OAuth2Client  # noqa: PLC0415

    session = discovery.client_for(settings, private_network=provider.private_network)
    try:
        secret = str(sealing.unseal(settings, provider.client_secret))
    except sealing.Unreadable:
        raise SignOnFailed("provider", "the client secret cannot be read with the keys configured",
                           provider.id) from None
    client = OAuth2Client(session, client_id=provider.client_id, client_secret=secret,
                          redirect_uri=redirect_uri(settings), code_challenge_method="S256")
    try:
        token = client.fetch_token(metadata.token_endpoint, grant_type="authorization_code", code=code,
                                   code_verifier=verifier)
    except ProviderFault as exc:
        raise SignOnFailed("provider", str(exc), provider.id) from None
    except httpx.HTTPStatusError as exc:  # a 5xx, or an error page that is no JSON (a gateway's)
        raise SignOnFailed("provider", f"the token endpoint answered HTTP {exc.response.status_code}",
                           provider.id) from None
    except (OAuth2Error, ValueError, TypeError, OverflowError) as exc:  # an error answer, or one that makes no sense
        raise SignOnFailed("code", f"the token endpoint refused: {str(exc)[:200]}", provider.id) from None
    id_token = token.get("id_token")
    if not isinstance(id_token, str) or len(id_token) > MAX_ID_TOKEN:
        raise SignOnFailed("token", "the token endpoint gave no usable ID token", provider.id)
    return id_token


def _check_of(error: Exception) -> str:
    """The check a failed decoding names: the claim that did not hold (``aud``, ``iss``, ``nonce``, ``exp``…), a bad
    signature, or a token that cannot be read."""
    from joserfc.errors import BadSignatureError, ClaimError  # noqa: PLC0415 - the _libraries rule (the module's docstring)

    if isinstance(error, ClaimError):
        return str(error.claim)[:20]
    if isinstance(error, BadSignatureError):
        return "signature"
    return "format"


def verify_id_token(settings: Settings, provider: IdentityProvider | ProviderView, id_token: str, *, nonce: str,
                    now: datetime) -> dict[str, Any]:
    """The ID token's claims once verified (OpenID Connect Core §3.1.3.7); :class:`SignOnFailed` ("token") else."""
    def refuse(detail: str, check: str) -> SignOnFailed:
        log.warning("sign_on.id_token_refused", provider_id=str(provider.id), check=check, detail=detail)
        return SignOnFailed("token", detail, provider.id, check=check)

    from joserfc import jws, jwt  # noqa: PLC0415 - the _libraries rule (the module's docstring)
    from joserfc.errors import JoseError  # noqa: PLC0415
    from joserfc.jwt import JWTClaimsRegistry  # noqa: PLC0415

    metadata = _metadata(settings, provider)
    try:
        header = jws.extract_compact(id_token.encode()).protected
    except (JoseError, ValueError) as exc:
        raise refuse(f"the ID token cannot be read: {exc}", "format") from None
    alg, kid = header.get("alg"), header.get("kid")
    if alg not in metadata.algorithms:
        raise refuse(f"the ID token is signed with {str(alg)[:20]!r}, not an algorithm the provider announced",
                     "algorithm")
    client = discovery.client_for(settings, private_network=provider.private_network)
    try:
        key_set = discovery.keys(client, provider.id, provider.issuer, kid=kid if isinstance(kid, str) else None)
    except ProviderFault as exc:
        raise SignOnFailed("provider", str(exc), provider.id) from None
    if not discovery.holds(key_set, kid if isinstance(kid, str) else None):
        raise refuse("the ID token is signed with a key the provider does not publish", "key")
    try:
        claims = jwt.decode(id_token, key_set, algorithms=list(metadata.algorithms)).claims
        JWTClaimsRegistry(
            now=int(now.timestamp()), leeway=LEEWAY_SECONDS,
            iss={"essential": True, "value": provider.issuer}, aud={"essential": True, "value": provider.client_id},
            sub={"essential": True}, exp={"essential": True}, iat={"essential": True},
            nonce={"essential": True, "value": nonce},
        ).validate(claims)
    except (JoseError, ValueError, TypeError) as exc:
        raise refuse(f"the ID token does not hold: {type(exc).__name__}: {exc}", _check_of(exc)) from None
    audiences = claims["aud"] if isinstance(claims["aud"], list) else [claims["aud"]]
    if (len(audiences) > 1 or "azp" in claims) and claims.get("azp") != provider.client_id:
        raise refuse("the ID token names other audiences and is not authorised for this client (azp)", "azp")
    oldest = (now - MAX_TOKEN_AGE).timestamp() - LEEWAY_SECONDS
    if not isinstance(claims["iat"], (int, float)) or claims["iat"] < oldest:
        raise refuse("the ID token was issued too long ago", "iat")
    subject = claims["sub"]
    if not isinstance(subject, str) or len(subject) > 255 or not (subject.isascii() and subject.isprintable()):  # noqa: PLR2004
        raise refuse("the ID token's subject is not up to 255 printable ASCII characters (OpenID Connect Core §2)",
                     "sub")
    return dict(claims)
