"""A saved request made ready to send: its values decrypted and checked, the collection's
{{variables}} filled in, bound as Try it binds (tryit.build_request), and what must be
kept out of what is stored.

Everything here may read the database and raises StepFailed with a message for the
tester; nothing here sends.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass

from django.contrib.auth.models import AnonymousUser, User

from catalog import selectors
from catalog.models import Operation, ParameterLocation
from console import tryit
from console.body_fields import holds_files, sent_content_type
from console.forms import TryItValues
from console.kept_files import MissingFile, file_body, loaded
from console.servers import ServerChoice, ServerGone, recorded_choice
from gateway import tryit_access
from gateway.models import CallSource
from gateway.tryit_access import PortalGateway
from httpcore import outbound
from httpcore.bodies import shown_bytes
from httpcore.masking import MASK
from httpcore.templating import BindError, OutboundRequest
from httpcore.variables import scrub
from portal import secrets
from testing import checks
from testing.cookie_values import unknown_cookie
from testing.models import Collection, SavedRequest
from testing.variables import VARIABLE, UndefinedVariable, names_used, substitute_values

# Secret values shorter than this are not searched for in what is stored: they would
# match by chance (real keys are longer) and mangle the history.
MIN_SCRUBBED_SECRET_LENGTH = 4

Caller = User | AnonymousUser | None


def gone_message(saved: SavedRequest) -> str:
    """What a saved request's page and its replays say when its operation cannot be
    called: removed, deleted, or its API unpublished (for anyone but staff)."""
    return f"The operation {saved.operation_label} no longer exists."


class StepFailed(Exception):
    """A reason not to send (or to fail after sending); the message is for the tester."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class Variables:
    values: dict[str, str]
    secret: frozenset[str]  # names of secret variables
    unreadable: frozenset[str]  # secret variables whose value no longer decrypts


@dataclass(frozen=True)
class Prepared:
    operation: Operation
    values: TryItValues
    request: OutboundRequest  # what is sent: without the subscription key header
    # Secret values that went into this request, to be kept out of what is stored.
    secret_texts: frozenset[str]
    # The gateway's step before each try, with the key from the subscription key header
    # row or the runner's own; None when the API needs no key.
    gateway: PortalGateway | None = None
    # Whether the caller owns the saved request's secrets (the collection is theirs).
    owns_secrets: bool = False
    # The server it is sent to (value and URL), kept with each try's exchange.
    server: tuple[str, str] = ("", "")


# --- Values and variables ---------------------------------------------------------


def load_variables(collection: Collection) -> Variables:
    """The collection's variables, secret ones decrypted: read once a run."""
    values: dict[str, str] = {}
    secret: set[str] = set()
    unreadable: set[str] = set()
    for variable in collection.variables.all():
        value = variable.value
        if variable.secret:
            secret.add(variable.name)
            value = secrets.decrypt(variable.value)
            # encrypt("") is "", so an empty plain value from a token means it did not decrypt.
            if variable.value.startswith(secrets.PREFIX) and not value:
                unreadable.add(variable.name)
        values[variable.name] = value
    return Variables(values=values, secret=frozenset(secret), unreadable=frozenset(unreadable))


def collection_variables(collection: Collection) -> dict[str, str]:
    """The collection's variables by name, secret ones decrypted."""
    return load_variables(collection).values


def _decrypted(value: object) -> object:
    return secrets.decrypt(value) if isinstance(value, str) else value


def _decrypted_pairs(pairs: object) -> object:
    if not isinstance(pairs, list):
        return pairs
    return [
        [pair[0], _decrypted(pair[1])]
        if isinstance(pair, list | tuple) and len(pair) == 2
        else pair
        for pair in pairs
    ]


def saved_values(saved: SavedRequest) -> dict:
    """SavedRequest.values with encrypted values ("enc:...") decrypted.

    Secret header and cookie values are stored encrypted; template and query values are
    decrypted the same way in case a secret parameter was stored so. Values of another shape are
    passed through as they are (the replay refuses them with a message).
    """
    values = saved.values if isinstance(saved.values, dict) else {}
    result = dict(values)
    if isinstance(values.get("template"), dict):
        result["template"] = {name: _decrypted(value) for name, value in values["template"].items()}
    for key in ("query", "headers", "cookies"):
        if key in values:
            result[key] = _decrypted_pairs(values[key])
    return result


def _is_pair_list(value: object) -> bool:
    return isinstance(value, list) and all(
        isinstance(pair, list | tuple)
        and len(pair) == 2
        and all(isinstance(item, str) for item in pair)
        for pair in value
    )


def _check_shape(values: object) -> None:
    # Saved values come from the pages and from imported files: check before use.
    # A missing or null field is an empty one.
    problem = ""
    if not isinstance(values, dict):
        problem = "they are not an object"
    elif not isinstance(values.get("template") or {}, dict) or not all(
        isinstance(name, str) and isinstance(value, str)
        for name, value in (values.get("template") or {}).items()
    ):
        problem = "template must map names to strings"
    elif not _is_pair_list(values.get("query") or []):
        problem = "query must be a list of [name, value] strings"
    elif not _is_pair_list(values.get("headers") or []):
        problem = "headers must be a list of [name, value] strings"
    elif not _is_pair_list(values.get("cookies") or []):
        problem = "cookies must be a list of [name, value] strings"
    elif not isinstance(values.get("body"), str | None):
        problem = "body must be a string or null"
    elif not _is_pair_list(values.get("parts") or []):
        problem = "parts must be a list of [name, value] strings"
    if problem:
        raise StepFailed(f"The saved values are not valid: {problem}.")


def _unreadable_fields(values: dict) -> Iterator[str]:
    """Fields stored encrypted that no longer decrypt (encrypt("") is "", so a token
    that decrypts to "" did not decrypt)."""
    fields = [
        *(("parameter", name, value) for name, value in (values.get("template") or {}).items()),
        *(("parameter", name, value) for name, value in values.get("query") or []),
        *(("header", name, value) for name, value in values.get("headers") or []),
        *(("cookie", name, value) for name, value in values.get("cookies") or []),
    ]
    for kind, name, value in fields:
        if value.startswith(secrets.PREFIX) and not secrets.decrypt(value):
            yield f"{kind} {name}"


def _uses(text: str, names: Iterable[str]) -> bool:
    wanted = set(names)
    return any(match.group(1) in wanted for match in VARIABLE.finditer(text))


def _extra_secret_names(
    *, stored: dict, raw: dict, sent: dict, secret_variables: frozenset[str]
) -> set[str]:
    """Names whose values must be masked besides the operation's secret parameters:
    fields stored encrypted, and any field whose value uses a secret variable.

    stored, raw and sent are the values as saved, decrypted, and substituted; header
    names may hold variables, so a header is named as it was sent.
    """

    def named(values: dict) -> list:
        return [
            *(values.get("template") or {}).items(),
            *(values.get("query") or []),
            *(values.get("cookies") or []),
        ]

    names = {name.lower() for name, value in named(raw) if _uses(value, secret_variables)}
    names |= {name.lower() for name, value in named(stored) if value.startswith(secrets.PREFIX)}
    for (_, stored_value), (_, raw_value), (name, _) in zip(
        stored.get("headers") or [], raw.get("headers") or [], sent["headers"], strict=True
    ):
        if stored_value.startswith(secrets.PREFIX) or _uses(raw_value, secret_variables):
            names.add(name.strip().lower())
    return names


def _check_query_keys(*, operation: Operation, query: list[list[str]]) -> None:
    # Query keys come only from the operation's definition (docs/design.md, "Outbound:
    # query keys from the operation"); bind itself appends whatever keys it is given.
    allowed = {
        parameter.name
        for parameter in operation.parameters.all()
        if parameter.location == ParameterLocation.QUERY
    }
    for key, _ in query:
        if key not in allowed:
            raise StepFailed(f"{key}: the operation has no query parameter of that name.")


def _check_cookie_names(*, operation: Operation, cookies: list[list[str]]) -> None:
    # Cookie names come only from the document too (docs/design.md, "Cookies"): a saved
    # or imported request cannot send a cookie the operation does not take.
    for name, _ in cookies:
        problem = unknown_cookie(operation=operation, name=name)
        if problem is not None:
            raise StepFailed(f"{name}: {problem}")


# --- Preparing and sending one request ---------------------------------------------


def _current_operation(saved: SavedRequest) -> Operation | None:
    # Read again (or as the process keeps it until the catalog changes): the operation
    # may have been deleted since `saved` was loaded. A removed operation (gone from the
    # latest imported document) counts as gone.
    if saved.operation_id is None:
        return None
    return selectors.current_operation(pk=saved.operation_id)


def _check_saved(saved: SavedRequest) -> None:
    _check_shape(saved.values)
    until = saved.repeat_until
    if until and (not isinstance(until, dict) or until.get("kind") not in checks.KINDS):
        raise StepFailed("The repeat condition is not a valid check.")
    unreadable = next(_unreadable_fields(saved.values), None)
    if unreadable is not None:
        raise StepFailed(
            f"The stored value of the {unreadable} cannot be read (the encryption key has "
            "changed); enter it again."
        )


def _check_readable(variables: Variables, *, raw: dict, chained: Mapping[str, str]) -> None:
    # An unreadable secret would be sent as "": say why rather than show the 401.
    for name in sorted(variables.unreadable & names_used(raw)):
        if name not in chained:
            raise StepFailed(
                f"The secret variable {{{{{name}}}}} cannot be read (the encryption key has "
                "changed); enter it again."
            )


def _try_values(*, operation: Operation, values: dict) -> TryItValues:
    """The values as recorded (the key header row included, masked in the history)."""
    _check_query_keys(operation=operation, query=values["query"])
    _check_cookie_names(operation=operation, cookies=values["cookies"])
    return TryItValues(
        template_values=dict(values["template"]),
        query_values=[(key, value) for key, value in values["query"]],
        headers=[(name, value) for name, value in values["headers"]],
        # As the form keeps them; bound and checked as Try it binds them (an empty one
        # is not sent; a value outside RFC 6265 fails the step, naming the cookie).
        cookies=[(name, value) for name, value in values["cookies"]],
        # As the Try it form does: a blank body is no body.
        body=values["body"] if values["body"] and values["body"].strip() else None,
        # The media type chosen in Try it when the request was saved.
        content_type=sent_content_type(operation=operation, media_type=values.get("content_type")),
        media_type=values.get("content_type") or "",
    )


def _with_files(
    *, saved: SavedRequest, operation: Operation, values: dict, base: TryItValues
) -> TryItValues:
    """The multipart or file body rebuilt from the saved request's kept files (read
    here, in the run's own thread) and its text parts, never from its description."""
    files = {kept.field: loaded(kept) for kept in saved.files.all()}
    texts = values.get("parts") or []  # checked by _check_shape
    try:
        built = file_body(
            operation=operation, media_type=values.get("content_type"), texts=texts, files=files
        )
    except MissingFile as missing:
        raise StepFailed(
            f"{missing.part}: no file is kept for this part; attach one on the edit page."
        ) from None
    if built is None:
        return dataclasses.replace(base, body=None)
    return dataclasses.replace(
        base,
        body=built.description,
        raw_body=built.body,
        content_type=built.content_type,
        form_parts=built.parts,
        uploads=list(files.values()),
    )


def _bind(
    *,
    operation: Operation,
    values: TryItValues,
    gateway: PortalGateway | None,
    server: ServerChoice,
) -> OutboundRequest:
    """The request as sent (through the gateway, or to another of the API's servers:
    without the key header)."""
    if gateway is not None:
        values = dataclasses.replace(values, headers=gateway.without_key(values.headers))
    elif server.base_url is not None:
        headers = tryit_access.without_key_header(api=operation.api, headers=values.headers)
        values = dataclasses.replace(values, headers=headers)
    try:
        return tryit.build_request(operation=operation, values=values, base_url=server.base_url)
    except BindError as error:
        raise StepFailed(f"{error.field}: {error.message}") from None


def prepare(
    *,
    saved: SavedRequest,
    chained: Mapping[str, str],
    user: Caller,
    variables: Variables | None = None,
) -> Prepared:
    """Everything up to sending, database reads included; raises StepFailed. A run
    passes its collection's variables, read once (load_variables); else they are read."""
    operation = _current_operation(saved)
    # An unpublished API's operations are not there for anyone but staff (their pages
    # and the gateway answer 404): the step says what its page says.
    if operation is None or not selectors.can_call(user=user, operation=operation):
        raise StepFailed(gone_message(saved))
    _check_saved(saved)
    try:
        # Looked up again for this caller: removed since, no longer allowed, or the
        # staff-only service URL for anyone else fails the step before anything is sent.
        server = recorded_choice(
            api=operation.api, user=user, value=saved.server, url=saved.server_url
        )
    except ServerGone as gone:
        raise StepFailed(gone.message) from None
    raw = saved_values(saved)
    if variables is None:
        variables = load_variables(saved.collection)
    _check_readable(variables, raw=raw, chained=chained)
    merged = {**variables.values, **chained}
    try:
        values = substitute_values(raw, merged)
    except UndefinedVariable as error:
        raise StepFailed(str(error)) from None
    try_values = _try_values(operation=operation, values=values)
    if holds_files(operation=operation, media_type=values.get("content_type")):
        try_values = _with_files(saved=saved, operation=operation, values=values, base=try_values)
    gateway = None
    # Another of the API's servers is not a gateway call (console/servers.py).
    if server.base_url is None and tryit_access.key_required(api=operation.api):
        # A replay has no client address: it runs on the portal, for the user.
        gateway = PortalGateway(
            operation=operation,
            key=_gateway_key(operation=operation, values=try_values, user=user),
            user=user,
            address="",
            source=CallSource.REPLAY,
        )
    request = _bind(operation=operation, values=try_values, gateway=gateway, server=server)
    # Chained values override collection ones: a secret is only what still comes from one.
    secret_variables = frozenset(name for name in variables.secret if name not in chained)
    used = names_used(raw)
    extra = _extra_secret_names(
        stored=saved.values, raw=raw, sent=values, secret_variables=secret_variables
    )
    return Prepared(
        operation=operation,
        values=try_values,
        request=dataclasses.replace(request, secret_names=request.secret_names | extra),
        secret_texts=frozenset(
            merged[name]
            for name in secret_variables
            if name in used and len(merged[name]) >= MIN_SCRUBBED_SECRET_LENGTH
        ),
        gateway=gateway,
        owns_secrets=_owns_secrets(saved=saved, user=user),
        server=(server.value, server.url),
    )


def _owns_secrets(*, saved: SavedRequest, user: Caller) -> bool:
    return user is not None and user.is_authenticated and user.pk == saved.collection.owner_id


def _gateway_key(*, operation: Operation, values: TryItValues, user: Caller) -> str:
    """The key in the saved request's key header row; without one, the runner's own."""
    given = tryit_access.key_from_headers(api=operation.api, headers=values.headers).strip()
    return given or tryit_access.own_key(user=user, api=operation.api)


def scrubbed_for_storage(
    prepared: Prepared, result: outbound.SendResult
) -> tuple[TryItValues, outbound.SendResult]:
    """The values and request as they are stored: a secret variable's value may sit in a
    place no secret name covers (a path segment, the body), so it is replaced there."""
    texts = prepared.secret_texts
    if not texts:
        return prepared.values, result
    values = prepared.values
    stored_values = TryItValues(
        template_values={name: scrub(v, texts) for name, v in values.template_values.items()},
        query_values=[(key, scrub(v, texts)) for key, v in values.query_values],
        headers=[(name, scrub(v, texts)) for name, v in values.headers],
        cookies=[(name, scrub(v, texts)) for name, v in values.cookies],
        body=scrub(values.body, texts) if values.body is not None else None,
        form_parts=[
            (name, scrub(text, texts), is_file) for name, text, is_file in values.form_parts
        ],
        uploads=values.uploads,
        media_type=values.media_type,
    )
    request = result.request
    body = shown_bytes(request.body)  # an upload's files described, not read
    if body is not None:
        for secret in sorted(texts, key=len, reverse=True):
            body = body.replace(secret.encode("utf-8"), MASK.encode("utf-8"))
    stored_request = dataclasses.replace(
        request,
        url=scrub(request.url, texts),
        masked_url=scrub(request.masked_url, texts),
        headers=tuple((name, scrub(value, texts)) for name, value in request.headers),
        body=body,
    )
    return stored_values, dataclasses.replace(
        result, request=stored_request, error_message=scrub(result.error_message, texts)
    )
