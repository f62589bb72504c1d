from django import template

from catalog.models import Api, Parameter
from catalog.stored_values import withholds_default

register = template.Library()


@register.filter
def shows_default(parameter: Parameter, api: Api) -> bool:
    """Whether the documentation may show the parameter's default: not a stored secret."""
    return bool(parameter.default) and not withholds_default(parameter=parameter, api=api)
