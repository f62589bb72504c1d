"""The figures of a bench: each printed as measured next to its goal, percentiles, the
load average, and a time limit for the whole run.

With BENCH_SUMMARY naming a file (bench/summary.py sets it for `make bench`), each
figure is also appended to it as a JSON line, for the table printed at the end.
"""

from __future__ import annotations

import json
import os
import signal
import sys
from pathlib import Path

SUMMARY_VARIABLE = "BENCH_SUMMARY"


def record(**fields: object) -> None:
    """One JSON line in the BENCH_SUMMARY file, when it is set: the bench's script (its
    file name), then the fields."""
    path = os.environ.get(SUMMARY_VARIABLE)
    if not path:
        return
    line = json.dumps({"script": Path(sys.argv[0]).name, **fields})
    with Path(path).open("a", encoding="utf-8") as summary:
        summary.write(line + "\n")


class Report:
    """Prints each figure as it is measured, next to its goal; remembers the misses."""

    def __init__(self, title: str) -> None:
        self.title = title
        self.missed: list[str] = []
        print(f"== {title}", flush=True)

    def info(self, text: str) -> None:
        print(f"   {text}", flush=True)

    def figure(self, name: str, value: str, goal: str = "", ok: bool | None = None) -> None:
        """ok None: a figure without a goal, shown for comparison."""
        mark = {True: "ok", False: "MISSED", None: ""}[ok]
        goal_text = f"  (goal {goal})" if goal else ""
        print(f"   {name}: {value}{goal_text}  {mark}".rstrip(), flush=True)
        if ok is False:
            self.missed.append(name)
        record(bench=self.title, name=name, value=value, goal=goal, ok=ok)

    def exit_code(self) -> int:
        if self.missed:
            print(f"== {self.title}: MISSED {len(self.missed)}: {', '.join(self.missed)}")
            return 1
        print(f"== {self.title}: every goal met")
        return 0


def percentile(values: list[float], fraction: float) -> float:
    """Nearest-rank percentile (fraction 0.5 = median, 0.99 = p99)."""
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    rank = max(1, min(len(ordered), round(fraction * len(ordered) + 0.5)))
    return ordered[rank - 1]


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f} ms"


def load_average() -> str:
    try:
        one, five, _ = os.getloadavg()
    except OSError:
        return "unknown"
    return f"{one:.2f} (1 min), {five:.2f} (5 min) on {os.cpu_count()} cores"


def time_limit(seconds: int) -> None:
    """Ends the bench (SIGALRM) if it runs longer than `seconds`."""

    def expired(*_: object) -> None:
        raise SystemExit(f"the bench ran past its limit of {seconds} s")

    signal.signal(signal.SIGALRM, expired)
    signal.alarm(seconds)
