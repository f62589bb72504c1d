"""Keys and account tokens out of the server's log lines.

A request line travels with everything a client put in it: a subscription key in the
query (`?subscription-key=...`, or whatever query name an API reads its key from), an
API's secret query parameters, the key of a confirmation or password reset link.
Every query value is masked, so that no API's own secret names need to be known, and
so is every path segment after the fixed part of an account link (portal/urls.py
mounts django-allauth's): the key may hold ":" (a signed confirmation key,
`<pk>:<timestamp>:<signature>`), "-" or even "/" (a reset key), and a path that runs
on past the key (a 404) keeps nothing of it. Names, paths and everything else stay as
they were sent.
"""

from __future__ import annotations

import logging
import re

from httpcore.masking import MASK

# Where a URL or a request target ends inside a log line.
_END = "\\s\"'<>"
# A query string: a "?" right after a path character, up to the end of the URL (a
# fragment, which no browser sends, is masked with the last value).
_QUERY = re.compile(rf"(?<=[^{_END}])\?([^{_END}]*)")
# The rest of a URL's path.
_REST = rf"[^?#{_END}]+"
# The step after a reset link, where the key has already moved to the session.
_NOT_SET_PASSWORD = rf"(?!set-password(?:[/?#{_END}]|\Z))"
_ACCOUNT_LINKS = re.compile(
    r"(?P<kept>"
    # The confirmation link of the mails: /accounts/confirm/<key>/; and the links
    # mailed before django-allauth, /accounts/confirm/<uidb64>/<token>/, which redirect
    # to sign-in.
    r"/accounts/confirm/"
    # django-allauth's own mount of it: /accounts/confirm-email/<key>/
    r"|/accounts/confirm-email/"
    # django-allauth's reset link: /accounts/password/reset/key/<uidb36>-<key>/
    rf"|/accounts/password/reset/key/[0-9A-Za-z]+-{_NOT_SET_PASSWORD}"
    # Django's reset link, mailed before django-allauth: /accounts/reset/<uidb64>/<token>/
    rf"|/accounts/reset/[^/?#{_END}]+/{_NOT_SET_PASSWORD}"
    rf")(?P<secret>{_REST})"
)


def mask_query_string(*, query: str) -> str:
    """`a=1&b` as `a=••••••&••••••`: the names stay, every value goes."""
    pairs = []
    for pair in query.split("&"):
        name, equals, value = pair.partition("=")
        if not equals:
            pairs.append(MASK if pair else "")
        else:
            pairs.append(f"{name}={MASK if value else ''}")
    return "&".join(pairs)


def _mask_link(match: re.Match[str]) -> str:
    """Each segment of the rest of the path masked; its slashes kept."""
    segments = match.group("secret").split("/")
    return match.group("kept") + "/".join(MASK if segment else "" for segment in segments)


def mask_log_text(*, text: str) -> str:
    """`text` with the query values of every URL in it and the account links' keys
    masked."""
    if "?" not in text and "/accounts/" not in text:
        return text
    text = _ACCOUNT_LINKS.sub(_mask_link, text)
    return _QUERY.sub(lambda match: "?" + mask_query_string(query=match.group(1)), text)


class MaskRequestSecrets(logging.Filter):
    """Masks what mask_log_text masks in a record's message: on the loggers that write
    request lines and paths (settings.LOGGING; gunicorn's own in
    portal.gunicorn_logging), so that every handler, whichever it is, gets the masked
    line."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # arguments that do not fit: logging reports it as usual
            return True
        masked = mask_log_text(text=message)
        if masked != message:
            record.msg, record.args = masked, ()
        return True
