"""What the middleware and the view decorators guarantee a view's request to carry."""

from django.contrib.auth.models import User
from django.http import HttpRequest
from django_htmx.middleware import HtmxDetails


class HtmxRequest(HttpRequest):
    """Any request: django-htmx's middleware tells whether htmx sent it."""

    htmx: HtmxDetails


class SignedInRequest(HtmxRequest):
    """A request that login_required let through: its user is signed in."""

    user: User
