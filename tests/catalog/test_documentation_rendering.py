"""Imported documentation on the operation page: Markdown rendered and sanitised, the
responses in status order with `default` last, and each parameter's location."""

from __future__ import annotations

import pytest
from bs4 import BeautifulSoup, Tag
from django.test import Client

from catalog.models import Operation
from catalog.response_docs import reason_phrase, shown_description
from openapi.sync import import_openapi
from portal.markdown_text import markdown_html, markdown_plain
from tests.markup import attr, one

LONG_URL = "https://docs.example.com/" + "very-long-segment/" * 12 + "end"

DOCUMENT = {
    "openapi": "3.0.3",
    "info": {"title": "Markdown Shop", "version": "1", "description": "The **shop**."},
    "servers": [
        {"url": "https://shop.example.com/v1"},
        {"url": "https://eu.shop.example.com/v1", "description": "**Europe** & <b>more</b>"},
    ],
    "paths": {
        "/orders/{orderId}": {
            "get": {
                "operationId": "getOrder",
                "summary": "Get an order",
                "description": f"Reads *one* order. See [the guide]({LONG_URL}) or <{LONG_URL}>.",
                "parameters": [
                    {
                        "name": "orderId",
                        "in": "path",
                        "required": True,
                        "description": "The order's `id`, see [ids](https://example.com/ids).",
                        "schema": {"type": "string"},
                    },
                    {
                        "name": "expand",
                        "in": "query",
                        "description": "**Comma**-separated <script>alert(1)</script>",
                        "schema": {"type": "string"},
                    },
                    {"name": "X-Trace", "in": "header", "schema": {"type": "string"}},
                    {"name": "theme", "in": "cookie", "schema": {"type": "string"}},
                ],
                "responses": {
                    "default": {
                        "description": "Anything *unexpected*",
                        "content": {"application/json": {"example": {"error": "x"}}},
                    },
                    "404": {"description": "No order has this id."},
                    "4XX": {"description": "Refused: see `error`"},
                    "200": {
                        "description": "200 response",
                        "links": {
                            "cancel": {
                                "operationId": "cancelOrder",
                                "description": "Cancel **this** order",
                            }
                        },
                    },
                    "201": {"description": ""},
                },
            },
            "delete": {
                "operationId": "cancelOrder",
                "responses": {"204": {"description": "Cancelled"}},
            },
        }
    },
}

pytestmark = pytest.mark.django_db


@pytest.fixture
def operation() -> Operation:
    api = import_openapi(document=DOCUMENT).api
    api.published = True
    api.save()
    return api.operations.get(operation_id="getOrder")


def page(client: Client, operation: Operation) -> BeautifulSoup:
    response = client.get(operation.get_absolute_url())
    assert response.status_code == 200
    return BeautifulSoup(response.content, "html.parser")


def text(tag: Tag) -> str:
    return " ".join(tag.get_text(" ").split())


# --- The Markdown filter: CommonMark, then the allow-list --------------------------------


@pytest.mark.parametrize(
    ("source", "html"),
    [
        ("**bold** and *em*", "<p><strong>bold</strong> and <em>em</em></p>\n"),
        ("a <script>alert(1)</script> b", "<p>a  b</p>\n"),
        ("<style>p { color: red }</style>text", "text"),
        ('<iframe src="https://example.com/"></iframe>after', "after"),
        ("<img src=x onerror=alert(1)>", ""),
        ('<b onclick="alert(1)">raw</b> <u>html</u>', "<p><b>raw</b> html</p>\n"),
        # markdown-it refuses the URL: the text stays as written.
        ("[x](javascript:alert(1))", "<p>[x](javascript:alert(1))</p>\n"),
        ("[x](data:text/html;base64,PHM+)", "<p>[x](data:text/html;base64,PHM+)</p>\n"),
        # Raw HTML: the sanitiser drops the URL.
        ('<a href="javascript:alert(1)">raw</a>', '<p><a rel="nofollow noopener">raw</a></p>\n'),
        ('<a href="data:text/html,x">raw</a>', '<p><a rel="nofollow noopener">raw</a></p>\n'),
        ("[rel](/admin/)", '<p><a rel="nofollow noopener">rel</a></p>\n'),
        (
            '[ok](https://example.com/a?b=1&c=2 "Title")',
            '<p><a href="https://example.com/a?b=1&amp;c=2" title="Title" rel="nofollow noopener">'
            "ok</a></p>\n",
        ),
        (
            "[mail](mailto:api@example.com)",
            '<p><a href="mailto:api@example.com" rel="nofollow noopener">mail</a></p>\n',
        ),
        # An image is a link to it: the pages load no image from elsewhere.
        (
            "![a *diagram*](https://example.com/d.png)",
            '<p><a href="https://example.com/d.png" rel="nofollow noopener">a diagram</a></p>\n',
        ),
        ("![pixel](data:image/png;base64,AAAA)", '<p><a rel="nofollow noopener">pixel</a></p>\n'),
        (
            "| a | b |\n|--:|---|\n| 1 | **2** |",
            "<table>\n<thead>\n<tr>\n<th>a</th>\n<th>b</th>\n</tr>\n</thead>\n<tbody>\n<tr>\n"
            "<td>1</td>\n<td><strong>2</strong></td>\n</tr>\n</tbody>\n</table>\n",
        ),
        (
            "```html\n<script>alert(1)</script>\n```",
            "<pre><code>&lt;script&gt;alert(1)&lt;/script&gt;\n</code></pre>\n",
        ),
        ("", ""),
    ],
)
def test_markdown_is_rendered_then_sanitised(source: str, html: str) -> None:
    assert markdown_html(text=source) == html


def test_markdown_as_plain_text() -> None:
    assert markdown_plain(text="**Prod** & <b>eu</b>\n<script>x</script>") == "Prod & eu"


# --- Response headings -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("code", "phrase"),
    [("200", "OK"), ("404", "Not Found"), ("4XX", "Client error"), ("default", "Any other status"),
     ("299", "")],
)  # fmt: skip
def test_reason_phrases(code: str, phrase: str) -> None:
    assert reason_phrase(code) == phrase


@pytest.mark.parametrize("said", ["", "200", "200 response", "OK", "200 OK", " Response "])
def test_a_description_saying_only_the_status_is_not_repeated(said: str) -> None:
    assert shown_description(code="200", phrase="OK", description=said) == ""
    assert shown_description(code="200", phrase="OK", description="The order") == "The order"
    assert shown_description(code="200", phrase="OK", description=f"{said}\n\nLinks: x") == (
        "Links: x"
    )


# --- The operation page -----------------------------------------------------------------


def test_every_description_on_the_operation_page_is_markdown(client, operation) -> None:
    soup = page(client, operation)
    description = one(soup, ".col-xl-6 > .markdown")
    assert one(description, "em").get_text() == "one"
    guide = one(description, "a")
    assert (attr(guide, "href"), guide.get("rel"), guide.get_text()) == (
        LONG_URL,
        ["nofollow", "noopener"],
        "the guide",
    )
    rows = {one(row, "code").get_text(): row for row in soup.select("table.parameters tbody tr")}
    order_id = one(rows["orderId"], ".parameter-description")
    assert str(order_id) == (
        '<div class="markdown parameter-description"><p>The order\'s <code>id</code>, see '
        '<a href="https://example.com/ids" rel="nofollow noopener">ids</a>.</p>\n</div>'
    )
    expand = one(rows["expand"], ".parameter-description")
    assert str(expand) == (
        '<div class="markdown parameter-description"><p><strong>Comma</strong>-separated '
        "</p>\n</div>"
    )
    assert rows["X-Trace"].select(".parameter-description") == []
    assert "<script>" not in str(soup.select_one("main") or soup)


def test_the_location_column_names_where_the_value_goes(client, operation) -> None:
    soup = page(client, operation)
    locations = [
        (one(row, "code").get_text(), one(row, "[data-parameter-location]").get_text())
        for row in soup.select("table.parameters tbody tr")
    ]
    assert locations == [
        ("orderId", "path"),
        ("expand", "query"),
        ("X-Trace", "header"),
        ("theme", "cookie"),
    ]


def test_a_template_placeholder_after_the_question_mark_is_a_query_value(client, demo_api) -> None:
    operation = demo_api.operations.get(slug="rrs-execute")
    soup = page(client, operation)
    locations = {
        one(row, "code").get_text(): one(row, "[data-parameter-location]").get_text()
        for row in soup.select("table.parameters tbody tr")
    }
    assert "?api-version={apiversion}" in operation.url_template
    assert (locations["workspace"], locations["apiversion"]) == ("path", "query")


def test_responses_in_status_order_with_default_last(client, operation) -> None:
    soup = page(client, operation)
    responses = soup.select("#responses-heading ~ [data-response]")
    assert [text(one(r, "h3")) for r in responses] == [
        "200 OK",
        "201 Created",
        "404 Not Found",
        "4XX Client error",
        "default Any other status",
    ]
    descriptions = [
        str(r.select_one(".response-description") or "").replace("\n", "") for r in responses
    ]
    assert descriptions == [
        '<div class="markdown response-description"><p>Links:</p><ul><li>cancel → '
        "<code>cancelOrder</code>: Cancel <strong>this</strong> order</li></ul></div>",
        "",
        '<div class="markdown response-description"><p>No order has this id.</p></div>',
        '<div class="markdown response-description"><p>Refused: see <code>error</code></p></div>',
        '<div class="markdown response-description"><p>Anything <em>unexpected</em></p></div>',
    ]
    assert one(responses[-1], "pre code").get_text() == '{\n  "error": "x"\n}'
    assert one(responses[-1], ".badge").get("class") == ["badge", "status", "text-bg-secondary"]


def test_default_is_not_above_the_parameters(client, operation) -> None:
    """The page reads: description, parameters, responses; nothing of the responses is
    folded into the operation's description."""
    assert (
        operation.description == f"Reads *one* order. See [the guide]({LONG_URL}) or <{LONG_URL}>."
    )
    html = client.get(operation.get_absolute_url()).content.decode()
    parameters = html.index('id="parameters-heading"')
    responses = html.index('id="responses-heading"')
    assert parameters < responses < html.index("Any other status")
    assert "unexpected" not in html[:responses]


def test_server_descriptions_are_text_in_the_select(client, operation) -> None:
    soup = page(client, operation)
    labels = [option.get_text() for option in soup.select("#try-it-server option")]
    assert labels[-1] == "https://eu.shop.example.com/v1 (Europe & more)"


def test_try_it_help_texts_are_the_descriptions_words(client, operation) -> None:
    soup = page(client, operation)
    helps = [text(node) for node in soup.select("#try-it .form-text")]
    assert "The order's id, see ids." in helps
    assert "Comma-separated" in helps
    assert not [help for help in helps if "**" in help or "`" in help or "<" in help]


def test_a_long_text_is_rendered_once_and_kept_in_the_cache(monkeypatch) -> None:
    from portal import markdown_text

    long_text = "**word** " * 1000
    assert len(long_text) > markdown_text.CACHED_CHARS
    calls = []
    real = markdown_text._render

    def counting(text: str) -> str:
        calls.append(text)
        return real(text)

    monkeypatch.setattr(markdown_text, "_render", counting)
    first = markdown_html(text=long_text)
    assert first.startswith("<p><strong>word</strong> <strong>word</strong>")
    assert markdown_html(text=long_text) == first
    assert calls == [long_text]


def test_a_hand_registered_default_is_listed_last(client, demo_api) -> None:
    operation = demo_api.operations.get(slug="bes-status")
    operation.responses.all().delete()
    operation.responses.create(status_code=0, description="Anything else")
    operation.responses.create(status_code=200, description="")
    soup = page(client, operation)
    assert [text(one(r, "h3")) for r in soup.select("[data-response]")] == [
        "200 OK",
        "default Any other status",
    ]


def test_a_long_text_seen_again_is_not_read_from_the_cache_again(monkeypatch) -> None:
    """The process remembers the long texts it showed last: no round trip to the shared
    cache on every visit of the page."""
    from portal import markdown_text

    long_text = "*kept by the process* " * 300
    assert markdown_text.CACHED_CHARS < len(long_text) <= markdown_text.KEPT_LONG_CHARS
    reads = []
    real = markdown_text.cache.get

    def counting(key: str, *args, **kwargs):
        reads.append(key)
        return real(key, *args, **kwargs)

    monkeypatch.setattr(markdown_text.cache, "get", counting)
    first = markdown_html(text=long_text)
    assert first.startswith("<p><em>kept by the process</em>")
    assert markdown_html(text=long_text) == first
    assert len(reads) == 1


def test_plain_words_are_remembered(monkeypatch) -> None:
    from portal import markdown_text

    calls = []
    real = markdown_text.nh3.clean

    def counting(html: str, **kwargs):
        calls.append(kwargs.get("tags"))
        return real(html, **kwargs)

    monkeypatch.setattr(markdown_text.nh3, "clean", counting)
    text = "A **remembered** help line, seen on every page."
    assert markdown_plain(text=text) == "A remembered help line, seen on every page."
    assert markdown_plain(text=text) == "A remembered help line, seen on every page."
    assert calls.count(set()) == 1
