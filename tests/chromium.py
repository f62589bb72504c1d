"""Debian's Chromium as the browser tests and benches launch it through Playwright."""

from __future__ import annotations

import os

from playwright.sync_api import Browser, Playwright

# Headless on a machine with no network beyond loopback: without the background
# networking flags, Chromium's own connections are refused, many at a time.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
    "--disable-quic",
]


def launch_chromium(playwright: Playwright) -> Browser:
    """/usr/bin/chromium, or $CHROMIUM."""
    return playwright.chromium.launch(
        executable_path=os.environ.get("CHROMIUM", "/usr/bin/chromium"), args=CHROMIUM_ARGS
    )
