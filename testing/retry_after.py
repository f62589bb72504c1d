"""Whether a replay waits out a Retry-After and sends its request again. Pure.

A 429 or 503 answer carrying Retry-After (delay-seconds, or an HTTP date) is waited out
and the request sent once more when the wait is at most the limit
(PORTAL_RUN_RETRY_AFTER_MAX_SECONDS), once per step. This holds for a backend's own
answer and for the gateway's rate-limit refusal, which carries its Retry-After in
seconds. Past the limit, with a value that is neither form, or at a second such answer
after the wait, the step fails with a note saying why; a step that expects that status
is judged as it is. A limit of 0 turns waiting off: such answers are judged as they come.

The verdict carries its note as a check result (RetryNote), so the run's page, the
command line and the JUnit report show it where they show checks.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import UTC
from email.utils import parsedate_to_datetime

from testing.checks import CheckResult

RETRY_STATUSES = frozenset({429, 503})
_SECONDS = re.compile(r"[0-9]+\Z")
# Longer numbers are shown cut and count as this many seconds: over any limit.
_MAX_DIGITS = 12
_MAX_SHOWN_VALUE = 40
# The key marking a note among a RunStep's stored check results.
STORED_MARK = "retry_after"


@dataclass(frozen=True)
class RetryNote(CheckResult):
    """A check result that says what a step did about a Retry-After."""


@dataclass(frozen=True)
class RetryVerdict:
    # Seconds to wait before sending again; None: not sent again.
    wait: int | None
    note: RetryNote


@dataclass(frozen=True)
class Delay:
    seconds: int
    shown: str  # "34", or "1234567890123…" for a number too long to show


def _shorten(text: str, length: int) -> str:
    return text if len(text) <= length else text[:length] + "…"


def parse_retry_after(*, value: str, now: float) -> Delay | None:
    """The wait a Retry-After value asks for (a date in the past: 0 s); None when it is
    neither delay-seconds nor an HTTP date."""
    text = value.strip()
    if _SECONDS.match(text):
        digits = text.lstrip("0") or "0"
        if len(digits) > _MAX_DIGITS:
            return Delay(seconds=10**_MAX_DIGITS, shown=_shorten(digits, _MAX_DIGITS))
        return Delay(seconds=int(digits), shown=digits)
    try:
        date = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    if date.tzinfo is None:  # "-0000": HTTP dates are in GMT
        date = date.replace(tzinfo=UTC)
    seconds = max(0, math.ceil(date.timestamp() - now))
    return Delay(seconds=seconds, shown=str(seconds))


def decide(
    *,
    status: int,
    retry_after: str | None,
    limit: int,
    expected_status: int | None,
    waited: int | None,
    now: float,
) -> RetryVerdict | None:
    """What to do about an answer with this status and Retry-After value (None: the header
    is missing). `waited` is the seconds this step already waited for one, if it did.
    None when the answer is judged as it is: not 429 or 503, no Retry-After, waiting
    turned off (limit 0), or the step expects that status."""
    if status not in RETRY_STATUSES or retry_after is None or limit <= 0:
        return None
    if expected_status == status:
        return None
    if waited is not None:
        return _not_retried(f"{status} again after waiting {waited} s: retried only once")
    delay = parse_retry_after(value=retry_after, now=now)
    if delay is None:
        shown = _shorten(retry_after.strip(), _MAX_SHOWN_VALUE)
        return _not_retried(
            f'{status}, Retry-After "{shown}" is neither seconds nor a date: not retried'
        )
    if delay.seconds > limit:
        return _not_retried(
            f"{status}, Retry-After {delay.shown} s is over the {limit} s limit: not retried"
        )
    return RetryVerdict(
        wait=delay.seconds,
        note=RetryNote(
            label=f"{status}, Retry-After {delay.shown} s: waited and retried",
            passed=True,
            detail="",
        ),
    )


def _not_retried(label: str) -> RetryVerdict:
    """The step fails with this note."""
    return RetryVerdict(wait=None, note=RetryNote(label=label, passed=False, detail=""))


def is_stored_note(result: dict) -> bool:
    """Whether a RunStep's stored check result is a RetryNote."""
    return bool(result.get(STORED_MARK))
