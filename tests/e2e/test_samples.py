"""Code samples on the operation page, in Chromium: tabs, live updates, copy buttons,
secrets as placeholders until revealed, share links, and no console or CSP errors.
"""

from __future__ import annotations

import os
import subprocess
import sys
from urllib.parse import parse_qsl, urlsplit

import pytest
from django.conf import settings
from playwright.sync_api import BrowserContext, Page, expect

from tests.e2e.conftest import new_page, param_input, problems_of, result_status, screenshot, send

pytestmark = pytest.mark.django_db(transaction=True)

RRS_PATH = "/apis/azureml-demo/operations/rrs-execute/"
KEY = settings.PORTAL_DEMO_API_KEY


def code(page: Page, language: str) -> str:
    return page.locator(f"#sample-{language} pre").text_content() or ""


def clipboard(page: Page) -> str:
    return page.evaluate("navigator.clipboard.readText()")


@pytest.fixture
def clipboard_page(context: BrowserContext, page: Page, live_server) -> Page:
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=live_server.url)
    return page


def test_samples_follow_the_form_and_copy_as_shown(
    clipboard_page: Page, live_server, live_demo_api, tmp_path
) -> None:
    page = clipboard_page
    page.goto(live_server.url + RRS_PATH)
    samples = page.locator("#samples")
    curl = page.locator("#sample-curl pre")
    expect(curl).to_contain_text("curl --request POST")
    expect(page.get_by_role("tab", name="curl")).to_have_attribute("aria-selected", "true")
    # The key is a placeholder: an environment variable, named under the samples.
    expect(curl).to_contain_text("--header 'Authorization: Bearer '\"$AUTHORIZATION\"")
    expect(samples.locator("[data-samples-secrets]")).to_contain_text("AUTHORIZATION")
    assert KEY not in samples.inner_html()

    # Tabs: one language at a time.
    page.get_by_role("tab", name="Python").click()
    expect(page.locator("#sample-python")).to_be_visible()
    expect(page.locator("#sample-curl")).to_be_hidden()

    # A field changes: the samples follow, on the same tab.
    param_input(page, "workspace").fill("ws-e2e")
    python = page.locator("#sample-python pre")
    expect(python).to_contain_text("/workspaces/ws-e2e/services/text-features/execute")
    expect(page.get_by_role("tab", name="Python")).to_have_attribute("aria-selected", "true")
    page.get_by_label("Body (application/json)").fill(
        '{"Inputs": {"input1": {"ColumnNames": '
        '["Col2"], "Values": [["it\'s é $x"]]}}, '
        '"GlobalParameters": {}}'
    )
    expect(python).to_contain_text("it's é $x")
    screenshot(page, "samples-python-tab")

    # Copy: the clipboard holds the sample as shown, and it runs: against the sample
    # backend, with the key in its environment variable.
    copy = page.locator("#sample-python [data-copy-sample]")
    copy.click()
    expect(copy).to_have_text("Copied")
    copied = clipboard(page)
    assert copied == code(page, "python")
    (tmp_path / "sample.py").write_text(copied, encoding="utf-8")
    ran = subprocess.run(
        [sys.executable, "sample.py"],
        cwd=tmp_path,
        env={"PATH": os.environ.get("PATH", ""), "AUTHORIZATION": KEY},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert ran.returncode == 0, ran.stderr
    assert ran.stdout.startswith("200 OK\n")
    assert "it's \\u00e9 $x" in ran.stdout or "it's é $x" in ran.stdout

    # Show secrets: the stored key stays a variable, never written in.
    page.get_by_label("Show secrets").check()
    expect(samples.locator("[data-samples-stored]")).to_be_visible()
    expect(python).to_contain_text('"Bearer " + os.environ["AUTHORIZATION"]')
    assert KEY not in samples.inner_html()
    # A key typed in is the reader's own: Show secrets writes it; off again, it is a
    # variable again.
    page.get_by_label("Authorization value").fill("Bearer typed-e2e-key")
    expect(python).to_contain_text('"Authorization": "Bearer typed-e2e-key"')
    expect(samples.locator("[data-samples-secrets]")).to_have_count(0)
    page.get_by_label("Show secrets").uncheck()
    expect(python).to_contain_text('"Bearer " + os.environ["AUTHORIZATION"]')
    assert KEY not in page.content()

    # The chosen language is kept for the next page.
    page.reload()
    expect(page.get_by_role("tab", name="Python")).to_have_attribute("aria-selected", "true")
    expect(page.locator("#sample-python")).to_be_visible()
    problems_of(page).assert_none()


def test_an_empty_field_is_a_placeholder_and_a_bad_body_an_error(
    page: Page, live_server, live_demo_api
) -> None:
    page.goto(live_server.url + RRS_PATH)
    expect(page.locator("#sample-curl pre")).to_contain_text("curl")
    param_input(page, "workspace").fill("")
    notes = page.locator("#samples [data-samples-placeholders] li")
    expect(notes).to_have_text(["Fill workspace to run this"])
    placeholder = page.locator("#sample-curl pre mark.sample-placeholder")
    expect(placeholder).to_have_text("{workspace}")
    expect(placeholder).to_be_visible()
    expect(page.locator("#sample-curl pre")).to_contain_text("/workspaces/{workspace}/services/")
    screenshot(page, "samples-placeholders")
    param_input(page, "workspace").fill("back")
    expect(page.locator("#sample-curl pre")).to_contain_text("/workspaces/back/")
    expect(page.locator("#samples [data-samples-placeholders]")).to_have_count(0)

    page.get_by_label("Body (application/json)").fill('{"a": 1,}')
    errors = page.locator("#samples [data-samples-errors]")
    expect(errors).to_contain_text(
        "Invalid JSON: Expecting property name enclosed in double quotes"
    )
    expect(page.locator("#samples pre")).to_have_count(0)
    screenshot(page, "samples-form-errors")
    problems_of(page).assert_none()


def test_header_rows_added_and_removed_update_the_samples(
    page: Page, live_server, live_demo_api
) -> None:
    page.goto(live_server.url + RRS_PATH)
    expect(page.locator("#sample-curl pre")).to_contain_text("curl")
    page.get_by_role("button", name="+ Add header").click()
    row = page.locator(".header-row").last
    row.locator("input[name=header_name]").fill("X-E2E")
    row.locator("input[name=header_value]").fill("it's $x & y")
    curl = page.locator("#sample-curl pre")
    expect(curl).to_contain_text("--header 'X-E2E: it'\\''s $x & y'")
    row.get_by_role("button", name="Remove header").click()
    expect(curl).not_to_contain_text("X-E2E")
    problems_of(page).assert_none()


def test_samples_keep_following_the_form_after_a_send(
    page: Page, live_server, live_demo_api
) -> None:
    page.goto(live_server.url + RRS_PATH)
    page.get_by_role("tab", name="Go").click()
    send(page)
    assert result_status(page) == "200 OK"
    # htmx swapped the Try it card; the panel still listens to the new form.
    param_input(page, "service").fill("after-send")
    expect(page.locator("#sample-go pre")).to_contain_text("/services/after-send/execute")
    expect(page.locator("#sample-go")).to_be_visible()
    screenshot(page, "samples-after-send")
    problems_of(page).assert_none()


def test_copy_link_opens_the_page_filled_in_without_secrets(
    clipboard_page: Page, live_server, live_demo_api, context: BrowserContext
) -> None:
    page = clipboard_page
    page.goto(live_server.url + RRS_PATH)
    expect(page.locator("#sample-curl pre")).to_contain_text("curl")
    param_input(page, "workspace").fill("shared ws")
    param_input(page, "details").select_option("false")
    page.get_by_label("Body (application/json)").fill('{"a": "b & c | d 100%"}')
    page.get_by_label("Authorization value").fill("Bearer my-own-secret-key")
    expect(page.locator("#sample-http pre")).to_contain_text('{"a": "b & c | d 100%"}')
    http_before = code(page, "http")

    button = page.locator("[data-copy-link]")
    expect(button).to_have_text("Copy link")
    button.click()
    expect(button).to_have_text("Copied")
    link = clipboard(page)
    assert "my-own-secret-key" not in link and KEY not in link
    assert urlsplit(link).path == RRS_PATH
    # Only what differs from the documented defaults; the header rows differ only in
    # the secret, so they are left out.
    assert dict(parse_qsl(urlsplit(link).query, keep_blank_values=True)) == {
        "p.workspace": "shared ws",
        "p.details": "false",
        "body": '{"a": "b & c | d 100%"}',
    }

    other = new_page(context)
    other.goto(link)
    expect(param_input(other, "workspace")).to_have_value("shared ws")
    expect(param_input(other, "details")).to_have_value("false")
    expect(other.get_by_label("Body (application/json)")).to_have_value('{"a": "b & c | d 100%"}')
    # The secret is not in the link: the recipient's form sends the stored key, unseen.
    expect(other.get_by_label("Authorization value")).to_have_value("")
    expect(other.get_by_label("Authorization value")).to_have_attribute(
        "placeholder", "Stored value will be used"
    )
    assert KEY not in other.content()
    expect(other.locator("#sample-http pre")).to_contain_text("shared%20ws")
    assert code(other, "http") == http_before
    screenshot(other, "samples-opened-from-link")
    problems_of(page).assert_none()
    problems_of(other).assert_none()


def test_without_javascript_the_panel_says_so(no_js_page: Page, live_server, live_demo_api):
    no_js_page.goto(live_server.url + RRS_PATH)
    expect(no_js_page.locator("#samples-body")).to_contain_text("they need JavaScript")
