"""Small OpenAPI documents for the import-plan tests: an Orders API, its next version, and
another document with the same title (another backend, other operation ids); a snapshot
of what is stored, to show that a preview or a refusal wrote nothing; and the admin
preview's confirmation."""

from __future__ import annotations

from catalog.models import Api, Operation

ORDERS_V1 = """\
openapi: 3.0.3
info: {title: Orders, version: "1.0"}
servers: [{url: "https://orders.example.com/v1"}]
paths:
  /orders:
    get: {operationId: listOrders, responses: {"200": {description: The orders}}}
    post: {operationId: createOrder, responses: {"201": {description: Created}}}
  /orders/{id}:
    parameters: [{name: id, in: path, required: true, schema: {type: string}}]
    get: {operationId: getOrder, responses: {"200": {description: The order}}}
    delete: {operationId: deleteOrder, responses: {"204": {description: Deleted}}}
"""

# The next version: same backend (another base path), one operation changed, one removed,
# one added.
ORDERS_V2 = """\
openapi: 3.0.3
info: {title: Orders, version: "2.0"}
servers: [{url: "https://orders.example.com/v2"}]
paths:
  /orders:
    get:
      operationId: listOrders
      parameters: [{name: status, in: query, schema: {type: string}}]
      responses: {"200": {description: The orders}}
    post: {operationId: createOrder, responses: {"201": {description: Created}}}
  /orders/{id}:
    parameters: [{name: id, in: path, required: true, schema: {type: string}}]
    get: {operationId: getOrder, responses: {"200": {description: The order}}}
  /orders/{id}/cancel:
    parameters: [{name: id, in: path, required: true, schema: {type: string}}]
    post: {operationId: cancelOrder, responses: {"200": {description: Cancelled}}}
"""

# Another API that happens to be called Orders: imported over ORDERS_V1 it would change
# three operations and remove one.
OTHER_ORDERS = """\
openapi: 3.0.3
info: {title: Orders, version: "7", description: The shop's orders.}
servers: [{url: "https://shop.example.net/api"}]
paths:
  /orders:
    get: {operationId: findOrders, responses: {"200": {description: Found}}}
    post: {operationId: addOrder, responses: {"201": {description: Added}}}
  /orders/{id}:
    parameters: [{name: id, in: path, required: true, schema: {type: string}}]
    get: {operationId: orderById, responses: {"200": {description: Found}}}
"""


def snapshot() -> list[tuple]:
    """Every API and operation as stored, to compare before and after."""
    apis = list(
        Api.objects.order_by("slug").values_list(
            "slug", "name", "version", "service_url", "description"
        )
    )
    operations = list(
        Operation.objects.order_by("api__slug", "slug").values_list(
            "api__slug", "slug", "operation_id", "method", "url_template", "removed", "description"
        )
    )
    return [*apis, *operations]


def confirmation(preview, **choice: str) -> dict:
    """What the admin's preview page posts to confirm, with the choice made on it."""
    form = preview.context["form"]
    return {"token": form["token"].value(), "fingerprint": form["fingerprint"].value(), **choice}
