from django import template

from catalog.models import Api, Operation, Parameter, ParameterLocation
from catalog.stored_values import withholds_default
from portal.own_cookies import is_portal_cookie

register = template.Library()


@register.filter
def shows_default(parameter: Parameter, api: Api) -> bool:
    """Whether the documentation may show the parameter's default: not a stored secret."""
    return bool(parameter.default) and not withholds_default(parameter=parameter, api=api)


@register.filter
def kept_from_gateway(parameter: Parameter) -> bool:
    """Whether the gateway never forwards the cookie parameter: it has the name of one of
    the portal's own cookies (gateway/forwarded_cookies.py)."""
    return parameter.location == ParameterLocation.COOKIE and is_portal_cookie(parameter.name)


@register.filter
def location_name(parameter: Parameter, operation: Operation) -> str:
    """Where the value goes, in OpenAPI's words: "path", "query", "header" or "cookie".

    A URL template placeholder is "query" when it stands after the template's "?"."""
    if parameter.location != ParameterLocation.TEMPLATE:
        return str(parameter.location)
    _, question, query = operation.url_template.partition("?")
    return "query" if question and f"{{{parameter.name}}}" in query else "path"
