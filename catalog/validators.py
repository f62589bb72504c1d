"""Field validators for registrations: clear messages for admins and importers."""

from __future__ import annotations

import ipaddress
import re
from urllib.parse import urlsplit

from django.core.exceptions import ValidationError

from httpcore.headers import TOKEN
from httpcore.network_policy import (
    METADATA_HOST_NAMES,
    NetworkPolicy,
    is_always_blocked,
)
from httpcore.templating import TemplateError, parse_template

DEFAULT_PORTS = {"http": 80, "https": 443}
NAT64 = ipaddress.ip_network("64:ff9b::/96")
# Labels a resolver may read as a number: 127, 0x7f, 0177.
NUMERIC_LABEL = re.compile(r"(0x[0-9a-f]*|[0-9]+)\Z")
DOTTED_DECIMAL = re.compile(
    r"(25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9])(\.(25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9])){3}\Z"
)


def _embedded_ipv4(address: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address a NAT64 or 6to4 address leads to."""
    if address in NAT64:
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return address.sixtofour


def host_problems(host: str, *, policy: NetworkPolicy) -> list[str]:
    """Why a service URL's host cannot be registered under the network policy."""
    if "%" in host:
        return ["The service URL cannot use an IPv6 zone id (%…)."]
    if host.rstrip(".") in METADATA_HOST_NAMES:
        return [f"{host} is a cloud metadata service and cannot be a backend."]
    labels = host.rstrip(".").split(".")
    if all(NUMERIC_LABEL.match(label) for label in labels) and not DOTTED_DECIMAL.match(
        host.rstrip(".")
    ):
        return [
            f"Write IPv4 addresses in dotted decimal form (a.b.c.d); {host} is read as an "
            "address in another notation."
        ]
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return []  # a name: its addresses are checked on every call
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return [f"Write the IPv4 address {address.ipv4_mapped} instead of {address}."]
        embedded = _embedded_ipv4(address)
        if embedded is not None:
            return [
                f"{address} embeds the IPv4 address {embedded} (NAT64 or 6to4); register "
                "that address instead, if the network policy allows it."
            ]
    if is_always_blocked(address):
        return [f"{address} is a link-local or cloud metadata address and cannot be a backend."]
    if not policy.is_allowed(address):
        return [
            f"{address} is not allowed by the portal's network policy: only public addresses "
            "and the networks in PORTAL_OUTBOUND_ALLOWED_NETWORKS."
        ]
    return []


def service_url_problems(url: str, *, policy: NetworkPolicy | None = None) -> list[str]:
    """Why a service URL cannot be registered; empty when it can."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as error:
        return [f"The service URL does not parse: {error}."]
    problems = []
    if parts.scheme not in {"http", "https"}:
        problems.append("The service URL must start with http:// or https://.")
    if not parts.hostname:
        problems.append("The service URL needs a host.")
    if "@" in parts.netloc:
        problems.append("The service URL cannot contain a user name or password.")
    if "\\" in url:
        problems.append("The service URL cannot contain a backslash.")
    if any(char.isspace() for char in url):
        problems.append("The service URL cannot contain spaces.")
    if parts.query or url.endswith("?"):
        problems.append("The service URL cannot have a query string; put it in the templates.")
    if parts.fragment or "#" in url:
        problems.append("The service URL cannot have a fragment (#...).")
    if any(segment in {".", ".."} for segment in parts.path.split("/")):
        problems.append("The service URL path cannot contain '.' or '..' segments.")
    if port == 0:
        problems.append("The service URL has an invalid port.")
    if problems or not parts.hostname:
        return problems
    policy = policy or NetworkPolicy.from_settings()
    problems += host_problems(parts.hostname, policy=policy)
    port = port or DEFAULT_PORTS[parts.scheme]
    if not policy.is_port_allowed(port):
        allowed = ", ".join(str(p) for p in sorted(policy.allowed_ports or ()))
        problems.append(
            f"Port {port} is not allowed by the portal's network policy (allowed: {allowed}; "
            "see PORTAL_OUTBOUND_ALLOWED_PORTS)."
        )
    return problems


def validate_service_url(url: str) -> None:
    problems = service_url_problems(url)
    if problems:
        raise ValidationError(problems)


def validate_url_template(template: str) -> None:
    try:
        parse_template(template)
    except TemplateError as error:
        raise ValidationError(
            f"The URL template does not parse: {error.message} at position {error.position + 1}."
        ) from error


def validate_header_name(name: str) -> None:
    if not TOKEN.match(name):
        raise ValidationError(
            "A header name is letters, digits and !#$%&'*+-.^_`|~, without spaces or colons."
        )
