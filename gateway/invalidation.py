"""Changes that the gateway's caches must not outlive (connected in GatewayConfig.ready).

A change of a product, or of a product's APIs, changes which APIs need a key: it drops
every process's snapshot as a change of the catalog does (catalog/invalidation.py). A
saved or deleted subscription drops its cached key lookups (gateway/access.py) and
writes its keys for the nginx data plane (gateway/dataplane/keys.py).
"""

from __future__ import annotations

from django.db.models.signals import m2m_changed, post_delete, post_save
from django.dispatch import receiver

from catalog.invalidation import catalog_changed
from gateway import access
from gateway.dataplane import keys as dataplane_keys
from gateway.models import Product, Subscription

post_save.connect(catalog_changed, sender=Product, dispatch_uid=f"gw-save-{Product}")
post_delete.connect(catalog_changed, sender=Product, dispatch_uid=f"gw-del-{Product}")
m2m_changed.connect(catalog_changed, sender=Product.apis.through, dispatch_uid="gw-product-apis")


@receiver(post_save, sender=Subscription, dispatch_uid="gw-subscription-saved")
@receiver(post_delete, sender=Subscription, dispatch_uid="gw-subscription-deleted")
def _subscription_changed(instance: Subscription, **_: object) -> None:
    access.forget_subscription(instance)
    if instance.pk is not None:
        dataplane_keys.push_later(subscription_id=instance.pk)
