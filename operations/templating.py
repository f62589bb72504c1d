"""URL templates: parse "/a/{x}?v={y}" and bind values into an outbound request.

Pure: no I/O. Every call the portal sends is built here (DESIGN.md, invariants 1-4).
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class OutboundRequest:
    """A request ready to send: built by `bind`, sent by `outbound.send`."""

    method: str
    url: str
    # The registered API's service URL the url was built from; outbound checks the
    # url against it again before sending.
    service_url: str
    headers: tuple[tuple[str, str], ...] = ()
    body: bytes | None = None
    # Lower-cased names of headers and query keys whose values are masked when shown.
    secret_names: frozenset[str] = field(default_factory=frozenset)
