"""Where the portal tells a developer to call an API: one public URL.

An API on the gateway (`registry.on_gateway`: published, with a URL suffix it holds) is
called at `<portal>/gateway/<url suffix><operation path>?<query>`, `<portal>` being the
portal's address as the browser reached it. Whether the API needs a key does not change
the URL. Its service URL is the backend's address: the pages show it to staff only,
labelled as such, and the OpenAPI export, a public document, never. An API that is not on
the gateway is called at its service URL, which everyone sees.

A Try it call or a replay goes to the backend itself; its history keeps the URL it sent
(secrets masked). For an API on the gateway the result panel shows, at render time, the
gateway URL that call corresponds to: the service URL's scheme, host and base path
replaced by the gateway's. As the gateway does, a redirect to the backend's own URL is
shown under the gateway, and a failure is told in the gateway's words, which never name
the backend's address; staff also see the URL and the failure as they really were.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

from django.contrib.auth.models import AnonymousUser, User
from django.http import HttpRequest
from django.urls import reverse

from catalog.models import Api
from gateway import registry
from httpcore.errors import ErrorKind

# Whoever looks: a signed-in user or a visitor.
Viewer = User | AnonymousUser

# Shown to all but staff instead of a redirect to the backend's host outside the gateway.
HIDDEN_ADDRESS = "(an address of the backend, not shown)"


@dataclass(frozen=True)
class Address:
    """Where a developer calls, and for staff the backend behind it."""

    public: str  # "" when a call cannot be placed any more (see call_address)
    backend: str = ""  # set for staff only, and only when it differs from `public`
    on_gateway: bool = False


def portal_url(request: HttpRequest) -> str:
    """The portal's base URL as the browser reached it, e.g. "https://portal.example.com/"."""
    return request.build_absolute_uri("/")


def sees_backend(user: Viewer | None) -> bool:
    """Staff see the backends' URLs; nobody else does."""
    return bool(user is not None and user.is_active and user.is_staff)


def gateway_base(*, api: Api, portal_url: str) -> str | None:
    """`<portal>/gateway/<url suffix>`, without a trailing "/", for an API on the gateway;
    None for any other API."""
    if not registry.on_gateway(api.pk):
        return None
    prefix = reverse("gateway:gateway", kwargs={"rest": ""})
    return f"{portal_url.rstrip('/')}{prefix}{api.url_suffix.strip().strip('/')}"


def public_base(*, api: Api, portal_url: str) -> str:
    """The base URL every operation's path is appended to: the gateway's, else the
    service URL (the OpenAPI export's server)."""
    return gateway_base(api=api, portal_url=portal_url) or api.service_url


def _backend_base(service_url: str) -> str:
    parts = urlsplit(service_url)
    return f"{parts.scheme}://{parts.netloc}{parts.path.rstrip('/')}"


def under_gateway(*, url: str, service_url: str, base: str) -> str | None:
    """A URL under the service URL moved under `base`; None when it is not under it."""
    backend = _backend_base(service_url)
    if url == backend or url.startswith((backend + "/", backend + "?")):
        return base + url[len(backend) :]
    return None


def _address(*, public: str, backend: str, on_gateway: bool, user: Viewer | None) -> Address:
    shown = backend if sees_backend(user) and backend != public else ""
    return Address(public=public, backend=shown, on_gateway=on_gateway)


def api_address(*, api: Api, portal_url: str, user: Viewer | None) -> Address:
    """The API's base URL (the API page)."""
    base = gateway_base(api=api, portal_url=portal_url)
    return _address(
        public=base or api.service_url,
        backend=api.service_url,
        on_gateway=base is not None,
        user=user,
    )


def operation_address(
    *, api: Api, url_template: str, portal_url: str, user: Viewer | None
) -> Address:
    """An operation's URL template under the API's base URL (the operation page's header)."""
    base = gateway_base(api=api, portal_url=portal_url)
    backend = f"{api.service_url}{url_template}"
    return _address(
        public=f"{base}{url_template}" if base else backend,
        backend=backend,
        on_gateway=base is not None,
        user=user,
    )


def call_address(*, api: Api | None, url: str, portal_url: str, user: Viewer | None) -> Address:
    """Where a call the portal sent to `url` (secrets masked) is shown as requested.

    For an API on the gateway, the gateway URL it corresponds to, unless it went to one of
    the API's other servers (catalog.ApiServer), shown as it is. A call that cannot be
    placed any more shows no public URL: its operation was deleted (so which API it called
    is unknown), or the API's service URL changed since.
    """
    if api is None:
        return _address(public="", backend=url, on_gateway=False, user=user)
    base = gateway_base(api=api, portal_url=portal_url)
    if base is None:
        return _address(public=url, backend=url, on_gateway=False, user=user)
    public = under_gateway(url=url, service_url=api.service_url, base=base)
    if public is None and _under_other_server(api=api, url=url):
        # A call to one of the API's other servers (Try it's Server select) is no gateway
        # call: it is shown where it went, as that server's URL is listed for everyone.
        return _address(public=url, backend=url, on_gateway=False, user=user)
    return _address(public=public or "", backend=url, on_gateway=True, user=user)


def _under_other_server(*, api: Api, url: str) -> bool:
    # .all(): the operation's snapshot has them prefetched (catalog.selectors).
    return any(
        under_gateway(url=url, service_url=server.url, base="") is not None
        for server in api.servers.all()
    )


def backend_failure_message(kind: str) -> str:
    """How the gateway tells a failed backend call: the kind of failure, never the address."""
    try:
        label = ErrorKind(kind).label
    except ValueError:
        return "The backend call failed."
    return f"The backend call failed: {label.lower()}."


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}".lower() if parts.scheme and parts.netloc else ""


def shown_location(
    value: str, *, api: Api | None, base: str | None, requested: str, staff: bool
) -> str:
    """A Location of a call that is not shown at its backend's URL: under the gateway when
    it points under the service URL (as the gateway rewrites it); another address of the
    backend's host is hidden from all but staff."""
    if api is not None and base is not None:
        moved = under_gateway(url=value, service_url=api.service_url, base=base)
        if moved is not None:
            return moved
    if not staff and _origin(value) and _origin(value) == _origin(requested):
        return HIDDEN_ADDRESS
    return value
