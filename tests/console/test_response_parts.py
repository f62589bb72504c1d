"""A large response shown a part at a time (docs/design.md, "Rendering"): the history
page and GET /history/<id>/content?parts= (Show more, Show all, Show less), for whoever
may see the call, 404 for anyone else; the parts stay escaped."""

import json

import pytest
from bs4 import BeautifulSoup
from django.test import Client

from console.models import Exchange
from tests.markup import one

pytestmark = pytest.mark.django_db

HOSTILE = "<script>alert(1)</script>"
# 120 KB as received, some 160 KB formatted: three parts of 64 KB.
VALUE = [{"id": n, "html": HOSTILE, "ok": True} for n in range(2000)]
BODY = json.dumps(VALUE).encode()
PRETTY = json.dumps(VALUE, indent=2)


@pytest.fixture(autouse=True)
def small_parts(settings):
    settings.PORTAL_RESPONSE_PART_CHARS = 64_000


def make_exchange(**fields) -> Exchange:
    values = {
        "operation_name": "X: y",
        "method": "GET",
        "url": "http://h/x",
        "status_code": 200,
        "reason": "OK",
        "response_body": BODY,
        "response_size": len(BODY),
        "response_content_type": "application/json",
    }
    return Exchange.objects.create(**{**values, **fields})


@pytest.fixture
def owner(client, django_user_model):
    user = django_user_model.objects.create_user("ada", password="pw")
    client.force_login(user)
    return user


def content(client: Client, exchange: Exchange, parts: str = "") -> BeautifulSoup:
    query = f"?parts={parts}" if parts else ""
    response = client.get(f"/history/{exchange.pk}/content{query}", HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    return BeautifulSoup(response.content, "html.parser")


def test_the_history_page_shows_the_first_part_and_says_so(client, owner):
    exchange = make_exchange(owner=owner)
    page = BeautifulSoup(client.get(f"/history/{exchange.pk}/").content, "html.parser")
    block = one(page, f"#response-content-{exchange.pk}")
    code = one(block, f"code#response-body-{exchange.pk}")
    assert 32_000 < len(code.get_text()) <= 64_000
    assert PRETTY.startswith(code.get_text().removesuffix("\n"))
    shown = one(block, "[data-part-shown]").get_text(" ", strip=True)
    assert shown.startswith("Showing the first ") and "the response is 122.0\xa0KB." in shown
    more = one(block, "[data-show-more]")
    assert more["hx-get"] == f"/history/{exchange.pk}/content?parts=2"
    assert more["href"] == f"/history/{exchange.pk}/?parts=2#response-content-{exchange.pk}"
    assert more["hx-target"] == f"#response-content-{exchange.pk}"
    assert one(block, "[data-show-all]")["hx-get"] == f"/history/{exchange.pk}/content?parts=all"
    assert one(block, "[data-download-whole]")["href"] == f"/history/{exchange.pk}/body"
    assert not block.select("[data-show-less]")


def test_show_more_adds_a_part_and_show_less_folds_back(client, owner):
    exchange = make_exchange(owner=owner)
    first = one(content(client, exchange), "code").get_text()
    assert first.endswith(",\n") and not first.endswith("\n\n")
    second = content(client, exchange, "2")
    text = one(second, "code").get_text()
    assert text.startswith(first.removesuffix("\n")) and len(text) > 64_000 + 32_000
    assert one(second, "[data-show-more]")["hx-get"].endswith("?parts=3")
    assert one(second, "[data-show-less]")["hx-get"].endswith("?parts=1")
    last = content(client, exchange, "3")
    assert one(last, "code").get_text() == PRETTY + "\n"
    assert not last.select("[data-show-more]") and not last.select("[data-show-all]")
    assert "Showing all the formatted content" in one(last, "[data-part-shown]").get_text()
    folded = content(client, exchange, "1")
    assert one(folded, "code").get_text() == first


def test_show_all_is_the_whole_as_plain_text(client, owner):
    exchange = make_exchange(owner=owner)
    every = content(client, exchange, "all")
    block = one(every, "[data-body-kind]")
    assert block["data-body-kind"] == "text"
    assert one(block, "code").get_text() == PRETTY
    assert {tuple(span["class"]) for span in block.select("span")} == {("code-part",)}
    assert "as plain text" in one(every, "[data-part-shown]").get_text()
    assert one(every, "[data-show-less]")


@pytest.mark.parametrize("parts", ["1", "2", "all"])
def test_every_part_stays_escaped(client, owner, parts):
    exchange = make_exchange(owner=owner)
    response = client.get(f"/history/{exchange.pk}/content?parts={parts}")
    assert HOSTILE.encode() not in response.content
    assert b"&lt;script&gt;alert(1)&lt;/script&gt;" in response.content
    assert not BeautifulSoup(response.content, "html.parser").select("script")


def test_another_user_gets_404(client, django_user_model):
    exchange = make_exchange(owner=django_user_model.objects.create_user("ada", password="pw"))
    client.force_login(django_user_model.objects.create_user("bob", password="pw"))
    for parts in ("1", "2", "all"):
        assert client.get(f"/history/{exchange.pk}/content?parts={parts}").status_code == 404


def test_anonymous_visitors_get_their_session_parts_only(client, django_user_model):
    session = client.session
    session.save()
    mine = make_exchange(session_key=session.session_key)
    theirs = make_exchange(session_key="another-session")
    owned = make_exchange(owner=django_user_model.objects.create_user("ada", password="pw"))
    assert client.get(f"/history/{mine.pk}/content?parts=2").status_code == 200
    assert client.get(f"/history/{theirs.pk}/content?parts=2").status_code == 404
    assert client.get(f"/history/{owned.pk}/content?parts=all").status_code == 404
    assert Client().get(f"/history/{mine.pk}/content").status_code == 404


def test_a_binary_body_has_no_parts(client, owner):
    exchange = make_exchange(owner=owner, response_body=b"\x00\x01", response_content_type="")
    assert client.get(f"/history/{exchange.pk}/content").status_code == 404


def test_a_small_body_is_shown_whole_without_the_part_bar(client, owner):
    exchange = make_exchange(owner=owner, response_body=b'{"a": 1}', response_size=8)
    page = BeautifulSoup(client.get(f"/history/{exchange.pk}/").content, "html.parser")
    assert one(page, f"code#response-body-{exchange.pk}").get_text() == '{\n  "a": 1\n}\n'
    assert not page.select("[data-body-part]")


def test_without_script_the_history_page_takes_the_parts(client, owner):
    exchange = make_exchange(owner=owner)
    page = BeautifulSoup(client.get(f"/history/{exchange.pk}/?parts=all").content, "html.parser")
    assert one(page, f"code#response-body-{exchange.pk}").get_text() == PRETTY
