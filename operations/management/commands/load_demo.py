from django.conf import settings
from django.core.management.base import BaseCommand

from operations.demo.registration import register_demo_api


class Command(BaseCommand):
    help = "Register the built-in sample backend as the AzureML Demo API (safe to run twice)."

    def handle(self, *args, **options) -> None:
        api = register_demo_api(
            service_url=settings.PORTAL_DEMO_BACKEND_URL, api_key=settings.PORTAL_DEMO_API_KEY
        )
        self.stdout.write(
            self.style.SUCCESS(
                f"Registered {api.name} ({api.operations.count()} operations) at {api.service_url}."
            )
        )
