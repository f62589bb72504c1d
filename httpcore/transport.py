"""The connection to a backend: a bare requests session whose one adapter connects only
to the address the network policy allows, pinned, and hands each socket to the call's
deadline (docs/design.md, "Outbound: a bare, bounded session" and "Outbound: allowed
addresses, pinned").

It also keeps urllib3's own log lines free of query strings, where API keys travel
("Logs: no keys or account tokens").
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator, Mapping
from http.cookiejar import DefaultCookiePolicy
from typing import TYPE_CHECKING, Any

import requests
from requests.adapters import HTTPAdapter
from requests.cookies import RequestsCookieJar
from requests.structures import CaseInsensitiveDict
from requests.utils import select_proxy
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

from httpcore.errors import OutboundRefused
from httpcore.network_policy import NetworkPolicy
from httpcore.watchdog import Deadline

if TYPE_CHECKING:
    from requests.adapters import _HostParams, _PoolKwargs

USER_AGENT = "api-portal/0.1"
_DEFAULT_HEADERS = {"User-Agent": USER_AGENT, "Accept-Encoding": "gzip, deflate", "Accept": "*/*"}
DEFAULT_PORTS = {"http": 80, "https": 443}


class _HideQueryStrings(logging.Filter):
    """urllib3 logs request URLs with their query string, where API keys travel: a
    warning with the full URL when a backend's headers do not parse, a debug line per
    request. The portal logs every call itself with secrets masked (`outbound.send`); here the
    query is cut from urllib3's arguments and the traceback of a backend's malformed
    headers is dropped."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(_without_query(arg) for arg in record.args)
        record.exc_info = None
        record.exc_text = None
        return True


def _without_query(arg: object) -> object:
    if isinstance(arg, str) and "?" in arg and ("://" in arg or arg.startswith("/")):
        return arg.partition("?")[0] + "?(query not logged)"
    return arg


for _name in ("urllib3.connection", "urllib3.connectionpool"):
    logging.getLogger(_name).addFilter(_HideQueryStrings())


class _WatchedConnectionMixin:
    """Hands the socket to the call's deadline once connected.

    The socket itself, not the connection: http.client drops the connection's
    reference when the response is read until close, while the read goes on.
    """

    deadline: Deadline | None = None

    def connect(self) -> None:
        super().connect()  # type: ignore[misc]
        if self.deadline is not None:
            self.deadline.watch(self.sock)  # type: ignore[attr-defined]


class _WatchedHTTPConnection(_WatchedConnectionMixin, HTTPConnection):
    pass


class _WatchedHTTPSConnection(_WatchedConnectionMixin, HTTPSConnection):
    pass


class _WatchedPoolMixin:
    """Gives each new connection the call's deadline."""

    deadline: Deadline | None = None

    def _new_conn(self) -> Any:
        connection = super()._new_conn()  # type: ignore[misc]
        connection.deadline = self.deadline
        return connection


class _WatchedHTTPConnectionPool(_WatchedPoolMixin, HTTPConnectionPool):
    ConnectionCls = _WatchedHTTPConnection


class _WatchedHTTPSConnectionPool(_WatchedPoolMixin, HTTPSConnectionPool):
    ConnectionCls = _WatchedHTTPSConnection


class PinnedAddressAdapter(HTTPAdapter):
    """Connects only to an address the network policy allows, pinned once.

    Same technique as requests_hardened.IPFilterAdapter (whose policy is only "loopback
    yes/no"): the host is resolved once, checked, and the connection pool is keyed on
    that IP, so DNS cannot move the connection afterwards. The Host header, the TLS
    SNI and certificate verification keep using the name from the URL.
    """

    def __init__(self, *, policy: NetworkPolicy, deadline: Deadline | None = None) -> None:
        self._policy = policy
        self._deadline = deadline
        super().__init__(max_retries=0)

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = {
            "http": _WatchedHTTPConnectionPool,
            "https": _WatchedHTTPSConnectionPool,
        }

    def build_connection_pool_key_attributes(
        self, request: requests.PreparedRequest, verify: Any, cert: Any = None
    ) -> tuple[_HostParams, _PoolKwargs]:
        host_params, pool_kwargs = super().build_connection_pool_key_attributes(
            request, verify, cert
        )
        scheme, hostname, port = host_params["scheme"], host_params["host"], host_params["port"]
        address = self._policy.resolve(hostname, port or DEFAULT_PORTS[scheme])
        request.headers = _with_host_first(request.headers, _host_header(hostname, port))
        if scheme == "https":
            # Verify the certificate against the name, not the pinned IP, and send the
            # name as SNI. (The stub's TypedDict has only the keys requests sets; the pool
            # takes urllib3's HTTPSConnectionPool arguments, these two among them.)
            pool_kwargs["assert_hostname"] = hostname  # type: ignore[typeddict-unknown-key]
            pool_kwargs["server_hostname"] = hostname  # type: ignore[typeddict-unknown-key]
        host_params["host"] = f"[{address}]" if address.version == 6 else str(address)
        return host_params, pool_kwargs

    def get_connection_with_tls_context(
        self,
        request: requests.PreparedRequest,
        verify: Any,
        proxies: Mapping[str, str] | None = None,
        cert: Any = None,
    ) -> Any:
        if select_proxy(request.url or "", proxies):
            # A proxy would connect to an address the policy never saw.
            raise OutboundRefused("Proxies are not supported for backend calls")
        pool = super().get_connection_with_tls_context(request, verify, proxies, cert)
        if not isinstance(pool, _WatchedPoolMixin):  # init_poolmanager's pool classes
            raise TypeError(f"{type(pool).__name__} cannot watch the call's deadline")
        pool.deadline = self._deadline
        return pool

    def get_connection(self, *args: Any, **kwargs: Any) -> Any:
        # The deprecated path skips build_connection_pool_key_attributes, hence the pin.
        raise NotImplementedError("PinnedAddressAdapter supports get_connection_with_tls_context")


def _host_header(hostname: str, port: int | None) -> str:
    host = f"[{hostname}]" if ":" in hostname else hostname
    return host if port is None else f"{host}:{port}"


def _with_host_first(headers: Any, host: str) -> CaseInsensitiveDict[str]:
    # RFC 9110 7.2: a user agent should send Host first.
    ordered: CaseInsensitiveDict[str] = CaseInsensitiveDict({"Host": host})
    for name, value in (headers or {}).items():
        if name.lower() != "host":
            ordered[name] = value
    return ordered


@contextlib.contextmanager
def bare_session(*, policy: NetworkPolicy, deadline: Deadline) -> Iterator[requests.Session]:
    """A session that takes nothing from the environment, keeps no cookie, follows no
    redirect and connects only through PinnedAddressAdapter."""
    session = requests.Session()
    session.trust_env = False  # no proxies from the environment, no .netrc
    session.cookies = RequestsCookieJar(policy=DefaultCookiePolicy(allowed_domains=[]))
    session.headers = CaseInsensitiveDict(_DEFAULT_HEADERS)
    session.max_redirects = 0
    session.adapters.clear()
    adapter = PinnedAddressAdapter(policy=policy, deadline=deadline)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    try:
        yield session
    finally:
        session.close()
