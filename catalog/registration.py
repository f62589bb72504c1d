"""Rules for registering APIs and operations, shared by the admin and importers."""

from __future__ import annotations

from collections.abc import Iterable

from django.db import transaction

from catalog.models import Operation, Parameter, ParameterLocation
from httpcore.templating import TemplateError, parse_template


def template_parameter_problems(
    *, template: str, parameters: Iterable[tuple[str, str]], allow_missing: bool
) -> list[str]:
    """Mismatches between a template's {names} and the (name, location) parameters."""
    try:
        names = parse_template(template).names
    except TemplateError:
        return []  # reported by validators.validate_url_template
    declared = {name for name, location in parameters if location == ParameterLocation.TEMPLATE}
    problems = []
    missing = [name for name in names if name not in declared]
    if missing and not allow_missing:
        listed = ", ".join(f"{{{name}}}" for name in missing)
        problems.append(
            f"The URL template uses {listed} but no parameter defines "
            f"{'it' if len(missing) == 1 else 'them'}. Add {'it' if len(missing) == 1 else 'them'} "
            "below, or tick “Create missing parameters from the template”."
        )
    for name in sorted(declared - set(names)):
        problems.append(
            f"The parameter “{name}” is in the URL template location but the template has no "
            f"{{{name}}}."
        )
    return problems


@transaction.atomic
def create_missing_template_parameters(*, operation: Operation) -> list[Parameter]:
    """Add a parameter for every {name} in the template that has none yet."""
    parsed = parse_template(operation.url_template)
    existing = set(
        operation.parameters.filter(location=ParameterLocation.TEMPLATE).values_list(
            "name", flat=True
        )
    )
    path_names = set(parsed.path_names)
    next_order = operation.parameters.count()
    created = []
    for name in parsed.names:
        if name in existing:
            continue
        created.append(
            Parameter.objects.create(
                operation=operation,
                name=name,
                location=ParameterLocation.TEMPLATE,
                # A path segment cannot be empty; a query value can be left out.
                required=name in path_names,
                order=next_order,
            )
        )
        next_order += 1
    return created
