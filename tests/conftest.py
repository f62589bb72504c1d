import pytest
from django.conf import settings
from django.core.cache import cache

from operations.demo.registration import register_demo_api
from operations.models import Api


@pytest.fixture(autouse=True)
def plain_static_storage(settings) -> None:
    """Tests run without collectstatic, so static URLs need no manifest."""
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }


@pytest.fixture(autouse=True)
def empty_cache() -> None:
    """Rate-limit counters live in the cache; each test starts with none."""
    cache.clear()


@pytest.fixture
def demo_api(db) -> Api:
    """The demo registration, pointing at an address nothing listens on."""
    return register_demo_api(
        service_url="http://127.0.0.1:9/demo-backend", api_key=settings.PORTAL_DEMO_API_KEY
    )


@pytest.fixture
def live_demo_api(live_server) -> Api:
    """The demo registration, pointing at the sample backend of a live portal."""
    return register_demo_api(
        service_url=f"{live_server.url}/demo-backend", api_key=settings.PORTAL_DEMO_API_KEY
    )
