"""The SSRF guard: which addresses a webhook may reach, and how a request is pinned to the address checked."""

from __future__ import annotations

import ipaddress
import socket
from typing import Any

import pytest

from infra import http_targets
from infra.http_targets import TargetRefused, TargetScope, pin_target, refusal_reason, validate_target


@pytest.mark.parametrize("address", [
    "127.0.0.1", "127.8.9.10", "10.0.0.1", "172.16.0.1", "192.168.1.1", "169.254.169.254", "100.64.0.1",
    "100.127.255.254", "0.0.0.0", "224.0.0.1",  # noqa: S104 - refused, not bound to "239.255.255.250", "240.0.0.1", "255.255.255.255", "192.0.2.1",
    "::1", "::", "fe80::1", "fc00::1", "ff02::1", "::ffff:127.0.0.1", "::ffff:10.0.0.1", "2002:7f00:1::",
    "64:ff9b::a00:1", "2001:db8::1", "fec0::1", "feff::1",
])
def test_non_public_addresses_are_refused(address: str) -> None:
    assert refusal_reason(ipaddress.ip_address(address)) is not None


@pytest.mark.parametrize("address", ["8.8.8.8", "1.1.1.1", "93.184.216.34", "2606:4700:4700::1111"])
def test_public_addresses_are_allowed(address: str) -> None:
    assert refusal_reason(ipaddress.ip_address(address)) is None


@pytest.mark.parametrize("address", ["127.0.0.1", "127.8.9.10", "::1", "::ffff:127.0.0.1"])
def test_the_loopback_scope_admits_loopback_addresses(address: str) -> None:
    assert refusal_reason(ipaddress.ip_address(address), TargetScope.LOOPBACK) is None


@pytest.mark.parametrize("address", [
    "169.254.169.254", "10.0.0.1", "192.168.1.1", "100.64.0.1", "0.0.0.0", "fe80::1", "fc00::1", "fec0::1",  # noqa: S104
    "::ffff:169.254.169.254", "fd00:ec2::254",
])
def test_the_loopback_scope_refuses_every_other_non_public_address(address: str) -> None:
    assert refusal_reason(ipaddress.ip_address(address), TargetScope.LOOPBACK) is not None


@pytest.mark.parametrize("address", [
    "10.0.0.1", "172.16.0.1", "192.168.1.1", "100.64.0.1", "100.127.255.254", "fd00::1", "fc00::1", "127.0.0.1",
    "::1", "::ffff:10.0.0.1", "8.8.8.8",
])
def test_the_private_scope_admits_private_unique_local_cgnat_and_loopback_addresses(address: str) -> None:
    assert refusal_reason(ipaddress.ip_address(address), TargetScope.PRIVATE) is None


@pytest.mark.parametrize("address", [
    "169.254.169.254", "fe80::1", "0.1.2.3", "0.0.0.0", "::", "224.0.0.1", "ff02::1", "240.0.0.1",  # noqa: S104
    "255.255.255.255", "::ffff:169.254.169.254", "fec0::1",
    "fd00:ec2::254", "100.100.100.200",  # cloud metadata inside private ranges (AWS over IPv6, Alibaba Cloud)
])
def test_the_private_scope_still_refuses_link_local_multicast_reserved_and_unspecified_addresses(
        address: str) -> None:
    assert refusal_reason(ipaddress.ip_address(address), TargetScope.PRIVATE) is not None


@pytest.mark.parametrize(("url", "words"), [
    ("http://127.0.0.1/hook", "127.0.0.1 is a loopback address"),
    ("http://10.0.0.1/hook", "10.0.0.1 is a private address"),
    ("http://169.254.169.254/latest/meta-data/", "link-local"),
    ("http://100.64.0.1/", "carrier-grade NAT"),
    ("http://[::1]:8080/", "loopback"),
    ("http://localhost:8080/hook", "localhost resolves to"),
    ("ftp://example.com/", "http:// or https://"),
    ("http:///no-host", "no host"),
])
def test_refused_targets_say_why(url: str, words: str) -> None:
    with pytest.raises(TargetRefused) as refused:
        validate_target(url, scope=TargetScope.PUBLIC)
    assert words in str(refused.value)


def fake_dns(monkeypatch: pytest.MonkeyPatch, answers: dict[str, list[str]]) -> None:
    def getaddrinfo(host: str, port: int, *_args: Any, **_kwargs: Any) -> list[Any]:
        if host not in answers:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (address, port)) for address in answers[host]]

    monkeypatch.setattr(http_targets.socket, "getaddrinfo", getaddrinfo)


def test_one_private_answer_among_public_ones_is_enough_to_refuse(monkeypatch: pytest.MonkeyPatch) -> None:
    fake_dns(monkeypatch, {"mixed.example.com": ["93.184.216.34", "10.1.2.3"]})
    with pytest.raises(TargetRefused) as refused:
        validate_target("https://mixed.example.com/hook", scope=TargetScope.PUBLIC)
    assert "mixed.example.com resolves to 10.1.2.3, which is a private address" in str(refused.value)


def test_a_host_that_does_not_resolve_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    fake_dns(monkeypatch, {})
    with pytest.raises(TargetRefused, match="does not resolve"):
        validate_target("https://nowhere.invalid/hook", scope=TargetScope.PUBLIC)


def test_private_targets_are_allowed_when_configured(monkeypatch: pytest.MonkeyPatch) -> None:
    fake_dns(monkeypatch, {})  # and nothing is resolved
    assert validate_target("http://127.0.0.1:9000/hook", scope=TargetScope.ANY) == "http://127.0.0.1:9000/hook"
    assert pin_target("http://internal.test/hook", scope=TargetScope.ANY).url == "http://internal.test/hook"


def test_a_request_is_pinned_to_the_address_that_was_checked(monkeypatch: pytest.MonkeyPatch) -> None:
    fake_dns(monkeypatch, {"hooks.example.com": ["93.184.216.34"]})
    pinned = pin_target("https://hooks.example.com:8443/in?x=1", scope=TargetScope.PUBLIC)
    assert pinned.url == "https://93.184.216.34:8443/in?x=1"
    assert pinned.headers == {"Host": "hooks.example.com:8443"}
    assert pinned.extensions == {"sni_hostname": "hooks.example.com"}  # TLS name and certificate check
    plain = pin_target("http://hooks.example.com/in", scope=TargetScope.PUBLIC)
    assert (plain.url, plain.headers, plain.extensions) == ("http://93.184.216.34/in", {"Host": "hooks.example.com"},
                                                            {})
    # A second answer (rebinding) is judged again before the next attempt.
    fake_dns(monkeypatch, {"hooks.example.com": ["127.0.0.1"]})
    with pytest.raises(TargetRefused, match="loopback"):
        pin_target("https://hooks.example.com:8443/in", scope=TargetScope.PUBLIC)


def test_plain_http_is_refused_when_only_https_is_allowed() -> None:
    with pytest.raises(TargetRefused, match="https"):
        validate_target("http://93.184.216.34/hook", scope=TargetScope.PUBLIC, https_only=True)
    with pytest.raises(TargetRefused, match="https"):
        pin_target("http://93.184.216.34/hook", scope=TargetScope.ANY, https_only=True)
    assert validate_target("https://93.184.216.34/hook", scope=TargetScope.PUBLIC, https_only=True)
    assert validate_target("http://93.184.216.34/hook", scope=TargetScope.PUBLIC)
