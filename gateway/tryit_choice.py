"""Which subscription Try it's select opens with, for one user and API.

The operation page opens with the subscription the user last sent a Try it call to
the API with, or "(none)" if that was the choice, as long as it is still one of the
user's active subscriptions for the API; otherwise with the only one when there is
exactly one, else with "(none)". Each Send that reaches the gateway keeps its choice
(one TryItChoice row per user and API). Only subscriptions Try it lists are ever
selected or kept, so another user's never is.
"""

from __future__ import annotations

from django.contrib.auth.models import AnonymousUser, User

from catalog.models import Api
from gateway.models import Subscription, TryItChoice


def opening_choice(
    *, user: User | AnonymousUser, api: Api, subscriptions: list[Subscription]
) -> str:
    """The id of the subscription to select when the page opens, "" for "(none)".

    `subscriptions` are the ones the select lists (the user's active ones for the API).
    """
    if not subscriptions or not user.is_authenticated:
        return ""
    listed = {subscription.pk for subscription in subscriptions}
    choice = TryItChoice.objects.filter(user=user, api=api).only("subscription_id").first()
    if choice is not None:
        if choice.subscription_id is None:
            return ""  # "(none)" was chosen last
        if choice.subscription_id in listed:
            return str(choice.subscription_id)
    return str(subscriptions[0].pk) if len(subscriptions) == 1 else ""


def remember_choice(
    *,
    user: User | AnonymousUser,
    api: Api,
    subscriptions: list[Subscription],
    posted: str | None,
) -> None:
    """Keep the select's posted value, "" for "(none)", as the user's choice for the API.

    Nothing is kept for an anonymous caller, a form without the select (`posted` None or
    no subscription listed) or a value that is none of the listed subscriptions.
    """
    if posted is None or not subscriptions or not user.is_authenticated:
        return
    if posted == "":
        subscription_id = None
    else:
        subscription_id = next((s.pk for s in subscriptions if str(s.pk) == posted), None)
        if subscription_id is None:
            return
    # One statement, whether the row is new or not, and safe against a concurrent Send.
    TryItChoice.objects.bulk_create(
        [TryItChoice(user=user, api=api, subscription_id=subscription_id)],
        update_conflicts=True,
        unique_fields=["user", "api"],
        update_fields=["subscription", "updated_at"],
    )
