"""Rate limits on Redis for the password routes and registration, per client address; for the calendar changes
that make the service talk to a mentor's server, per user; and for visitors' reads of the public pages, per client
address.

Failed password checks are counted per (account, client address) and per client
address; successes are not counted. So someone who knows an email is throttled
where they are, and the owner signing in from elsewhere is not held back by them.
Registration keeps a per-address limit. The client address is ``remote_addr``:
the peer, or the entry ``TRUSTED_PROXIES`` hops from the right of
``X-Forwarded-For`` when the app factory installs werkzeug's ``ProxyFix``.
"""

from __future__ import annotations

import ipaddress
import math
import time
from collections.abc import Iterator
from contextlib import contextmanager

import structlog
from flask import Flask, current_app, request
from limits import RateLimitItem, parse, parse_many
from limits.errors import StorageError
from limits.storage import RedisStorage
from limits.strategies import MovingWindowRateLimiter

from api.errors import http_error
from infra.config import Settings
from workflows.accounts.emails import AccountExists
from workflows.accounts.second_steps import SecondStepFailed
from workflows.accounts.users import PasswordRejected
from workflows.errors import LockedOut, refusal

log = structlog.get_logger(__name__)
_EXTENSION = "auth_rate_limiter"
# Rate limits checked or counted together, each with the keys it counts under.
Counters = tuple[tuple[RateLimitItem, tuple[str, ...]], ...]
# One subscriber is routed a whole IPv6 /64: counting single addresses there would count nothing.
_IPV6_CLIENT_PREFIX = 64


def client_address() -> str:
    """The request's client address as counted: an IPv4 address, or the IPv6 /64 network it is in."""
    raw = request.remote_addr or "unknown"
    try:
        address = ipaddress.ip_address(raw)
    except ValueError:
        return raw
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return str(address.ipv4_mapped)
        return str(ipaddress.IPv6Network((address, _IPV6_CLIENT_PREFIX), strict=False))
    return str(address)


class AuthRateLimiter:
    def __init__(self, settings: Settings) -> None:
        storage = RedisStorage(
            settings.redis_url,
            key_prefix=f"{settings.redis_key_prefix}ratelimit",
            wrap_exceptions=True,
            socket_connect_timeout=1,
            socket_timeout=1,
        )
        self._limiter = MovingWindowRateLimiter(storage)
        self._per_address = parse(settings.auth_rate_limit_per_ip)
        self._per_account_and_address = parse(settings.auth_rate_limit_per_email)
        self._account_emails = parse(settings.account_email_rate_limit)
        self._successes_per_account = parse(settings.auth_rate_limit_success_per_account)
        self._calendar_changes = parse(settings.calendar_rate_limit)
        self._public_reads = parse(settings.public_rate_limit)
        self._messages = parse_many(settings.message_rate_limit)
        self._conversation_messages = parse_many(settings.conversation_rate_limit)
        self._sign_ons = parse(settings.sign_on_rate_limit)
        self._second_steps = parse(settings.second_step_rate_limit)
        self._scim = parse(settings.scim_rate_limit)

    def count_registration(self) -> None:
        """Count one registration attempt from this address; 429 beyond the per-address limit."""
        address = client_address()
        with _unless_storage_fails():
            if not self._limiter.hit(self._per_address, "register", address):
                raise self._too_many(refusal("too many registrations from this address; retry in {retry_after} s"),
                                     self._per_address, "register", address)

    def count_sign_on_step(self) -> None:
        """Count one step of a sign-in at a provider from this address (a start writes a row and asks the provider; a
        callback asks it too); 429 beyond ``SIGN_ON_RATE_LIMIT``."""
        address = client_address()
        with _unless_storage_fails():
            if not self._limiter.hit(self._sign_ons, "sign-on", address):
                raise self._too_many(refusal("too many sign-ins through an organisation from this address; retry in "
                                             "{retry_after} s"), self._sign_ons, "sign-on", address)

    def count_scim_request(self, provider: str) -> None:
        """Count one SCIM request of a provider; 429 beyond ``SCIM_RATE_LIMIT`` (another provider's go on)."""
        with _unless_storage_fails():
            if not self._limiter.hit(self._scim, "scim", provider):
                raise self._too_many(refusal("too many SCIM requests of this provider; retry in {retry_after} s"),
                                     self._scim, "scim", provider)

    def refuse_beyond_successes(self, account: str) -> None:
        """429 when the account signed in ``AUTH_RATE_LIMIT_SUCCESS_PER_ACCOUNT`` times lately, from anywhere:
        checked before the password, so a stolen password cannot buy unlimited argon2 work or tokens."""
        with _unless_storage_fails():
            if not self._limiter.test(self._successes_per_account, "sign-ins", account):
                raise self._too_many(refusal("too many sign-ins to this account; retry in {retry_after} s"),
                                     self._successes_per_account, "sign-ins", account)

    def count_success(self, account: str) -> None:
        with _unless_storage_fails():
            self._limiter.hit(self._successes_per_account, "sign-ins", account)

    def count_account_email(self, what: str, recipient: str) -> None:
        """Count one mailed link to ``recipient`` (an address or a user), and one asked from this client address;
        429 beyond ``ACCOUNT_EMAIL_RATE_LIMIT`` per recipient or ``AUTH_RATE_LIMIT_PER_IP`` per client."""
        address = client_address()
        with _unless_storage_fails():
            for item, keys in ((self._account_emails, (what, recipient)), (self._per_address, (what, address))):
                if not self._limiter.hit(item, *keys):
                    raise self._too_many(refusal("too many {what} requests; retry in {retry_after} s"), item, *keys,
                                         what=what)

    def count_calendar_change(self, user: str) -> None:
        """Count one change of a user's calendars that makes us talk to a server (a connect, an update that syncs);
        429 beyond ``CALENDAR_RATE_LIMIT``."""
        with _unless_storage_fails():
            if not self._limiter.hit(self._calendar_changes, "calendar-changes", user):
                raise self._too_many(refusal("too many calendar changes; retry in {retry_after} s"),
                                     self._calendar_changes, "calendar-changes", user)

    def count_message(self, user: str) -> None:
        """Count one message a user writes; 429 beyond any of ``MESSAGE_RATE_LIMIT``'s limits (others write on)."""
        with _unless_storage_fails():
            for item in self._messages:
                if not self._limiter.hit(item, "messages", user):
                    raise self._too_many(refusal("too many messages; retry in {retry_after} s"), item, "messages", user)

    def count_conversation_message(self, conversation: str) -> None:
        """Count one message written in a conversation; 429 beyond any of ``CONVERSATION_RATE_LIMIT``'s limits."""
        with _unless_storage_fails():
            for item in self._conversation_messages:
                if not self._limiter.hit(item, "conversation-messages", conversation):
                    raise self._too_many(refusal("too many messages in this conversation; retry in {retry_after} s"),
                                         item, "conversation-messages",
                                         conversation)

    def count_public_read(self) -> None:
        """Count one read of the public pages or routes from this client address; 429 beyond ``PUBLIC_RATE_LIMIT``."""
        address = client_address()
        with _unless_storage_fails():
            if not self._limiter.hit(self._public_reads, "public", address):
                raise self._too_many(refusal("too many reads from this address; retry in {retry_after} s"),
                                     self._public_reads, "public", address)

    def refuse_while_throttled(self, account: str) -> None:
        """429 (:class:`LockedOut`) when this address has used up its failures, for this account or for any."""
        self._refuse_if_used_up(self._failure_counters(account),
                                refusal("too many failed attempts; retry in {retry_after} s"))

    def count_failure(self, account: str) -> None:
        self._hit_each(self._failure_counters(account))

    def _failure_counters(self, account: str) -> Counters:
        address = client_address()
        return (
            (self._per_account_and_address, ("password-failures", account, address)),
            (self._per_address, ("password-failures", address)),
        )

    def refuse_second_step_while_throttled(self, user: str) -> None:
        """429 (:class:`LockedOut`) when the account, or this client, has used up its wrong codes."""
        self._refuse_if_used_up(self._second_step_counters(user),
                                refusal("too many wrong codes; retry in {retry_after} s"))

    def count_second_step_failure(self, user: str) -> None:
        self._hit_each(self._second_step_counters(user))

    def _second_step_counters(self, user: str) -> Counters:
        """Wrong second-step codes, per account (from anywhere: a guesser changing addresses gains nothing) and per
        client address (one client guessing at many accounts)."""
        return (self._second_steps, ("second-step-failures", user)), \
            (self._per_address, ("second-step-failures", client_address()))

    def _refuse_if_used_up(self, counters: Counters, template: str) -> None:
        """429 (:class:`LockedOut`, saying ``template``) when any of the counters is used up; checked, not counted."""
        with _unless_storage_fails():
            for item, keys in counters:
                if not self._limiter.test(item, *keys):
                    retry_after = self._retry_after(item, *keys)
                    raise LockedOut(template, words={"retry_after": retry_after}, retry_after=retry_after)

    def _hit_each(self, counters: Counters) -> None:
        with _unless_storage_fails():
            for item, keys in counters:
                self._limiter.hit(item, *keys)

    def _retry_after(self, item: RateLimitItem, *keys: str) -> int:
        return max(1, math.ceil(self._limiter.get_window_stats(item, *keys).reset_time - time.time()))

    def _too_many(self, template: str, item: RateLimitItem, *keys: str, what: str | None = None) -> Exception:
        retry_after = self._retry_after(item, *keys)
        return http_error(429, template, words={"what": what, "retry_after": retry_after},
                          headers={"Retry-After": str(retry_after)})


@contextmanager
def _unless_storage_fails() -> Iterator[None]:
    """If Redis is unreachable the attempt is allowed and logged: a broker outage must not lock
    every user out (argon2 still slows guessing)."""
    try:
        yield
    except StorageError as exc:
        log.warning("ratelimit.unavailable", error=str(exc.storage_error))


def init_rate_limits(app: Flask, settings: Settings) -> None:
    app.extensions[_EXTENSION] = AuthRateLimiter(settings)


def _limiter() -> AuthRateLimiter:
    limiter: AuthRateLimiter = current_app.extensions[_EXTENSION]
    return limiter


def limit_registrations() -> None:
    _limiter().count_registration()


def limit_scim(provider: str) -> None:
    """429 when this provider sent too many SCIM requests lately."""
    _limiter().count_scim_request(provider)


def limit_sign_on_steps() -> None:
    """429 when this client address started or finished too many sign-ins at providers lately."""
    _limiter().count_sign_on_step()


def limit_calendar_changes(user: str) -> None:
    """429 when this user connected or changed calendars too often lately (each makes us talk to a server)."""
    _limiter().count_calendar_change(user)


def limit_public_reads() -> None:
    """429 when this client address read the public pages too often lately."""
    _limiter().count_public_read()


def limit_messages(user: str) -> None:
    """429 when this user wrote too many messages lately."""
    _limiter().count_message(user)


def limit_conversation_messages(conversation: str) -> None:
    """429 when a conversation took too many messages lately, from all its people."""
    _limiter().count_conversation_message(conversation)


def limit_account_emails(what: str, recipient: str) -> None:
    """429 when ``recipient`` was sent too many links of this kind lately, or this client asked too many."""
    _limiter().count_account_email(what, recipient)


@contextmanager
def throttled_sign_in(account: str) -> Iterator[None]:
    """A password check (:func:`throttled_password_check`) that signs in: successes are counted per account too."""
    limiter = _limiter()
    limiter.refuse_beyond_successes(account)
    with throttled_password_check(account):
        yield
    limiter.count_success(account)


@contextmanager
def throttled_second_step(user: str) -> Iterator[None]:
    """A second step's code checked: refused (429) while the account or this client is throttled; a wrong code
    counted for both."""
    limiter = _limiter()
    limiter.refuse_second_step_while_throttled(user)
    try:
        yield
    except SecondStepFailed:
        limiter.count_second_step_failure(user)
        raise


@contextmanager
def throttled_registration(account: str) -> Iterator[None]:
    """A registration with ``account``'s address, refused (429) while this client is throttled for it: one with the
    address of an existing account counts as a failed password check does (the 409 it answers is what a probe of
    addresses learns from), so a client probing many addresses is soon locked out of both."""
    limiter = _limiter()
    limiter.refuse_while_throttled(account)
    try:
        yield
    except AccountExists:
        limiter.count_failure(account)
        raise


@contextmanager
def throttled_password_check(account: str) -> Iterator[None]:
    """Refuse with 429 while this address is throttled for ``account``; count a rejected password.

    The check and the count are separate steps (only failures count), so requests
    already past the check when the limit is reached still finish: the excess is
    bounded by how many requests one address has in flight at once.
    """
    limiter = _limiter()
    limiter.refuse_while_throttled(account)
    try:
        yield
    except PasswordRejected:
        limiter.count_failure(account)
        raise
