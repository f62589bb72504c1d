"""Share links for a Try it form: `?p.<parameter>=value&h.<Header>=value&body=...`
(`p.` for path, query and cookie parameters).

A link carries what differs from the operation's defaults (share_query) and opens the
operation's page with the form filled in (prefill_from_link). Secret values are never put
in a link nor taken from one.
"""

from __future__ import annotations

from collections.abc import Iterable
from urllib.parse import urlencode

from django.http import QueryDict
from django.urls import reverse

from catalog.models import Operation, ParameterLocation
from catalog.stored_values import withholds_default
from console.body_fields import (
    URLENCODED_PREFIX,
    BodyMedia,
    choose_media,
    default_media,
    documented_media,
    urlencoded_body,
)
from console.form_fields import field_name
from console.parameter_inputs import joined_items
from console.tryit import secret_names_of
from httpcore.headers import MAX_HEADER_COUNT
from httpcore.masking import is_secret, is_secret_name

LINK_PARAMETER = "p."
LINK_HEADER = "h."
LINK_BODY = "body"
# The Server select's value (console/servers.py), never a URL: whoever opens the link
# gets it only when it is one of the servers they may call.
LINK_SERVER = "server"
LINK_CONTENT_TYPE = "content_type"


def _url_parameters(operation: Operation) -> list:
    """The parameters a link names with `p.`: path, query and cookie ones."""
    return [
        p
        for p in operation.parameters.all()
        if p.location
        in (ParameterLocation.TEMPLATE, ParameterLocation.QUERY, ParameterLocation.COOKIE)
    ]


def _header_parameters(operation: Operation) -> list:
    return [p for p in operation.parameters.all() if p.location == ParameterLocation.HEADER]


def _lf(text: str) -> str:
    return text.replace("\r\n", "\n").replace("\r", "\n")


def share_query(operation: Operation, data: QueryDict) -> list[tuple[str, str]]:
    """The link parameters for a Try it form's data (valid or not): what differs from
    the operation's defaults, secrets left out.

    `p.<name>` a URL parameter; `h.<Name>` every header row, in order, when the rows
    differ from the documented ones (a secret header as `h.<Name>=` with no value);
    `body` the body when it differs from the example; `content_type` the body's media
    type when it is not the default one; `server` the Server select's value.
    """
    secret_names = secret_names_of(operation)  # the gateway key header too
    pairs: list[tuple[str, str]] = []
    for parameter in _url_parameters(operation):
        # An array's items are inputs of one name (console/parameter_inputs.py).
        given = data.getlist(field_name(parameter))
        value = joined_items(given) if given else None
        if value is None or value == parameter.default:
            continue
        if parameter.secret or is_secret(parameter.name, value, secret_names=secret_names):
            continue
        if withholds_default(parameter=parameter, api=operation.api):
            continue
        pairs.append((LINK_PARAMETER + parameter.name, value))
    rows = [
        (name.strip(), value.strip(" \t"))
        for name, value in zip(
            data.getlist("header_name"), data.getlist("header_value"), strict=False
        )
        if name.strip() or value.strip()
    ]

    def shown(headers: Iterable[tuple[str, str]]) -> list[tuple[str, str]]:
        return [(n, "" if is_secret(n, v, secret_names=secret_names) else v) for n, v in headers]

    defaults = [(p.name, p.default) for p in _header_parameters(operation)]
    if shown(rows) != shown(defaults):
        pairs += [(LINK_HEADER + n, v) for n, v in shown(rows)]
    if operation.takes_body:
        # The page's own ?content_type= opens that type's editor (console/views.py).
        chosen = data.get(LINK_CONTENT_TYPE)
        if chosen and chosen != default_media(documented_media(operation=operation)).media_type:
            pairs.append((LINK_CONTENT_TYPE, chosen))
        body = data.get("body")
        media = choose_media(operation=operation, requested=chosen).chosen
        if media.field_list:
            body = _field_list_body(media=media, data=data)
            if body is not None and body != media.example:
                pairs.append((LINK_BODY, body))
        elif body is not None and _lf(body) != _lf(operation.body_example):
            pairs.append((LINK_BODY, _lf(body)))
    server = data.get(LINK_SERVER)
    if server:
        pairs.append((LINK_SERVER, server[:20]))
    return pairs


def _field_list_body(*, media: BodyMedia, data: QueryDict) -> str | None:
    """A urlencoded field list as the body it sends, which the page opens into the
    fields again (console.body_fields.urlencoded_prefill); fields named as secrets
    left out."""
    typed = {
        f.name: data.get(URLENCODED_PREFIX + f.name, "")
        for f in media.fields
        if not is_secret_name(f.name)
    }
    body, errors = urlencoded_body(media=media, typed=typed)
    return None if errors else body


def share_url(operation: Operation, data: QueryDict) -> str:
    path = reverse("console:operation_detail", args=[operation.api.slug, operation.slug])
    pairs = share_query(operation, data)
    return f"{path}?{urlencode(pairs)}" if pairs else path


def prefill_from_link(operation: Operation, query: QueryDict) -> dict | None:
    """A TryItForm prefill from a share link's parameters, or None without any.

    Secret values are never taken from a link: a secret parameter keeps its default,
    and a secret header row is empty (the form sends a stored value for it, if any).
    """
    if not any(key.startswith((LINK_PARAMETER, LINK_HEADER)) or key == LINK_BODY for key in query):
        return None
    prefill: dict = {"template": {}, "query": [], "headers": [], "cookies": [], "body": None}
    for parameter in _url_parameters(operation):
        value = query.get(LINK_PARAMETER + parameter.name)
        if value is None or parameter.secret or is_secret(parameter.name, value):
            continue
        if parameter.location == ParameterLocation.TEMPLATE:
            prefill["template"][parameter.name] = value
        elif parameter.location == ParameterLocation.COOKIE:
            prefill["cookies"].append([parameter.name, value])
        else:
            prefill["query"].append([parameter.name, value])
    documented = {p.name.lower(): p for p in _header_parameters(operation)}
    secret_names = secret_names_of(operation)
    rows = [
        (key[len(LINK_HEADER) :], value)
        for key, values in query.lists()
        if key.startswith(LINK_HEADER)
        for value in values
    ][: MAX_HEADER_COUNT * 2]
    if not rows:
        rows = [(p.name, p.default) for p in documented.values()]
    for name, value in rows:
        prefill["headers"].append(
            [name, "" if is_secret(name, value, secret_names=secret_names) else value]
        )
    if operation.takes_body and LINK_BODY in query:
        prefill["body"] = query[LINK_BODY]
    return prefill
