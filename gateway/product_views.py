"""Placeholder: the product and subscription pages are being written."""

from django.http import Http404


def _missing(request, *args, **kwargs):
    raise Http404


product_list = product_detail = subscribe = subscription_list = subscription_detail = _missing
subscription_key = regenerate_key = cancel_subscription = _missing
