"""Load on the portal: GET a list of paths over keep-alive connections for a while, with
wrk when it is there (installed from Debian's packages when root), else Python threads."""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import re
import shutil
import subprocess
import tempfile
import threading
import time
from dataclasses import dataclass, field

from bench.report import percentile


@dataclass
class LoadResult:
    tool: str
    seconds: float
    requests: int
    errors: int  # non-2xx answers and socket errors
    latency_p50: float | None  # seconds
    latency_p99: float | None
    detail: str = ""
    by_path: dict[str, int] = field(default_factory=dict)

    @property
    def rate(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0


def ensure_wrk() -> str | None:
    """wrk, installed from Debian's packages when missing and this is root; None if not."""
    found = shutil.which("wrk")
    if found or os.geteuid() != 0 or not shutil.which("apt-get"):
        return found
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    for commands in (
        [["apt-get", "install", "-y", "-qq", "wrk"]],
        [["apt-get", "update", "-qq"], ["apt-get", "install", "-y", "-qq", "wrk"]],
    ):
        with contextlib.suppress(OSError, subprocess.SubprocessError):
            for command in commands:
                subprocess.run(command, env=env, check=True, capture_output=True, timeout=240)
            if found := shutil.which("wrk"):
                return found
    return None


_WRK_SCRIPT = """
local paths = {%s}
local counter = 0
request = function()
  counter = counter + 1
  return wrk.format("GET", paths[(counter %% #paths) + 1])
end
"""


def run_load(
    port: int, paths: list[str], *, seconds: float, concurrency: int, prefer_wrk: bool = True
) -> LoadResult:
    """GET `paths` in turn over `concurrency` keep-alive connections for `seconds`."""
    wrk = ensure_wrk() if prefer_wrk else None
    if wrk:
        return _wrk_load(wrk, port, paths, seconds=seconds, concurrency=concurrency)
    return _python_load(port, paths, seconds=seconds, concurrency=concurrency)


def _wrk_load(
    wrk: str, port: int, paths: list[str], *, seconds: float, concurrency: int
) -> LoadResult:
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        script.write(_WRK_SCRIPT % ", ".join(json.dumps(p) for p in paths))
    try:
        threads = max(1, min(concurrency, os.cpu_count() or 1))
        done = subprocess.run(
            [
                wrk,
                f"-t{threads}",
                f"-c{concurrency}",
                f"-d{max(1, round(seconds))}s",
                "--timeout",
                "10s",
                "--latency",
                "-s",
                script.name,
                f"http://127.0.0.1:{port}{paths[0]}",
            ],
            capture_output=True,
            text=True,
            timeout=seconds + 60,
        )
    finally:
        os.unlink(script.name)
    out = done.stdout
    if done.returncode != 0:
        raise SystemExit(f"wrk failed:\n{out}\n{done.stderr}")
    requests = int(re.search(r"(\d+) requests in ([\d.]+)(\w+)", out).group(1))  # type: ignore[union-attr]
    duration = re.search(r"requests in ([\d.]+)(ms|s|m)", out)
    factor = {"ms": 0.001, "s": 1.0, "m": 60.0}[duration.group(2)]  # type: ignore[union-attr]
    elapsed = float(duration.group(1)) * factor  # type: ignore[union-attr]
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    sockets = re.search(
        r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out
    )
    errors = (int(non_2xx.group(1)) if non_2xx else 0) + (
        sum(int(n) for n in sockets.groups()) if sockets else 0
    )
    return LoadResult(
        tool="wrk",
        seconds=elapsed,
        requests=requests,
        errors=errors,
        latency_p50=_wrk_latency(out, "50%"),
        latency_p99=_wrk_latency(out, "99%"),
        detail=(sockets.group(0) if sockets else "no socket errors"),
    )


def _wrk_latency(out: str, label: str) -> float | None:
    found = re.search(rf"^\s+{re.escape(label)}\s+([\d.]+)(us|ms|s)\s*$", out, re.M)
    if not found:
        return None
    return float(found.group(1)) * {"us": 1e-6, "ms": 1e-3, "s": 1.0}[found.group(2)]


def _python_load(port: int, paths: list[str], *, seconds: float, concurrency: int) -> LoadResult:
    latencies: list[float] = []
    errors = [0]
    lock = threading.Lock()
    stop = time.monotonic() + seconds

    def worker(offset: int) -> None:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        mine: list[float] = []
        failed = 0
        index = offset
        while time.monotonic() < stop:
            path = paths[index % len(paths)]
            index += 1
            started = time.perf_counter()
            try:
                connection.request("GET", path)
                response = connection.getresponse()
                response.read()
                if not 200 <= response.status < 400:
                    failed += 1
                if response.will_close:
                    connection.close()
            except (OSError, http.client.HTTPException):
                failed += 1
                connection.close()
                connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
            mine.append(time.perf_counter() - started)
        connection.close()
        with lock:
            latencies.extend(mine)
            errors[0] += failed

    started = time.monotonic()
    workers = [threading.Thread(target=worker, args=(n,)) for n in range(concurrency)]
    for thread in workers:
        thread.start()
    for thread in workers:
        thread.join(seconds + 30)
    elapsed = time.monotonic() - started
    return LoadResult(
        tool=f"Python threads ({concurrency}, http.client keep-alive)",
        seconds=elapsed,
        requests=len(latencies),
        errors=errors[0],
        latency_p50=percentile(latencies, 0.5) if latencies else None,
        latency_p99=percentile(latencies, 0.99) if latencies else None,
    )
