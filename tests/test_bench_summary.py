"""bench/summary.py: the benches run one after the other, and one table of every figure
(bench/report.py's Report appends each to BENCH_SUMMARY) with a row for a crash."""

from __future__ import annotations

import os
from pathlib import Path

from bench import summary
from bench.report import Report

REPO = Path(__file__).resolve().parent.parent

MEASURING = """
import sys
from bench.report import Report

report = Report("A bench")
report.figure("speed", "12 ms", "<= 10 ms", False)
report.figure("size", "3 MB", "< 50 MB", True)
report.figure("shown", "7")
sys.exit(report.exit_code())
"""

CRASHING = """
raise RuntimeError("the bench broke")
"""

FINE = """
from bench.report import Report

Report("Fine").figure("rate", "250 requests/s", ">= 200", True)
"""


def test_every_figure_is_in_one_table_and_a_crash_is_a_failed_row(tmp_path, monkeypatch, capsys):
    scripts = []
    for name, text in (("measuring.py", MEASURING), ("crashing.py", CRASHING), ("fine.py", FINE)):
        (tmp_path / name).write_text(text)
        scripts.append(str(tmp_path / name))
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")]))

    code = summary.run(scripts)

    table = capsys.readouterr().out.split("== Every bench", 1)[1].splitlines()
    assert code == 1
    assert table[0] == " (3 scripts): 2 missed or failed"
    rows = [line.split() for line in table[3:]]
    # The crash's row says after how many seconds it exited.
    crash = rows.pop(3)
    assert (crash[:5], crash[6:]) == (
        ["crashing.py", "exit", "status", "1", "after"],
        ["s", "0", "FAILED"],
    )
    assert rows == [
        ["measuring.py", "speed", "12", "ms", "<=", "10", "ms", "MISSED"],
        ["measuring.py", "size", "3", "MB", "<", "50", "MB", "ok"],
        ["measuring.py", "shown", "7"],
        ["fine.py", "rate", "250", "requests/s", ">=", "200", "ok"],
    ]


def test_all_goals_met_is_exit_status_0(tmp_path, monkeypatch):
    (tmp_path / "fine.py").write_text(FINE)
    monkeypatch.setenv("PYTHONPATH", str(REPO))
    assert summary.run([str(tmp_path / "fine.py")]) == 0


def test_a_bench_run_alone_writes_no_summary(tmp_path, monkeypatch, capsys):
    monkeypatch.delenv("BENCH_SUMMARY", raising=False)
    monkeypatch.chdir(tmp_path)
    Report("Alone").figure("rate", "1", ">= 2", False)
    assert list(tmp_path.iterdir()) == []
    assert "rate: 1  (goal >= 2)  MISSED" in capsys.readouterr().out
