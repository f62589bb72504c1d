"""Run benches one after the other and print one table of every figure at the end.

    .venv/bin/python bench/summary.py bench/replay.py 'bench/gateway.py --planes' ...

Each script (an argument, with its options if any) runs as it does alone, its output
passed through, with BENCH_SUMMARY naming a file where bench/report.py's Report appends
each figure it prints (a JSON line: the script, the bench, the figure's name, value, goal
and whether it was met). A script that exits non-zero without a missed figure (a crash,
or a bench that does not report through Report) is a failed row of its own. Exits 1 when
any goal was missed or any script failed; `make bench` runs it over every bench.
"""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.report import SUMMARY_VARIABLE


@dataclass(frozen=True)
class Row:
    script: str
    name: str
    value: str
    goal: str
    verdict: str  # "ok", "MISSED", "FAILED" or "" (no goal)


def read_rows(path: Path) -> list[Row]:
    rows = []
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            figure = json.loads(line)
        except json.JSONDecodeError:
            continue
        ok = figure.get("ok")
        rows.append(
            Row(
                script=str(figure.get("script", "")),
                name=str(figure.get("name", "")),
                value=str(figure.get("value", "")),
                goal=str(figure.get("goal", "")),
                verdict={True: "ok", False: "MISSED", None: ""}.get(ok, ""),
            )
        )
    return rows


def exit_rows(exits: dict[str, tuple[int, float]], rows: list[Row]) -> list[Row]:
    """A row for each script that failed without saying which goal it missed."""
    extra = []
    for script, (code, seconds) in exits.items():
        missed = any(row.script == script and row.verdict == "MISSED" for row in rows)
        if code != 0 and not missed:
            extra.append(Row(script, "exit status", f"{code} after {seconds:.0f} s", "0", "FAILED"))
        elif not any(row.script == script for row in rows):
            extra.append(
                Row(script, "exit status", str(code), "0", "ok" if code == 0 else "FAILED")
            )
    return extra


def table(rows: list[Row]) -> str:
    header = Row("bench", "figure", "value", "goal", "")
    widths = [
        max(len(getattr(row, field)) for row in [header, *rows])
        for field in ("script", "name", "value", "goal")
    ]
    lines = []
    for row in [header, *rows]:
        cells = [row.script, row.name, row.value, row.goal]
        text = "  ".join(cell.ljust(width) for cell, width in zip(cells, widths, strict=True))
        lines.append(f"{text}  {row.verdict}".rstrip())
    lines.insert(1, "-" * max(len(line) for line in lines))
    return "\n".join(lines)


def run(scripts: list[str]) -> int:
    with tempfile.TemporaryDirectory(prefix="bench-summary-") as directory:
        path = Path(directory) / "figures.jsonl"
        path.touch()
        exits: dict[str, tuple[int, float]] = {}
        for script in scripts:
            command = shlex.split(script)  # a script and its options: "bench/gateway.py --planes"
            started = time.monotonic()
            code = subprocess.run(
                [sys.executable, *command], env={**os.environ, SUMMARY_VARIABLE: str(path)}
            ).returncode
            exits[Path(command[0]).name] = (code, time.monotonic() - started)
        rows = read_rows(path)
    rows += exit_rows(exits, rows)
    order = {name: index for index, name in enumerate(exits)}
    rows.sort(key=lambda row: order.get(row.script, len(order)))
    failed = [row for row in rows if row.verdict in {"MISSED", "FAILED"}]
    print(f"\n== Every bench ({len(exits)} scripts): {len(failed)} missed or failed")
    print(table(rows))
    return 1 if failed else 0


def main() -> int:
    scripts = sys.argv[1:]
    if not scripts:
        raise SystemExit(__doc__)
    return run(scripts)


if __name__ == "__main__":
    sys.exit(main())
