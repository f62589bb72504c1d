"""What Try it sends, exactly as prefilled (required fields a page leaves empty filled as
a user would), judged by a third party: Prism mocks each test document and validates
every request against it (tests/prism.py)."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from django.test import Client

from catalog.models import Operation
from openapi.sync import import_openapi
from tests.prism import prism_mock, violations
from tests.tryit_user import send_as_prefilled

SPECS = Path(__file__).resolve().parent.parent / "specs"
DOCUMENTS = ["oas30-conformance.yaml", "oas30-parameters.yaml", "oas30-bodies.yaml"]


@pytest.fixture
def open_outbound(settings) -> None:
    settings.PORTAL_OUTBOUND_ALLOWED_PORTS = ["*"]
    settings.PORTAL_TRY_IT_RATE_LIMIT = 10_000


def _verdicts(document: Path) -> dict[str, list[str]]:
    """Each operation's problems: the validator's, or why nothing was sent."""
    with prism_mock(document) as url:
        summary = import_openapi(document=yaml.safe_load(document.read_text()), service_url=url)
        client = Client()
        verdicts: dict[str, list[str]] = {}
        for operation in Operation.objects.filter(api=summary.api).order_by("order"):
            label = f"{operation.method} {operation.url_template} ({operation.operation_id})"
            exchange = send_as_prefilled(client=client, operation=operation)
            if exchange is None:
                verdicts[label] = ["the form refused to send"]
            elif exchange.status_code is None:
                verdicts[label] = [f"not sent: {exchange.error_message}"]
            else:
                verdicts[label] = violations(
                    headers=exchange.response_headers, body=bytes(exchange.response_body)
                )
    return verdicts


@pytest.mark.django_db
@pytest.mark.usefixtures("open_outbound")
@pytest.mark.parametrize("name", DOCUMENTS)
def test_every_operation_sends_what_its_document_accepts(name: str) -> None:
    verdicts = _verdicts(SPECS / name)
    failing = {label: problems for label, problems in verdicts.items() if problems}
    assert verdicts
    assert failing == {}, f"{len(failing)} of {len(verdicts)} operations do not conform"
