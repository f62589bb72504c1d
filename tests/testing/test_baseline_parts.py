"""A saved request's large baseline shown a part at a time, and downloaded whole: for
whoever may read the saved request, 404 for anyone else (the anonymous included); and a
diff of two large bodies capped (docs/design.md, "Rendering")."""

import json

import pytest
from bs4 import BeautifulSoup
from django.test import Client

from testing import actions
from testing.diffing import MAX_SHOWN_CHARS, diff_responses
from testing.models import Collection, SavedRequest
from tests.markup import one

pytestmark = pytest.mark.django_db

HOSTILE = "<img src=x onerror=alert(1)>"
VALUE = [{"id": n, "html": HOSTILE} for n in range(2000)]
BODY = json.dumps(VALUE).encode()
PRETTY = json.dumps(VALUE, indent=2)


@pytest.fixture(autouse=True)
def small_parts(settings):
    settings.PORTAL_RESPONSE_PART_CHARS = 40_000


@pytest.fixture
def saved(django_user_model) -> SavedRequest:
    owner = django_user_model.objects.create_user("ada", password="pw")
    collection = Collection.objects.create(owner=owner, name="Orders")
    return SavedRequest.objects.create(
        collection=collection,
        name="List orders",
        operation_label="Orders: list",
        baseline_status=200,
        baseline_reason="OK",
        baseline_body=BODY,
        baseline_content_type="application/json",
    )


def test_the_saved_page_shows_the_baseline_first_part_with_its_links(client, saved):
    client.force_login(saved.collection.owner)
    page = BeautifulSoup(client.get(f"/saved/{saved.pk}/").content, "html.parser")
    block = one(page, f"#response-content-baseline-{saved.pk}")
    text = one(block, "code").get_text()
    assert 20_000 < len(text) <= 40_001 and PRETTY.startswith(text.removesuffix("\n"))
    assert one(block, "[data-show-more]")["hx-get"] == f"/saved/{saved.pk}/baseline/content?parts=2"
    assert one(block, "[data-show-more]")["href"].startswith(f"/saved/{saved.pk}/?parts=2")
    assert one(block, "[data-download-whole]")["href"] == f"/saved/{saved.pk}/baseline/body"
    assert HOSTILE.encode() not in client.get(f"/saved/{saved.pk}/").content


def test_the_owner_expands_and_downloads_the_baseline(client, saved):
    client.force_login(saved.collection.owner)
    response = client.get(f"/saved/{saved.pk}/baseline/content?parts=all")
    assert response.status_code == 200
    assert HOSTILE.encode() not in response.content
    fragment = BeautifulSoup(response.content, "html.parser")
    assert one(fragment, "code").get_text() == PRETTY
    download = client.get(f"/saved/{saved.pk}/baseline/body")
    assert download.content == BODY
    assert download["Content-Type"] == "application/octet-stream"
    assert download["Content-Disposition"] == f'attachment; filename="baseline-{saved.pk}.json"'
    assert download["X-Content-Type-Options"] == "nosniff"


def test_another_user_and_the_anonymous_get_404(client, saved, django_user_model):
    urls = [f"/saved/{saved.pk}/baseline/content?parts=2", f"/saved/{saved.pk}/baseline/body"]
    for url in urls:
        assert Client().get(url).status_code == 404
    client.force_login(django_user_model.objects.create_user("bob", password="pw"))
    for url in urls:
        assert client.get(url).status_code == 404


def test_a_diff_of_two_large_text_bodies_is_capped_and_says_so():
    old = ("\n".join(f"line {n} " + "a" * 300 for n in range(3000))).encode()
    new = ("\n".join(f"line {n} " + "b" * 300 for n in range(3000))).encode()
    diff = diff_responses(
        old_status=200,
        old_headers=[],
        old_body=old,
        old_content_type="text/plain",
        new_status=200,
        new_headers=[],
        new_body=new,
        new_content_type="text/plain",
        ignored_headers=set(),
    )
    assert MAX_SHOWN_CHARS < len(diff.text_diff) < MAX_SHOWN_CHARS + 3000
    assert diff.text_diff.endswith(f"(the diff is cut at {MAX_SHOWN_CHARS:,} characters)")


def test_a_minified_line_in_a_text_diff_is_cut():
    old, new = b"x" * 3_000_000, b"y" * 3_000_000  # over the size compared as JSON
    diff = diff_responses(
        old_status=200,
        old_headers=[],
        old_body=old,
        old_content_type="text/plain",
        new_status=200,
        new_headers=[],
        new_body=new,
        new_content_type="text/plain",
        ignored_headers=set(),
    )
    assert len(diff.text_diff) < 10_000


def test_the_shown_json_changes_are_capped_and_say_so():
    old = [{"n": n, "text": "a" * 1900} for n in range(200)]
    new = [{"n": n, "text": "b" * 1900} for n in range(200)]
    diff = diff_responses(
        old_status=200,
        old_headers=[],
        old_body=json.dumps(old).encode(),
        old_content_type="application/json",
        new_status=200,
        new_headers=[],
        new_body=json.dumps(new).encode(),
        new_content_type="application/json",
        ignored_headers=set(),
    )
    assert len(diff.json_changes) == 200  # 760 KB of values
    shown = actions.shown_diff(diff)
    assert shown is not None
    assert len(shown.json_changes) < 60
    sizes = sum(len(change["old"]) + len(change["new"]) for change in shown.json_changes)
    assert sizes < MAX_SHOWN_CHARS + 4000
    assert shown.note == (
        f"The changes are cut at {MAX_SHOWN_CHARS:,} characters: the first "
        f"{len(shown.json_changes)} of 200 are listed."
    )
