"""A recorded call as the result panel shows it to one viewer: for an API on the gateway,
at the gateway's URL and in the gateway's words (gateway/public_urls.py); staff also see
the URL and the failure as they really were."""

from __future__ import annotations

from dataclasses import dataclass

from console.models import Exchange
from gateway import public_urls


@dataclass(frozen=True)
class ShownExchange:
    """A recorded call as the result panel shows it to one viewer."""

    address: public_urls.Address
    response_headers: list[tuple[str, str]]
    error_message: str
    backend_error_message: str = ""  # staff only, when error_message is the gateway's


def shown_exchange(
    *, exchange: Exchange, portal_url: str, user: public_urls.Viewer | None
) -> ShownExchange:
    """The exchange's URL, response headers and failure as `user` may see them."""
    api = exchange.operation.api if exchange.operation is not None else None
    address = public_urls.call_address(api=api, url=exchange.url, portal_url=portal_url, user=user)
    headers = [(name, value) for name, value in exchange.response_headers]
    message = exchange.error_message
    if api is None or address.on_gateway:
        # Not shown at the backend's URL: neither its redirects nor its failures name it.
        base = public_urls.gateway_base(api=api, portal_url=portal_url) if api is not None else None
        staff = public_urls.sees_backend(user)
        headers = [
            (
                name,
                public_urls.shown_location(
                    value, api=api, base=base, requested=exchange.url, staff=staff
                )
                if name.lower() == "location"
                else value,
            )
            for name, value in headers
        ]
        if exchange.error_kind:
            message = public_urls.backend_failure_message(exchange.error_kind)
    backend_message = exchange.error_message if public_urls.sees_backend(user) else ""
    return ShownExchange(
        address=address,
        response_headers=headers,
        error_message=message,
        backend_error_message=backend_message if backend_message != message else "",
    )
