"""The portal's own deployment check (`manage.py check --deploy`)."""

from __future__ import annotations

from django.core.checks import Tags, Warning, register
from django.core.exceptions import ImproperlyConfigured

from portal.site_url import site_url


@register(Tags.security, deploy=True)
def check_site_url(app_configs, **kwargs) -> list[Warning]:
    try:
        site_url()
    except ImproperlyConfigured as error:
        return [
            Warning(
                str(error),
                hint="Without it no confirmation or reset email can be sent.",
                id="portal.W001",
            )
        ]
    return []
