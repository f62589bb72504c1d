"""The benches' backend routes, served by a Python process of its own on a loopback
port (standard library only):

    .venv/bin/python bench/loopback_backend.py backend      serves them

Traffic stays on 127.0.0.1. Every wait has a deadline.
"""

from __future__ import annotations

import contextlib
import hashlib
import http.client
import json
import random
import subprocess
import sys
import threading
import time
import urllib.parse
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

PYTHON = sys.executable


def json_document(size: int, *, seed: int = 7) -> bytes:
    """A JSON response of at most `size` bytes, as an order API would answer: a list of
    orders with nested customers, items, addresses, dates, numbers, booleans, nulls, and
    some text outside ASCII, markup and quotes."""
    rng = random.Random(seed)
    names = ["Ada Lovelace", "Grace Hopper", "Émile Zola", "Zoë Saldaña", "Søren Kierkegaard"]
    products = ["Widget <large> & co", 'Gadget "pro"', "Cable 2 m", "Adapter USB-C → HDMI"]
    pieces: list[bytes] = []
    total = 2
    number = 0
    while True:
        items: list[dict[str, Any]] = [
            {
                "sku": f"SKU-{rng.randrange(10**5):05d}",
                "name": rng.choice(products),
                "quantity": rng.randrange(1, 5),
                "unit_price": round(rng.uniform(1, 200), 2),
            }
            for _ in range(rng.randrange(1, 4))
        ]
        order = {
            "id": f"ord_{number:07d}",
            "created_at": f"2024-{rng.randrange(1, 13):02d}-{rng.randrange(1, 29):02d}"
            f"T{rng.randrange(24):02d}:{rng.randrange(60):02d}:00Z",
            "status": rng.choice(["pending", "paid", "shipped", "cancelled"]),
            "customer": {
                "id": rng.randrange(10**6),
                "name": rng.choice(names),
                "email": f"customer{number}@example.com",
                "vip": rng.random() < 0.1,
            },
            "items": items,
            "total": round(sum(i["quantity"] * i["unit_price"] for i in items), 2),
            "currency": "EUR",
            "notes": None if rng.random() < 0.7 else "Leave it at the door, please 🙂",
            "tags": rng.sample(["gift", "express", "fragile", "b2b"], rng.randrange(0, 3)),
            "shipping": {
                "address": f"{rng.randrange(1, 200)} Rue de la Paix, 75002 Paris",
                "carrier": rng.choice(["DHL", "UPS", "La Poste"]),
                "tracking": f"JD{rng.randrange(10**12):012d}SE",
            },
        }
        piece = json.dumps(order, ensure_ascii=False).encode()
        if total + len(piece) + 2 > size:
            break
        pieces.append(piece)
        total += len(piece) + 2
        number += 1
    return b"[" + b", ".join(pieces) + b"]"


class _BackendHandler(BaseHTTPRequestHandler):
    """PUT or POST /sink: the body's length and SHA-256. GET /fast: a small JSON answer at
    once. /slow?seconds=S: the same after S seconds.
    /stream?bytes=N: N bytes of text streamed in 64 KiB pieces. /json?bytes=N: the
    json_document of N bytes. HTTP/1.0: one request a connection, as the portal sends."""

    documents: dict[int, bytes] = {}
    lock = threading.Lock()

    def do_GET(self) -> None:
        path, _, query = self.path.partition("?")
        params = dict(urllib.parse.parse_qsl(query))
        if path == "/slow":
            time.sleep(float(params.get("seconds", "1")))
        if path in {"/fast", "/slow"}:
            self._answer(b'{"status": "ok", "value": 42}', "application/json")
        elif path == "/stream":
            self._stream(int(params["bytes"]))
        elif path == "/json":
            size = int(params["bytes"])
            with self.lock:
                if size not in self.documents:
                    self.documents[size] = json_document(size)
            self._answer(self.documents[size], "application/json")
        else:
            self._answer(b"not found", "text/plain", status=404)

    def do_PUT(self) -> None:
        """/sink: reads the body in 64 KiB pieces and answers its length and SHA-256."""
        length = int(self.headers.get("Content-Length") or 0)
        digest = hashlib.sha256()
        left = length
        while left:
            piece = self.rfile.read(min(left, 64 * 1024))
            if not piece:
                break
            digest.update(piece)
            left -= len(piece)
        answer = {"bytes": length - left, "sha256": digest.hexdigest()}
        answer["chunked"] = "chunked" in (self.headers.get("Transfer-Encoding") or "")
        self._answer(json.dumps(answer).encode(), "application/json")

    do_POST = do_PUT

    def _answer(self, body: bytes, content_type: str, status: int = 200) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _stream(self, size: int) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "text/plain; charset=utf-8")
        self.send_header("Content-Length", str(size))
        self.end_headers()
        chunk = b"x" * (64 * 1024)
        sent = 0
        with contextlib.suppress(OSError):  # the portal hangs up at its cap
            while sent < size:
                piece = chunk[: size - sent]
                self.wfile.write(piece)
                sent += len(piece)

    def log_message(self, *args: object) -> None:
        pass


class _KeepAliveHandler(_BackendHandler):
    """The same routes over HTTP/1.1: connections stay open for the next request, as
    most backends keep them (each answer written without waiting on Nagle's algorithm,
    as a server that writes its head and body at once)."""

    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 1024  # 64 connections at once must not wait for a SYN retry


def serve_backend(*, keep_alive: bool = False) -> None:
    server = _Server(("127.0.0.1", 0), _KeepAliveHandler if keep_alive else _BackendHandler)
    print(server.server_address[1], flush=True)
    # Ends when the bench closes our stdin (or dies).
    threading.Thread(target=server.serve_forever, daemon=True).start()
    sys.stdin.read()
    server.shutdown()


@dataclass
class Backend:
    port: int
    process: subprocess.Popen

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


def direct_call(port: int, *, kept: http.client.HTTPConnection | None = None) -> float:
    """Seconds for one GET /fast straight to the backend on a new connection, as the
    portal opens one per call to an HTTP/1.0 backend, or on `kept`, a connection kept
    open as the portal keeps one to an HTTP/1.1 backend: the yardstick of the overhead
    benches."""
    started = time.perf_counter()
    connection = kept or http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        connection.request("GET", "/fast", headers={"Accept": "*/*"})
        response = connection.getresponse()
        response.read()
        if response.status != 200:
            raise SystemExit(f"the backend answered {response.status}")
    finally:
        if kept is None:
            connection.close()
    return time.perf_counter() - started


@contextlib.contextmanager
def backend(*, keep_alive: bool = False) -> Iterator[Backend]:
    """The backend routes served by another Python process on a loopback port; over
    HTTP/1.1 with keep_alive, else HTTP/1.0 (one request a connection)."""
    process = subprocess.Popen(
        [
            PYTHON,
            str(Path(__file__).resolve()),
            "backend",
            *(["--keep-alive"] if keep_alive else []),
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        line = process.stdout.readline() if process.stdout else ""
        if not line.strip().isdigit():
            raise SystemExit("the bench backend did not start")
        yield Backend(int(line), process)
    finally:
        if process.stdin:
            process.stdin.close()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


if __name__ == "__main__":
    if sys.argv[1:2] == ["backend"] and sys.argv[2:] in ([], ["--keep-alive"]):
        serve_backend(keep_alive=sys.argv[2:] == ["--keep-alive"])
    else:
        raise SystemExit(__doc__)
