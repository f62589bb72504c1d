"""load_demo registers the demo API where PORTAL_DEMO_BACKEND_URL says, at every run."""

from io import StringIO

import pytest
from django.core.management import call_command

from catalog.models import Api

pytestmark = pytest.mark.django_db


def load_demo() -> str:
    out = StringIO()
    call_command("load_demo", stdout=out, no_color=True)
    return out.getvalue()


def test_a_new_address_moves_the_registered_demo_api(settings):
    settings.PORTAL_DEMO_BACKEND_URL = "http://127.0.0.1:8000/demo-backend"
    load_demo()
    settings.PORTAL_DEMO_BACKEND_URL = "http://127.0.0.1:8123/demo-backend/"
    printed = load_demo()
    assert list(Api.objects.order_by("slug").values_list("slug", "service_url")) == [
        ("azureml-demo", "http://127.0.0.1:8123/demo-backend"),
        ("demo-oauth", "http://127.0.0.1:8123/demo-backend"),
    ]
    assert printed.splitlines()[0] == (
        "Registered AzureML Demo API (5 operations) at http://127.0.0.1:8123/demo-backend."
    )


OFF_NOTE = (
    "The sample backend is off (PORTAL_DEMO_BACKEND_ENABLED is false): /demo-backend/ "
    "answers 404, so the demo API's calls fail unless PORTAL_DEMO_BACKEND_URL names a "
    "portal where it is on."
)


def test_with_the_sample_backend_off_load_demo_says_so(settings):
    settings.PORTAL_DEMO_BACKEND_ENABLED = False
    printed = load_demo()
    assert OFF_NOTE in printed.splitlines()
    # The registration is still made, for a sample backend served elsewhere.
    assert Api.objects.filter(slug="azureml-demo").exists()


def test_with_the_sample_backend_on_load_demo_says_nothing_of_it(settings):
    settings.PORTAL_DEMO_BACKEND_ENABLED = True
    assert "sample backend is off" not in load_demo()
