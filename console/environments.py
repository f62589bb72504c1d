"""Environments: a developer's named variables, used as {{name}} in any Try it field
(docs/design.md, "Environments").

Try it resolves the form's values with the selected environment just before the request
is built (`resolve`); what is kept (history, gateway records, the outbound log) has the
secret variables' values scrubbed, and the history keeps the fields as typed.
"""

from __future__ import annotations

import dataclasses
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Generic, TypeVar

from django.contrib.auth.models import AnonymousUser, User
from django.contrib.sessions.backends.base import SessionBase
from django.db.models import QuerySet
from django.http import Http404

from catalog.models import Operation
from console.forms import TryItValues
from console.models import Environment, Exchange
from httpcore import outbound
from httpcore.bodies import shown_bytes
from httpcore.masking import is_secret_name
from httpcore.pipeline import CallPolicy
from httpcore.templating import BindError, OutboundRequest
from httpcore.variables import NAME, VARIABLE, UndefinedVariable, scrub, scrub_bytes, substitute
from portal.secrets import PREFIX, decrypt, encrypt

SESSION_KEY = "tryit_environment"
# Shorter secret values are masked by the name of the field that used them only: scrubbed
# from every text, a one-character secret would mask that character everywhere.
MIN_SCRUBBED_SECRET_LENGTH = 4
# The save controls offered under a JSON response: its first top-level scalars.
MAX_SAVEABLE_VALUES = 30
# The name a bare JSON string or number is saved under unless the user types another.
BARE_VALUE_NAME = "value"

Caller = User | AnonymousUser | None


class SaveRefused(ValueError):
    """A value cannot be saved into an environment; the message says why."""


# --- Whose environments ----------------------------------------------------------------


def environments_of(*, user: Caller) -> QuerySet[Environment]:
    """The user's environments, by name; none for an anonymous visitor."""
    if user is None or not user.is_authenticated:
        return Environment.objects.none()
    return Environment.objects.filter(owner=user)


def environment_choices(*, user: Caller) -> list[Environment]:
    """The Try it form's environment choices, read once: a list, so that asking whether
    there are any costs nothing more, and an anonymous visitor's is no query at all
    (not even an empty queryset compiled on every call)."""
    if user is None or not user.is_authenticated:
        return []
    return list(environments_of(user=user))


def owned_environment(*, user: Caller, environment_id: int | str) -> Environment:
    """The user's environment; Http404 for anyone else's, or for an anonymous visitor."""
    environment = (
        environments_of(user=user).filter(pk=environment_id).first()
        if str(environment_id).isdigit()
        else None
    )
    if environment is None:
        raise Http404("No such environment.")
    return environment


def selected_environment(*, user: Caller, session: SessionBase) -> Environment | None:
    """The environment last chosen on a Try it form, if it is still the user's."""
    chosen = session.get(SESSION_KEY)
    if not chosen:
        return None
    return environments_of(user=user).filter(pk=chosen).first()


def choose_environment(*, user: Caller, session: SessionBase, posted: str) -> Environment | None:
    """The environment a Try it form posted ("" for none), remembered in the session.
    Http404 when it is not the user's."""
    environment = owned_environment(user=user, environment_id=posted) if posted else None
    chosen = environment.pk if environment is not None else None
    if session.get(SESSION_KEY) != chosen:  # a session unchanged is not written again
        session[SESSION_KEY] = chosen
    return environment


# --- Reading and writing variables -----------------------------------------------------


@dataclass(frozen=True)
class EnvironmentVariables:
    """An environment's variables as Try it uses them: secret values decrypted."""

    name: str
    values: Mapping[str, str]
    secret: frozenset[str]
    unreadable: frozenset[str] = frozenset()


def variables_of(environment: Environment) -> EnvironmentVariables:
    values: dict[str, str] = {}
    secret: set[str] = set()
    unreadable: set[str] = set()
    for variable in environment.variables or []:
        name, value = str(variable.get("name", "")), str(variable.get("value", ""))
        if variable.get("secret"):
            secret.add(name)
            plain = decrypt(value)
            if value.startswith(PREFIX) and not plain:
                unreadable.add(name)
            value = plain
        values[name] = value
    return EnvironmentVariables(
        name=environment.name,
        values=values,
        secret=frozenset(secret),
        unreadable=frozenset(unreadable),
    )


def stored_variable(*, name: str, value: str, secret: bool) -> dict:
    """One entry of Environment.variables: a secret's value encrypted."""
    return {"name": name, "value": encrypt(value) if secret else value, "secret": secret}


def set_variable(*, environment: Environment, name: str, value: str) -> bool:
    """Set (or add) one variable and save; True when it is kept secret.

    An existing variable keeps its secret flag; a new one is secret when its name says so
    (`access_token`)."""
    if not NAME.match(name):
        raise SaveRefused(
            "A variable name uses letters, digits, '_', '-' and '.', and starts with a "
            "letter or '_'."
        )
    variables = list(environment.variables or [])
    for index, variable in enumerate(variables):
        if variable.get("name") == name:
            secret = bool(variable.get("secret"))
            variables[index] = stored_variable(name=name, value=value, secret=secret)
            break
    else:
        secret = is_secret_name(name)
        variables.append(stored_variable(name=name, value=value, secret=secret))
    environment.variables = variables
    environment.save(update_fields=["variables", "updated_at"])
    return secret


# --- Try it: resolving the form's values -----------------------------------------------


def _scalar_text(value: object) -> str | None:
    """A JSON scalar as a variable holds it: strings as they are, numbers and booleans as
    JSON writes them; None for null, objects and arrays."""
    if isinstance(value, str):
        return value
    if isinstance(value, bool | int | float):
        return json.dumps(value)
    return None


@dataclass(frozen=True)
class SaveableValue:
    key: str  # the top-level key; "" for a bare JSON string or number
    value: str
    suggested_name: str


def _suggested(key: str) -> str:
    return key if NAME.match(key) else BARE_VALUE_NAME


def resource_id_name(operation: Operation | None) -> str:
    """The placeholder the API's other operations put right after this operation's path
    ("/jobs" answers the id that "/jobs/{jobid}/start" takes: jobid), or "" if none."""
    if operation is None:
        return ""
    base = operation.url_template.partition("?")[0].rstrip("/")
    following = re.compile(re.escape(base) + r"/\{([A-Za-z_][A-Za-z0-9_.-]*)\}")
    templates = (
        Operation.objects.current()
        .filter(api_id=operation.api_id)
        .exclude(pk=operation.pk)
        .order_by("pk")
        .values_list("url_template", flat=True)
    )
    for template in templates:
        match = following.match(template.partition("?")[0])
        if match:
            return match.group(1)
    return ""


def saveable_values(exchange: Exchange) -> list[SaveableValue]:
    """The values of a JSON response that can be saved as variables: its top-level
    scalars, or the bare string or number it is (named, when the API's other operations
    take it in their path, as they call it)."""
    if exchange.failed or exchange.truncated or "json" not in exchange.response_content_type:
        return []
    try:
        document = json.loads(bytes(exchange.response_body).decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        return []
    if isinstance(document, dict):
        found = []
        for key, value in document.items():
            text = _scalar_text(value)
            if text is not None and key:
                found.append(SaveableValue(key=key, value=text, suggested_name=_suggested(key)))
        return found[:MAX_SAVEABLE_VALUES]
    text = _scalar_text(document)
    if text is None or isinstance(document, bool):
        return []
    name = resource_id_name(exchange.operation) or BARE_VALUE_NAME
    return [SaveableValue(key="", value=text, suggested_name=name)]


def value_from_exchange(*, exchange: Exchange, key: str) -> str:
    """The value under a top-level key of the exchange's JSON response ("" for a bare
    value), read from the stored response."""
    for saveable in saveable_values(exchange):
        if saveable.key == key:
            return saveable.value
    raise SaveRefused("The response has no such value to save.")


@dataclass(frozen=True)
class Resolution:
    """The form's values with the environment's variables in, and what to scrub from
    what is kept."""

    sent: TryItValues
    secret_names: frozenset[str] = frozenset()  # fields that used a secret variable
    secret_texts: frozenset[str] = frozenset()  # secret values used, long enough to scrub

    def request(self, request: OutboundRequest) -> OutboundRequest:
        """The request to send, shown (log, gateway records) with the secrets masked."""
        if not self.secret_names and not self.secret_texts:
            return request
        shown = request.masked_url or request.url
        scrubbed = scrub(shown, self.secret_texts)
        return dataclasses.replace(
            request,
            secret_names=request.secret_names | self.secret_names,
            masked_url=request.masked_url if scrubbed == request.url else scrubbed,
        )

    def stored(self, result: outbound.SendResult) -> outbound.SendResult:
        """The result as the history keeps it: the secret values scrubbed."""
        texts = self.secret_texts
        if not texts:
            return result
        request = result.request
        stored_request = dataclasses.replace(
            request,
            url=scrub(request.url, texts),
            masked_url=scrub(request.masked_url, texts),
            headers=tuple((name, scrub(value, texts)) for name, value in request.headers),
            body=scrub_bytes(body, texts)
            if (body := shown_bytes(request.body)) is not None
            else None,
        )
        return dataclasses.replace(
            result, request=stored_request, error_message=scrub(result.error_message, texts)
        )

    def policy(self, inner: CallPolicy[TicketT, ResultT]) -> CallPolicy[TicketT, ResultT]:
        return _ScrubbingPolicy(inner=inner, resolution=self)


TicketT = TypeVar("TicketT")
ResultT = TypeVar("ResultT")


@dataclass(frozen=True)
class _ScrubbingPolicy(Generic[TicketT, ResultT]):
    """A call policy whose finish sees the result with the secret values scrubbed."""

    inner: CallPolicy[TicketT, ResultT]
    resolution: Resolution

    def admit(self, request: OutboundRequest) -> TicketT:
        return self.inner.admit(request)

    def finish(self, ticket: TicketT, result: outbound.SendResult) -> ResultT:
        return self.inner.finish(ticket, self.resolution.stored(result))


def _resolved(text: str, *, field: str, variables: EnvironmentVariables) -> str:
    try:
        return substitute(text, variables.values)
    except UndefinedVariable as error:
        raise BindError(
            f"{{{{{error.name}}}}} is not a variable of the environment {variables.name}.",
            field=field,
        ) from None


def resolve(*, values: TryItValues, environment: EnvironmentVariables | None) -> Resolution:
    """The values with every {{name}} replaced by the environment's variable; without an
    environment, the values as typed. Raises BindError naming the field for an unknown
    or unreadable variable, so that nothing is sent."""
    if environment is None:
        return Resolution(sent=values)
    used: set[str] = set()
    secret_names: set[str] = set()

    def resolved(text: str, *, field: str, name: str) -> str:
        names = {match.group(1) for match in VARIABLE.finditer(text)}
        for unreadable in sorted(names & environment.unreadable):
            raise BindError(
                f"The secret variable {{{{{unreadable}}}}} cannot be read (the encryption "
                "key has changed); enter it again in the environment.",
                field=field,
            )
        used.update(names)
        if names & environment.secret and name:
            secret_names.add(name.strip().lower())
        return _resolved(text, field=field, variables=environment)

    template = {
        name: resolved(value, field=name, name=name)
        for name, value in values.template_values.items()
    }
    query = [(key, resolved(value, field=key, name=key)) for key, value in values.query_values]
    headers = [
        (name, resolved(value, field="headers", name=name)) for name, value in values.headers
    ]
    cookies = [(name, resolved(value, field=name, name=name)) for name, value in values.cookies]
    body = resolved(values.body, field="body", name="") if values.body is not None else None
    sent = dataclasses.replace(
        values,
        template_values=template,
        query_values=query,
        headers=headers,
        cookies=cookies,
        body=body,
    )
    secret_texts = frozenset(
        environment.values[name]
        for name in used & environment.secret
        if len(environment.values[name]) >= MIN_SCRUBBED_SECRET_LENGTH
    )
    return Resolution(sent=sent, secret_names=frozenset(secret_names), secret_texts=secret_texts)
