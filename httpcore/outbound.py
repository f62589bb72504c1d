"""The only module that talks to backends (docs/design.md, "The one path").

It keeps the rules docs/design.md's "Security invariants" give it: "Outbound: registered
origin only", "Outbound: checked headers only", "Outbound: a bare, bounded session",
"Outbound: allowed addresses, pinned", "Outbound: every failure classified" and, for its
log line, "Logs: no keys or account tokens".

`send` takes an OutboundRequest built by `templating.bind`, checks it again, sends it
under the network policy and the limits, and returns a SendResult: a Response or a
classified error with a plain message. It never raises for anything a backend or the
network does, so a backend fault is an error panel and never a 500.

This is also the only module that imports `requests`.
"""

from __future__ import annotations

import contextlib
import heapq
import http.client
import io
import itertools
import logging
import re
import socket
import ssl
import threading
import time
import traceback
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from http.cookiejar import DefaultCookiePolicy
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote, urlsplit

import requests
from django.conf import settings
from django.db import models
from requests.adapters import HTTPAdapter
from requests.cookies import RequestsCookieJar
from requests.structures import CaseInsensitiveDict
from requests.utils import select_proxy
from urllib3 import exceptions as urllib3_exceptions
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.exceptions import LocationParseError
from urllib3.util import Timeout, parse_url

from httpcore.headers import TOKEN, HeaderError, validate_headers
from httpcore.masking import mask_request_url
from httpcore.network_policy import (
    BlockedDestination,
    NetworkPolicy,
    UnresolvableHost,
)
from httpcore.templating import OutboundRequest

if TYPE_CHECKING:
    from requests.adapters import _HostParams, _PoolKwargs

logger = logging.getLogger(__name__)


class _HideQueryStrings(logging.Filter):
    """urllib3 logs request URLs with their query string, where API keys travel: a
    warning with the full URL when a backend's headers do not parse, a debug line per
    request. The portal logs every call itself with secrets masked (`_log`); here the
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

USER_AGENT = "api-portal/0.1"
_DEFAULT_HEADERS = {"User-Agent": USER_AGENT, "Accept-Encoding": "gzip, deflate", "Accept": "*/*"}
_DEFAULT_PORTS = {"http": 80, "https": 443}
_CHUNK_BYTES = 64 * 1024

# Space, controls and backslash (which some parsers read as "/") never belong in a
# built URL: templating percent-encodes them.
_BAD_URL_CHAR = re.compile(r"[\x00-\x20\x7f\\]")
# Control characters a backend may put in a reason phrase or a header value (http.client
# only splits on line ends). They mean nothing to a reader, can forge log lines, and
# PostgreSQL refuses NUL in text and \u0000 in jsonb: a stored exchange would be a 500.
_CONTROL_CHAR = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")
# Error messages may quote the backend (a protocol version, a header value).
_MAX_MESSAGE_CHARS = 500


class ErrorKind(models.TextChoices):
    """How a call failed: stored on exchanges and gateway calls, shown by its label."""

    INVALID_INPUT = "invalid_input", "Invalid request"
    BLOCKED = "blocked_destination", "Blocked destination"
    DNS = "dns", "Name does not resolve"
    CONNECT = "connect", "Connection failed"
    TIMEOUT = "timeout", "Timed out"
    TLS = "tls", "TLS failure"
    RESET = "reset", "Connection reset"
    TOO_LARGE = "too_large", "Too large"
    PROTOCOL = "protocol", "Protocol error"


@dataclass(frozen=True)
class SendLimits:
    connect_timeout: float
    read_timeout: float
    # Overall time for the whole exchange: connect, headers and body.
    deadline: float
    # Decoded bytes of the response body kept; the rest is not read.
    max_response_bytes: int
    max_request_body_bytes: int

    @classmethod
    def from_settings(cls) -> SendLimits:
        return cls(
            connect_timeout=settings.PORTAL_OUTBOUND_CONNECT_TIMEOUT,
            read_timeout=settings.PORTAL_OUTBOUND_READ_TIMEOUT,
            deadline=settings.PORTAL_OUTBOUND_DEADLINE,
            max_response_bytes=settings.PORTAL_OUTBOUND_MAX_RESPONSE_BYTES,
            max_request_body_bytes=settings.PORTAL_OUTBOUND_MAX_REQUEST_BODY_BYTES,
        )


@dataclass(frozen=True)
class Response:
    status_code: int
    reason: str
    # As received: in order, names as sent, duplicates kept (two Set-Cookie stay two).
    headers: tuple[tuple[str, str], ...]
    # Decoded content (gzip/deflate undone), at most max_response_bytes.
    body: bytes
    # True when the body was longer than max_response_bytes and was cut there.
    truncated: bool
    # Decoded bytes received up to where reading stopped (== len(body)).
    size: int
    content_type: str

    def header(self, name: str) -> str | None:
        """The first value of a header, matched case-insensitively."""
        wanted = name.lower()
        return next((value for key, value in self.headers if key.lower() == wanted), None)


@dataclass(frozen=True)
class SendResult:
    """Exactly one of `response` and `error_kind` is set."""

    request: OutboundRequest
    response: Response | None
    error_kind: ErrorKind | None
    error_message: str
    duration_ms: float

    @property
    def ok(self) -> bool:
        """The backend answered (any status, 4xx and 5xx included)."""
        return self.error_kind is None and self.response is not None

    @property
    def truncation_message(self) -> str:
        """A note for a response cut at the portal's limit, "" otherwise."""
        if self.response is None or not self.response.truncated:
            return ""
        return f"The response was cut at {format_size(self.response.size)} (the portal's limit)"


class OutboundRefused(Exception):
    """The request fails the re-check and is not sent; the message is for the user."""


class _Failure(Exception):
    """A classified failure met while sending or reading."""

    def __init__(self, kind: ErrorKind, message: str) -> None:
        super().__init__(message)
        self.kind = kind
        self.message = message


# --- Public entry points ------------------------------------------------------


def send(
    request: OutboundRequest,
    *,
    limits: SendLimits | None = None,
    policy: NetworkPolicy | None = None,
) -> SendResult:
    """Send `request` to its backend and classify what happens. Never raises for
    anything the backend or the network does."""
    limits = limits or SendLimits.from_settings()
    policy = policy or NetworkPolicy.from_settings()
    started = time.monotonic()
    response: Response | None = None
    kind: ErrorKind | None = None
    message = ""
    try:
        check_request(request, limits=limits)
        response = _exchange(request, limits=limits, policy=policy)
    except OutboundRefused as exc:
        kind, message = ErrorKind.INVALID_INPUT, str(exc)
    except _Failure as exc:
        kind, message = exc.kind, exc.message
    except Exception as exc:
        # A bug or a case not foreseen: still an error panel, never a 500. The
        # traceback is logged without the exception's text, which may hold the URL.
        kind = ErrorKind.PROTOCOL
        message = f"The exchange with the backend failed ({type(exc).__name__})"
        logger.error(
            "outbound: unexpected %s\n%s",
            type(exc).__name__,
            "".join(traceback.format_tb(exc.__traceback__)),
        )
    result = SendResult(
        request=request,
        response=response,
        error_kind=kind,
        error_message=_printable(message)[:_MAX_MESSAGE_CHARS],
        duration_ms=(time.monotonic() - started) * 1000,
    )
    _log(result)
    return result


def check_request(request: OutboundRequest, *, limits: SendLimits) -> None:
    """Re-check a built request against its registration (defence in depth: the
    primary validation is in templating and the form). Raises OutboundRefused."""
    _check_method(request.method)
    _check_url(request.url, service_url=request.service_url)
    _check_headers(request.headers)
    if request.body is not None and len(request.body) > limits.max_request_body_bytes:
        raise OutboundRefused(
            f"The request body is {format_size(len(request.body))}; the portal sends at "
            f"most {format_size(limits.max_request_body_bytes)}"
        )


def format_size(size: int) -> str:
    """1048576 -> "1 MB", 1536 -> "1,536 bytes", 5767168 -> "5.5 MB"."""
    for unit, factor in (("GB", 1 << 30), ("MB", 1 << 20), ("KB", 1 << 10)):
        if size >= factor and size % factor == 0:
            return f"{size // factor} {unit}"
    if size >= 1 << 20:
        return f"{size / (1 << 20):.1f} MB"
    return f"{size:,} bytes"


# --- The re-check (registered origin only, checked headers only) -------------


def _check_method(method: str) -> None:
    # CONNECT would turn the backend connection into a tunnel.
    if not TOKEN.match(method) or method.upper() == "CONNECT":
        raise OutboundRefused(f"The method {method!r} cannot be sent")


def _check_url(url: str, *, service_url: str) -> None:
    if _BAD_URL_CHAR.search(url):
        raise OutboundRefused("The URL contains a space, a control character or a backslash")
    if "#" in url:
        raise OutboundRefused("The URL has a fragment")
    try:
        # The parser requests itself uses: what it sees is what gets sent.
        target = parse_url(url)
        service = parse_url(service_url)
    except LocationParseError as exc:
        raise OutboundRefused("The URL is not valid") from exc
    if service.scheme not in _DEFAULT_PORTS or not service.host:
        raise OutboundRefused("The API's service URL is not a valid http(s) URL")
    if target.auth is not None:
        raise OutboundRefused("The URL must not contain user info")
    if (target.scheme, target.host, _port_of(target)) != (
        service.scheme,
        service.host,
        _port_of(service),
    ):
        raise OutboundRefused(
            f"The URL does not point at the API's service "
            f"{service.scheme}://{service.host}:{_port_of(service)}"
        )
    _refuse_dot_segments(urlsplit(url).path)
    base = (service.path or "").rstrip("/")
    path = target.path or "/"
    if base and path != base and not path.startswith(base + "/"):
        raise OutboundRefused(f"The URL path is outside the API's base path {base}")


def _port_of(url: Any) -> int | None:
    return url.port if url.port is not None else _DEFAULT_PORTS.get(url.scheme or "")


def _refuse_dot_segments(raw_path: str) -> None:
    # urllib3 removes "." and ".." even after quoting, and requests unquotes %2e back to
    # "." on the wire; a backend that decodes %2F would also see "a%2F..%2Fb" as a
    # traversal. Refusing every decoded dot segment is the only safe answer, decoded
    # once or twice (a path value is encoded once; some backends decode twice).
    for segment in raw_path.split("/"):
        once = unquote(segment)
        for piece in [*re.split(r"[/\\]", once), *re.split(r"[/\\]", unquote(once))]:
            if piece in (".", ".."):
                raise OutboundRefused("The URL path contains a '.' or '..' segment")


def _check_headers(headers: tuple[tuple[str, str], ...]) -> None:
    # The same rules the form applies, again: a caller may have built the request
    # without the form.
    try:
        validate_headers(headers)
    except HeaderError as error:
        raise OutboundRefused(error.message) from error


# --- The overall deadline -----------------------------------------------------


class _Deadline:
    """The overall deadline of one exchange.

    Socket timeouts bound each read, not their sum: a backend dripping a byte every
    0.3 s (in the headers or the body) never trips a 30 s read timeout. At the deadline
    the watchdog shuts the connection's socket down, which ends any blocked read at once.
    """

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.expires_at = time.monotonic() + seconds
        self.expired = False
        self.finished = False
        self._lock = threading.Lock()
        self._sockets: list[socket.socket] = []

    def __enter__(self) -> _Deadline:
        _watchdog.watch(self)
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.finished = True

    def passed(self) -> bool:
        return self.expired or time.monotonic() >= self.expires_at

    def watch(self, sock: socket.socket) -> None:
        with self._lock:
            self._sockets.append(sock)
            if self.expired:
                _shutdown_socket(sock)

    def expire(self) -> None:
        with self._lock:
            if self.finished:
                return
            self.expired = True
            for sock in self._sockets:
                _shutdown_socket(sock)


class _Watchdog:
    """One thread that expires every call's deadline.

    A timer thread per call cost about a millisecond to start under load, more than
    the rest of the portal's own work on a call through the gateway.
    """

    def __init__(self) -> None:
        self._condition = threading.Condition()
        self._due: list[tuple[float, int, _Deadline]] = []
        self._order = itertools.count()
        self._thread: threading.Thread | None = None

    def watch(self, deadline: _Deadline) -> None:
        with self._condition:
            heapq.heappush(self._due, (deadline.expires_at, next(self._order), deadline))
            # Started on first use, and again in a forked worker, where it does not run.
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(
                    target=self._run, name="outbound-deadlines", daemon=True
                )
                self._thread.start()
            self._condition.notify()

    def _next_due(self) -> _Deadline:
        with self._condition:
            while True:
                while self._due and self._due[0][2].finished:
                    heapq.heappop(self._due)
                if not self._due:
                    self._condition.wait()
                    continue
                wait = self._due[0][0] - time.monotonic()
                if wait <= 0:
                    return heapq.heappop(self._due)[2]
                self._condition.wait(wait)

    def _run(self) -> None:
        while True:
            self._next_due().expire()


_watchdog = _Watchdog()


def _shutdown_socket(sock: object) -> None:
    if isinstance(sock, socket.socket):
        # socket.socket.shutdown, not SSLSocket.shutdown: the latter drops the TLS
        # object under the reading thread's feet; a plain TCP shutdown just ends reads.
        with contextlib.suppress(OSError):
            socket.socket.shutdown(sock, socket.SHUT_RDWR)


class _WatchedConnectionMixin:
    """Hands the socket to the call's deadline once connected.

    The socket itself, not the connection: http.client drops the connection's
    reference when the response is read until close, while the read goes on.
    """

    deadline: _Deadline | None = None

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

    deadline: _Deadline | None = None

    def _new_conn(self) -> Any:
        connection = super()._new_conn()  # type: ignore[misc]
        connection.deadline = self.deadline
        return connection


class _WatchedHTTPConnectionPool(_WatchedPoolMixin, HTTPConnectionPool):
    ConnectionCls = _WatchedHTTPConnection


class _WatchedHTTPSConnectionPool(_WatchedPoolMixin, HTTPSConnectionPool):
    ConnectionCls = _WatchedHTTPSConnection


# --- The pinned adapter (allowed addresses, pinned) ---------------------------


class PinnedAddressAdapter(HTTPAdapter):
    """Connects only to an address the network policy allows, pinned once.

    Same technique as requests_hardened.IPFilterAdapter (whose policy is only "loopback
    yes/no"): the host is resolved once, checked, and the connection pool is keyed on
    that IP, so DNS cannot move the connection afterwards. The Host header, the TLS
    SNI and certificate verification keep using the name from the URL.
    """

    def __init__(self, *, policy: NetworkPolicy, deadline: _Deadline | None = None) -> None:
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
        address = self._policy.resolve(hostname, port or _DEFAULT_PORTS[scheme])
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


# --- Sending and reading (a bare, bounded session) ---------------------------


@contextlib.contextmanager
def _session(*, policy: NetworkPolicy, deadline: _Deadline) -> Iterator[requests.Session]:
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


def _exchange(request: OutboundRequest, *, limits: SendLimits, policy: NetworkPolicy) -> Response:
    with (
        _Deadline(limits.deadline) as deadline,
        _session(policy=policy, deadline=deadline) as session,
    ):
        prepared = _prepare(session, request)
        try:
            # The adapter, not Session.send: Session.send reads a 3xx body whole (it
            # consumes `resp.content` to look for the next request even when redirects
            # are off), which would bypass the response cap. Skipping it also skips
            # redirects and cookie extraction altogether.
            raw_response = session.get_adapter(prepared.url or "").send(
                prepared,
                stream=True,
                # The stub says float or a pair; requests takes urllib3's Timeout as is.
                timeout=Timeout(  # type: ignore[arg-type]
                    connect=min(limits.connect_timeout, limits.deadline),
                    read=limits.read_timeout,
                    total=limits.deadline,
                ),
                verify=True,
                cert=None,
                proxies={},
            )
            try:
                return _read(raw_response, limits=limits, deadline=deadline)
            finally:
                raw_response.close()
        except (_Failure, OutboundRefused):
            raise
        except Exception as exc:
            kind, message = _classify(exc, request=request, limits=limits, deadline=deadline)
            raise _Failure(kind, message) from exc


def _prepare(session: requests.Session, request: OutboundRequest) -> requests.PreparedRequest:
    # Repeated fields are combined as RFC 9110 5.3 allows (requests keeps one per name),
    # under the first spelling of the name.
    combined: dict[str, tuple[str, str]] = {}
    for name, value in request.headers:
        first_name, previous = combined.get(name.lower(), (name, None))
        combined[name.lower()] = (first_name, value if previous is None else f"{previous}, {value}")
    headers = dict(combined.values())
    try:
        prepared = session.prepare_request(
            requests.Request(request.method, request.url, headers=headers, data=request.body)
        )
    except (requests.RequestException, ValueError) as exc:
        raise OutboundRefused(f"The request cannot be built ({type(exc).__name__})") from exc
    # requests re-serialises the URL (requoting it); check what it will actually send.
    url = prepared.url or ""
    _check_url(url, service_url=request.service_url)
    _check_same_authority(url, service_url=request.service_url)
    return prepared


def _check_same_authority(url: str, *, service_url: str) -> None:
    # The adapter takes the host and port from urllib.parse, not from urllib3's parser:
    # both must read the same destination out of the URL.
    service = parse_url(service_url)
    try:
        split = urlsplit(url)
        authority = (split.scheme, split.hostname, split.port or _DEFAULT_PORTS.get(split.scheme))
    except ValueError as exc:
        raise OutboundRefused("The URL is not valid") from exc
    if authority != (service.scheme, (service.host or "").strip("[]"), _port_of(service)):
        raise OutboundRefused("The URL's destination is ambiguous")


def _read(raw_response: requests.Response, *, limits: SendLimits, deadline: _Deadline) -> Response:
    status = raw_response.status_code
    reason = _printable(raw_response.reason or "")
    if 100 <= status < 200:
        # http.client hands back any 1xx but 100 as final; after a 101 the connection
        # speaks another protocol.
        raise _Failure(
            ErrorKind.PROTOCOL,
            f"The backend answered {status} {reason}; the portal does not switch protocols "
            "or wait for a later response",
        )
    headers = _received_headers(raw_response)
    if sum(len(name) + len(value) + 4 for name, value in headers) > limits.max_response_bytes:
        raise _Failure(
            ErrorKind.TOO_LARGE,
            f"The response headers alone exceed {format_size(limits.max_response_bytes)} "
            "(the portal's limit)",
        )
    body, truncated = _read_body(raw_response, limits=limits, deadline=deadline)
    return Response(
        status_code=status,
        reason=reason,
        headers=headers,
        body=body,
        truncated=truncated,
        size=len(body),
        content_type=next((v for k, v in headers if k.lower() == "content-type"), ""),
    )


def _read_body(
    raw_response: requests.Response, *, limits: SendLimits, deadline: _Deadline
) -> tuple[bytes, bool]:
    cap = limits.max_response_bytes
    # BytesIO.getvalue() hands over its buffer without copying it (a bytearray would be
    # copied into bytes at the end): the body costs the cap once, not twice.
    body = io.BytesIO()
    # Decoded chunks of at most 64 KiB: urllib3 inflates gzip/deflate incrementally,
    # so a bomb costs no more memory than the cap.
    for chunk in raw_response.raw.stream(_CHUNK_BYTES, decode_content=True):
        if deadline.passed():
            raise _deadline_failure(deadline)
        room = cap - body.tell()
        if len(chunk) > room:
            body.write(chunk[:room])
            return body.getvalue(), True
        body.write(chunk)
    if deadline.expired:
        # The shutdown at the deadline looks like a normal end to a body that is read
        # until the connection closes.
        raise _deadline_failure(deadline)
    return body.getvalue(), False


def _received_headers(raw_response: requests.Response) -> tuple[tuple[str, str], ...]:
    # http.client's message keeps wire order and duplicates; urllib3's HTTPHeaderDict
    # groups repeated names together. Fakes (responses) only provide the latter.
    original = getattr(raw_response.raw, "_original_response", None)
    message = getattr(original, "msg", None)
    if isinstance(message, http.client.HTTPMessage):
        items = message.items()
    else:
        items = list(raw_response.raw.headers.items())
    # An obs-fold (a continuation line) is replaced by one space, per RFC 9112 5.2.
    return tuple(
        (_printable(str(name)), _printable(re.sub(r"\r?\n[ \t]+", " ", str(value))))
        for name, value in items
    )


def _printable(text: str) -> str:
    """`text` with control characters (tab excepted) replaced by U+FFFD."""
    return _CONTROL_CHAR.sub("\ufffd", text)


# --- Classification (every failure classified) -------------------------------


def _deadline_failure(deadline: _Deadline) -> _Failure:
    return _Failure(
        ErrorKind.TIMEOUT,
        f"The backend did not finish answering within {_seconds(deadline.seconds)} "
        "(the portal's deadline)",
    )


def _classify(
    exc: BaseException, *, request: OutboundRequest, limits: SendLimits, deadline: _Deadline
) -> tuple[ErrorKind, str]:
    if deadline.expired:
        # Whatever the shutdown at the deadline looked like from the reading side.
        failure = _deadline_failure(deadline)
        return failure.kind, failure.message
    chain = _exception_chain(exc)
    origin = _origin(request.url)
    for classify in (_classify_destination, _classify_timeout, _classify_transport):
        found = classify(chain, origin=origin, limits=limits, deadline=deadline)
        if found is not None:
            return found
    return _classify_protocol(chain, exc)


def _classify_destination(
    chain: list[BaseException], *, origin: str, **_: Any
) -> tuple[ErrorKind, str] | None:
    for error in chain:
        if isinstance(error, BlockedDestination):
            return ErrorKind.BLOCKED, str(error)
        if isinstance(error, UnresolvableHost):
            return ErrorKind.DNS, str(error)
    if _has(chain, socket.gaierror, urllib3_exceptions.NameResolutionError):
        return ErrorKind.DNS, f"The name {origin.rpartition(':')[0]} does not resolve"
    return None


def _classify_timeout(
    chain: list[BaseException], *, origin: str, limits: SendLimits, deadline: _Deadline
) -> tuple[ErrorKind, str] | None:
    connect_timeout = any(
        isinstance(error, urllib3_exceptions.ConnectTimeoutError | requests.ConnectTimeout)
        and not isinstance(error, urllib3_exceptions.NewConnectionError)
        for error in chain
    )
    if connect_timeout:
        seconds = _seconds(min(limits.connect_timeout, limits.deadline))
        return ErrorKind.TIMEOUT, f"Could not connect to {origin} within {seconds}"
    if _has(chain, urllib3_exceptions.ReadTimeoutError, requests.ReadTimeout, TimeoutError):
        if deadline.passed():
            return ErrorKind.TIMEOUT, _deadline_failure(deadline).message
        return (
            ErrorKind.TIMEOUT,
            f"The backend did not answer within {_seconds(limits.read_timeout)}",
        )
    return None


def _classify_transport(
    chain: list[BaseException], *, origin: str, **_: Any
) -> tuple[ErrorKind, str] | None:
    for error in chain:
        if isinstance(error, ssl.SSLCertVerificationError):
            return ErrorKind.TLS, f"TLS certificate verification failed: {error.verify_message}"
        if type(error).__name__ == "CertificateError":  # urllib3's hostname mismatch
            return ErrorKind.TLS, f"TLS certificate verification failed: {error}"
    if _has(chain, ConnectionRefusedError):
        return ErrorKind.CONNECT, f"Could not connect to {origin}: connection refused"
    if _has(chain, http.client.RemoteDisconnected):
        return ErrorKind.RESET, "The backend closed the connection without answering"
    if _has(chain, ConnectionResetError, ConnectionAbortedError, BrokenPipeError):
        return ErrorKind.RESET, "The connection was reset by the backend"
    for error in chain:
        if isinstance(error, ssl.SSLError):
            reason = error.reason or error.strerror or type(error).__name__
            return ErrorKind.TLS, f"The TLS connection with {origin} failed: {reason}"
    if _has(chain, urllib3_exceptions.SSLError, requests.exceptions.SSLError):
        return ErrorKind.TLS, f"The TLS connection with {origin} failed"
    for error in chain:
        if isinstance(error, urllib3_exceptions.NewConnectionError):
            cause = next((e for e in chain if isinstance(e, OSError) and e.strerror), None)
            detail = cause.strerror.lower() if cause and cause.strerror else "connection failed"
            return ErrorKind.CONNECT, f"Could not connect to {origin}: {detail}"
    return None


def _classify_protocol(chain: list[BaseException], exc: BaseException) -> tuple[ErrorKind, str]:
    for error in chain:
        if isinstance(error, urllib3_exceptions.InvalidChunkLength):
            return ErrorKind.PROTOCOL, "The backend sent an invalid chunked body"
        if isinstance(error, http.client.IncompleteRead):
            # urllib3: partial = bytes read so far; http.client: the bytes themselves.
            received = error.partial if isinstance(error.partial, int) else len(error.partial)
            missing = f", {error.expected} more were announced" if error.expected else ""
            return ErrorKind.PROTOCOL, (
                f"The response body ended early: {received} bytes received{missing}"
            )
        if isinstance(error, urllib3_exceptions.DecodeError):
            return ErrorKind.PROTOCOL, f"The response body could not be decoded: {error}"
        if isinstance(error, http.client.LineTooLong):
            return ErrorKind.PROTOCOL, "The backend sent a header or status line that is too long"
        if isinstance(error, http.client.UnknownProtocol):
            # The version comes from the backend's status line: quoted, and short.
            version = str(error.args[0] if error.args else "")[:20]
            return ErrorKind.PROTOCOL, (
                f"The backend answered in {version!r}; the portal speaks HTTP/1.0 and HTTP/1.1"
            )
        if isinstance(error, http.client.BadStatusLine):
            return ErrorKind.PROTOCOL, "The backend did not answer with an HTTP response"
        if isinstance(error, urllib3_exceptions.InvalidHeader):
            # e.g. "Content-Length contained multiple unmatching values (3, 4)"
            return ErrorKind.PROTOCOL, f"The backend sent an invalid header: {error}"
        if isinstance(error, urllib3_exceptions.ProtocolError) and "chunk" in str(error):
            # e.g. "Response chunk size line exceeded maximum allowed length"
            return ErrorKind.PROTOCOL, "The backend sent an invalid chunked body"
        if isinstance(error, http.client.HTTPException):
            # e.g. "got more than 100 headers": http.client's text has no request data.
            return ErrorKind.PROTOCOL, f"The backend sent an invalid HTTP response: {error}"
    if _has(chain, requests.exceptions.ChunkedEncodingError):
        return ErrorKind.PROTOCOL, "The backend sent an invalid chunked body"
    if _has(chain, requests.exceptions.ContentDecodingError):
        return ErrorKind.PROTOCOL, "The response body could not be decoded"
    return ErrorKind.PROTOCOL, f"The exchange with the backend failed ({type(exc).__name__})"


def _exception_chain(exc: BaseException) -> list[BaseException]:
    """`exc` and everything it wraps: causes, contexts, exception arguments and
    MaxRetryError.reason (requests and urllib3 nest two or three deep)."""
    chain: list[BaseException] = []
    pending = [exc]
    while pending and len(chain) < 32:
        error = pending.pop(0)
        if any(error is seen for seen in chain):
            continue
        chain.append(error)
        pending += [arg for arg in error.args if isinstance(arg, BaseException)]
        reason = getattr(error, "reason", None)
        if isinstance(reason, BaseException):
            pending.append(reason)
        pending += [e for e in (error.__cause__, error.__context__) if e is not None]
    return chain


def _has(chain: list[BaseException], *types: type[BaseException]) -> bool:
    return any(isinstance(error, types) for error in chain)


def _origin(url: str) -> str:
    try:
        parsed = parse_url(url)
    except LocationParseError:
        return "the backend"
    return f"{parsed.host}:{_port_of(parsed)}"


def _seconds(seconds: float) -> str:
    return f"{seconds:g} s"


# --- Logging (no keys or account tokens) -------------------------------------


def _log(result: SendResult) -> None:
    request = result.request
    url = mask_request_url(request)
    # Refused URLs may carry CR/LF; keep them from forging log lines.
    url = _BAD_URL_CHAR.sub(lambda m: f"\\x{ord(m.group()):02x}", url)
    if result.response is not None:
        outcome = str(result.response.status_code)
        if result.response.truncated:
            outcome += " (truncated)"
    else:
        outcome = f"{result.error_kind}: {result.error_message}"
    logger.info(
        "outbound %s %s -> %s in %.0f ms",
        _BAD_URL_CHAR.sub("?", request.method),
        url,
        outcome,
        result.duration_ms,
    )
