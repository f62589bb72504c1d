"""axe-core on every page of the README's walk, at 1366 and 390 px, light and dark.

    .venv/bin/python bench/accessibility.py [--screenshots DIR]

Serves the portal under gunicorn (the production profile, bench/common.py) after
`manage.py load_demo`, adds the walker's account, subscription, environment and
collections (tests/accessibility_walk.py), then walks the pages in Debian's Chromium:
anonymous (catalog, API, operation, sign up, sign in), then signed in (a Send and its
result, products, subscriptions, history, a saved request and its replay's diff,
collections and a run, environments, analytics, the admin index). At each page it runs
axe-core (node_modules/axe-core, tests/axe.py) in each mode, the width and the system
colour scheme set in place (in dark only the colour rules: the markup and layout are
light's), and prints the serious, critical and total violations (rules
broken, any impact), the elements of the serious and critical ones and their rules'
ids (`--details`: each element); goal 0 serious and 0
critical everywhere. Exits 1 when a goal is missed. About a minute. Needs
`make test-tools` (Chromium, npm ci).
"""

from __future__ import annotations

import argparse
import sys
import textwrap
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from playwright.sync_api import sync_playwright

from bench.gunicorn_portal import gunicorn
from bench.report import Report, time_limit
from bench.workspace import workspace
from tests.accessibility_walk import MODES, prepare_walk, show_mode, walk
from tests.axe import BLOCKING, report, run_axe
from tests.chromium import launch_chromium


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--screenshots", type=Path, help="save a screenshot per page and mode")
    parser.add_argument(
        "--details", action="store_true", help="print each serious or critical violation"
    )
    args = parser.parse_args()
    time_limit(600)
    summary = Report("Accessibility: axe-core on the README's walk")
    with workspace("accessibility") as space, gunicorn(space) as portal:
        space.manage(
            "load_demo",
            "-v0",
            PORTAL_DEMO_BACKEND_URL=portal.url("/demo-backend"),
            PORTAL_SITE_URL=portal.base,
        )
        space.setup_django(PORTAL_DEMO_BACKEND_URL=portal.url("/demo-backend"))
        prepare_walk()
        blocking = 0
        summary.info(f"{'page':<20} {'mode':<11} serious critical total elements  rules")
        with sync_playwright() as playwright:
            browser = launch_chromium(playwright)
            page = browser.new_page()
            started, axe_seconds = time.monotonic(), 0.0
            for stop in walk(page, portal.base):
                for mode in MODES:
                    show_mode(page, mode)
                    before = time.monotonic()
                    violations = run_axe(page, rules=mode.rules)
                    axe_seconds += time.monotonic() - before
                    impacts = Counter(violation.impact for violation in violations)
                    shown = [v for v in violations if v.impact in BLOCKING]
                    rules = sorted(v.rule for v in shown)
                    elements = sum(len(v.targets) for v in shown)
                    blocking += impacts["serious"] + impacts["critical"]
                    print(
                        f"   {stop:<20} {mode.name:<11} {impacts['serious']:>7} "
                        f"{impacts['critical']:>8} {len(violations):>5} {elements:>8}  "
                        + " ".join(rules),
                        flush=True,
                    )
                    if args.details and shown:
                        print(textwrap.indent(report(shown), "      "), flush=True)
                    if args.screenshots:
                        args.screenshots.mkdir(parents=True, exist_ok=True)
                        page.screenshot(
                            path=str(args.screenshots / f"{stop}-{mode.name}.png"),
                            full_page=True,
                            caret="initial",
                        )
            browser.close()
        summary.info(
            f"the walk took {time.monotonic() - started:.1f} s, {axe_seconds:.1f} s of it in axe"
        )
        summary.figure(
            "serious and critical violations, all pages and modes",
            str(blocking),
            goal="0",
            ok=blocking == 0,
        )
    return summary.exit_code()


if __name__ == "__main__":
    sys.exit(main())
