import pytest
from bs4 import BeautifulSoup

from catalog.models import Api, Operation
from catalog.selectors import OPERATIONS_PER_PAGE, UNTAGGED, api_operations
from tests.markup import one

pytestmark = pytest.mark.django_db


def test_api_page_groups_operations_by_tag(client, demo_api):
    response = client.get("/apis/azureml-demo/")
    assert response.status_code == 200
    groups = [(g.tag, [op.name for op in g.operations]) for g in response.context["groups"]]
    assert groups == [
        ("Request-Response", ["RRS Execute"]),
        ("Batch Execution", ["BES Submit", "BES Start", "BES Status", "BES Delete"]),
    ]
    assert b'href="/apis/azureml-demo/operations/rrs-execute/"' in response.content


def test_description_markdown_is_rendered_and_sanitised(client, demo_api):
    demo_api.description = "**bold** <script>alert(1)</script> <img src=x onerror=alert(1)>"
    demo_api.save()
    content = client.get("/apis/azureml-demo/").content.decode()
    assert "<strong>bold</strong>" in content
    assert "<script>alert(1)</script>" not in content
    assert "onerror" not in content


def test_unknown_or_unpublished_api_is_404(client, demo_api):
    assert client.get("/apis/nope/").status_code == 404
    demo_api.published = False
    demo_api.save()
    assert client.get("/apis/azureml-demo/").status_code == 404


# --- A large API: pages of operations grouped by tag, a tag index and a search -----------


def make_operations(api: Api, layout: list[tuple[str, int]], **fields) -> list[Operation]:
    """Operations in document order: `count` operations for each (tags, count)."""
    start = api.operations.count()
    return Operation.objects.bulk_create(
        Operation(
            api=api,
            name=f"Op {start + n:03d}",
            slug=f"op-{start + n:03d}",
            url_template=f"/things/{start + n:03d}",
            tags=tags,
            order=start + n,
            **fields,
        )
        for n, tags in enumerate(tag for tag, count in layout for _ in range(count))
    )


@pytest.fixture
def large_api() -> Api:
    """250 rows: Alpha 150 (pages 1-2), Beta 30 (page 2), Gamma 70 (pages 2-3)."""
    api = Api.objects.create(name="Large", slug="large", service_url="https://large.example.com")
    make_operations(api, [("Alpha", 150), ("Beta", 30), ("Gamma", 70)])
    return api


def soup_of(client, url: str) -> BeautifulSoup:
    response = client.get(url)
    assert response.status_code == 200
    return BeautifulSoup(response.content, "html.parser")


def headings(soup: BeautifulSoup) -> list[str]:
    return [" ".join(h.get_text().split()) for h in soup.select("h2.tag-heading")]


def rows(soup: BeautifulSoup) -> list[str]:
    return [one(row, ".operation-name").get_text() for row in soup.select(".operation-row")]


def test_a_page_holds_100_operations_and_tags_continue_across_pages(client, large_api):
    assert OPERATIONS_PER_PAGE == 100
    page1 = soup_of(client, "/apis/large/")
    assert headings(page1) == ["Alpha"]
    assert rows(page1) == [f"Op {n:03d}" for n in range(100)]
    assert "Alpha continues on page 2" in page1.get_text()

    page2 = soup_of(client, "/apis/large/?page=2")
    assert headings(page2) == ["Alpha (continued)", "Beta", "Gamma"]
    assert rows(page2) == [f"Op {n:03d}" for n in range(100, 200)]
    assert "Gamma continues on page 3" in page2.get_text()
    assert "Alpha continues" not in page2.get_text()

    page3 = soup_of(client, "/apis/large/?page=3")
    assert headings(page3) == ["Gamma (continued)"]
    assert rows(page3) == [f"Op {n:03d}" for n in range(200, 250)]
    assert "continues on page" not in page3.get_text()


def test_page_boundaries_are_exact(client, demo_api):
    api = Api.objects.create(name="Exact", slug="exact", service_url="https://e.example.com")
    make_operations(api, [("Only", 100)])
    listing = client.get("/apis/exact/").context["listing"]
    assert listing.page.paginator.num_pages == 1
    assert not listing.groups[0].continues
    make_operations(api, [("Only", 1)])
    listing = client.get("/apis/exact/?page=2").context["listing"]
    assert listing.page.paginator.num_pages == 2
    assert [(g.tag, g.continued, g.continues, len(g.operations)) for g in listing.groups] == [
        ("Only", True, False, 1)
    ]


def test_tag_index_counts_and_links_to_the_page_where_each_tag_starts(client, large_api):
    page2 = soup_of(client, "/apis/large/?page=2")
    index = [
        (a.select_one(".text-truncate").get_text(), a.select_one(".badge").get_text(), a["href"])
        for a in page2.select(".tag-index a")
    ]
    assert index == [
        ("Alpha", "150", "?page=1#tag-alpha"),
        ("Beta", "30", "#tag-beta"),  # on this page: no reload
        ("Gamma", "70", "#tag-gamma"),
    ]
    assert [h["id"] for h in page2.select("h2.tag-heading")] == [
        "tag-alpha",
        "tag-beta",
        "tag-gamma",
    ]
    # Every tag shown on the page is marked in the index.
    assert [a.get("aria-current") for a in page2.select(".tag-index a")] == ["true"] * 3
    page3 = soup_of(client, "/apis/large/?page=3")
    assert [a["href"] for a in page3.select(".tag-index a")] == [
        "?page=1#tag-alpha",
        "?page=2#tag-beta",
        "?page=2#tag-gamma",
    ]
    assert [a.get("aria-current") for a in page3.select(".tag-index a")] == [None, None, "true"]


def test_pagination_links(client, demo_api, large_api):
    page2 = soup_of(client, "/apis/large/?page=2")
    nav = page2.select_one("nav[aria-label='Pages of operations']")
    assert [a["href"] for a in nav.select("a")] == [
        "?page=1",
        "?page=1",
        "?page=3",
        "?page=3",
    ]
    assert nav.select_one(".active").get_text(strip=True) == "2"
    assert "page 2 of 3" in page2.select_one("#operations-summary").get_text()
    demo = soup_of(client, "/apis/azureml-demo/")
    assert demo.select_one("nav[aria-label='Pages of operations']") is None


@pytest.mark.parametrize(
    ("asked", "shown"), [("99", 3), ("4", 3), ("0", 1), ("-2", 1), ("abc", 1), ("", 1)]
)
def test_a_page_out_of_range_shows_the_nearest_page(client, large_api, asked, shown):
    """Decided: no 404 for a stale link; past the end is the last page, nonsense the first."""
    response = client.get("/apis/large/", {"page": asked})
    assert response.status_code == 200
    assert response.context["listing"].page.number == shown


def test_description_is_shown_on_the_first_page_only(client, large_api):
    large_api.description = "About **this** API."
    large_api.save()
    assert soup_of(client, "/apis/large/").select_one(".markdown strong") is not None
    assert soup_of(client, "/apis/large/?page=2").select_one(".markdown") is None


def test_an_operation_with_several_tags_is_listed_under_each(client, demo_api):
    api = Api.objects.create(name="Tags", slug="tags", service_url="https://t.example.com")
    make_operations(api, [("Pets", 1), ("Pets, Admin", 1), ("", 1), ("Admin, Admin ", 1)])
    groups = client.get("/apis/tags/").context["groups"]
    assert [(g.tag, [op.name for op in g.operations]) for g in groups] == [
        ("Pets", ["Op 000", "Op 001"]),
        ("Admin", ["Op 001", "Op 003"]),
        (UNTAGGED, ["Op 002"]),
    ]
    tags = client.get("/apis/tags/").context["listing"].tags
    assert [(t.tag, t.count) for t in tags] == [("Pets", 2), ("Admin", 2), (UNTAGGED, 1)]


def test_removed_operations_are_not_listed_or_counted(client, large_api):
    Operation.objects.filter(api=large_api, tags="Beta").update(removed=True)
    listing = client.get("/apis/large/").context["listing"]
    assert listing.operation_count == 220
    assert [t.tag for t in listing.tags] == ["Alpha", "Gamma"]


def test_tag_anchors_are_unique_and_safe(client, demo_api):
    api = Api.objects.create(name="Odd", slug="odd", service_url="https://o.example.com")
    make_operations(api, [("Pets!", 1), ("pets", 1), ("日本", 1), ('"><x>', 1)])
    tags = client.get("/apis/odd/").context["listing"].tags
    assert [t.anchor for t in tags] == ["tag-pets", "tag-pets-2", "tag-3", "tag-x"]


def test_every_row_is_on_exactly_one_page(large_api):
    make_operations(large_api, [("Alpha, Delta", 7), ("", 5)])
    everything = api_operations(api=large_api, per_page=1000)
    expected = [(g.tag, op.pk) for g in everything.groups for op in g.operations]
    seen = []
    for number in range(1, 100):
        listing = api_operations(api=large_api, page=number, per_page=7)
        seen += [(g.tag, op.pk) for g in listing.groups for op in g.operations]
        if number == listing.page.paginator.num_pages:
            break
    assert seen == expected
    assert len(expected) == 250 + 7 * 2 + 5


# --- Search on the API page ------------------------------------------------------------


def test_search_filters_operations_by_name_or_path(client, large_api):
    Operation.objects.filter(api=large_api, name="Op 120").update(name="Find the needle")
    Operation.objects.filter(api=large_api, name="Op 210").update(url_template="/needles/{id}")
    response = client.get("/apis/large/", {"q": "NEEDLE"})
    groups = [(g.tag, [op.name for op in g.operations]) for g in response.context["groups"]]
    assert groups == [("Alpha", ["Find the needle"]), ("Gamma", ["Op 210"])]
    soup = BeautifulSoup(response.content, "html.parser")
    assert soup.select_one("input[name=q]")["value"] == "NEEDLE"
    assert "2 operations matching “NEEDLE”" in soup.select_one("#operations-summary").get_text()
    assert [(t.tag, t.count, t.page) for t in response.context["listing"].tags] == [
        ("Alpha", 1, 1),
        ("Gamma", 1, 1),
    ]


def test_search_results_are_paginated_and_links_keep_the_search(client, large_api):
    Operation.objects.filter(api=large_api, name__in=["Op 005", "Op 205"]).update(name="Other")
    response = client.get("/apis/large/", {"q": "op 0", "page": "2"})  # Op 0xx: 100 - 1
    listing = response.context["listing"]
    assert listing.operation_count == 99
    assert listing.page.number == 1  # one page of results: page 2 shows the last, page 1
    response = client.get("/apis/large/", {"q": " op ", "page": "2"})
    listing = response.context["listing"]
    assert (listing.operation_count, listing.page.number) == (248, 2)
    soup = BeautifulSoup(response.content, "html.parser")
    hrefs = [a["href"] for a in soup.select("nav[aria-label='Pages of operations'] a")]
    assert hrefs == ["?q=op&page=1", "?q=op&page=1", "?q=op&page=3", "?q=op&page=3"]
    assert [a["href"] for a in soup.select(".tag-index a")] == [
        "?q=op&page=1#tag-alpha",
        "#tag-beta",
        "#tag-gamma",
    ]
    assert soup.select_one("#operations-summary a")["href"] == "/apis/large/"  # Show all


def test_search_without_match_says_so_and_escapes_the_text(client, large_api):
    content = client.get("/apis/large/", {"q": "<b>zzz</b>"}).content.decode()
    assert "No operation matches “&lt;b&gt;zzz&lt;/b&gt;”." in content
    assert "<b>zzz</b>" not in content


def test_empty_api_has_no_search_box(client):
    Api.objects.create(name="Empty", slug="empty", service_url="https://e.example.com")
    soup = soup_of(client, "/apis/empty/")
    assert soup.select_one("input[name=q]") is None
    assert "This API has no operations yet." in soup.get_text()


def test_no_inline_styles_or_scripts(client, large_api):
    soup = soup_of(client, "/apis/large/?page=2&q=op")
    assert soup.select("[style]") == []
    assert [s for s in soup.select("script") if not s.get("src")] == []
