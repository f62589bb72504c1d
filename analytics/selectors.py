"""Who sees which gateway calls on the analytics page, and the filters that narrow them.

Staff see every call; anyone else only their own. A filter narrows within that
scope and never widens it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from django.contrib.auth.models import User
from django.db.models import QuerySet
from django.http import Http404

from analytics.ranges import TimeRange
from catalog.models import Api, Operation
from gateway.models import GatewayCall, GatewayCallQuerySet, Product, Subscription


@dataclass(frozen=True)
class Filters:
    time_range: TimeRange
    api: Api | None = None
    operation: Operation | None = None
    product: Product | None = None
    subscription: Subscription | None = None

    def described(self) -> list[tuple[str, str]]:
        """The filters chosen, in words: [("API", "Billing"), ("product", "Gold")]."""
        chosen = [
            ("API", self.api.name if self.api else ""),
            ("operation", self.operation.name if self.operation else ""),
            ("product", self.product.name if self.product else ""),
            ("subscription", self.subscription.name if self.subscription else ""),
        ]
        return [(kind, name) for kind, name in chosen if name]


def sees_all_calls(*, user: User) -> bool:
    return bool(user.is_active and user.is_staff)


def visible_calls(*, user: User) -> GatewayCallQuerySet:
    """Staff see every call; anyone else only their own."""
    if sees_all_calls(user=user):
        return GatewayCall.objects.all()
    return GatewayCall.objects.of_user(user)


def scoped_calls(*, user: User, filters: Filters) -> QuerySet[GatewayCall]:
    """The user's visible calls in the range, narrowed by the filters chosen. A filter
    never widens the scope: a developer's API filter applies within their own calls."""
    calls = visible_calls(user=user).between(filters.time_range.start, filters.time_range.end)
    if filters.api is not None:
        calls = calls.filter(api=filters.api)
    if filters.operation is not None:
        calls = calls.filter(operation=filters.operation)
    if filters.product is not None:
        calls = calls.filter(product=filters.product)
    if filters.subscription is not None:
        calls = calls.filter(subscription=filters.subscription)
    return calls


_ID = re.compile(r"[0-9]{1,18}")


def require_visible_subscription(*, user: User, subscription_id: str | None) -> None:
    """A developer naming a subscription that is not theirs (or none at all) gets a 404,
    as for any other object of someone else's. Text that is no id is the form's to
    report; staff may name any subscription."""
    if not subscription_id or sees_all_calls(user=user):
        return
    if not _ID.fullmatch(subscription_id):
        if subscription_id.isdigit():  # too many digits to be anyone's id
            raise Http404("No such subscription.")
        return
    if not Subscription.objects.filter(pk=int(subscription_id), user=user).exists():
        raise Http404("No such subscription.")
