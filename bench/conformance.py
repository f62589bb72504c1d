"""The share of operations whose Try it request, exactly as the page prefills it, a
third-party validator accepts.

    .venv/bin/python bench/conformance.py [--operations 200] [--seed 0]

For each document (the realistic generated ones of tests/openapi_generator.py, OpenAPI
3.0 and 3.1, and every document in tests/specs/), a Prism mock of the document
validates every request (tests/prism.py). The document is imported into a throw-away
portal database with the mock as its service URL; then, for each operation, its page
is opened, still-empty required fields are filled as a user would (tests/tryit_user.py)
and Send is pressed. An operation conforms when Prism finds no request error. Printed:
per document, conforming / sent, and each failure with Prism's words. Goal: 100 %; the
exit status is 1 below it.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.report import Report
from bench.workspace import workspace


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--operations", type=int, default=200)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    with workspace("conformance") as space:
        space.setup_django()
        import yaml
        from django.test import Client

        from catalog.models import Operation
        from openapi.sync import import_openapi
        from tests.openapi_generator import write_document
        from tests.prism import prism_mock, violations
        from tests.tryit_user import send_as_prefilled

        specs = Path(__file__).resolve().parent.parent / "tests" / "specs"
        documents: list[Path] = []
        tmp = Path(tempfile.mkdtemp(prefix="conformance-"))
        for version in ("3.0.3", "3.1.0"):
            documents.append(
                write_document(
                    tmp / f"generated-{version}.yaml",
                    operations=args.operations,
                    seed=args.seed,
                    version=version,
                )
            )
        documents.extend(sorted(specs.glob("*.yaml")) + sorted(specs.glob("*.json")))
        total_sent = total_ok = 0
        for path in documents:
            with prism_mock(path) as url:
                document = yaml.safe_load(path.read_text())
                summary = import_openapi(document=document, service_url=url, api_slug=None)
                client = Client(SERVER_NAME="127.0.0.1")
                failures: list[str] = []
                sent = ok = 0
                for operation in Operation.objects.filter(api=summary.api).order_by("order"):
                    label = f"{operation.method} {operation.url_template}"
                    exchange = send_as_prefilled(client=client, operation=operation)
                    sent += 1
                    if exchange is None:
                        failures.append(f"{label}: the form refused to send")
                        continue
                    if exchange.status_code is None:
                        failures.append(f"{label}: not sent ({exchange.error_message})")
                        continue
                    problems = violations(
                        headers=exchange.response_headers, body=bytes(exchange.response_body)
                    )
                    if problems:
                        failures.append(f"{label}: {'; '.join(problems)[:300]}")
                    else:
                        ok += 1
            total_sent += sent
            total_ok += ok
            share = 100 * ok / sent if sent else 100.0
            print(f"{path.name:<32} {ok:>4} / {sent:<4} conform ({share:.1f} %)", flush=True)
            for failure in failures[:20]:
                print(f"    {failure}")
        share = 100 * total_ok / total_sent if total_sent else 100.0
        report = Report("Conformance (bench/conformance.py)")
        report.figure(
            "operations whose request Prism accepts",
            f"{total_ok} / {total_sent} ({share:.1f} %)",
            "100 %",
            total_ok == total_sent,
        )
        return report.exit_code()


if __name__ == "__main__":
    raise SystemExit(main())
