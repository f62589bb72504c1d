"""Helpers for the servers the tests start as processes of their own."""

from __future__ import annotations

import subprocess


def stop(process: subprocess.Popen) -> None:
    """Terminate the process, killing it if it has not ended within 10 s."""
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
