"""manage.py import_openapi: --dry-run, and the refusal of a document that does not look
like a new version of the API its title names."""

from __future__ import annotations

import io

import pytest
from django.core.management import CommandError, call_command, execute_from_command_line

from catalog.models import Api, Operation
from tests.openapi_documents import ORDERS_V1, ORDERS_V2, OTHER_ORDERS, snapshot

pytestmark = pytest.mark.django_db

V1_LINES = [
    'Imported "Orders" (orders): 4 added, 0 changed, 0 removed.',
    "  added    list-orders  GET /orders",
    "  added    create-order  POST /orders",
    "  added    get-order  GET /orders/{id}",
    "  added    delete-order  DELETE /orders/{id}",
]
# Importing ORDERS_V2 over ORDERS_V1, after the headline.
V2_CHANGES = [
    "  api      version: 1.0 → 2.0",
    "  api      service URL: https://orders.example.com/v1 → https://orders.example.com/v2",
    "  added    cancel-order  POST /orders/{id}/cancel",
    "  changed  list-orders  GET /orders",
    "  removed  delete-order  DELETE /orders/{id}",
    "  2 unchanged.",
]
OTHER_PLAN = [
    'Plan for "Orders" (orders), an existing API: 0 added, 3 changed, 1 removed.',
    "  api      version: 1.0 → 7",
    "  api      service URL: https://orders.example.com/v1 → https://shop.example.net/api",
    "  api      description changed",
    "  changed  list-orders  GET /orders",
    "  changed  create-order  POST /orders",
    "  changed  get-order  GET /orders/{id}",
    "  removed  delete-order  DELETE /orders/{id}",
]
MISMATCH = (
    'the API "Orders" (orders) exists and the document does not look like a new version of '
    "it:\n"
    "  the document's service URL https://shop.example.net/api is not on the origin of the "
    "API's https://orders.example.com/v1\n"
    "  0 of the API's 4 operations are in the document under the same operationId (or verb "
    "and path)"
)


def write(tmp_path, name: str, text: str) -> str:
    path = tmp_path / name
    path.write_text(text)
    return str(path)


def run(*args: str) -> str:
    out = io.StringIO()
    call_command("import_openapi", *args, stdout=out)
    return out.getvalue()


@pytest.fixture
def orders(tmp_path) -> str:
    """The Orders API imported from its first version."""
    assert run(write(tmp_path, "v1.yaml", ORDERS_V1)).splitlines() == V1_LINES
    return "orders"


def test_dry_run_of_a_new_api_prints_the_plan_and_writes_nothing(tmp_path):
    output = run(write(tmp_path, "v1.yaml", ORDERS_V1), "--dry-run")
    assert output.splitlines() == [
        'Plan for "Orders" (orders), a new API: 4 added, 0 changed, 0 removed.',
        *V1_LINES[1:],
        "Dry run: nothing was written.",
    ]
    assert not Api.objects.exists()
    assert not Operation.objects.exists()


def test_dry_run_of_a_new_version_prints_the_changes_and_writes_nothing(tmp_path, orders):
    before = snapshot()
    output = run(write(tmp_path, "v2.yaml", ORDERS_V2), "--dry-run")
    assert output.splitlines() == [
        'Plan for "Orders" (orders), an existing API: 1 added, 1 changed, 1 removed.',
        *V2_CHANGES,
        "Dry run: nothing was written.",
    ]
    assert snapshot() == before


def test_a_new_version_still_updates_in_place(tmp_path, orders):
    api = Api.objects.get(slug=orders)
    ids = dict(api.operations.values_list("slug", "pk"))
    output = run(write(tmp_path, "v2.yaml", ORDERS_V2))
    assert output.splitlines() == [
        'Imported "Orders" (orders): 1 added, 1 changed, 1 removed.',
        *V2_CHANGES,
    ]
    api.refresh_from_db()
    assert (api.version, api.service_url) == ("2.0", "https://orders.example.com/v2")
    assert dict(api.operations.exclude(slug="cancel-order").values_list("slug", "pk")) == ids
    assert list(api.operations.current().values_list("slug", flat=True)) == [
        "list-orders",
        "create-order",
        "get-order",
        "cancel-order",
    ]


def test_another_document_with_the_same_title_is_refused(tmp_path, orders):
    path = write(tmp_path, "other.yaml", OTHER_ORDERS)
    before = snapshot()
    count = Operation.objects.count()
    out = io.StringIO()
    with pytest.raises(CommandError) as caught:
        call_command("import_openapi", path, stdout=out)
    assert str(caught.value) == (
        f"{path}: nothing imported: {MISMATCH}\n"
        "Run again with --api SLUG: --api orders to update this API all the same, or a new "
        "slug to import the document as another API. --dry-run shows the plan and writes "
        "nothing."
    )
    # The plan was shown first.
    assert out.getvalue().splitlines() == OTHER_PLAN
    assert Operation.objects.count() == count == 4
    assert snapshot() == before


def test_the_refusal_exits_non_zero(tmp_path, orders, capsys, monkeypatch):
    path = write(tmp_path, "other.yaml", OTHER_ORDERS)
    before = snapshot()
    # A failing command closes every connection as it exits; the test's transaction holds
    # its connection (PostgreSQL cannot reopen one inside it) to read what was written.
    monkeypatch.setattr("django.db.connections.close_all", lambda: None)
    with pytest.raises(SystemExit) as caught:
        execute_from_command_line(["manage.py", "import_openapi", path])
    assert caught.value.code == 1
    captured = capsys.readouterr()
    assert captured.out.splitlines() == OTHER_PLAN
    assert captured.err.startswith(f"CommandError: {path}: nothing imported: the API ")
    assert "Run again with --api SLUG" in captured.err and "--dry-run" in captured.err
    assert snapshot() == before


def test_dry_run_of_a_refused_import_says_so_and_writes_nothing(tmp_path, orders):
    before = snapshot()
    output = run(write(tmp_path, "other.yaml", OTHER_ORDERS), "--dry-run")
    assert output.splitlines() == [
        *OTHER_PLAN,
        *f"Without --api this import is refused: {MISMATCH}".splitlines(),
        "--api orders updates this API all the same; a new slug imports the document as "
        "another API.",
        "Dry run: nothing was written.",
    ]
    assert snapshot() == before


def test_with_api_the_other_document_updates_the_api(tmp_path, orders):
    output = run(write(tmp_path, "other.yaml", OTHER_ORDERS), "--api", "orders")
    assert output.splitlines() == [
        'Imported "Orders" (orders): 0 added, 3 changed, 1 removed.',
        *OTHER_PLAN[1:],
    ]
    api = Api.objects.get(slug="orders")
    assert api.service_url == "https://shop.example.net/api"
    assert list(api.operations.current().values_list("operation_id", flat=True)) == [
        "findOrders",
        "addOrder",
        "orderById",
    ]


def test_with_a_new_slug_the_other_document_becomes_another_api(tmp_path, orders):
    before = snapshot()
    output = run(write(tmp_path, "other.yaml", OTHER_ORDERS), "--api", "shop-orders")
    assert output.splitlines()[0] == (
        'Imported "Orders" (shop-orders): 3 added, 0 changed, 0 removed.'
    )
    assert [row for row in snapshot() if "shop-orders" not in row] == before
    assert Operation.objects.filter(api__slug="shop-orders").count() == 3


def test_dry_run_with_api_prints_the_plan_without_the_refusal(tmp_path, orders):
    before = snapshot()
    output = run(write(tmp_path, "other.yaml", OTHER_ORDERS), "--api", "orders", "--dry-run")
    assert output.splitlines() == [*OTHER_PLAN, "Dry run: nothing was written."]
    assert snapshot() == before


def test_dry_run_of_a_bad_document_lists_its_problems(tmp_path):
    path = write(tmp_path, "bad.yaml", "openapi: 3.0.3\ninfo: {title: Bad}\npaths: {}\n")
    with pytest.raises(CommandError) as caught:
        run(path, "--dry-run")
    assert str(caught.value) == (
        f"{path}: nothing imported, 1 problem:\n"
        "  /servers: the document has no server; give the service URL (--service-url or the "
        "admin field)"
    )
    assert not Api.objects.exists()
