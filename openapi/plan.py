"""What an OpenAPI import would do, told before anything is written.

A plan is the document read, the changes writing it would make (added, changed and
removed operations, the API's own fields), and whether the document looks like a new
version of the API it would update. It does not when either holds (docs/design.md,
"OpenAPI import"):

- its service URL is on another origin (scheme, host, port) than the API's;
- fewer than half of the API's current operations are in it under the same operationId
  (or, where either side has none, the same verb and path).

Such an import goes ahead only when the slug was named (--api, or the admin's choice).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import urlsplit

from catalog.models import Api, Operation
from catalog.validators import DEFAULT_PORTS
from openapi.plans import ApiPlan, ImportSummary
from openapi.reader import read_document
from openapi.sync import normalised_path, preview_import, write_plan


@dataclass
class ImportPlan:
    reading: ApiPlan
    # What writing would change; its api is unsaved when the import creates it.
    summary: ImportSummary
    # The API's name before the import, when it updates one.
    existing_name: str = ""
    # Why the document does not look like a new version of the API it would update.
    mismatches: list[str] = field(default_factory=list)

    @property
    def creates_api(self) -> bool:
        return self.summary.created_api

    @property
    def same_identity(self) -> bool:
        return not self.mismatches

    @property
    def headline(self) -> str:
        summary = self.summary
        target = "a new API" if self.creates_api else "an existing API"
        return (
            f'Plan for "{summary.api.name}" ({summary.api.slug}), {target}: '
            f"{len(summary.added)} added, {len(summary.changed)} changed, "
            f"{len(summary.removed)} removed."
        )

    def lines(self) -> list[str]:
        return [self.headline, *self.summary.change_lines()]

    def fingerprint(self) -> str:
        return self.summary.fingerprint()


def _origin(url: str) -> tuple[str, str, int | None]:
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    try:
        port = parts.port
    except ValueError:
        port = None
    return scheme, (parts.hostname or "").lower(), port or DEFAULT_PORTS.get(scheme)


def _operation_share(reading: ApiPlan, api: Api) -> tuple[int, int]:
    """(kept, current): how many of the API's current operations the document keeps."""
    ids = {plan.operation_id for plan in reading.operations if plan.operation_id}
    paths = {(plan.method, normalised_path(plan.url_template)) for plan in reading.operations}
    paths_without_id = {
        (plan.method, normalised_path(plan.url_template))
        for plan in reading.operations
        if not plan.operation_id
    }
    rows = (
        Operation.objects.filter(api=api)
        .current()
        .values_list("operation_id", "method", "url_template")
    )
    kept = current = 0
    for operation_id, method, url_template in rows:
        current += 1
        key = (method, normalised_path(url_template))
        if operation_id:
            kept += operation_id in ids or key in paths_without_id
        else:
            kept += key in paths
    return kept, current


def identity_mismatches(*, reading: ApiPlan, api: Api) -> list[str]:
    """Why a read document does not look like a new version of the API; [] when it does."""
    mismatches = []
    if _origin(reading.service_url) != _origin(api.service_url):
        mismatches.append(
            f"the document's service URL {reading.service_url} is not on the origin of the "
            f"API's {api.service_url}"
        )
    kept, current = _operation_share(reading, api)
    if current and kept * 2 < current:
        mismatches.append(
            f"{kept} of the API's {current} operations are in the document under the same "
            "operationId (or verb and path)"
        )
    return mismatches


def plan_import(
    *,
    document: dict,
    api_slug: str | None = None,
    service_url: str | None = None,
    document_url: str | None = None,
) -> ImportPlan:
    """What importing the document would do; writes nothing, raises OpenApiError."""
    reading = read_document(
        document=document,
        api_slug=api_slug,
        service_url=service_url,
        document_url=document_url,
    )
    api = Api.objects.filter(slug=reading.slug).first()
    plan = ImportPlan(reading=reading, summary=preview_import(plan=reading))
    if api is not None:
        plan.existing_name = api.name
        plan.mismatches = identity_mismatches(reading=reading, api=api)
    return plan


def apply_plan(*, plan: ImportPlan) -> ImportSummary:
    """Write the plan; raises PlanChanged when the API changed since it was made."""
    return write_plan(plan=plan.reading, expected=plan.fingerprint())


def free_slug(*, base: str) -> str:
    """A slug no API has: base-2, base-3 ... (for importing a document as another API)."""
    base = base[:96].rstrip("-") or "api"
    taken = set(Api.objects.filter(slug__startswith=base).values_list("slug", flat=True))
    counter = 2
    while f"{base}-{counter}" in taken:
        counter += 1
    return f"{base}-{counter}"
