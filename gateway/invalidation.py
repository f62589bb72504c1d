"""Changes that the gateway's caches must not outlive (connected in GatewayConfig.ready).

A change of an API, an operation, a parameter or a product drops every process's
snapshot of the configuration (gateway/registry.py); a saved or deleted subscription
drops its cached key lookups (gateway/access.py). Each is done at once, for this
process and the tests, and again when the transaction commits, so that another process
that read the old rows in between does not keep them.

Parameter deletions are not watched: a receiver would make Django fetch every deleted
row (an import deletes thousands at once), and every path that deletes parameters also
saves their operation or API.
"""

from __future__ import annotations

from django.db import transaction
from django.db.models.signals import m2m_changed, post_delete, post_save
from django.dispatch import receiver

from catalog.models import Api, Operation, Parameter
from gateway import access, registry
from gateway.models import Product, Subscription


def _configuration_changed(**_: object) -> None:
    registry.forget_everything()
    transaction.on_commit(registry.forget_everything)


for _model in (Api, Operation, Parameter, Product):
    post_save.connect(_configuration_changed, sender=_model, dispatch_uid=f"gw-save-{_model}")
    post_delete.connect(_configuration_changed, sender=_model, dispatch_uid=f"gw-del-{_model}")
m2m_changed.connect(
    _configuration_changed, sender=Product.apis.through, dispatch_uid="gw-product-apis"
)


@receiver(post_save, sender=Subscription, dispatch_uid="gw-subscription-saved")
@receiver(post_delete, sender=Subscription, dispatch_uid="gw-subscription-deleted")
def _subscription_changed(instance: Subscription, **_: object) -> None:
    access.forget_subscription(instance)
