from django.apps import AppConfig


class PortalConfig(AppConfig):
    name = "portal"
    verbose_name = "Portal"

    def ready(self) -> None:
        # Registers the account signals' receivers, the deployment check and the check
        # of pooled database connections.
        from portal import account_signals, checks, db_pool  # noqa: F401
