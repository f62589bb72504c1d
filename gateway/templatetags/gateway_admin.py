"""The admin index's reminder of subscriptions awaiting approval."""

from django import template

from gateway.models import Subscription, SubscriptionState

register = template.Library()


@register.simple_tag
def subscriptions_awaiting_approval() -> int:
    return Subscription.objects.filter(state=SubscriptionState.SUBMITTED).count()
