from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand

from demo.collection import BATCH_NAME, SCORING_NAME, create_demo_collection
from demo.oauth import PUBLIC_CLIENT_ID, SERVICE_CLIENT_ID, callback_uris, register_demo_oauth
from demo.products import UNLIMITED_SLUG, register_demo_products
from demo.registration import register_demo_api
from demo.subscription import subscribe_demo_owner

DEMO_USERNAME = "demo"


class Command(BaseCommand):
    help = (
        "Register the built-in sample backend as the AzureML Demo API and create the demo "
        "collections of the user 'demo' (safe to run twice)."
    )

    def handle(self, *args, **options) -> None:
        api = register_demo_api(
            service_url=settings.PORTAL_DEMO_BACKEND_URL, api_key=settings.PORTAL_DEMO_API_KEY
        )
        self.stdout.write(
            self.style.SUCCESS(
                f"Registered {api.name} ({api.operations.count()} operations) at {api.service_url}."
            )
        )
        portal_url = settings.PORTAL_DEMO_BACKEND_URL.rstrip("/").removesuffix("/demo-backend")
        oauth_api = register_demo_oauth(
            backend_url=settings.PORTAL_DEMO_BACKEND_URL,
            redirect_uris=callback_uris(portal_url=portal_url),
            client_secret=settings.PORTAL_DEMO_OAUTH_CLIENT_SECRET,
        )
        self.stdout.write(
            self.style.SUCCESS(
                f"Registered {oauth_api.name} with the OAuth clients {PUBLIC_CLIENT_ID} "
                f"(authorization code + PKCE, public) and {SERVICE_CLIENT_ID} (client "
                "credentials, secret PORTAL_DEMO_OAUTH_CLIENT_SECRET)."
            )
        )
        owner, created = get_user_model().objects.get_or_create(username=DEMO_USERNAME)
        if created:
            # Nobody signs in as "demo" until an admin gives it a password on purpose.
            owner.set_unusable_password()
            owner.save(update_fields=["password"])
        create_demo_collection(owner=owner, api=api)
        products = register_demo_products(api=api)
        # Replays of the demo collections go through the gateway with their owner's key.
        unlimited = next(product for product in products if product.slug == UNLIMITED_SLUG)
        subscribe_demo_owner(owner=owner, product=unlimited)
        self.stdout.write(
            self.style.SUCCESS(
                f'Created the collections "{BATCH_NAME}" and "{SCORING_NAME}" '
                f'of the user "{DEMO_USERNAME}".'
            )
        )
        self.stdout.write(
            self.style.SUCCESS(
                "Created the products "
                + " and ".join(f'"{product.name}"' for product in products)
                + f" with the {api.name}."
            )
        )
        if not settings.PORTAL_DEMO_BACKEND_ENABLED:
            self.stdout.write(
                self.style.WARNING(
                    "The sample backend is off (PORTAL_DEMO_BACKEND_ENABLED is false): "
                    "/demo-backend/ answers 404, so the demo API's calls fail unless "
                    "PORTAL_DEMO_BACKEND_URL names a portal where it is on."
                )
            )
        self.stdout.write(
            "Run them from the command line while the portal serves the demo backend:\n"
            f'  python manage.py replay "{BATCH_NAME}"\n'
            "  python manage.py replay --all\n"
            "Sign in to the portal with an admin account (python manage.py createsuperuser);\n"
            "to see the demo collections in the browser, sign in as demo after giving it a "
            f"password:\n  python manage.py changepassword {DEMO_USERNAME}"
        )
