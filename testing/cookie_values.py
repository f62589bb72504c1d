"""Cookie values of saved requests and collection files: which names an operation
takes and whether a value can be sent (docs/design.md, "Cookies"). Reads the
operation's parameters and document; never the network.

A saved request keeps each cookie parameter's text as Try it's form holds it (an
array as typed, an object as JSON), so a value is checked as the form checks it: by
httpcore/cookies.py's rules, item by item for an array. A value holding a {{variable}}
is checked once filled in, when the Cookie header is built.
"""

from __future__ import annotations

from catalog.models import Operation, ParameterLocation
from console.parameter_inputs import cookie_errors, documented_of, documented_parameters
from httpcore.headers import TOKEN


def cookie_names(operation: Operation) -> set[str]:
    """The operation's documented cookie parameters (a security scheme's cookie too)."""
    return {
        parameter.name
        for parameter in operation.parameters.all()
        if parameter.location == ParameterLocation.COOKIE
    }


def unknown_cookie(*, operation: Operation, name: str) -> str | None:
    """Why a cookie name cannot be sent with this operation, as a sentence; None when
    it can. Names come from the document only, as query keys do."""
    if not TOKEN.match(name):
        return f"The cookie name {name[:40]!r} is not a token."
    if name not in cookie_names(operation):
        return f"The operation has no cookie parameter {name!r}."
    return None


def cookie_value_problem(*, operation: Operation, name: str, value: str) -> str | None:
    """Why a documented cookie's value cannot be sent, as a sentence; None when it can."""
    parameter = next(
        (
            p
            for p in operation.parameters.all()
            if p.location == ParameterLocation.COOKIE and p.name == name
        ),
        None,
    )
    documented = documented_of(parameter, documented_parameters(operation)) if parameter else None
    kind = documented.kind if documented is not None else ""
    if kind == "object":
        # JSON text: its properties are checked as the Cookie header is built.
        return None
    errors = cookie_errors(value, items=kind == "array")
    return errors[0] if errors else None
