from django.apps import AppConfig


class PortalConfig(AppConfig):
    name = "portal"
    verbose_name = "Portal"

    def ready(self) -> None:
        # Registers the account signals' receivers and the deployment check.
        from portal import account_signals, checks  # noqa: F401
