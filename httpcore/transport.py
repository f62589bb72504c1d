"""The connection to a backend: a bare requests session whose one adapter connects only
to the address the network policy allows, pinned, and hands each socket to the call's
deadline (docs/design.md, "Outbound: a bare, bounded session" and "Outbound: allowed
addresses, pinned").

A connection whose answer was read to its end is kept for the next call to the same
name at the same pinned address, for `keep_alive` seconds at most ("Connections kept
between calls"): each call still resolves the name and checks the address first, so a
kept connection is only ever taken by a call that pinned the same address, for the same
scheme, name and TLS settings.

It also keeps urllib3's own log lines free of query strings, where API keys travel
("Logs: no keys or account tokens").
"""

from __future__ import annotations

import contextlib
import ipaddress
import logging
import os
import socket
import sys
import threading
import time
from collections import OrderedDict
from collections.abc import Iterator, Mapping
from contextvars import ContextVar
from dataclasses import dataclass
from http.cookiejar import DefaultCookiePolicy
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import requests
from requests.adapters import HTTPAdapter
from requests.cookies import RequestsCookieJar
from requests.structures import CaseInsensitiveDict
from requests.utils import select_proxy
from urllib3 import PoolManager
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.exceptions import ConnectTimeoutError, NewConnectionError

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


class _QuietFullPool(logging.Filter):
    """More calls at once than a pool keeps connections: the extra ones are closed after
    their call, as designed, not a warning each."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not str(record.msg).startswith("Connection pool is full")


for _name in ("urllib3.connection", "urllib3.connectionpool"):
    logging.getLogger(_name).addFilter(_HideQueryStrings())
logging.getLogger("urllib3.connectionpool").addFilter(_QuietFullPool())

# Connections kept per scheme, name and pinned address in a process; more calls at once
# open more, closed after their call.
KEPT_PER_ADDRESS = 16
# Names whose connections a process keeps (the least recently used are closed first),
# and addresses per name.
KEPT_NAMES = 64
ADDRESSES_PER_NAME = 4


@dataclass
class _Call:
    """What the connections of the call running in this context need to know."""

    deadline: Deadline | None
    # Seconds a kept connection may have been idle to be used again; 0: none is.
    keep_alive: float
    # Whether the call was handed a kept connection (a failure before any answer on it
    # is worth one more try on a new connection: the backend may have closed it).
    reused: bool = False


_call: ContextVar[_Call | None] = ContextVar("outbound_call", default=None)


def handed_a_kept_connection() -> bool:
    """Whether the current call's last connection was a kept one."""
    call = _call.get()
    return call is not None and call.reused


def only_new_connections() -> None:
    """The rest of the current call takes no kept connection."""
    call = _call.get()
    if call is not None:
        call.keep_alive, call.reused = 0.0, False


class _WatchedConnectionMixin:
    """Connects to the pinned address without a name lookup and hands the socket to the
    call's deadline once connected.

    The socket itself, not the connection: http.client drops the connection's
    reference when the response is read until close, while the read goes on.
    """

    # When the connection went back to its pool (time.monotonic()).
    released_at: float = 0.0

    def _new_conn(self) -> socket.socket:
        # The adapter puts the address the policy allowed in the URL: urllib3's
        # getaddrinfo on it would only turn the literal back into itself.
        host = str(self._dns_host).strip("[]")  # type: ignore[attr-defined]
        try:
            family = socket.AF_INET6 if ipaddress.ip_address(host).version == 6 else socket.AF_INET
        except ValueError:
            return super()._new_conn()  # type: ignore[misc]
        sock = socket.socket(family, socket.SOCK_STREAM)
        try:
            for option in self.socket_options or ():  # type: ignore[attr-defined]
                sock.setsockopt(*option)
            if isinstance(self.timeout, int | float):  # type: ignore[attr-defined]
                sock.settimeout(self.timeout)  # type: ignore[attr-defined]
            sock.connect((host, self.port))  # type: ignore[attr-defined]
        except TimeoutError as exc:
            sock.close()
            raise ConnectTimeoutError(
                self,
                f"Connection to {self.host} timed out. "  # type: ignore[attr-defined]
                f"(connect timeout={self.timeout})",
            ) from exc
        except OSError as exc:
            sock.close()
            raise NewConnectionError(
                self,  # type: ignore[arg-type]
                f"Failed to establish a new connection: {exc}",
            ) from exc
        sys.audit("http.client.connect", self, self.host, self.port)  # type: ignore[attr-defined]
        return sock

    def connect(self) -> None:
        super().connect()  # type: ignore[misc]
        call = _call.get()
        if call is not None and call.deadline is not None:
            call.deadline.watch(self.sock)  # type: ignore[attr-defined]


class _WatchedHTTPConnection(_WatchedConnectionMixin, HTTPConnection):
    pass


class _WatchedHTTPSConnection(_WatchedConnectionMixin, HTTPSConnection):
    pass


class _WatchedPoolMixin:
    """Hands out a kept connection only to a call that allows it, idle for no longer
    than the call's keep_alive, and watched by the call's deadline like a new one.
    urllib3 itself closes a kept connection the backend closed, or that has anything
    to read before the call sent its request (an answer nobody asked for)."""

    def _get_conn(self, timeout: float | None = None) -> Any:
        connection = super()._get_conn(timeout)  # type: ignore[misc]
        if getattr(connection, "sock", None) is None:
            return connection  # a new one, connected for this call
        call = _call.get()
        idle = time.monotonic() - connection.released_at
        if call is None or idle > call.keep_alive:
            connection.close()
            return connection
        call.reused = True
        if call.deadline is not None:
            call.deadline.watch(connection.sock)
        return connection

    def _put_conn(self, conn: Any) -> None:
        if conn is not None:
            conn.released_at = time.monotonic()
        super()._put_conn(conn)  # type: ignore[misc]


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

    def __init__(self, *, policy: NetworkPolicy, keep_alive: float = 0.0) -> None:
        self._policy = policy
        self._keep_alive = keep_alive
        super().__init__(max_retries=0)

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = POOL_CLASSES

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
        # The name as requests reads it for the pool (urllib.parse, lower-cased).
        name = urlsplit(request.url or "").hostname or ""
        host_params, pool_kwargs = self.build_connection_pool_key_attributes(request, verify, cert)
        # Pools keyed on the pinned address (host_params) and the TLS settings
        # (pool_kwargs), in a manager of the scheme and name: a kept connection is to the
        # same address, for the same Host and certificate name.
        manager = (
            _kept.manager(scheme=host_params["scheme"], name=name, maxsize=KEPT_PER_ADDRESS)
            if self._keep_alive > 0
            else self.poolmanager
        )
        pool = manager.connection_from_host(**host_params, pool_kwargs=dict(pool_kwargs))
        if not isinstance(pool, _WatchedPoolMixin):  # the managers' pool classes
            raise TypeError(f"{type(pool).__name__} cannot watch the call's deadline")
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


POOL_CLASSES = {"http": _WatchedHTTPConnectionPool, "https": _WatchedHTTPSConnectionPool}


class _KeptConnections:
    """The process's pool managers, one per scheme and name (least recently used closed
    first), each keeping pools per pinned address and TLS settings. Made again in a
    forked process: a connection belongs to the process that opened it."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._managers: OrderedDict[tuple[str, str], PoolManager] = OrderedDict()
        self._pid = os.getpid()

    def manager(self, *, scheme: str, name: str, maxsize: int) -> PoolManager:
        key = (scheme, name)
        with self._lock:
            if self._pid != os.getpid():
                self._managers = OrderedDict()
                self._pid = os.getpid()
            manager = self._managers.get(key)
            if manager is not None:
                self._managers.move_to_end(key)
                return manager
            manager = PoolManager(num_pools=ADDRESSES_PER_NAME, maxsize=maxsize, block=False)
            manager.pool_classes_by_scheme = POOL_CLASSES
            self._managers[key] = manager
            evicted = (
                self._managers.popitem(last=False)[1] if len(self._managers) > KEPT_NAMES else None
            )
        if evicted is not None:
            evicted.clear()
        return manager

    def clear(self) -> None:
        """Close every kept connection (tests, and a changed configuration)."""
        with self._lock:
            managers, self._managers = list(self._managers.values()), OrderedDict()
        for manager in managers:
            manager.clear()


_kept = _KeptConnections()


def close_kept_connections() -> None:
    _kept.clear()


@contextlib.contextmanager
def bare_session(
    *, policy: NetworkPolicy, deadline: Deadline, keep_alive: float = 0.0
) -> Iterator[requests.Session]:
    """A session that takes nothing from the environment, keeps no cookie, follows no
    redirect and connects only through PinnedAddressAdapter. With keep_alive > 0 it
    may be handed a connection an earlier call to the same name and pinned address
    left, idle for at most keep_alive seconds, and leaves its own for the next."""
    session = requests.Session()
    session.trust_env = False  # no proxies from the environment, no .netrc
    session.cookies = RequestsCookieJar(policy=DefaultCookiePolicy(allowed_domains=[]))
    session.headers = CaseInsensitiveDict(_DEFAULT_HEADERS)
    session.max_redirects = 0
    session.adapters.clear()
    adapter = PinnedAddressAdapter(policy=policy, keep_alive=keep_alive)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    token = _call.set(_Call(deadline=deadline, keep_alive=keep_alive))
    try:
        yield session
    finally:
        _call.reset(token)
        session.close()
