"""Where a webhook may be sent: the SSRF guard.

A webhook URL is chosen by a user and fetched by our workers, inside our
network. So a target is refused when its host resolves to *any* address that is
not publicly routable: loopback, private, link-local (cloud metadata at
169.254.169.254), CGNAT (100.64.0.0/10), multicast, reserved, unspecified, and
IPv6 forms that embed one of those (IPv4-mapped, 6to4, Teredo, NAT64).

The check runs when an endpoint is created or its URL changed (a clear 422), and
again before every attempt, because DNS answers change. The attempt then
connects to the very address that was checked, with the original host in the
``Host`` header and, for https, as the TLS server name (SNI and certificate
check): a second DNS answer (rebinding) cannot move the request elsewhere.

The scope widens the guard for development: ``LOOPBACK``
(``WEBHOOK_ALLOW_LOOPBACK_TARGETS``, set by ``make run``) admits this machine's
own loopback addresses and nothing else, so a receiver on 127.0.0.1 works while
link-local, metadata and private addresses stay refused; ``ANY``
(``WEBHOOK_ALLOW_PRIVATE_TARGETS``, tests only) switches the guard off. ``PRIVATE`` is for an organisation's own
sign-on provider an admin said lives on its private network: private, unique-local, carrier-grade NAT and loopback
addresses pass, while link-local (metadata), multicast, unspecified and reserved ones stay refused.
"""

from __future__ import annotations

import ipaddress
import socket
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

import httpx

from infra.config import Settings

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

SCHEMES = ("http", "https")
DEFAULT_PORTS = {"http": 80, "https": 443}
MAX_URL_LENGTH = 2048
_CGNAT = ipaddress.ip_network("100.64.0.0/10")
_NAT64 = ipaddress.ip_network("64:ff9b::/96")


class TargetRefused(ValueError):
    """The URL is malformed or points somewhere webhooks may not go; the message says why (the domain answers 422)."""


class TargetUnreachable(TargetRefused):
    """The host does not resolve, or resolves to an address requests may not go to: what a user is told says no more
    than that (the address it resolves to stays in the log), so that the check is no DNS oracle."""


class TargetScope(StrEnum):
    """Which addresses webhooks may be sent to."""

    PUBLIC = "public"  # production: publicly routable unicast only
    LOOPBACK = "loopback"  # development: public, and this machine's loopback addresses
    PRIVATE = "private"  # a sign-on provider an admin placed on a private network: private addresses too
    ANY = "any"  # tests: the guard is off


def configured_scope(settings: Settings) -> TargetScope:
    """The scope ``WEBHOOK_ALLOW_PRIVATE_TARGETS`` and ``WEBHOOK_ALLOW_LOOPBACK_TARGETS`` name."""
    if settings.webhook_allow_private_targets:
        return TargetScope.ANY
    return TargetScope.LOOPBACK if settings.webhook_allow_loopback_targets else TargetScope.PUBLIC


@dataclass(frozen=True)
class PinnedTarget:
    """How to send one request: the URL to connect to, and what keeps the original host visible."""

    url: str
    headers: dict[str, str] = field(default_factory=dict)
    extensions: dict[str, Any] = field(default_factory=dict)


def parse_url(url: str) -> httpx.URL:
    """An absolute http(s) URL with a host, or ``TargetRefused``."""
    if len(url) > MAX_URL_LENGTH:
        raise TargetRefused(f"the URL is longer than {MAX_URL_LENGTH} characters")
    try:
        parsed = httpx.URL(url)
    except (httpx.InvalidURL, UnicodeError, ValueError) as exc:
        raise TargetRefused(f"the URL cannot be parsed: {exc}") from None
    if parsed.scheme not in SCHEMES:
        raise TargetRefused("the URL must start with http:// or https://")
    if not parsed.host:
        raise TargetRefused("the URL has no host")
    return parsed


def _embedded_ipv4(address: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 address stands for, when it is one of the translation forms."""
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address.sixtofour is not None:
        return address.sixtofour
    if address.teredo is not None:
        return address.teredo[1]
    if address in _NAT64:
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return None


_THIS_NETWORK = ipaddress.ip_network("0.0.0.0/8")
# Cloud metadata services that sit inside private ranges (AWS's IPv6 one, Alibaba Cloud's): never a provider.
_METADATA = frozenset({ipaddress.ip_address("fd00:ec2::254"), ipaddress.ip_address("100.100.100.200")})


def _inside_a_private_network(address: IPAddress) -> bool:
    """A private, unique-local, carrier-grade NAT or loopback address; never link-local (cloud metadata),
    multicast, "this network", or reserved."""
    if address.is_loopback:
        return True
    if address in _METADATA or address.is_link_local or address.is_multicast or address.is_unspecified \
            or address.is_reserved:
        return False
    if isinstance(address, ipaddress.IPv4Address) and (address in _THIS_NETWORK or address in _CGNAT):
        return address in _CGNAT
    return address.is_private


def refusal_reason(address: IPAddress, scope: TargetScope = TargetScope.PUBLIC) -> str | None:
    """Why a request may not go to ``address``; ``None`` when it is a public unicast address.

    In the ``LOOPBACK`` scope a loopback address is admitted too.
    """
    if isinstance(address, ipaddress.IPv6Address):
        embedded = _embedded_ipv4(address)
        if embedded is not None:
            reason = refusal_reason(embedded, scope)
            return f"{reason} (embedded in {address})" if reason else None
    if scope is TargetScope.LOOPBACK and address.is_loopback:
        return None
    if scope is TargetScope.PRIVATE and _inside_a_private_network(address):
        return None
    checks = (
        (address.is_unspecified, "an unspecified address"),
        (address.is_loopback, "a loopback address"),
        # fec0::/10, deprecated site-local: still routed inside some networks, and not "private" to Python.
        (isinstance(address, ipaddress.IPv6Address) and address.is_site_local, "a site-local address"),
        (address.is_link_local, "a link-local address"),
        (address.is_multicast, "a multicast address"),
        (isinstance(address, ipaddress.IPv4Address) and address in _CGNAT, "a carrier-grade NAT address"),
        (address.is_private, "a private address"),
        (address.is_reserved, "a reserved address"),
        (not address.is_global, "not a public address"),
    )
    return next((reason for refused, reason in checks if refused), None)


def resolve(host: str, port: int) -> list[IPAddress]:
    """Every address ``host`` resolves to (an IP literal resolves to itself)."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError) as exc:
        raise TargetUnreachable(f"the host {host} does not resolve: {exc}") from None
    addresses: list[IPAddress] = []
    for info in infos:
        # IPv6 link-local answers carry a scope ("fe80::1%eth0"); the address is what is judged.
        address = ipaddress.ip_address(str(info[4][0]).split("%", 1)[0])
        if address not in addresses:
            addresses.append(address)
    if not addresses:
        raise TargetUnreachable(f"the host {host} does not resolve")
    return addresses


def public_addresses(parsed: httpx.URL, scope: TargetScope = TargetScope.PUBLIC) -> list[IPAddress]:
    """The host's addresses, all of them admitted by ``scope``, or ``TargetRefused`` naming the first that is not."""
    host = parsed.raw_host.decode("ascii")
    addresses = resolve(host, parsed.port or DEFAULT_PORTS[parsed.scheme])
    for address in addresses:
        reason = refusal_reason(address, scope)
        if reason:
            where = f"{address} is" if host == str(address) else f"{host} resolves to {address}, which is"
            raise TargetUnreachable(f"webhook URLs must point to public addresses: {where} {reason}")
    return addresses


def _secure(parsed: httpx.URL, *, https_only: bool) -> httpx.URL:
    if https_only and parsed.scheme != "https":
        raise TargetRefused("the URL must start with https:// (plain http is refused in production)")
    return parsed


def validate_target(url: str, *, scope: TargetScope, https_only: bool = False) -> str:
    """The normalised URL when webhooks may be sent to it; ``TargetRefused`` with the reason otherwise."""
    parsed = _secure(parse_url(url), https_only=https_only)
    normalised = str(parsed)
    if len(normalised) > MAX_URL_LENGTH:  # percent-encoding lengthens it: "é" is "%C3%A9"
        raise TargetRefused(f"the URL is longer than {MAX_URL_LENGTH} characters once percent-encoded")
    if scope is not TargetScope.ANY:
        public_addresses(parsed, scope)
    return normalised


def pin_target(url: str, *, scope: TargetScope, https_only: bool = False) -> PinnedTarget:
    """Check ``url`` now and return a request target that connects to the address checked."""
    parsed = _secure(parse_url(url), https_only=https_only)
    if scope is TargetScope.ANY:
        return PinnedTarget(str(parsed))
    address = public_addresses(parsed, scope)[0]
    pinned = parsed.copy_with(host=str(address))
    extensions: dict[str, Any] = {}
    if parsed.scheme == "https":
        # The TLS server name, and the name the certificate is checked against, stay the original host.
        extensions["sni_hostname"] = parsed.raw_host.decode("ascii")
    return PinnedTarget(str(pinned), headers={"Host": parsed.netloc.decode("ascii")}, extensions=extensions)
