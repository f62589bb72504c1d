"""Sending a built request to its backend: `send`, the one entry point (docs/design.md,
"The one path").

It keeps the rules docs/design.md's "Security invariants" give it: "Outbound: registered
origin only", "Outbound: checked headers only", "Outbound: a bare, bounded session",
"Outbound: every failure classified" and, for its log line, "Logs: no keys or account
tokens". The connection is `transport`'s (pinned to an allowed address), the overall
deadline is `watchdog`'s, and `errors` names and words each failure.

`send` takes an OutboundRequest built by `templating.bind`, checks it again, sends it
under the network policy and the limits, and returns a SendResult: a Response or a
classified error with a plain message. It never raises for anything a backend or the
network does, so a backend fault is an error panel and never a 500.
"""

from __future__ import annotations

import http.client
import io
import logging
import re
import time
import traceback
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote, urlsplit

import requests
from django.conf import settings
from urllib3.exceptions import LocationParseError
from urllib3.util import Timeout, parse_url

from httpcore import transport
from httpcore.bodies import BodyLengthChanged, StreamedBody
from httpcore.cookies import CookieError, check_cookie_header
from httpcore.errors import (
    ErrorKind,
    OutboundRefused,
    SendFailure,
    classify,
    deadline_failure,
)
from httpcore.headers import TOKEN, HeaderError, validate_headers
from httpcore.masking import mask_request_url
from httpcore.network_policy import NetworkPolicy
from httpcore.templating import OutboundRequest
from httpcore.transport import DEFAULT_PORTS, bare_session
from httpcore.watchdog import Deadline

logger = logging.getLogger(__name__)

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


@dataclass(frozen=True)
class SendLimits:
    connect_timeout: float
    read_timeout: float
    # Overall time for the whole exchange: connect, headers and body.
    deadline: float
    # Decoded bytes of the response body kept; the rest is not read.
    max_response_bytes: int
    max_request_body_bytes: int
    # Seconds a connection left by an earlier call may have been idle to carry this one
    # (transport.py, "Connections kept between calls"); 0: a new connection every call.
    keep_alive: float = 0.0

    @classmethod
    def from_settings(cls) -> SendLimits:
        return cls(
            connect_timeout=settings.PORTAL_OUTBOUND_CONNECT_TIMEOUT,
            read_timeout=settings.PORTAL_OUTBOUND_READ_TIMEOUT,
            deadline=settings.PORTAL_OUTBOUND_DEADLINE,
            max_response_bytes=settings.PORTAL_OUTBOUND_MAX_RESPONSE_BYTES,
            max_request_body_bytes=settings.PORTAL_OUTBOUND_MAX_REQUEST_BODY_BYTES,
            keep_alive=settings.PORTAL_OUTBOUND_KEEP_ALIVE_SECONDS,
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
    except SendFailure as exc:
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
    if service.scheme not in DEFAULT_PORTS or not service.host:
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
    return url.port if url.port is not None else DEFAULT_PORTS.get(url.scheme or "")


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
    # without the form. One Cookie header, as templating.bind writes it, is the only
    # refused name let through.
    cookies = [value for name, value in headers if name.lower() == "cookie"]
    if len(cookies) > 1:
        raise OutboundRefused("The request has more than one Cookie header.")
    try:
        for value in cookies:
            check_cookie_header(value)
    except CookieError as error:
        raise OutboundRefused(error.message) from error
    try:
        validate_headers([(n, v) for n, v in headers if n.lower() != "cookie"])
    except HeaderError as error:
        raise OutboundRefused(error.message) from error


# --- Sending and reading (within the limits and the deadline) ----------------


def _exchange(request: OutboundRequest, *, limits: SendLimits, policy: NetworkPolicy) -> Response:
    with (
        Deadline(limits.deadline) as deadline,
        bare_session(policy=policy, deadline=deadline, keep_alive=limits.keep_alive) as session,
    ):
        prepared = _prepare(session, request)
        connect_timeout = min(limits.connect_timeout, limits.deadline)
        try:
            raw_response = _send_prepared(
                session, prepared, limits=limits, connect_timeout=connect_timeout
            )
            try:
                return _read(raw_response, limits=limits, deadline=deadline)
            finally:
                raw_response.close()
        except (SendFailure, OutboundRefused):
            raise
        except BodyLengthChanged as exc:
            raise SendFailure(ErrorKind.PROTOCOL, str(exc)) from exc
        except Exception as exc:
            kind, message = classify(
                exc,
                origin=_origin(request.url),
                connect_timeout=connect_timeout,
                read_timeout=limits.read_timeout,
                deadline=deadline,
            )
            raise SendFailure(kind, message) from exc


def _send_prepared(
    session: requests.Session,
    prepared: requests.PreparedRequest,
    *,
    limits: SendLimits,
    connect_timeout: float,
) -> requests.Response:
    def send_once() -> requests.Response:
        # The adapter, not Session.send: Session.send reads a 3xx body whole (it
        # consumes `resp.content` to look for the next request even when redirects
        # are off), which would bypass the response cap. Skipping it also skips
        # redirects and cookie extraction altogether.
        return session.get_adapter(prepared.url or "").send(
            prepared,
            stream=True,
            # The stub says float or a pair; requests takes urllib3's Timeout as is.
            timeout=Timeout(  # type: ignore[arg-type]
                connect=connect_timeout,
                read=limits.read_timeout,
                total=limits.deadline,
            ),
            verify=True,
            cert=None,
            proxies={},
        )

    try:
        return send_once()
    except requests.ConnectionError as exc:
        # A kept connection the backend closed while the request was on its way: the
        # backend answered nothing, so the request goes once more on a new connection,
        # as browsers do. Not a timeout, and not a streamed body (read once).
        if (
            not transport.handed_a_kept_connection()
            or isinstance(exc, requests.Timeout)
            or not isinstance(prepared.body, bytes | str | None)
        ):
            raise
    transport.only_new_connections()
    return send_once()


def _prepare(session: requests.Session, request: OutboundRequest) -> requests.PreparedRequest:
    # Repeated fields are combined as RFC 9110 5.3 allows (requests keeps one per name),
    # under the first spelling of the name.
    combined: dict[str, tuple[str, str]] = {}
    for name, value in request.headers:
        first_name, previous = combined.get(name.lower(), (name, None))
        combined[name.lower()] = (first_name, value if previous is None else f"{previous}, {value}")
    headers = dict(combined.values())
    body = request.body
    data: bytes | _Streamed | None = body if not isinstance(body, StreamedBody) else None
    if isinstance(body, StreamedBody):
        # requests sends an empty stream chunked: an empty file is an empty body.
        data = _Streamed(body) if len(body) else b""
    try:
        prepared = session.prepare_request(
            requests.Request(request.method, request.url, headers=headers, data=data)
        )
    except (requests.RequestException, ValueError) as exc:
        raise OutboundRefused(f"The request cannot be built ({type(exc).__name__})") from exc
    # requests re-serialises the URL (requoting it); check what it will actually send.
    url = prepared.url or ""
    _check_url(url, service_url=request.service_url)
    _check_same_authority(url, service_url=request.service_url)
    return prepared


class _Streamed:
    """A StreamedBody as requests takes a stream of known length: read as it is sent,
    with a Content-Length (requests' `super_len` reads `__len__`), never chunked."""

    def __init__(self, body: StreamedBody) -> None:
        self._body = body

    def __len__(self) -> int:
        return len(self._body)

    def __iter__(self) -> Iterator[bytes]:
        return self._body.chunks()


def _check_same_authority(url: str, *, service_url: str) -> None:
    # The adapter takes the host and port from urllib.parse, not from urllib3's parser:
    # both must read the same destination out of the URL.
    service = parse_url(service_url)
    try:
        split = urlsplit(url)
        authority = (split.scheme, split.hostname, split.port or DEFAULT_PORTS.get(split.scheme))
    except ValueError as exc:
        raise OutboundRefused("The URL is not valid") from exc
    if authority != (service.scheme, (service.host or "").strip("[]"), _port_of(service)):
        raise OutboundRefused("The URL's destination is ambiguous")


def _read(raw_response: requests.Response, *, limits: SendLimits, deadline: Deadline) -> Response:
    status = raw_response.status_code
    reason = _printable(raw_response.reason or "")
    if 100 <= status < 200:
        # http.client hands back any 1xx but 100 as final; after a 101 the connection
        # speaks another protocol.
        raise SendFailure(
            ErrorKind.PROTOCOL,
            f"The backend answered {status} {reason}; the portal does not switch protocols "
            "or wait for a later response",
        )
    headers = _received_headers(raw_response)
    if sum(len(name) + len(value) + 4 for name, value in headers) > limits.max_response_bytes:
        raise SendFailure(
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
    raw_response: requests.Response, *, limits: SendLimits, deadline: Deadline
) -> tuple[bytes, bool]:
    cap = limits.max_response_bytes
    # BytesIO.getvalue() hands over its buffer without copying it (a bytearray would be
    # copied into bytes at the end): the body costs the cap once, not twice.
    body = io.BytesIO()
    # Decoded chunks of at most 64 KiB: urllib3 inflates gzip/deflate incrementally,
    # so a bomb costs no more memory than the cap.
    for chunk in raw_response.raw.stream(_CHUNK_BYTES, decode_content=True):
        if deadline.passed():
            raise deadline_failure(deadline)
        room = cap - body.tell()
        if len(chunk) > room:
            body.write(chunk[:room])
            return body.getvalue(), True
        body.write(chunk)
    if deadline.expired:
        # The shutdown at the deadline looks like a normal end to a body that is read
        # until the connection closes.
        raise deadline_failure(deadline)
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


def _origin(url: str) -> str:
    try:
        parsed = parse_url(url)
    except LocationParseError:
        return "the backend"
    return f"{parsed.host}:{_port_of(parsed)}"


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
