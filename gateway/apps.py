from django.apps import AppConfig


class GatewayConfig(AppConfig):
    name = "gateway"
    verbose_name = "Products, subscriptions and the gateway"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # The gateway's caches forget what changes (gateway/invalidation.py).
        from gateway import invalidation  # noqa: F401
