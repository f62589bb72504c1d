"""Write a plan to the database: a new API, or the existing one synchronised.

- Operations are matched by operationId, else by verb and path (placeholder names aside);
  a changed one has its parameters and responses replaced; one gone from the document is
  marked removed (kept, so saved requests can say so) and comes back un-removed (listed
  as added and restored). Order alone does not count as a change.
- Slugs: `x-portal-slug` (which the portal's export writes), else operationId, else verb
  and path, split at camel case: getUserByName → get-user-by-name; unique within the API;
  an existing operation keeps its slug, so links and saved requests stay valid.
- Servers: the API's extra servers (ApiServer) become the plan's, matched by URL; the
  summary lists those added, removed and described anew.
- Preview: preview_import computes the changes the write would make, from the same code,
  and writes nothing; write_plan(expected=...) recomputes them under a row lock and
  refuses (PlanChanged) when they are not the previewed ones.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.db import IntegrityError, transaction
from django.utils.text import slugify

from catalog.models import Api, ApiServer, Operation, Parameter, ResponseDoc
from openapi.parameters import PLACEHOLDER
from openapi.plans import ApiPlan, ImportSummary, OpenApiError, OperationPlan, ServerPlan
from openapi.reader import read_document

BATCH_SIZE = 500


def normalised_path(template: str) -> str:
    return PLACEHOLDER.sub("{}", template.partition("?")[0])


def _unique_slug(base: str, taken: set[str]) -> str:
    base = base or "operation"
    slug, counter = base, 2
    while slug in taken:
        suffix = f"-{counter}"
        slug = base[: 100 - len(suffix)].rstrip("-") + suffix
        counter += 1
    taken.add(slug)
    return slug


def _camel_words(text: str) -> str:
    text = re.sub(r"([a-z0-9])([A-Z])", r"\1 \2", text)
    text = re.sub(r"([A-Z]+)([A-Z][a-z])", r"\1 \2", text)
    return re.sub(r"[^A-Za-z0-9]+", " ", text)


def slug_base(text: str) -> str:
    """getUserByName → get-user-by-name; "GET /pets/{petId}" → get-pets-pet-id."""
    return slugify(_camel_words(text))[:100].strip("-")


OPERATION_FIELDS = (
    "name",
    "method",
    "url_template",
    "description",
    "tags",
    "operation_id",
    "deprecated",
    "request_content_type",
    "body_example",
    "openapi",
)
PARAMETER_FIELDS = (
    "name",
    "location",
    "required",
    "default",
    "allowed_values",
    "type",
    "description",
    "secret",
    "order",
)
RESPONSE_FIELDS = ("status_code", "description", "content_type", "example")


def _chunks(items: list, size: int = BATCH_SIZE) -> Iterable[list]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


@dataclass
class _Sync:
    """What writing a plan changes, computed from the database without writing."""

    api: Api
    summary: ImportSummary
    to_create: list[Operation] = field(default_factory=list)
    to_update: list[Operation] = field(default_factory=list)
    to_reorder: list[Operation] = field(default_factory=list)
    gone: list[Operation] = field(default_factory=list)
    replaced: list[int] = field(default_factory=list)
    detail_owners: list[tuple[Operation, OperationPlan]] = field(default_factory=list)
    servers_to_create: list[ServerPlan] = field(default_factory=list)
    servers_to_update: list[ApiServer] = field(default_factory=list)
    servers_gone: list[int] = field(default_factory=list)


def _sync_servers(sync: _Sync, plan: ApiPlan, *, created_api: bool) -> None:
    """The extra servers become the plan's, matched by URL; the summary says which
    were added, removed or described anew (order alone is no change)."""
    existing = {} if created_api else {server.url: server for server in sync.api.servers.all()}
    summary = sync.summary
    for server_plan in plan.servers:
        server = existing.pop(server_plan.url, None)
        if server is None:
            sync.servers_to_create.append(server_plan)
            summary.servers_added.append(server_plan.url)
            continue
        if server.description != server_plan.description:
            summary.servers_changed.append(server_plan.url)
        if (server.description, server.order) != (server_plan.description, server_plan.order):
            server.description, server.order = server_plan.description, server_plan.order
            sync.servers_to_update.append(server)
    for server in existing.values():
        sync.servers_gone.append(server.pk)
        summary.servers_removed.append(server.url)


def _api_changes(api: Api, plan: ApiPlan) -> list[str]:
    def shown(value: str) -> str:
        return value or "(none)"

    changes = []
    if api.name != plan.name:
        changes.append(f'name: "{api.name}" → "{plan.name}"')
    if api.version != plan.version:
        changes.append(f"version: {shown(api.version)} → {shown(plan.version)}")
    if api.service_url != plan.service_url:
        changes.append(f"service URL: {shown(api.service_url)} → {plan.service_url}")
    if api.description != plan.description:
        changes.append("description changed")
    if api.openapi != plan.openapi:
        changes.append("schemas or security schemes changed")
    return changes


def _sync(plan: ApiPlan, api: Api | None) -> _Sync:
    created_api = api is None
    if api is None:
        api = Api(slug=plan.slug, url_suffix=plan.slug)
    api_changes = [] if created_api else _api_changes(api, plan)
    api.name = plan.name
    api.description = plan.description
    api.version = plan.version
    api.service_url = plan.service_url
    api.openapi = plan.openapi
    if not api.url_suffix:
        api.url_suffix = plan.slug

    existing: list[Operation] = []
    parameters: dict[int, list[tuple]] = {}
    responses: dict[int, list[tuple]] = {}
    if not created_api:
        existing = list(
            Operation.objects.filter(api=api).only(
                "id", "slug", "removed", "order", *OPERATION_FIELDS
            )
        )
        parameter_rows = (
            Parameter.objects.filter(operation__api=api)
            .order_by("operation", "order", "id")
            .values_list("operation_id", *PARAMETER_FIELDS)
        )
        for operation_id, *values in parameter_rows:
            parameters.setdefault(operation_id, []).append(tuple(values))
        response_rows = (
            ResponseDoc.objects.filter(operation__api=api)
            .order_by("operation", "id")
            .values_list("operation_id", *RESPONSE_FIELDS)
        )
        for operation_id, *values in response_rows:
            responses.setdefault(operation_id, []).append(tuple(values))

    matches = _match(plan.operations, existing)
    taken = {operation.slug for operation in existing}
    summary = ImportSummary(
        api=api,
        created_api=created_api,
        added=[],
        changed=[],
        removed=[],
        unchanged=0,
        api_changes=api_changes,
    )
    summary.notes = list(plan.notes)
    sync = _Sync(api=api, summary=summary)
    _sync_servers(sync, plan, created_api=created_api)
    for operation_plan in plan.operations:
        fields = operation_plan.fields()
        operation = matches.get(id(operation_plan))
        if operation is None:
            base = (
                operation_plan.slug_hint
                or slug_base(operation_plan.operation_id)
                or slug_base(operation_plan.label)
            )
            operation = Operation(
                api=api,
                slug=_unique_slug(base, taken),
                order=operation_plan.order,
                **fields,
            )
            sync.to_create.append(operation)
            sync.detail_owners.append((operation, operation_plan))
            summary.added.append(operation.slug)
            summary.labels[operation.slug] = operation_plan.label
            continue
        summary.labels[operation.slug] = operation_plan.label
        same = (
            all(getattr(operation, name) == value for name, value in fields.items())
            and parameters.get(operation.pk, []) == [p.key() for p in operation_plan.parameters]
            and responses.get(operation.pk, []) == [r.key() for r in operation_plan.responses]
        )
        if same and not operation.removed:
            summary.unchanged += 1
            if operation.order != operation_plan.order:
                operation.order = operation_plan.order
                sync.to_reorder.append(operation)
            continue
        if operation.removed:
            summary.added.append(operation.slug)
            summary.restored.append(operation.slug)
        else:
            summary.changed.append(operation.slug)
        for name, value in fields.items():
            setattr(operation, name, value)
        operation.order = operation_plan.order
        operation.removed = False
        sync.to_update.append(operation)
        if not same:
            sync.replaced.append(operation.pk)
            sync.detail_owners.append((operation, operation_plan))

    matched_ids = {operation.pk for operation in matches.values()}
    sync.gone = [op for op in existing if op.pk not in matched_ids and not op.removed]
    for operation in sync.gone:
        summary.removed.append(operation.slug)
        summary.labels[operation.slug] = f"{operation.method} {operation.url_template}"
    return sync


def _write_servers(sync: _Sync) -> None:
    ApiServer.objects.filter(pk__in=sync.servers_gone).delete()
    ApiServer.objects.bulk_update(sync.servers_to_update, ["description", "order"])
    ApiServer.objects.bulk_create(
        ApiServer(api=sync.api, url=s.url, description=s.description, order=s.order)
        for s in sync.servers_to_create
    )


def _write(sync: _Sync) -> ImportSummary:
    sync.api.save()
    _write_servers(sync)
    Operation.objects.bulk_create(sync.to_create, batch_size=BATCH_SIZE)
    if sync.to_update:
        Operation.objects.bulk_update(
            sync.to_update, [*OPERATION_FIELDS, "order", "removed"], batch_size=BATCH_SIZE
        )
    if sync.to_reorder:
        Operation.objects.bulk_update(sync.to_reorder, ["order"], batch_size=BATCH_SIZE)
    for chunk in _chunks([operation.pk for operation in sync.gone]):
        Operation.objects.filter(pk__in=chunk).update(removed=True)
    for chunk in _chunks(sync.replaced):
        Parameter.objects.filter(operation_id__in=chunk).delete()
        ResponseDoc.objects.filter(operation_id__in=chunk).delete()
    Parameter.objects.bulk_create(
        (
            Parameter(operation=operation, **{name: getattr(p, name) for name in PARAMETER_FIELDS})
            for operation, operation_plan in sync.detail_owners
            for p in operation_plan.parameters
        ),
        batch_size=BATCH_SIZE * 2,
    )
    ResponseDoc.objects.bulk_create(
        (
            ResponseDoc(operation=operation, **{name: getattr(r, name) for name in RESPONSE_FIELDS})
            for operation, operation_plan in sync.detail_owners
            for r in operation_plan.responses
        ),
        batch_size=BATCH_SIZE * 2,
    )
    return sync.summary


def _match(plans: list[OperationPlan], existing: list[Operation]) -> dict[int, Operation]:
    """Existing operations for the plans: by operationId, else by verb and path."""
    by_id: dict[str, Operation] = {}
    by_path: dict[tuple[str, str], list[Operation]] = {}
    # Current operations first, so that they win over removed ones of the same id or path.
    for operation in sorted(existing, key=lambda op: (op.removed, op.order, op.pk)):
        if operation.operation_id:
            by_id.setdefault(operation.operation_id, operation)
        key = (operation.method, normalised_path(operation.url_template))
        by_path.setdefault(key, []).append(operation)
    matches: dict[int, Operation] = {}
    used: set[int] = set()
    for plan in plans:
        by_operation_id = by_id.get(plan.operation_id) if plan.operation_id else None
        if by_operation_id is not None and by_operation_id.pk not in used:
            matches[id(plan)] = by_operation_id
            used.add(by_operation_id.pk)
    for plan in plans:
        if id(plan) in matches:
            continue
        candidates = by_path.get((plan.method, normalised_path(plan.url_template)), [])
        by_path_match = next((op for op in candidates if op.pk not in used), None)
        if by_path_match is not None:
            matches[id(plan)] = by_path_match
            used.add(by_path_match.pk)
    return matches


def preview_import(*, plan: ApiPlan) -> ImportSummary:
    """What writing the plan would change (its api unsaved when new); writes nothing."""
    return _sync(plan, Api.objects.filter(slug=plan.slug).first()).summary


class PlanChanged(OpenApiError):
    """The API changed between a preview and the write; nothing was written."""


def write_plan(*, plan: ApiPlan, expected: str | None = None) -> ImportSummary:
    """Create or synchronise the API a read document describes, in one transaction.

    With `expected` (a previewed summary's fingerprint), raises PlanChanged instead of
    writing when the changes differ from the preview's. Raises OpenApiError when another
    import wrote the API at the same moment; then nothing has changed.
    """
    try:
        with transaction.atomic():
            sync = _sync(plan, Api.objects.select_for_update().filter(slug=plan.slug).first())
            if expected is not None and sync.summary.fingerprint() != expected:
                raise PlanChanged(
                    [
                        f"api: the API {plan.slug!r} changed since the preview; nothing was "
                        "imported, review the new plan"
                    ]
                )
            return _write(sync)
    except IntegrityError:
        # Another import created the API (or its operations) at the same moment.
        raise OpenApiError(
            [
                f"api: the API {plan.slug!r} changed during the import; nothing was imported, "
                "import again"
            ]
        ) from None


def import_openapi(
    *,
    document: dict,
    api_slug: str | None = None,
    service_url: str | None = None,
    document_url: str | None = None,
) -> ImportSummary:
    """Create or synchronise the API a document describes, in one transaction.

    Raises OpenApiError listing every problem found; then nothing has changed.
    """
    return write_plan(
        plan=read_document(
            document=document,
            api_slug=api_slug,
            service_url=service_url,
            document_url=document_url,
        )
    )
