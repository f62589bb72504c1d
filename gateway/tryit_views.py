"""POST /subscriptions/<id>/try-it-key: the key Try it fills in when a subscription is chosen.

The operation page lists the user's subscriptions by name only; the key reaches the
browser when one is chosen, or the page opens with one chosen, from this view, which
serves the primary key of the caller's own active subscription and a 404 for any other.
"""

from __future__ import annotations

from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from gateway.tryit_access import key_for_try_it


@never_cache
@require_POST  # with the CSRF token: another site cannot make a signed-in browser ask
def try_it_key(request: HttpRequest, subscription_id: int) -> JsonResponse:
    key = key_for_try_it(user=request.user, subscription_id=subscription_id)
    return JsonResponse({"key": key})
