"""axe-core (the npm package, node_modules/axe-core) run on the page a browser shows.

The engine is evaluated through Playwright (the DevTools protocol), not added as a
<script>: the portal's CSP allows no inline script, and the page stays as it is.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from playwright.sync_api import Page

AXE_JS = Path(__file__).resolve().parent.parent / "node_modules" / "axe-core" / "axe.min.js"
BLOCKING = ("serious", "critical")
# The rules a change of colour scheme can change the outcome of: the rest judge the
# markup and the layout, which a colour mode leaves as they are.
COLOUR_RULES = ("color-contrast", "link-in-text-block")


@dataclass(frozen=True)
class Violation:
    """One axe rule broken on the page, with the elements that break it."""

    rule: str
    impact: str
    help: str
    help_url: str
    targets: tuple[str, ...]
    # axe's words on the first element: "Element has insufficient color contrast of ..."
    first_failure: str = ""

    def describe(self) -> str:
        shown = ", ".join(self.targets[:6])
        more = f" and {len(self.targets) - 6} more" if len(self.targets) > 6 else ""
        why = f" ({self.first_failure})" if self.first_failure else ""
        return f"{self.rule} ({self.impact}): {self.help}; {shown}{more}{why}"


@cache
def _axe_source() -> str:
    if not AXE_JS.exists():
        raise RuntimeError(f"{AXE_JS} is missing: run `make test-tools` (npm ci)")
    return AXE_JS.read_text()


def run_axe(page: Page, *, rules: tuple[str, ...] = ()) -> list[Violation]:
    """Every axe violation on the current page (all impacts), in axe's order; only those
    of `rules` when given."""
    if not page.evaluate("typeof window.axe === 'object'"):
        page.evaluate(_axe_source() + "\n;true")
    options: dict[str, Any] = {"resultTypes": ["violations"]}
    if rules:
        options["runOnly"] = {"type": "rule", "values": list(rules)}
    results: dict[str, Any] = page.evaluate(
        "async options => await window.axe.run(document, options)", options
    )
    return [
        Violation(
            rule=item["id"],
            impact=item.get("impact") or "minor",
            help=item["help"],
            help_url=item["helpUrl"],
            targets=tuple(" ".join(str(part) for part in node["target"]) for node in item["nodes"]),
            first_failure=_first_failure(item["nodes"]),
        )
        for item in results["violations"]
    ]


def _first_failure(nodes: list[dict[str, Any]]) -> str:
    summary = str(nodes[0].get("failureSummary") or "") if nodes else ""
    lines = [line.strip() for line in summary.splitlines()[1:] if line.strip()]
    return "; ".join(lines)


def blocking_violations(page: Page, *, rules: tuple[str, ...] = ()) -> list[Violation]:
    """The serious and critical violations on the current page (of `rules` when given)."""
    return [v for v in run_axe(page, rules=rules) if v.impact in BLOCKING]


def report(violations: list[Violation]) -> str:
    """One line per violation: rule id, impact, help and the target selectors."""
    return "\n".join(violation.describe() for violation in violations)
