"""Which addresses a backend may resolve to (docs/design.md, "Outbound: allowed addresses,
pinned").

Production default: public addresses only. Loopback and private ranges are reachable
only where the PORTAL_OUTBOUND_ALLOWED_NETWORKS setting lists them (the demo lists
127.0.0.1/32 for the sample backend; a company may list its 10.0.0.0/8).

`transport.PinnedAddressAdapter` calls `NetworkPolicy.resolve` once per call and connects
to the address it returns, so DNS cannot move the connection after the check.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Iterable
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from requests_hardened.ip_filter import EXTRA_BLOCKED_NET_RANGES
from urllib3.util.connection import allowed_gai_family

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


class DestinationError(Exception):
    """The destination of a call cannot be used; the message is shown to the user."""


class BlockedDestination(DestinationError):
    """Every address the host resolves to is refused by the network policy."""

    def __init__(self, *, host: str, addresses: tuple[IPAddress, ...]) -> None:
        self.host = host
        self.addresses = addresses
        # Shown as connected to: ::ffff:10.0.0.1 reads as 10.0.0.1.
        listed = ", ".join(str(_unmapped(address)) for address in addresses)
        if _is_ip_literal(host):
            message = f"Destination {listed} is not allowed by the portal's network policy"
        else:
            message = (
                f"Destination {host} resolves to {listed}, which the portal's network "
                "policy does not allow"
            )
        super().__init__(message)


class BlockedPort(BlockedDestination):
    """The port is not in the policy's list of allowed ports."""

    def __init__(self, *, host: str, port: int, allowed: frozenset[int]) -> None:
        self.host = host
        self.addresses = ()
        self.port = port
        listed = ", ".join(str(p) for p in sorted(allowed))
        DestinationError.__init__(
            self, f"Port {port} is not allowed by the portal's network policy (allowed: {listed})"
        )


class UnresolvableHost(DestinationError):
    """The name does not resolve to any address."""

    def __init__(self, *, host: str) -> None:
        self.host = host
        super().__init__(f"The name {host} does not resolve")


def parse_networks(cidrs: Iterable[str]) -> tuple[IPNetwork, ...]:
    """Parse CIDR strings strictly: "10.0.0.1/8" is a typo, not a network."""
    networks = []
    for cidr in cidrs:
        try:
            networks.append(ipaddress.ip_network(cidr.strip(), strict=True))
        except ValueError as exc:
            raise ImproperlyConfigured(
                f"PORTAL_OUTBOUND_ALLOWED_NETWORKS: {cidr!r} is not a network in CIDR "
                f"notation ({exc})"
            ) from exc
    return tuple(networks)


def parse_ports(values: Iterable[str]) -> frozenset[int] | None:
    """Parse the allowed ports; "*" means any port (None)."""
    ports = set()
    for value in values:
        value = value.strip()
        if value == "*":
            return None
        if not value.isdigit() or not 0 < int(value) < 65536:
            raise ImproperlyConfigured(
                f"PORTAL_OUTBOUND_ALLOWED_PORTS: {value!r} is not a port number (1-65535) or *"
            )
        ports.add(int(value))
    return frozenset(ports)


def _unmapped(ip: IPAddress) -> IPAddress:
    # ::ffff:10.0.0.1 reaches 10.0.0.1; Python calls every mapped address private, so
    # the embedded IPv4 address is what must be judged (and connected to).
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    return ip


def _is_ip_literal(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


# Never a backend, whatever the allowed networks say: link-local ranges and the
# cloud metadata services, which hand out credentials to whoever asks.
ALWAYS_BLOCKED = (
    ipaddress.ip_network("169.254.0.0/16"),
    ipaddress.ip_network("fe80::/10"),
    ipaddress.ip_network("fd00:ec2::254/128"),
    ipaddress.ip_network("100.100.100.200/32"),
)
METADATA_HOST_NAMES = frozenset(
    {"metadata", "metadata.google.internal", "instance-data", "instance-data.ec2.internal"}
)


def is_always_blocked(ip: IPAddress) -> bool:
    address = _unmapped(ip)
    return any(address in network for network in ALWAYS_BLOCKED)


def _is_public(ip: IPAddress) -> bool:
    if not ip.is_global or ip.is_multicast or ip.is_reserved:
        return False
    # Ranges that ipaddress calls global but route to internal hosts (NAT64, 6to4,
    # CG-NAT...), kept up to date by requests-hardened.
    return not any(ip in network for network in EXTRA_BLOCKED_NET_RANGES)


@dataclass(frozen=True)
class NetworkPolicy:
    """Public addresses plus the explicitly allowed networks."""

    allowed_networks: tuple[IPNetwork, ...] = ()
    # None: any port.
    allowed_ports: frozenset[int] | None = None

    @classmethod
    def from_settings(cls) -> NetworkPolicy:
        return cls(
            allowed_networks=parse_networks(settings.PORTAL_OUTBOUND_ALLOWED_NETWORKS),
            allowed_ports=parse_ports(settings.PORTAL_OUTBOUND_ALLOWED_PORTS),
        )

    def is_port_allowed(self, port: int) -> bool:
        return self.allowed_ports is None or port in self.allowed_ports

    def is_allowed(self, ip: IPAddress | str) -> bool:
        address = _unmapped(ipaddress.ip_address(ip) if isinstance(ip, str) else ip)
        if is_always_blocked(address):
            return False
        if any(address in network for network in self.allowed_networks):
            return True
        return _is_public(address)

    def resolve(self, host: str, port: int | None = None) -> IPAddress:
        """The first allowed address of `host`, the one the connection must go to.

        Raises UnresolvableHost when the name does not resolve, BlockedPort when the
        port is not allowed and BlockedDestination when none of its addresses is.
        """
        host = host.strip("[]")
        if port is not None and not self.is_port_allowed(port):
            raise BlockedPort(host=host, port=port, allowed=self.allowed_ports or frozenset())
        addresses = _addresses_of(host, port)
        for address in addresses:
            if self.is_allowed(address):
                return _unmapped(address)
        raise BlockedDestination(host=host, addresses=addresses)


def _addresses_of(host: str, port: int | None) -> tuple[IPAddress, ...]:
    try:
        # An IP literal needs no DNS (and must not be looked up as a name).
        return (ipaddress.ip_address(host),)
    except ValueError:
        pass
    try:
        infos = socket.getaddrinfo(host, port, family=allowed_gai_family(), type=socket.SOCK_STREAM)
    except (OSError, UnicodeError) as exc:
        # gaierror, and names the IDNA codec refuses ("a..b", labels over 63 chars).
        raise UnresolvableHost(host=host) from exc
    addresses: list[IPAddress] = []
    for family, _type, _proto, _canonname, sockaddr in infos:
        if family not in (socket.AF_INET, socket.AF_INET6):
            continue
        # sockaddr[0] of a link-local IPv6 address may carry a "%scope" suffix.
        address = ipaddress.ip_address(str(sockaddr[0]).split("%", 1)[0])
        if address not in addresses:
            addresses.append(address)
    if not addresses:
        raise UnresolvableHost(host=host)
    return tuple(addresses)
