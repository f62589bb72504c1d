"""Every call through the gateway, refused or forwarded, becomes a GatewayCall row."""

from __future__ import annotations

from gateway.models import GatewayCall


def record_call(**fields: object) -> GatewayCall:
    """Takes GatewayCall's fields by name; the product follows the subscription."""
    subscription = fields.get("subscription")
    if subscription is not None and "product" not in fields:
        fields["product_id"] = subscription.product_id
        if "user" not in fields:
            fields["user_id"] = subscription.user_id
    return GatewayCall.objects.create(**fields)
