"""The address policy (docs/design.md, "Outbound: allowed addresses, pinned"). Unit
tests only: no connections.

The test settings allow 127.0.0.1/32 only (pyproject.toml, PORTAL_OUTBOUND_ALLOWED_NETWORKS).
"""

from __future__ import annotations

import socket
from ipaddress import ip_address, ip_network

import pytest
from django.core.exceptions import ImproperlyConfigured

from httpcore import network_policy
from httpcore.network_policy import (
    BlockedDestination,
    NetworkPolicy,
    UnresolvableHost,
)

DEMO = NetworkPolicy.from_settings()
PRODUCTION = NetworkPolicy()
COMPANY = NetworkPolicy(allowed_networks=(ip_network("10.0.0.0/8"),))


def test_from_settings_reads_the_allowed_networks():
    assert DEMO.allowed_networks == (ip_network("127.0.0.1/32"),)


def test_from_settings_refuses_a_malformed_network(settings):
    settings.PORTAL_OUTBOUND_ALLOWED_NETWORKS = ["10.0.0.1/8"]
    with pytest.raises(ImproperlyConfigured, match=r"'10\.0\.0\.1/8' is not a network"):
        NetworkPolicy.from_settings()


@pytest.mark.parametrize(
    ("address", "allowed"),
    [
        ("127.0.0.1", True),  # listed by the setting
        ("127.0.0.2", False),  # loopback, but not the listed /32
        ("10.0.0.1", False),
        ("172.16.0.1", False),
        ("192.168.1.1", False),
        ("169.254.169.254", False),  # cloud metadata
        ("100.64.0.1", False),  # CG-NAT
        ("0.0.0.0", False),
        ("224.0.0.1", False),  # multicast
        ("240.0.0.1", False),  # reserved
        ("255.255.255.255", False),
        ("192.0.0.8", False),
        ("::1", False),  # not listed: only 127.0.0.1/32 is
        ("::", False),
        ("fe80::1", False),
        ("fd00::1", False),
        ("ff02::1", False),
        ("::ffff:127.0.0.1", True),  # IPv4-mapped loopback is judged as 127.0.0.1
        ("::ffff:127.0.0.2", False),
        ("::ffff:10.0.0.1", False),
        ("::ffff:169.254.169.254", False),
        ("::ffff:93.184.216.34", True),
        ("64:ff9b::a00:1", False),  # NAT64 of 10.0.0.1
        ("2002:a00:1::1", False),  # 6to4 of 10.0.0.1
        ("93.184.216.34", True),  # public
        ("8.8.8.8", True),
        ("2606:2800:220:1:248:1893:25c8:1946", True),  # public IPv6
    ],
)
def test_is_allowed_with_the_demo_setting(address, allowed):
    assert DEMO.is_allowed(ip_address(address)) is allowed
    assert DEMO.is_allowed(address) is allowed  # strings are accepted too


def test_production_default_refuses_loopback_and_private_ranges():
    for address in ("127.0.0.1", "10.0.0.1", "169.254.169.254", "::1", "::ffff:127.0.0.1"):
        assert PRODUCTION.is_allowed(address) is False, address
    assert PRODUCTION.is_allowed("93.184.216.34") is True


def test_a_company_range_is_allowed_and_nothing_else_private():
    assert COMPANY.is_allowed("10.1.2.3") is True
    assert COMPANY.is_allowed("::ffff:10.1.2.3") is True
    assert COMPANY.is_allowed("172.16.0.1") is False
    assert COMPANY.is_allowed("127.0.0.1") is False


def _fake_getaddrinfo(table):
    """getaddrinfo answering from `table` (name -> addresses) and failing otherwise."""
    calls = []

    def getaddrinfo(host, port, family=0, type=0, proto=0, flags=0):
        calls.append(host)
        if host not in table:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return [
            (
                socket.AF_INET6 if ":" in address else socket.AF_INET,
                socket.SOCK_STREAM,
                6,
                "",
                (address, port, 0, 0) if ":" in address else (address, port),
            )
            for address in table[host]
        ]

    return getaddrinfo, calls


def test_resolve_an_ip_literal_needs_no_dns(monkeypatch):
    getaddrinfo, calls = _fake_getaddrinfo({})
    monkeypatch.setattr(network_policy.socket, "getaddrinfo", getaddrinfo)
    assert DEMO.resolve("127.0.0.1", 80) == ip_address("127.0.0.1")
    assert DEMO.resolve("[::ffff:127.0.0.1]", 80) == ip_address("127.0.0.1")
    assert calls == []


def test_resolve_returns_the_first_allowed_address(monkeypatch):
    getaddrinfo, calls = _fake_getaddrinfo({"api.test": ["10.0.0.1", "::1", "127.0.0.1"]})
    monkeypatch.setattr(network_policy.socket, "getaddrinfo", getaddrinfo)
    assert DEMO.resolve("api.test", 443) == ip_address("127.0.0.1")
    assert calls == ["api.test"]


def test_resolve_a_mapped_address_connects_to_the_ipv4_address(monkeypatch):
    getaddrinfo, _ = _fake_getaddrinfo({"api.test": ["::ffff:127.0.0.1"]})
    monkeypatch.setattr(network_policy.socket, "getaddrinfo", getaddrinfo)
    assert DEMO.resolve("api.test", 80) == ip_address("127.0.0.1")


def test_resolve_refuses_a_name_with_no_allowed_address(monkeypatch):
    getaddrinfo, _ = _fake_getaddrinfo({"internal.test": ["10.0.0.1", "169.254.169.254"]})
    monkeypatch.setattr(network_policy.socket, "getaddrinfo", getaddrinfo)
    with pytest.raises(BlockedDestination) as caught:
        DEMO.resolve("internal.test", 80)
    assert caught.value.addresses == (ip_address("10.0.0.1"), ip_address("169.254.169.254"))
    assert str(caught.value) == (
        "Destination internal.test resolves to 10.0.0.1, 169.254.169.254, which the "
        "portal's network policy does not allow"
    )


def test_resolve_refuses_a_blocked_literal():
    with pytest.raises(BlockedDestination) as caught:
        DEMO.resolve("10.0.0.1", 80)
    assert str(caught.value) == "Destination 10.0.0.1 is not allowed by the portal's network policy"


def test_resolve_a_name_that_does_not_resolve(monkeypatch):
    getaddrinfo, _ = _fake_getaddrinfo({})
    monkeypatch.setattr(network_policy.socket, "getaddrinfo", getaddrinfo)
    with pytest.raises(UnresolvableHost) as caught:
        DEMO.resolve("nosuch.invalid", 80)
    assert str(caught.value) == "The name nosuch.invalid does not resolve"


def test_resolve_a_name_the_idna_codec_refuses():
    with pytest.raises(UnresolvableHost):
        DEMO.resolve("a" * 64 + ".test", 80)


def test_resolve_localhost_through_the_real_resolver():
    # localhost may list ::1 first; only 127.0.0.1 is allowed, so that is the answer.
    assert DEMO.resolve("localhost", 80) == ip_address("127.0.0.1")


@pytest.mark.parametrize(
    "address", ["169.254.169.254", "fe80::1", "fd00:ec2::254", "100.100.100.200"]
)
def test_link_local_and_metadata_addresses_stay_blocked_even_when_listed(address):
    policy = NetworkPolicy(
        allowed_networks=(
            ip_network("169.254.0.0/16"),
            ip_network("fe80::/10"),
            ip_network("fd00::/8"),
            ip_network("100.64.0.0/10"),
        )
    )
    assert policy.is_allowed(address) is False


def test_ports_outside_the_list_are_refused_before_any_lookup(monkeypatch):
    looked_up = []
    monkeypatch.setattr(socket, "getaddrinfo", lambda *a, **k: looked_up.append(a) or [])
    policy = NetworkPolicy(allowed_ports=frozenset({80, 443}))
    with pytest.raises(network_policy.BlockedPort) as caught:
        policy.resolve("api.example.com", 22)
    assert str(caught.value) == (
        "Port 22 is not allowed by the portal's network policy (allowed: 80, 443)"
    )
    assert looked_up == []
    assert isinstance(caught.value, network_policy.BlockedDestination)


def test_allowed_ports_come_from_settings(settings):
    settings.PORTAL_OUTBOUND_ALLOWED_PORTS = ["80", " 8443 "]
    assert NetworkPolicy.from_settings().allowed_ports == frozenset({80, 8443})
    settings.PORTAL_OUTBOUND_ALLOWED_PORTS = ["*"]
    assert NetworkPolicy.from_settings().allowed_ports is None
    settings.PORTAL_OUTBOUND_ALLOWED_PORTS = ["http"]
    with pytest.raises(ImproperlyConfigured) as caught:
        NetworkPolicy.from_settings()
    assert str(caught.value) == (
        "PORTAL_OUTBOUND_ALLOWED_PORTS: 'http' is not a port number (1-65535) or *"
    )
