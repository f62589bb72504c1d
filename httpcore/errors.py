"""How a call fails (docs/design.md, "Outbound: every failure classified").

`ErrorKind` is the one list of failure kinds, stored on exchanges and gateway calls.
`classify` reads an exception raised while sending or reading, with everything it wraps
(requests and urllib3 nest two or three deep), and returns its kind and a plain
message for the user. `OutboundRefused` and `SendFailure` are the two exceptions the
outbound path raises itself: a request refused before it leaves, and a failure already
classified.
"""

from __future__ import annotations

import http.client
import socket
import ssl
from typing import Any

import requests
from django.db import models
from urllib3 import exceptions as urllib3_exceptions

from httpcore.network_policy import BlockedDestination, UnresolvableHost
from httpcore.watchdog import Deadline


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


class OutboundRefused(Exception):
    """The request fails the re-check and is not sent; the message is for the user."""


class SendFailure(Exception):
    """A classified failure met while sending or reading."""

    def __init__(self, kind: ErrorKind, message: str) -> None:
        super().__init__(message)
        self.kind = kind
        self.message = message


def deadline_failure(deadline: Deadline) -> SendFailure:
    return SendFailure(
        ErrorKind.TIMEOUT,
        f"The backend did not finish answering within {_seconds(deadline.seconds)} "
        "(the portal's deadline)",
    )


def classify(
    exc: BaseException,
    *,
    origin: str,
    connect_timeout: float,
    read_timeout: float,
    deadline: Deadline,
) -> tuple[ErrorKind, str]:
    """The kind of `exc` and its message. `origin` ("host:port") names the backend,
    `connect_timeout` is the one the connection was given."""
    if deadline.expired:
        # Whatever the shutdown at the deadline looked like from the reading side.
        failure = deadline_failure(deadline)
        return failure.kind, failure.message
    chain = _exception_chain(exc)
    for classify_as in (_classify_destination, _classify_timeout, _classify_transport):
        found = classify_as(
            chain,
            origin=origin,
            connect_timeout=connect_timeout,
            read_timeout=read_timeout,
            deadline=deadline,
        )
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
    chain: list[BaseException],
    *,
    origin: str,
    connect_timeout: float,
    read_timeout: float,
    deadline: Deadline,
) -> tuple[ErrorKind, str] | None:
    timed_out_connecting = any(
        isinstance(error, urllib3_exceptions.ConnectTimeoutError | requests.ConnectTimeout)
        and not isinstance(error, urllib3_exceptions.NewConnectionError)
        for error in chain
    )
    if timed_out_connecting:
        return (
            ErrorKind.TIMEOUT,
            f"Could not connect to {origin} within {_seconds(connect_timeout)}",
        )
    if _has(chain, urllib3_exceptions.ReadTimeoutError, requests.ReadTimeout, TimeoutError):
        if deadline.passed():
            return ErrorKind.TIMEOUT, deadline_failure(deadline).message
        return ErrorKind.TIMEOUT, f"The backend did not answer within {_seconds(read_timeout)}"
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


def _seconds(seconds: float) -> str:
    return f"{seconds:g} s"
