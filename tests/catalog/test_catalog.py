import re
import time

import pytest
from django.core.cache import cache
from django.urls import reverse

from catalog import snapshot
from catalog.models import Api, Operation

pytestmark = pytest.mark.django_db

URL = "https://api.example.com"


@pytest.fixture
def other_api() -> Api:
    api = Api.objects.create(
        name="Weather",
        slug="weather",
        service_url="https://weather.example.com",
        description="Forecasts for any city.",
    )
    Operation.objects.create(api=api, name="Get forecast", slug="forecast", url_template="/f")
    return api


def test_catalog_lists_published_apis_with_operation_counts(client, demo_api, other_api):
    response = client.get(reverse("catalog:catalog"))
    assert response.status_code == 200
    names = [api.name for api in response.context["page"]]
    assert names == ["AzureML Demo API", "Weather"]
    assert response.context["page"][0].operation_count == 5
    assert b"5 operations" in response.content


def test_unpublished_apis_are_hidden_from_visitors_but_shown_to_staff(
    client, admin_client, other_api
):
    other_api.published = False
    other_api.save()
    assert list(client.get("/").context["page"]) == []
    staff_page = admin_client.get("/")
    assert [api.slug for api in staff_page.context["page"]] == ["weather"]
    assert b"unpublished" in staff_page.content


@pytest.mark.parametrize(
    ("search", "expected"),
    [
        ("azureml", ["azureml-demo"]),  # name
        ("forecasts", ["weather"]),  # description
        ("BES Status", ["azureml-demo"]),  # operation name
        ("nothing-like-this", []),
        ("", ["azureml-demo", "weather"]),
    ],
)
def test_search_matches_names_descriptions_and_operations(
    client, demo_api, other_api, search, expected
):
    response = client.get("/", {"q": search})
    assert [api.slug for api in response.context["page"]] == expected


def test_search_without_match_says_so(client, demo_api):
    response = client.get("/", {"q": "<b>zzz</b>"})
    assert "No API and no operation match “&lt;b&gt;zzz&lt;/b&gt;”." in response.content.decode()


def test_pages_carry_security_headers(client, demo_api):
    response = client.get("/")
    assert response["X-Frame-Options"] == "DENY"
    assert "script-src 'self'" in response["Content-Security-Policy"]
    assert "unsafe-inline" not in response["Content-Security-Policy"]
    assert response["X-Content-Type-Options"] == "nosniff"


def test_a_search_on_an_operation_name_keeps_the_whole_operation_count(client, demo_api):
    """The search looks at operations without joining them into the count."""
    response = client.get("/", {"q": "BES Status"})
    assert [(api.slug, api.operation_count) for api in response.context["page"]] == [
        ("azureml-demo", 5)
    ]
    assert b"5 operations" in response.content


def test_search_ignores_removed_operations_and_surrounding_spaces(client, demo_api, other_api):
    Operation.objects.filter(api=other_api).update(removed=True)
    response = client.get("/", {"q": "  Get forecast "})
    assert list(response.context["page"]) == []
    response = client.get("/", {"q": "  weather "})
    assert [(api.slug, api.operation_count) for api in response.context["page"]] == [("weather", 0)]
    assert response.context["search"] == "weather"


def test_a_card_renders_only_the_start_of_a_long_description(client):
    words = " ".join(f"word{n}" for n in range(5000))
    Api.objects.create(
        name="Long",
        slug="long",
        service_url="https://l.example.com",
        description=f"**Start** {words}",
    )
    content = client.get("/").content.decode()
    assert "Start word0 word1" in content
    assert "word28 …" in content
    assert "word500 " not in content


@pytest.mark.parametrize(
    "description",
    [
        "",
        "Plain text.",
        "**Bold**, `code` & <b>pasted HTML</b> <script>alert(1)</script> 5 < 6",
        "# Title\n\n- one\n- two\n\n| a | b |\n|---|---|\n| 1 | 2 |\n\n```\nx = 1\n```",
        " ".join(f"word{n}" for n in range(100)),
    ],
)
def test_a_card_summary_is_the_description_rendered_as_plain_words(client, description):
    """The remembered summary is what markdown|striptags|truncatewords:30 gives."""
    from django.template.defaultfilters import striptags, truncatewords

    from portal.templatetags.portal_markdown import markdown, summary

    expected = truncatewords(striptags(markdown(description)), 30)
    assert summary(description) == expected
    assert summary(description) == expected  # remembered: the same answer
    Api.objects.create(
        name="Described",
        slug="described",
        service_url="https://d.example.com",
        description=description,
    )
    content = client.get("/").content.decode()
    assert f'<p class="card-text text-body-secondary">{expected}</p>' in content
    assert "<script>" not in content.split("card-text", 1)[1]


def test_an_edited_description_shows_at_once(client, other_api):
    assert "Forecasts for any city." in client.get("/").content.decode()
    other_api.description = "Forecasts *and* warnings."
    other_api.save()
    content = client.get("/").content.decode()
    assert "Forecasts and warnings." in content
    assert "Forecasts for any city." not in content


def test_a_card_counts_current_operations_only(client, other_api):
    for n in range(3):
        Operation.objects.create(api=other_api, name=f"Old {n}", slug=f"old-{n}", url_template="/o")
    Operation.objects.filter(slug__startswith="old-").update(removed=True)
    Operation.objects.create(api=other_api, name="New", slug="new", url_template="/n")
    response = client.get("/")
    assert [(api.slug, api.operation_count) for api in response.context["page"]] == [("weather", 2)]
    assert b"2 operations" in response.content


# --- The cards are kept until the configuration changes ------------------------------


def card_names(response) -> list[str]:
    return re.findall(r'class="stretched-link[^"]*">([^<]+)</a>', response.content.decode())


def test_a_second_visit_reads_nothing(client, other_api, django_assert_num_queries):
    assert card_names(client.get("/")) == ["Weather"]
    with django_assert_num_queries(0):
        assert card_names(client.get("/")) == ["Weather"]
    with django_assert_num_queries(0):
        assert card_names(client.get("/?page=1")) == ["Weather"]


def page_numbers(response) -> list[str]:
    return re.findall(r'class="page-link"[^>]*>(\d+)<', response.content.decode())


def test_an_added_or_removed_api_changes_the_kept_count_at_once(client):
    apis = [
        Api.objects.create(name=f"API {n:02d}", slug=f"api-{n:02d}", service_url=URL)
        for n in range(24)
    ]
    assert page_numbers(client.get("/")) == []  # one page: no pagination
    Api.objects.create(name="API 24", slug="api-24", service_url=URL)
    assert page_numbers(client.get("/")) == ["1", "2"]
    assert card_names(client.get("/?page=2")) == ["API 24"]
    assert card_names(client.get("/?page=9")) == ["API 24"]  # out of range: the last
    apis[0].delete()
    assert page_numbers(client.get("/")) == []
    assert card_names(client.get("/?page=2"))[-1] == "API 24"  # the only page


def test_an_unpublished_api_leaves_the_visitors_count_at_once(client, admin_client):
    apis = [
        Api.objects.create(name=f"API {n:02d}", slug=f"api-{n:02d}", service_url=URL)
        for n in range(25)
    ]
    assert page_numbers(client.get("/")) == ["1", "2"]
    assert page_numbers(admin_client.get("/")) == ["1", "2"]
    apis[3].published = False
    apis[3].save()
    assert page_numbers(client.get("/")) == []
    assert page_numbers(admin_client.get("/")) == ["1", "2"]


def test_a_renamed_api_an_added_operation_and_an_unpublished_api_show_at_once(
    client, other_api, demo_api
):
    assert card_names(client.get("/")) == ["AzureML Demo API", "Weather"]
    other_api.name = "Weather Plus"
    other_api.save()
    assert card_names(client.get("/")) == ["AzureML Demo API", "Weather Plus"]
    Operation.objects.create(api=other_api, name="Get alerts", slug="alerts", url_template="/a")
    assert b"2 operations" in client.get("/").content
    demo_api.published = False
    demo_api.save()
    assert card_names(client.get("/")) == ["Weather Plus"]


def test_staff_and_visitors_never_get_each_others_cards(client, admin_client, other_api):
    other_api.published = False
    other_api.save()
    for _ in range(2):  # in either order, kept or not
        assert b"unpublished" in admin_client.get("/").content
        assert card_names(client.get("/")) == []


def test_each_page_of_the_catalog_is_kept_apart(client):
    for number in range(30):
        Api.objects.create(name=f"API {number:02d}", slug=f"api-{number:02d}", service_url=URL)
    first, second = client.get("/"), client.get("/?page=2")
    assert card_names(first)[0] == "API 00"
    assert card_names(second) == [f"API {n}" for n in range(24, 30)]
    assert card_names(client.get("/")) == card_names(first)


def test_a_bulk_change_shows_once_the_cache_time_has_passed(client, other_api, settings):
    settings.PORTAL_GATEWAY_ROUTE_CACHE_SECONDS = 1
    assert card_names(client.get("/")) == ["Weather"]
    Api.objects.filter(pk=other_api.pk).update(name="Renamed in bulk")  # sends no signal
    assert card_names(client.get("/")) == ["Weather"]
    time.sleep(1.1)
    assert card_names(client.get("/")) == ["Renamed in bulk"]


def test_a_change_made_by_another_process_shows_after_the_check_interval(
    client, other_api, monkeypatch
):
    monkeypatch.setattr(snapshot, "GENERATION_CHECK_SECONDS", 60)
    assert card_names(client.get("/")) == ["Weather"]
    Api.objects.filter(pk=other_api.pk).update(name="Renamed elsewhere")
    cache.set(snapshot.GENERATION_KEY, "from-another-process", timeout=None)
    assert card_names(client.get("/")) == ["Weather"]  # not read yet
    monkeypatch.setattr(snapshot, "GENERATION_CHECK_SECONDS", 0)
    assert card_names(client.get("/")) == ["Renamed elsewhere"]


def test_search_results_are_not_kept(client, other_api):
    assert card_names(client.get("/?q=weather")) == ["Weather"]
    Api.objects.filter(pk=other_api.pk).update(name="Weather, renamed")
    assert card_names(client.get("/?q=weather")) == ["Weather, renamed"]
