"""The figures of a bench: each printed as measured next to its goal, percentiles, the
load average, and a time limit for the whole run."""

from __future__ import annotations

import os
import signal


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
