"""Field validators for registrations: clear messages for admins and importers."""

from __future__ import annotations

from urllib.parse import urlsplit

from django.core.exceptions import ValidationError

from operations.templating import TemplateError, parse_template


def service_url_problems(url: str) -> list[str]:
    """Why a service URL cannot be registered; empty when it can."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as error:
        return [f"The service URL does not parse: {error}."]
    problems = []
    if parts.scheme not in {"http", "https"}:
        problems.append("The service URL must start with http:// or https://.")
    if not parts.hostname:
        problems.append("The service URL needs a host.")
    if "@" in parts.netloc:
        problems.append("The service URL cannot contain a user name or password.")
    if parts.query or url.endswith("?"):
        problems.append("The service URL cannot have a query string; put it in the templates.")
    if parts.fragment or "#" in url:
        problems.append("The service URL cannot have a fragment (#...).")
    if any(char.isspace() for char in url):
        problems.append("The service URL cannot contain spaces.")
    if port == 0:
        problems.append("The service URL has an invalid port.")
    if any(segment in {".", ".."} for segment in parts.path.split("/")):
        problems.append("The service URL path cannot contain '.' or '..' segments.")
    return problems


def validate_service_url(url: str) -> None:
    problems = service_url_problems(url)
    if problems:
        raise ValidationError(problems)


def validate_url_template(template: str) -> None:
    try:
        parse_template(template)
    except TemplateError as error:
        raise ValidationError(
            f"The URL template does not parse: {error.message} at position {error.position + 1}."
        ) from error
