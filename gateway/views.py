"""/gateway/<url suffix>/<path>: API calls with a subscription key (gateway/proxy.py).

Callers are programs with a key, not browsers with a session: no CSRF token, no
session, and of the cookies only the operation's documented ones go on, never the
portal's own (gateway/forwarded_cookies.py).
"""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import quote, unquote_to_bytes

from django.http import HttpRequest, HttpResponse
from django.utils.encoding import repercent_broken_unicode
from django.views.decorators.csrf import csrf_exempt
from gunicorn.http.errors import ParseException

from gateway.proxy import GATEWAY_PREFIX, IncomingCall, UnreadableBody, handle_call


@csrf_exempt
def gateway(request: HttpRequest, rest: str) -> HttpResponse:
    answer = handle_call(call=incoming_call(request, rest=rest))
    response = HttpResponse(answer.body, status=answer.status, reason=answer.reason or None)
    if answer.content_type is None:
        del response.headers["Content-Type"]
    else:
        response.headers["Content-Type"] = answer.content_type
    for name, value in answer.headers:
        response.headers[name] = value
    return response


def incoming_call(request: HttpRequest, *, rest: str) -> IncomingCall:
    meta = request.META
    chunked = "chunked" in meta.get("HTTP_TRANSFER_ENCODING", "").lower()
    if chunked:
        # Django reads only Content-Length bodies; a server that ends the input stream
        # at the body's end (gunicorn) lets a chunked body be read from it directly.
        stream = meta.get("wsgi.input")
        read_body = _reader(stream.read) if meta.get("wsgi.input_terminated") and stream else None
    else:
        read_body = _reader(request.read)
    try:
        content_length: int | None = int(meta.get("CONTENT_LENGTH") or 0)
    except ValueError:
        content_length = None
    return IncomingCall(
        method=request.method or "GET",
        rest=raw_rest(request, rest=rest),
        query_string=meta.get("QUERY_STRING", ""),
        headers=request.headers,
        content_length=None if chunked else content_length,
        chunked=chunked,
        read_body=read_body,
        client_address=meta.get("REMOTE_ADDR", ""),
    )


def _reader(read: Callable[[int], bytes]) -> Callable[[int], bytes]:
    """`read`, with the server's failure to decode the body (a chunk size that is not
    hexadecimal, a missing chunk terminator, a body cut short) as UnreadableBody."""

    def read_body(size: int) -> bytes:
        try:
            return read(size)
        except (ParseException, OSError) as error:
            raise UnreadableBody(str(error)) from error

    return read_body


def raw_rest(request: HttpRequest, *, rest: str) -> str:
    """The path after /gateway/ as the client sent it, percent-escapes kept.

    The server decodes the path before Django sees it, so "a%2Fb" (one segment) would
    read as "a/b" (two). gunicorn keeps the request line in RAW_URI (other servers in
    REQUEST_URI); when neither is there, or it does not decode to what Django routed,
    the decoded path is encoded again, and an encoded "/" counts as a separator.
    """
    raw = request.META.get("RAW_URI") or request.META.get("REQUEST_URI") or ""
    path = raw.partition("?")[0]
    if "://" in path:  # absolute-form request target
        path = "/" + path.partition("://")[2].partition("/")[2]
    index = path.find(GATEWAY_PREFIX)
    while index != -1:
        candidate = path[index + len(GATEWAY_PREFIX) :]
        # Decoded as Django decodes the path (bytes that are not UTF-8 stay escaped).
        if repercent_broken_unicode(unquote_to_bytes(candidate)).decode() == rest:
            return candidate
        index = path.find(GATEWAY_PREFIX, index + 1)
    return quote(rest, safe="/!$&'()*+,;=:@~")
