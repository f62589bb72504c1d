"""Placeholder: the analytics page is being written."""

from django.http import Http404


def _missing(request, *args, **kwargs):
    raise Http404


analytics = _missing
