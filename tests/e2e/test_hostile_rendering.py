"""Hostile content never runs script in the portal's pages (docs/design.md, "Rendering:
backend content never runs").

Every page gets a trap before its content loads (`window.__pwned = []`); every payload
pushes where it ran into it, opens a dialog, renames the document or makes htmx fetch
a URL naming "pwned". The payloads come from four places: response bodies and response
headers a backend sends, Markdown an admin writes, and names, defaults and examples an
admin (or a user typing into the Try it form) chooses.

Each test proves four things:
- nothing ran: the trap is empty, no dialog opened, the title is untouched, no request
  went where a payload points;
- nothing was built: no element the payloads try to create exists (no <script> holding
  a payload, no on* attribute, no javascript: URL, no iframe, no svg, no htmx attribute);
- no console or page error: CSP violations are console errors, so a payload that was
  injected but blocked by the policy still fails the test;
- the payload is visible as text where the page shows it.

The CSP would block an injected inline handler on its own, so the element checks are
what show that the markup never became markup. The policy does not stop everything:
htmx is the page's own script, and an injected hx-get="..." hx-trigger="load" fires
under it (the trap records that request). The last test switches the policy off in the
browser to show that escaping alone keeps every payload inert.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from playwright.sync_api import Browser, Dialog, Page, Request, expect

from catalog.models import Api, Operation, Parameter, ParameterLocation, ResponseDoc
from catalog.registration import create_missing_template_parameters
from tests.backends import Exchange, scripted_server
from tests.e2e.conftest import (
    VIEWPORT,
    new_page,
    param_input,
    problems_of,
    requested_url,
    response_headers,
    response_json,
    response_text,
    result_status,
    screenshot,
    send,
)

pytestmark = pytest.mark.django_db(transaction=True)

OWNED = "OWNED"  # what a payload sets document.title to; no payload text contains it


def payloads(where: str) -> list[str]:
    """The hostile strings, each naming `where` so that a failure says which one ran."""
    return [
        f"<script>window.__pwned.push('{where}:script')</script>",
        f"<img src=x onerror=\"window.__pwned.push('{where}:img')\">",
        f"<svg onload=\"window.__pwned.push('{where}:svg')\">",
        f"\"><script>window.__pwned.push('{where}:attribute-breakout')</script>",
        f"javascript:window.__pwned.push('{where}:javascript-url')",
        f"<a href=\"javascript:window.__pwned.push('{where}:link')\">click</a>",
        f"'><iframe src=\"javascript:window.__pwned.push('{where}:iframe')\"></iframe>",
        f"<details open ontoggle=\"alert('{where}:dialog')\">",
        '<img src=x onerror="document.title=String.fromCharCode(79,87,78,69,68)">',
        f'<div hx-get="/?pwned={where}" hx-trigger="load">htmx</div>',
    ]


# Everything that would be markup had a payload not been escaped, anywhere in the page.
# Returns "what in where" strings; [] is the only good answer.
FIND_INJECTED = """
(allowPlainImages) => {
  const found = [];
  const place = (el) => {
    const holder = el.parentElement && el.parentElement.closest('[id]');
    return holder ? '#' + holder.id : (el.parentElement ? el.parentElement.tagName : '-');
  };
  const urlAttributes = ['href', 'src', 'action', 'formaction', 'xlink:href', 'data', 'poster'];
  for (const el of document.querySelectorAll('*')) {
    const tag = el.tagName.toLowerCase();
    for (const {name, value} of el.attributes) {
      const attribute = name.toLowerCase();
      if (attribute.startsWith('on')) {
        found.push(`<${tag} ${attribute}="${value}"> in ${place(el)}`);
      } else if (urlAttributes.includes(attribute) && /^\\s*(javascript|vbscript):/i.test(value)) {
        found.push(`<${tag} ${attribute}="${value}"> in ${place(el)}`);
      } else if (attribute === 'srcdoc'
          || (/^(data-)?hx-/.test(attribute) && /pwned/i.test(value))
      ) {
        found.push(`<${tag} ${attribute}="${value}"> in ${place(el)}`);
      }
    }
    if (tag === 'script' && /pwned|OWNED|alert/.test(el.textContent + (el.src || ''))) {
      found.push(`<script>${el.textContent}</script> in ${place(el)}`);
    }
    if (['iframe', 'frame', 'object', 'embed', 'svg'].includes(tag)) {
      found.push(`<${tag}> in ${place(el)}`);
    }
    if (tag === 'img' && el.getAttribute('src') === 'x' && !allowPlainImages) {
      found.push(`<img src="x"> in ${place(el)}`);
    }
    if (tag === 'a' && el.textContent === 'click') {
      found.push(`<a>click</a> in ${place(el)}`);
    }
  }
  return found;
}
"""


class Trap:
    """The payloads' tripwires on one page, set before any content loads."""

    def __init__(self, page: Page) -> None:
        self.page = page
        self.dialogs: list[str] = []
        self.requests: list[str] = []
        page.add_init_script("window.__pwned = []")
        page.on("dialog", self._on_dialog)
        page.on("request", self._on_request)

    def _on_dialog(self, dialog: Dialog) -> None:
        self.dialogs.append(f"{dialog.type}: {dialog.message}")
        dialog.dismiss()

    def _on_request(self, request: Request) -> None:
        if re.search(r"[?&]pwned=|^javascript:", request.url, re.IGNORECASE):
            self.requests.append(f"{request.method} {request.url}")

    def assert_nothing_ran(
        self, *, allow_plain_images: bool = False, missing_images: tuple[str, ...] = ()
    ) -> None:
        """Nothing ran, nothing was built, no console or page error.

        `allow_plain_images`: sanitised Markdown may keep an <img src="x"> without its
        handler; `missing_images` are the URLs such images load (and miss, a 404 the
        console reports), the only console errors then accepted.
        """
        page = self.page
        # Give an <img onerror>, <svg onload> or hx-trigger="load" the time to fire:
        # every image has loaded or failed, htmx is idle, and a little more.
        page.wait_for_function(
            "() => [...document.images].every(image => image.complete)"
            " && !document.querySelector('.htmx-request')"
        )
        page.wait_for_timeout(100)
        assert page.evaluate("window.__pwned") == [], "a payload ran script"
        assert self.dialogs == [], "a payload opened a dialog"
        assert OWNED not in page.title(), "a payload renamed the document"
        assert self.requests == [], "a payload made the page fetch a URL"
        injected = page.evaluate(FIND_INJECTED, allow_plain_images)
        assert injected == [], f"payload markup became elements: {injected}"
        expected = [
            f"Failed to load resource: the server responded with a status of 404 (Not Found) "
            f"[{url}]"
            for url in missing_images
        ]
        unexpected = [problem for problem in problems_of(page).all if problem not in expected]
        assert unexpected == [], f"console or page errors (CSP violations among them): {unexpected}"


@pytest.fixture
def trap(page: Page) -> Trap:
    return Trap(page)


def register_api(
    service_url: str,
    *,
    slug: str,
    name: str | None = None,
    description: str = "",
    operation_description: str = "",
) -> Operation:
    api = Api.objects.create(
        name=name or f"Hostile {slug}", slug=slug, service_url=service_url, description=description
    )
    operation = Operation.objects.create(
        api=api,
        name="Fetch page",
        slug="fetch-page",
        method="GET",
        url_template="/pages/{page}",
        description=operation_description,
    )
    create_missing_template_parameters(operation=operation)
    return operation


@dataclass(frozen=True)
class Reply:
    status: int = 200
    reason: str | None = None
    headers: tuple[tuple[str, str], ...] = ()
    body: bytes = b""


def routed(replies: dict[str, Reply]):
    """A scripted backend answering /pages/<name> with replies[name]."""

    def handler(exchange: Exchange) -> None:
        assert exchange.request is not None
        reply = replies[exchange.request.target.removeprefix("/pages/")]
        exchange.respond(reply.status, reason=reply.reason, headers=reply.headers, body=reply.body)

    return handler


def raw_markup(html: str) -> list[str]:
    """Payload markup that reached an HTML answer unescaped."""
    pattern = (
        r"<(script>window|img[ /]src=x|svg[ /]onload|iframe src=|details open|div hx-"
        r"|a href=.?javascript)"
    )
    return [match.group(0) for match in re.finditer(pattern, html)]


# --- 1. Hostile response bodies --------------------------------------------------------


def _lines(where: str) -> str:
    return "\n".join(payloads(where))


JSON_VALUES: dict[str, object] = {
    f"payload{index}": text for index, text in enumerate(payloads("body-json"))
}
JSON_VALUES["nested"] = {"list": payloads("body-json-nested")[:3]}
XML_BODY = (
    '<?xml version="1.0"?>\n<root xmlns:h="http://www.w3.org/1999/xhtml">\n'
    "<h:script>window.__pwned.push('body-xml:xhtml-script')</h:script>\n"
    '<h:img src="x" onerror="window.__pwned.push(\'body-xml:xhtml-img\')"/>\n'
    f"<payloads><![CDATA[{_lines('body-xml')}]]></payloads>\n</root>"
)
SVG_BODY = (
    '<svg xmlns="http://www.w3.org/2000/svg" onload="window.__pwned.push(\'body-svg:onload\')">'
    "<script>window.__pwned.push('body-svg:script')</script>"
    '<foreignObject><iframe xmlns="http://www.w3.org/1999/xhtml" '
    "src=\"javascript:window.__pwned.push('body-svg:iframe')\"></iframe></foreignObject></svg>"
)
UTF7_BODY = "+ADw-script+AD4-window.__pwned.push('body-utf7')+ADw-/script+AD4-"

# kind -> (Content-Type or None, body bytes, the text the page must show, body kind)
BODY_CASES: dict[str, tuple[str | None, bytes, str, str]] = {
    "html": ("text/html; charset=utf-8", _lines("body-html").encode(), _lines("body-html"), "text"),
    "json": (
        "application/json",
        json.dumps(JSON_VALUES).encode(),
        # Pretty-printed; Pygments ends the highlighted text with a newline.
        json.dumps(JSON_VALUES, indent=2, ensure_ascii=False) + "\n",
        "json",
    ),
    "plain": ("text/plain", _lines("body-plain").encode(), _lines("body-plain"), "text"),
    "xml": ("application/xml", XML_BODY.encode(), XML_BODY, "text"),
    "svg": ("image/svg+xml", SVG_BODY.encode(), SVG_BODY, "text"),
    "no-content-type": (None, _lines("body-untyped").encode(), _lines("body-untyped"), "text"),
    # UTF-7 smuggles "<script>" past byte filters; decoded, it is still only text.
    "html-utf7": (
        "text/html; charset=utf-7",
        UTF7_BODY.encode(),
        "<script>window.__pwned.push('body-utf7')</script>",
        "text",
    ),
}


@pytest.mark.parametrize("kind", list(BODY_CASES))
def test_a_hostile_response_body_is_shown_as_text(
    page: Page, trap: Trap, live_server, kind: str
) -> None:
    content_type, body, shown, body_kind = BODY_CASES[kind]
    headers = (("Content-Type", content_type),) if content_type else ()
    with scripted_server(routed({kind: Reply(headers=headers, body=body)})) as backend:
        operation = register_api(backend.url, slug=f"body-{kind}")
        page.goto(live_server.url + operation.get_absolute_url())
        param_input(page, "page").fill(kind)
        answer = send(page)

    assert [request.target for request in backend.requests] == [f"/pages/{kind}"]
    assert result_status(page) == "200 OK"
    if content_type:
        assert response_headers(page)["Content-Type"] == content_type
    shown_body = page.locator(f'#result [data-body-kind="{body_kind}"]')
    expect(shown_body).to_be_visible()
    # The payloads, character for character, as text.
    assert response_text(page) == shown
    if body_kind == "json":
        assert response_json(page) == JSON_VALUES
        assert shown_body.locator("span").count() > 0, "the JSON was not highlighted"
        # Only Pygments' token spans: a payload never became an element of its own.
        assert shown_body.locator(":not(span):not(code)").count() == 0
    else:
        # Only the portal's blocks of lines (console/highlight.py), holding text alone.
        assert shown_body.locator("code > span.code-part").count() > 0
        assert shown_body.locator("code > :not(span.code-part), code span.code-part *").count() == 0
    for text in shown.splitlines()[:3]:
        expect(shown_body).to_contain_text(text.strip())
    # Nowhere to click: the result panel holds no link but the portal's own actions,
    # and none of the payloads' elements.
    assert page.locator("#result a:not(.btn)").count() == 0
    assert page.locator("#result img, #result svg, #result iframe, #result script").count() == 0
    # The partial htmx swapped in carried the markup escaped.
    assert raw_markup(answer.text()) == []
    screenshot(page, f"hostile-response-{kind}")
    trap.assert_nothing_ran()


# --- 2. Hostile response headers -------------------------------------------------------

HOSTILE_CONTENT_TYPE = "text/html\"><script>window.__pwned.push('content-type')</script>"
HEADER_VALUES = {
    "X-Evil": "<img src=x onerror=\"window.__pwned.push('header-value:img')\">",
    "X-Script": "<script>window.__pwned.push('header-value:script')</script>",
    "X-Svg": "<svg onload=\"window.__pwned.push('header-value:svg')\">",
    "X-Breakout": "\"><script>window.__pwned.push('header-value:breakout')</script>",
    "X-Link": "<a href=\"javascript:window.__pwned.push('header-value:link')\">click</a>",
    "X-Dialog": "<details open ontoggle=\"alert('header-value:dialog')\">",
    "X-Htmx": '<div hx-get="/?pwned=header-value" hx-trigger="load">htmx</div>',
    "Refresh": "0; url=javascript:window.__pwned.push('header-value:refresh')",
    "Link": "<javascript:window.__pwned.push('header-value:link-header')>; rel=preload",
}
# Names without spaces or colons, so that http.client reads them as header names.
HEADER_NAMES = {
    "<script>window.__pwned.push('header-name-script')</script>": "1",
    "X-<svg/onload=window.__pwned.push('header-name-svg')>": "2",
    "X-<img/src=x/onerror=alert('header-name-img')>": "3",
}
HOSTILE_REASON = "OK <script>window.__pwned.push('reason')</script>"
LOCATION = "javascript:window.__pwned.push('location')"
BINARY_TYPE = 'application/octet-stream"><img src=x onerror="window.__pwned.push(\'binary\')">'
SWITCH_REASON = "Switching <img src=x onerror=\"window.__pwned.push('switch')\">"

HEADER_REPLIES = {
    "headers": Reply(
        reason=HOSTILE_REASON,
        headers=(
            ("Content-Type", HOSTILE_CONTENT_TYPE),
            *HEADER_VALUES.items(),
            *HEADER_NAMES.items(),
        ),
        body=b"ok",
    ),
    "redirect": Reply(302, headers=(("Location", LOCATION),)),
    "binary": Reply(
        headers=(("Content-Type", BINARY_TYPE),),
        body=b"\x00\x01<script>window.__pwned.push('binary-body')</script>",
    ),
    "switch": Reply(101, reason=SWITCH_REASON, headers=(("Upgrade", "<script>x</script>"),)),
}


def test_hostile_response_headers_are_shown_as_text(page: Page, trap: Trap, live_server) -> None:
    with scripted_server(routed(HEADER_REPLIES)) as backend:
        operation = register_api(backend.url, slug="hostile-headers")
        page.goto(live_server.url + operation.get_absolute_url())

        # Hostile names and values, a hostile Content-Type and reason phrase.
        param_input(page, "page").fill("headers")
        answer = send(page)
        trap.assert_nothing_ran()
        assert result_status(page) == f"200 {HOSTILE_REASON}"
        shown = response_headers(page)
        assert shown["Content-Type"] == HOSTILE_CONTENT_TYPE
        for name, value in {**HEADER_VALUES, **HEADER_NAMES}.items():
            assert shown.get(name) == value, f"{name!r} is not shown as sent: {shown}"
        table = page.locator("#result table.response-headers")
        expect(table).to_be_visible()
        assert table.locator("th *, td *").count() == 0, "a header became markup"
        # The media type could not be parsed, so the body is text.
        assert response_text(page) == "ok"
        assert raw_markup(answer.text()) == []
        # The backend's Refresh and Link headers are data: the portal's own answer has none.
        assert "refresh" not in answer.headers
        assert "link" not in answer.headers
        screenshot(page, "hostile-response-headers")

        # A javascript: Location is shown as text, not as a link, and not followed.
        param_input(page, "page").fill("redirect")
        answer = send(page)
        trap.assert_nothing_ran()
        assert result_status(page) == "302 Found"
        note = page.locator("#result .alert-info")
        expect(note).to_have_text(
            f"Redirects are not followed. The backend answered with a redirect to {LOCATION}."
        )
        expect(note.locator("code")).to_have_text(LOCATION)
        assert page.locator("#result a:not(.btn)").count() == 0
        assert response_headers(page)["Location"] == LOCATION
        assert raw_markup(answer.text()) == []
        screenshot(page, "hostile-response-location")

        # A binary body under a hostile Content-Type: the summary quotes the type as text.
        param_input(page, "page").fill("binary")
        answer = send(page)
        trap.assert_nothing_ran()
        summary = page.locator('#result [data-body-kind="binary"]')
        expect(summary).to_contain_text(f"Binary content: {BINARY_TYPE},")
        download = summary.get_by_role("link", name="Download")
        expect(download).to_have_attribute("href", re.compile(r"^/history/\d+/body$"))
        assert summary.locator("img, script").count() == 0
        assert raw_markup(answer.text()) == []

        # A 101 with a hostile reason phrase: the error panel quotes it as text.
        param_input(page, "page").fill("switch")
        answer = send(page)
        trap.assert_nothing_ran()
        panel = page.locator('#result [data-error-kind="protocol"]')
        expect(panel).to_contain_text(f"The backend answered 101 {SWITCH_REASON};")
        assert panel.locator("img").count() == 0
        assert raw_markup(answer.text()) == []
        screenshot(page, "hostile-response-reason")

    assert [request.target for request in backend.requests] == [
        "/pages/headers",
        "/pages/redirect",
        "/pages/binary",
        "/pages/switch",
    ]
    trap.assert_nothing_ran()


# --- 3. Hostile Markdown descriptions --------------------------------------------------


def hostile_markdown(where: str) -> str:
    return f"""Some **bold {where}** and *emphasis*, `inline <code> in {where}` and a
[normal link](https://example.com/docs).

<script>window.__pwned.push('{where}:script')</script>

<img src=x onerror="window.__pwned.push('{where}:img')">
<svg onload="window.__pwned.push('{where}:svg')"><circle r="1"/></svg>
<iframe src="javascript:window.__pwned.push('{where}:iframe')"></iframe>
<details open ontoggle="alert('{where}:details')">details text</details>
<a href="javascript:window.__pwned.push('{where}:raw-link')">raw link</a>
<div hx-get="/?pwned={where}" hx-trigger="load">htmx div</div>
<style>body {{ display: none }}</style>

[markdown link](javascript:window.__pwned.push('{where}:markdown-link'))

[entity link](jav&#x09;ascript:alert(document.domain))

[reference link][evil]

<https://example.com/"onmouseover="alert('{where}:autolink')>

![picture](javascript:window.__pwned.push('{where}:markdown-image'))

```html
<script>window.__pwned.push('{where}:fenced')</script>
```

| column | other |
|---|---|
| <img src=x onerror="document.title=String.fromCharCode(79,87,78,69,68)"> | **cell** |

[evil]: javascript:window.__pwned.push('{where}:reference-link')
"""


def check_sanitised_markdown(page: Page, trap: Trap, *, where: str) -> None:
    markdown = page.locator(".markdown").first
    expect(markdown).to_be_visible()
    # Ordinary formatting survives the sanitiser.
    expect(markdown.locator("strong").first).to_have_text(f"bold {where}")
    expect(markdown.locator("em").first).to_have_text("emphasis")
    expect(markdown.locator("p code").first).to_have_text(f"inline <code> in {where}")
    expect(markdown.get_by_role("link", name="normal link")).to_have_attribute(
        "href", "https://example.com/docs"
    )
    expect(markdown.locator("table td strong")).to_have_text("cell")
    expect(markdown.locator("pre code")).to_have_text(
        f"<script>window.__pwned.push('{where}:fenced')</script>"
    )
    # The autolink keeps its quotes inside the URL, not as attributes.
    autolink = markdown.locator("a[href^='https://example.com/']").last
    expect(autolink).to_have_text(f"https://example.com/\"onmouseover=\"alert('{where}:autolink')")
    autolink.hover()
    # The admin's raw HTML: no script, svg, iframe, style, image or htmx; the links lose
    # their handlers and javascript: URLs.
    assert markdown.locator("script, svg, iframe, style, img, [hx-get]").count() == 0
    expect(page.locator("body")).to_be_visible()
    # CommonMark refuses a javascript: destination: the text stays as written, no link.
    for name in ("markdown link", "reference link", "picture"):
        expect(markdown.locator("a", has_text=name)).to_have_count(0)
        expect(markdown).to_contain_text(f"[{name}]")
    for name in ("entity link", "raw link"):
        link = markdown.locator("a", has_text=name)
        expect(link).to_have_count(1)
        assert link.get_attribute("href") is None, f"{name} kept a dangerous href"
    url = page.url
    for name in ("entity link", "raw link"):
        markdown.locator("a", has_text=name).click()
    assert page.url == url
    # Not even the raw <img src=x>, dropped with its handler, loads anything.
    trap.assert_nothing_ran()


def test_hostile_markdown_descriptions_are_sanitised(page: Page, trap: Trap, live_server) -> None:
    operation = register_api(
        "http://127.0.0.1:9",
        slug="hostile-markdown",
        name="Markdown API",
        description=hostile_markdown("api-description"),
        operation_description=hostile_markdown("operation-description"),
    )
    api_url = live_server.url + operation.api.get_absolute_url()
    operation_url = live_server.url + operation.get_absolute_url()

    # The catalog card shows the description as text: no tags, no elements.
    page.goto(live_server.url + "/")
    card = page.locator(".api-card", has_text="Markdown API")
    card_text = card.locator(".card-text")
    expect(card_text).to_contain_text("Some bold api-description and emphasis, inline <code> in")
    assert card_text.locator("*").count() == 0
    assert "<img" not in (card_text.text_content() or "")
    trap.assert_nothing_ran()

    card.get_by_role("link", name="Markdown API").click()
    page.wait_for_url(api_url)
    check_sanitised_markdown(page, trap, where="api-description")
    screenshot(page, "hostile-descriptions-api")

    page.get_by_role("link", name="Fetch page").click()
    page.wait_for_url(operation_url)
    check_sanitised_markdown(page, trap, where="operation-description")
    screenshot(page, "hostile-descriptions")


# --- 4. Hostile names: chosen by an admin, typed by a user -----------------------------

API_NAME = "Names API <script>window.__pwned.push('api-name')</script>"
API_VERSION = "1\"><img src=x onerror=alert('api-version')>"
OPERATION_NAME = "Fetch <img src=x onerror=\"window.__pwned.push('operation-name')\">"
TAG = "<svg onload=\"window.__pwned.push('tag')\">"
CONTENT_TYPE = "application/json\"><script>window.__pwned.push('content-type')</script>"
BODY_EXAMPLE = (
    "</textarea><script>window.__pwned.push('body-example')</script>\n"
    '{"a": "<img src=x onerror=\\"window.__pwned.push(\'body-example-json\')\\">"}'
)
PAGE_DESCRIPTION = "\"><script>window.__pwned.push('param-description')</script>"
PAGE_DEFAULT = '"><img src=x onerror="window.__pwned.push(\'param-default\')">'
QUERY_NAME = "<img src=x onerror=\"window.__pwned.push('param-name')\">"
QUERY_DESCRIPTION = "<img src=x onerror=\"window.__pwned.push('help-text')\">"
QUERY_CHOICES = [
    "a\"><script>window.__pwned.push('choice')</script>",
    "<img src=x onerror=alert('choice')>",
]
HEADER_NAME = "X-\"><svg onload=alert('header-name')>"
HEADER_DEFAULT = "'><img src=x onerror=\"window.__pwned.push('header-default')\">"
HEADER_DESCRIPTION = "javascript:window.__pwned.push('header-description')"
RESPONSE_DESCRIPTION = "<script>window.__pwned.push('response-description')</script>"
RESPONSE_EXAMPLE = (
    '{"html": "<img src=x onerror=\\"window.__pwned.push(\'response-example\')\\">"}'
    "</code></pre><script>window.__pwned.push('response-example-breakout')</script>"
)


def register_hostile_names() -> Operation:
    api = Api.objects.create(
        name=API_NAME,
        slug="hostile-names",
        service_url="http://127.0.0.1:9",
        version=API_VERSION,
        description="Every name here is hostile.",
    )
    operation = Operation.objects.create(
        api=api,
        name=OPERATION_NAME,
        slug="fetch",
        method="POST",
        url_template="/pages/{page}",
        tags=TAG,
        request_content_type=CONTENT_TYPE,
        body_example=BODY_EXAMPLE,
    )
    Parameter.objects.create(
        operation=operation,
        name="page",
        location=ParameterLocation.TEMPLATE,
        required=True,
        description=PAGE_DESCRIPTION,
        default=PAGE_DEFAULT,
        order=0,
    )
    Parameter.objects.create(
        operation=operation,
        name=QUERY_NAME,
        location=ParameterLocation.QUERY,
        description=QUERY_DESCRIPTION,
        allowed_values="\n".join(QUERY_CHOICES),
        order=1,
    )
    Parameter.objects.create(
        operation=operation,
        name=HEADER_NAME,
        location=ParameterLocation.HEADER,
        description=HEADER_DESCRIPTION,
        default=HEADER_DEFAULT,
        order=2,
    )
    ResponseDoc.objects.create(
        operation=operation,
        status_code=200,
        description=RESPONSE_DESCRIPTION,
        example=RESPONSE_EXAMPLE,
    )
    return operation


def test_hostile_names_in_the_catalog_and_api_page(page: Page, trap: Trap, live_server) -> None:
    operation = register_hostile_names()

    page.goto(live_server.url + "/")
    card = page.locator(".api-card")
    expect(card.get_by_role("link", name=API_NAME, exact=True)).to_be_visible()
    expect(card.locator(".card-footer")).to_contain_text(f"v{API_VERSION}")
    trap.assert_nothing_ran()
    screenshot(page, "hostile-names-catalog")

    card.get_by_role("link", name=API_NAME, exact=True).click()
    page.wait_for_url(live_server.url + operation.api.get_absolute_url())
    assert page.title() == f"{API_NAME} · API portal"
    expect(page.get_by_role("heading", level=1)).to_have_text(API_NAME)
    expect(page.locator(".breadcrumb-item")).to_have_text(["APIs", API_NAME])
    expect(page.get_by_role("heading", level=2, name=TAG)).to_be_visible()
    link = page.get_by_role("link", name=re.compile(re.escape(OPERATION_NAME)))
    expect(link).to_be_visible()
    expect(page.locator("dd", has_text='1"')).to_have_text(API_VERSION)
    # The operation's page itself is the next test's.
    expect(link).to_have_attribute("href", operation.get_absolute_url())
    trap.assert_nothing_ran()
    screenshot(page, "hostile-names-api")


def test_hostile_names_in_the_operation_docs_and_try_it_form(
    page: Page, trap: Trap, live_server
) -> None:
    operation = register_hostile_names()
    page.goto(live_server.url + operation.get_absolute_url())

    # Title, breadcrumbs and heading.
    assert page.title() == f"{OPERATION_NAME} · {API_NAME} · API portal"
    expect(page.locator(".breadcrumb-item")).to_have_text(["APIs", API_NAME, OPERATION_NAME])
    expect(page.get_by_role("heading", level=1)).to_have_text(OPERATION_NAME)

    # The parameter table: names, choices and defaults as text; descriptions are
    # sanitised Markdown, so their raw <script> and <img> are dropped.
    rows = page.locator("table.parameters tbody tr")
    expect(rows).to_have_count(3)
    expect(rows.nth(0).locator("td").nth(4)).to_have_text(f'"> Default: {PAGE_DEFAULT}')
    expect(rows.nth(1).locator("td code").first).to_have_text(QUERY_NAME)
    expect(rows.nth(1).locator("td").nth(4)).to_have_text(f"One of: {', '.join(QUERY_CHOICES)}")
    expect(rows.nth(2).locator("td code").first).to_have_text(HEADER_NAME)
    expect(rows.nth(2).locator("td").nth(4)).to_have_text(
        f"{HEADER_DESCRIPTION} Default: {HEADER_DEFAULT}"
    )
    assert page.locator("table.parameters td").locator("img, script, svg, a").count() == 0

    # The documented request body and response, as text.
    expect(page.locator("#body-heading small")).to_have_text(CONTENT_TYPE)
    expect(page.locator("section[aria-labelledby=body-heading] pre")).to_have_text(BODY_EXAMPLE)
    responses = page.locator("section[aria-labelledby=responses-heading]")
    # The description was only a script: the heading says the status, nothing follows.
    expect(responses.locator("h3")).to_have_text("200 OK")
    expect(responses.locator(".response-description")).to_have_text("")
    expect(responses.locator("pre")).to_have_text(RESPONSE_EXAMPLE)

    # The Try it form: labels, values, options, header rows and the body textarea.
    try_it = page.locator("#try-it")
    expect(param_input(page, "page")).to_have_value(PAGE_DEFAULT)
    expect(param_input(page, QUERY_NAME)).to_have_value("")
    options = param_input(page, QUERY_NAME).locator("option")
    expect(options).to_have_text(["(none)", *QUERY_CHOICES])
    expect(page.locator("input[name=header_name]").first).to_have_value(HEADER_NAME)
    expect(page.get_by_label(f"{HEADER_NAME} value")).to_have_value(HEADER_DEFAULT)
    expect(page.get_by_label(f"Body ({CONTENT_TYPE})")).to_have_value(BODY_EXAMPLE)
    assert try_it.locator("textarea").count() == 1, "the body example closed its textarea"
    screenshot(page, "hostile-names-operation")
    # Help texts are the words of the parameters' descriptions, as text.
    help_texts = try_it.locator(".form-text")
    rendered = help_texts.evaluate_all("nodes => nodes.map(node => node.innerHTML)")
    assert help_texts.locator("*").count() == 0, (
        "a parameter description is rendered as HTML in the Try it form's help text: "
        f"{rendered}. crispy-bootstrap5's layout/help_text.html writes "
        "{{ field.help_text|safe }} (Django treats help_text as HTML), and "
        "console/form_fields.py parameter_field passes parameter.description unescaped; "
        "pass django.utils.html.escape(parameter.description) instead."
    )
    expect(help_texts).to_have_text(['">'])
    trap.assert_nothing_ran()


def echo(exchange: Exchange) -> None:
    """Answer with the X-Echo header the call carried, as a header and as HTML."""
    assert exchange.request is not None
    value = exchange.request.header("X-Echo") or ""
    exchange.respond(
        200,
        headers=[("Content-Type", "text/html"), ("X-Echoed", value)],
        body=f"<p>{value}</p>".encode(),
    )


TYPED_NAME = "<img src=x onerror=alert('typed-name')>"
TYPED_LONG_NAME = "<svg onload=\"window.__pwned.push('typed-long-name')\">"
TYPED_VALUE = "\"><script>window.__pwned.push('typed-value')</script>"
SEARCH = "\"><script>window.__pwned.push('search')</script><img src=x onerror=alert(1)>"


def add_header(page: Page, name: str, value: str) -> None:
    page.get_by_role("button", name="+ Add header").click()
    page.locator("input[name=header_name]").last.fill(name)
    page.locator("input[name=header_value]").last.fill(value)


def test_a_hostile_header_typed_into_try_it_is_echoed_as_text(
    page: Page, trap: Trap, live_server
) -> None:
    with scripted_server(echo) as backend:
        operation = register_api(backend.url, slug="typed-headers")
        page.goto(live_server.url + operation.get_absolute_url())
        param_input(page, "page").fill("echo")

        # A header name that is markup: refused, and the error quotes it as text.
        add_header(page, TYPED_NAME, "v")
        answer = send(page)
        trap.assert_nothing_ran()
        errors = page.locator("#header-errors")
        expect(errors).to_contain_text(f"Header name {TYPED_NAME!r} is not valid")
        assert errors.locator("*:not(div)").count() == 0
        # The refused row comes back holding what was typed, as the input's value.
        expect(page.locator("input[name=header_name]").first).to_have_value(TYPED_NAME)
        expect(page.get_by_label(f"{TYPED_NAME} value")).to_have_value("v")
        assert raw_markup(answer.text()) == []
        assert page.locator("#result").count() == 0
        screenshot(page, "hostile-typed-header-name")

        # A longer one is cut to 40 characters in the message, still as text.
        page.locator("input[name=header_name]").first.fill(TYPED_LONG_NAME)
        answer = send(page)
        trap.assert_nothing_ran()
        expect(errors).to_contain_text(f"Header name {TYPED_LONG_NAME[:40] + '…'!r} is not valid")
        assert raw_markup(answer.text()) == []

        # A hostile value is printable ASCII, so it is sent; the backend echoes it in a
        # header and in an HTML body, and the request headers show it too.
        page.locator("input[name=header_name]").first.fill("X-Echo")
        page.get_by_label(re.compile(r"value$")).first.fill(TYPED_VALUE)
        answer = send(page)
        trap.assert_nothing_ran()
        assert result_status(page) == "200 OK"
        assert requested_url(page) == f"{backend.url}/pages/echo"
        assert response_headers(page)["X-Echoed"] == TYPED_VALUE
        assert response_text(page) == f"<p>{TYPED_VALUE}</p>"
        sent = page.locator("#result details").first
        sent.locator("summary").click()
        expect(sent.locator("pre").first).to_contain_text(f"X-Echo: {TYPED_VALUE}")
        expect(page.locator("input[name=header_value]").first).to_have_value(TYPED_VALUE)
        assert raw_markup(answer.text()) == []
        screenshot(page, "hostile-typed-header-value")

    assert backend.requests[0].header("X-Echo") == TYPED_VALUE
    trap.assert_nothing_ran()

    # The catalog's search box echoes what was typed, as text and as the input's value.
    page.goto(live_server.url + "/")
    page.get_by_role("searchbox", name="Search APIs and operations").fill(SEARCH)
    page.get_by_role("button", name="Search").click()
    page.wait_for_url(re.compile(r"\?q="))
    expect(page.locator("#search-nothing")).to_have_text(
        f"No API and no operation match “{SEARCH}”."
    )
    expect(page.locator("#search-summary")).to_contain_text(
        f"0 APIs and 0 operations matching “{SEARCH}”."
    )
    expect(page.get_by_role("searchbox")).to_have_value(SEARCH)
    screenshot(page, "hostile-search")
    trap.assert_nothing_ran()


# --- The same pages with the CSP switched off ------------------------------------------


@pytest.fixture
def page_without_csp(browser: Browser) -> Iterator[Page]:
    """A page whose browser ignores the portal's Content-Security-Policy.

    With the policy on, an injected inline handler is blocked and only reported; with it
    off, the trap shows whether escaping alone keeps the payloads inert, and a payload
    that slipped through would really run.
    """
    context = browser.new_context(viewport=VIEWPORT, bypass_csp=True)
    try:
        yield new_page(context)
    finally:
        context.close()


def test_without_the_csp_escaping_alone_keeps_every_payload_inert(
    page_without_csp: Page, live_server
) -> None:
    page = page_without_csp
    trap = Trap(page)
    replies = {
        **HEADER_REPLIES,
        "html": Reply(
            headers=(("Content-Type", "text/html"),), body=_lines("no-csp-body").encode()
        ),
    }
    with scripted_server(routed(replies)) as backend:
        operation = register_api(
            backend.url,
            slug="no-csp",
            description=hostile_markdown("no-csp-api"),
            operation_description=hostile_markdown("no-csp-operation"),
        )
        api_url = live_server.url + operation.api.get_absolute_url()
        operation_url = live_server.url + operation.get_absolute_url()
        missing_images = (api_url + "x", operation_url + "x")

        page.goto(live_server.url + "/")
        trap.assert_nothing_ran()
        page.goto(api_url)
        trap.assert_nothing_ran(allow_plain_images=True, missing_images=missing_images[:1])
        page.goto(operation_url)
        for reply in ("html", "headers", "redirect", "binary", "switch"):
            param_input(page, "page").fill(reply)
            send(page)
            trap.assert_nothing_ran(allow_plain_images=True, missing_images=missing_images)
        expect(page.locator('#result [data-error-kind="protocol"]')).to_be_visible()

    # Admin-chosen names, last: the operation page of register_hostile_names.
    names = register_hostile_names()
    page.goto(live_server.url + names.get_absolute_url())
    expect(page.get_by_role("heading", level=1)).to_have_text(OPERATION_NAME)
    ran = page.evaluate("window.__pwned")
    assert ran == [], (
        f"with the CSP off, payloads in parameter descriptions RAN: {ran} (the Try it "
        "form's help text, see test_hostile_names_in_the_operation_docs_and_try_it_form)"
    )
    trap.assert_nothing_ran(allow_plain_images=True, missing_images=missing_images)
