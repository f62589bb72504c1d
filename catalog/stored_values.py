"""Stored values of secret parameters: used when sending, never shown (docs/design.md,
"Stored secret values").

A secret parameter (marked secret, or a credential by its name: Authorization, the API-key
headers, the API's subscription key names) may have a default that an admin stored, such
as the demo API's `Authorization: Bearer <key>`. That value never reaches a browser: the
Try it form shows the field empty, saying that the stored value will be used, and the
server puts the value in when the form is sent with the field left empty. Whoever may send
a Try it call of the operation may so use the value, without ever reading it.
"""

from __future__ import annotations

from dataclasses import dataclass

from catalog.models import Api, Operation, Parameter, ParameterLocation
from httpcore.masking import is_secret_name

# What the form shows in place of a stored value.
PLACEHOLDER = "Stored value will be used"
HELP = "Leave it empty to send the stored value, which is not shown; or type your own."
CHOICE_LABEL = "(stored value)"
# The keys of TryItValues.stored: where a value came from.
TEMPLATE = "template"
QUERY = "query"
HEADERS = "headers"


def _key_names(api: Api) -> tuple[str, str]:
    return (api.subscription_key_header, api.subscription_key_query)


def withholds_default(*, parameter: Parameter, api: Api) -> bool:
    """Whether the parameter's default is a stored secret that is never shown."""
    if parameter.default == "":
        return False
    return parameter.secret or is_secret_name(parameter.name, secret_names=_key_names(api))


@dataclass(frozen=True)
class StoredValues:
    """The operation's stored secret values: template and query values by parameter name,
    header values by lower-cased header name."""

    template: dict[str, str]
    query: dict[str, str]
    headers: dict[str, str]

    def header(self, name: str) -> str | None:
        return self.headers.get(name.strip().lower())

    def url_value(self, *, location: str, name: str) -> str | None:
        source = self.template if location == ParameterLocation.TEMPLATE else self.query
        return source.get(name)


def stored_values_of(*, operation: Operation) -> StoredValues:
    template: dict[str, str] = {}
    query: dict[str, str] = {}
    headers: dict[str, str] = {}
    for parameter in operation.parameters.all():
        if not withholds_default(parameter=parameter, api=operation.api):
            continue
        if parameter.location == ParameterLocation.TEMPLATE:
            template[parameter.name] = parameter.default
        elif parameter.location == ParameterLocation.QUERY:
            query[parameter.name] = parameter.default
        elif parameter.location == ParameterLocation.HEADER:
            headers.setdefault(parameter.name.lower(), parameter.default)
    return StoredValues(template=template, query=query, headers=headers)


def shown_value(*, value: str, stored: str | None) -> str:
    """What a form field may show for a value: never a stored value (it shows empty, and
    an empty field sends the stored value)."""
    return "" if stored is not None and value == stored else value
