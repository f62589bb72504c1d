"""Scripted HTTP backends on loopback, for tests that need the real wire.

A raw socket server, not http.server: tests must be able to misbehave (drip bytes,
reset the connection, lie about Content-Length, never answer) and to see the request
exactly as it was sent (method, request-target, header order and case, body).

    def handler(exchange: Exchange) -> None:
        exchange.respond(200, headers=[("Content-Type", "text/plain")], body=b"hi")

    with scripted_server(handler) as server:
        ...  # call server.url
    assert server.requests[0].target == "/x?y=1"

Each accepted connection runs `handler` in a daemon thread after the request has been
read and recorded (unless read_request=False). The connection is closed when the
handler returns. Leaving the `with` block stops the server and unblocks handlers that
wait (`Exchange.hold`, `Exchange.drip`, `Exchange.wait`).
"""

from __future__ import annotations

import contextlib
import gzip
import socket
import ssl
import struct
import threading
import zlib
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from http import HTTPStatus

_MAX_LINE = 65536


@dataclass(frozen=True)
class RecordedRequest:
    """One request as the backend received it."""

    method: str
    target: str  # the request-target exactly as sent, e.g. "/a%2Fb?x=1"
    version: str
    headers: tuple[tuple[str, str], ...]  # in wire order, names as sent
    body: bytes

    def header(self, name: str) -> str | None:
        """The first value of a header, matched case-insensitively."""
        for key, value in self.headers:
            if key.lower() == name.lower():
                return value
        return None

    @property
    def header_names(self) -> list[str]:
        return [key for key, _ in self.headers]


class Exchange:
    """One accepted connection, handed to the handler."""

    def __init__(self, sock: socket.socket, stop: threading.Event) -> None:
        self.sock = sock
        self.request: RecordedRequest | None = None
        self._stop = stop
        self._reader = sock.makefile("rb")

    def read_request(self) -> RecordedRequest:
        """Read one request (request line, headers, Content-Length or chunked body)."""
        request_line = self._readline()
        if not request_line:
            raise ConnectionError("client closed the connection before sending a request")
        method, target, version = request_line.split(" ", 2)
        headers: list[tuple[str, str]] = []
        while line := self._readline():
            name, _, value = line.partition(":")
            headers.append((name, value.strip()))
        self.request = RecordedRequest(method, target, version, tuple(headers), b"")
        body = self._read_body()
        self.request = RecordedRequest(method, target, version, tuple(headers), body)
        return self.request

    def send(self, data: bytes) -> None:
        self.sock.sendall(data)

    def respond(
        self,
        status: int = 200,
        *,
        reason: str | None = None,
        headers: Iterable[tuple[str, str]] = (),
        body: bytes = b"",
        content_length: bool = True,
    ) -> None:
        """Send a complete response; Content-Length is added unless headers set it."""
        headers = list(headers)
        names = {name.lower() for name, _ in headers}
        if content_length and "content-length" not in names and "transfer-encoding" not in names:
            headers.append(("Content-Length", str(len(body))))
        self.send(response_head(status, reason=reason, headers=headers) + body)

    def drip(self, data: bytes, *, interval: float) -> None:
        """Send `data` one byte at a time, `interval` seconds apart, until done or stopped."""
        for index in range(len(data)):
            self.send(data[index : index + 1])
            if self.wait(interval):
                return

    def wait(self, seconds: float) -> bool:
        """Sleep; True if the server is stopping (the handler should return)."""
        return self._stop.wait(seconds)

    def hold(self) -> None:
        """Keep the connection open without answering until the server stops."""
        self._stop.wait()

    def reset(self) -> None:
        """Abort the connection with a TCP RST instead of an orderly close."""
        # The makefile() reader holds a reference: close it first or close() is a no-op.
        with contextlib.suppress(OSError):
            self._reader.close()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.sock.close()

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self._reader.close()
        with contextlib.suppress(OSError):
            self.sock.close()

    def _readline(self) -> str:
        line = self._reader.readline(_MAX_LINE)
        return line.decode("latin-1").rstrip("\r\n")

    def _read_body(self) -> bytes:
        assert self.request is not None
        if (self.request.header("Transfer-Encoding") or "").lower() == "chunked":
            return self._read_chunked()
        length = int(self.request.header("Content-Length") or 0)
        return self._reader.read(length) if length else b""

    def _read_chunked(self) -> bytes:
        chunks = []
        while size := int(self._readline().split(";", 1)[0], 16):
            chunks.append(self._reader.read(size))
            self._readline()
        while self._readline():  # trailer section
            pass
        return b"".join(chunks)


def response_head(
    status: int, *, reason: str | None = None, headers: Iterable[tuple[str, str]] = ()
) -> bytes:
    """The status line and header section of an HTTP/1.1 response, blank line included."""
    if reason is None:
        try:
            reason = HTTPStatus(status).phrase
        except ValueError:
            reason = "Unknown"
    lines = [f"HTTP/1.1 {status} {reason}"]
    lines += [f"{name}: {value}" for name, value in headers]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


def reply_with(
    status: int = 200, *, headers: Iterable[tuple[str, str]] = (), body: bytes = b""
) -> Callable[[Exchange], None]:
    """A handler answering every request with the same response."""
    headers = tuple(headers)

    def handler(exchange: Exchange) -> None:
        exchange.respond(status, headers=headers, body=body)

    return handler


class ScriptedServer:
    """A running scripted backend; see `scripted_server`.

    url, host, port: where it listens. requests: every request read so far, in order.
    connections: TCP connections accepted (0 proves nothing reached it, not even a
    connect). server_names: the SNI of each TLS handshake. errors: exceptions raised
    while serving (a client refusing the certificate, a client hanging up early).
    """

    def __init__(
        self,
        handler: Callable[[Exchange], None],
        *,
        host: str,
        port: int,
        ssl_context: ssl.SSLContext | None,
        read_request: bool,
    ) -> None:
        self.host = host
        self.scheme = "https" if ssl_context else "http"
        self.connections = 0
        self.errors: list[BaseException] = []
        self.server_names: list[str | None] = []  # SNI of each TLS handshake
        self._handler = handler
        self._ssl_context = ssl_context
        self._read_request = read_request
        self._requests: list[RecordedRequest] = []
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._clients: list[socket.socket] = []
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        self._listener = socket.socket(family, socket.SOCK_STREAM)
        self._listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._listener.bind((host, port))
        self._listener.listen(16)
        self._listener.settimeout(0.5)
        self.port: int = self._listener.getsockname()[1]
        if ssl_context is not None:
            ssl_context.sni_callback = self._record_server_name

    @property
    def url(self) -> str:
        """scheme://host:port, without a trailing slash."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{self.scheme}://{host}:{self.port}"

    @property
    def requests(self) -> list[RecordedRequest]:
        with self._lock:
            return list(self._requests)

    def start(self) -> None:
        self._spawn(self._accept_loop)

    def stop(self) -> None:
        self._stop.set()
        # Wakes up the blocked accept() at once on Linux; the accept timeout is the fallback.
        with contextlib.suppress(OSError):
            self._listener.shutdown(socket.SHUT_RDWR)
        with self._lock:
            clients = list(self._clients)
        for client in clients:
            with contextlib.suppress(OSError):
                client.shutdown(socket.SHUT_RDWR)
        for thread in list(self._threads):
            thread.join(timeout=5)
        self._listener.close()

    def _spawn(self, target: Callable[..., None], *args: object) -> None:
        thread = threading.Thread(target=target, args=args, daemon=True)
        self._threads.append(thread)
        thread.start()

    def _accept_loop(self) -> None:
        while not self._stop.is_set():
            try:
                client, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            client.settimeout(10)
            with self._lock:
                self.connections += 1
                self._clients.append(client)
            self._spawn(self._serve, client)

    def _serve(self, client: socket.socket) -> None:
        sock = client
        try:
            if self._ssl_context is not None:
                sock = self._ssl_context.wrap_socket(client, server_side=True)
                with self._lock:
                    self._clients.append(sock)
            exchange = Exchange(sock, self._stop)
        except (OSError, ssl.SSLError) as exc:
            # A client refusing our certificate ends here; that is often the test.
            self.errors.append(exc)
            client.close()
            return
        try:
            if self._read_request:
                request = exchange.read_request()
                with self._lock:
                    self._requests.append(request)
            self._handler(exchange)
        except Exception as exc:  # a client hanging up mid-way must not kill the server
            self.errors.append(exc)
        finally:
            exchange.close()

    def _record_server_name(
        self, _sslobj: object, server_name: str | None, _context: ssl.SSLContext
    ) -> None:
        with self._lock:
            self.server_names.append(server_name)


@contextlib.contextmanager
def scripted_server(
    handler: Callable[[Exchange], None] | None = None,
    *,
    host: str = "127.0.0.1",
    port: int = 0,
    ssl_context: ssl.SSLContext | None = None,
    read_request: bool = True,
) -> Iterator[ScriptedServer]:
    """Run a scripted backend on `host` (`port` 0: any free one) for the duration of the block.

    `handler` defaults to an empty 200. With `ssl_context` the server speaks TLS (its
    sni_callback is used to record `server_names`).
    """
    server = ScriptedServer(
        handler or reply_with(200),
        host=host,
        port=port,
        ssl_context=ssl_context,
        read_request=read_request,
    )
    server.start()
    try:
        yield server
    finally:
        server.stop()


def unused_port(host: str = "127.0.0.1") -> int:
    """A port nothing listens on (connecting to it is refused)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


@contextlib.contextmanager
def blackhole(host: str = "127.0.0.1") -> Iterator[int]:
    """A port whose listen queue is full, so a connect attempt gets no answer at all.

    The kernel drops SYNs for a listener whose accept queue is full: a client sees a
    connect timeout, as with a firewall that drops packets, without leaving loopback.
    Yields the port.
    """
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as listener:
        listener.bind((host, 0))
        listener.listen(0)
        port = listener.getsockname()[1]
        # One connection fills a backlog of 0; it is never accepted.
        with socket.create_connection((host, port), timeout=2):
            yield port


def self_signed_context(name: str) -> ssl.SSLContext:
    """A server context with a certificate for `name` signed by its own key (no CA)."""
    # Imported here: only TLS tests need cryptography's X.509 builder.
    import datetime
    import tempfile

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(hours=1))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(name)]), critical=False)
        .sign(key, hashes.SHA256())
    )
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    with tempfile.NamedTemporaryFile(suffix=".pem") as pem:
        pem.write(certificate.public_bytes(serialization.Encoding.PEM))
        pem.write(
            key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
        )
        pem.flush()
        context.load_cert_chain(pem.name)
    return context


# --- Hostile behaviours, shared by tests/httpcore/test_hostile_backends.py and bench/hostile.py ---

MB = 1024 * 1024


def redirect(status: int, location: str) -> Callable[[Exchange], None]:
    """Answer `status` with `location` as the Location header."""
    return reply_with(status, headers=[("Location", location), ("Content-Type", "text/plain")])


def redirect_to_itself(status: int = 302) -> Callable[[Exchange], None]:
    """Answer with a Location pointing at the very URL requested: a loop if followed."""

    def handler(exchange: Exchange) -> None:
        assert exchange.request is not None
        location = f"http://{exchange.request.header('Host')}{exchange.request.target}"
        exchange.respond(status, headers=[("Location", location)])

    return handler


def drip_body(exchange: Exchange) -> None:
    """Headers at once, then the body one byte every 0.3 s: no read ever times out."""
    exchange.send(response_head(200, headers=[("Content-Length", "100")]))
    exchange.drip(b"x" * 100, interval=0.3)


class StreamedBody:
    """A handler announcing `size` bytes and sending them in 64 KiB chunks for as long as
    the client reads, without building the body in memory: `first`, then "x" bytes.
    `sent` counts the bytes that left, so a test can tell the client stopped reading."""

    def __init__(self, size: int, *, content_type: str = "text/plain", first: bytes = b"") -> None:
        self.size = size
        self.content_type = content_type
        self.first = first
        self.sent = 0

    def __call__(self, exchange: Exchange) -> None:
        headers = [("Content-Type", self.content_type), ("Content-Length", str(self.size))]
        exchange.send(response_head(200, headers=headers))
        chunk = b"x" * (64 * 1024)
        pieces = [self.first] if self.first else []
        while self.sent < self.size and not exchange.wait(0):
            piece = (pieces.pop() if pieces else chunk)[: self.size - self.sent]
            try:
                exchange.send(piece)
            except OSError:
                return  # the client hung up: that is the point
            self.sent += len(piece)


def gzip_bomb(decoded_size: int) -> bytes:
    """A gzip stream of `decoded_size` zero bytes (about 1/1000 of that on the wire)."""
    compressor = zlib.compressobj(9, zlib.DEFLATED, 31)  # wbits 31: the gzip container
    block = bytes(MB)
    whole, rest = divmod(decoded_size, MB)
    parts = [compressor.compress(block) for _ in range(whole)]
    parts.append(compressor.compress(bytes(rest)))
    return b"".join(parts) + compressor.flush()


def stacked_gzip(layers: int, body: bytes = b"hello") -> Callable[[Exchange], None]:
    """`body` gzipped `layers` times, announced as `Content-Encoding: gzip, gzip, ...`."""
    for _ in range(layers):
        body = gzip.compress(body)
    return reply_with(200, headers=[("Content-Encoding", ", ".join(["gzip"] * layers))], body=body)


def short_body(exchange: Exchange) -> None:
    """Announce 100 bytes, send 10 and close."""
    exchange.send(response_head(200, headers=[("Content-Length", "100")]) + b"x" * 10)


def many_headers(count: int) -> Callable[[Exchange], None]:
    return reply_with(200, headers=[(f"X-H{i}", "v") for i in range(count)])


def long_header(length: int) -> Callable[[Exchange], None]:
    """One header line of `length` bytes (http.client refuses lines over 65536)."""
    return reply_with(200, headers=[("X-Long", "v" * (length - len("X-Long: ")))])


def switching_protocols(exchange: Exchange) -> None:
    exchange.send(response_head(101, headers=[("Upgrade", "websocket"), ("Connection", "Upgrade")]))
