"""No subscription key or account token in any log: what the suite knows of them, and
the scan of a server's output.

tests/conftest.py remembers every key saved and every account token made in the test
process (`remember`) and scans each test's captured log records for that test's own;
the servers the suite starts (tests/demo_server.py's runserver, the gunicorn servers
of tests/gateway/test_gateway_processes.py and tests/portal/test_server_logs.py) have their whole
output scanned when they stop (`assert_server_output_clean`), for every secret the
suite has seen, the tokens of the mails they printed and the keys of their own
database. A mail printed by the console email backend carries its link by design: it
is left out of the scan, and the rest of the output must not repeat the link's token.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from urllib.parse import unquote

# Shorter values would match by chance; keys are 32 characters and tokens longer.
MIN_LENGTH = 16

_known: set[str] = set()

# What the console email backend writes for one mail: its headers, the body, 79 dashes.
_PRINTED_MAIL = re.compile(r"^Content-Type: .*?^-{79}$", re.MULTILINE | re.DOTALL)
_LINK = re.compile(r"https?://[^\s\"'<>]+")


def remember(value: str) -> None:
    """A key or token the test process saw, for the servers' output."""
    if len(value) >= MIN_LENGTH:
        _known.add(value)


def secret_parts(value: str) -> set[str]:
    """`value` and its long parts around ":" and "-": the signature of a signed
    confirmation key (`<pk>:<timestamp>:<signature>`), the hash of a reset token
    (`<timestamp>-<hash>`), either found even where the rest is written otherwise (a
    ":" percent-encoded)."""
    parts = {value, *re.split("[:-]", value)}
    if value.count(":") == 2:
        parts.add(value.rpartition(":")[2])
    return {part for part in parts if len(part) >= MIN_LENGTH}


def link_tokens(text: str) -> set[str]:
    """The long path segments of the links in `text` (mails) that hold a digit, as random
    keys do and page names do not, and their secret parts (a reset link's segment is
    `<uid>-<timestamp>-<hash>`, a confirmation link's `<pk>:<timestamp>:<signature>`)."""
    tokens: set[str] = set()
    for link in _LINK.findall(text):
        path = unquote(re.sub(r"^https?://[^/]*", "", link).partition("?")[0])
        for segment in filter(None, path.split("/")):
            tokens.update(secret_parts(segment))
    return {t for t in tokens if any(c.isdigit() for c in t)}


def leaked(*, text: str, secrets: Iterable[str]) -> list[str]:
    return sorted(secret for secret in secrets if len(secret) >= MIN_LENGTH and secret in text)


def assert_server_output_clean(*, text: str, server: str, own_secrets: Iterable[str] = ()) -> None:
    """Nothing the suite knows, nor a token of a mail the server printed, nor one of
    `own_secrets` (the server's own keys), appears in its output outside the mails."""
    mails = _PRINTED_MAIL.findall(text)
    outside = _PRINTED_MAIL.sub("(mail)", text)
    secrets = _known | set(own_secrets) | {t for mail in mails for t in link_tokens(mail)}
    found = leaked(text=outside, secrets=secrets)
    assert found == [], f"{server} logged keys or account tokens: {found}\n{outside[-3000:]}"
