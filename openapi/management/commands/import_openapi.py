import sys
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError, CommandParser

from openapi.documents import load_document
from openapi.plan import ImportPlan, apply_plan, plan_import
from openapi.plans import OpenApiError


def mismatch(plan: ImportPlan) -> str:
    """The API the document's title names, and why the document does not look like it."""
    reasons = "\n".join(f"  {reason}" for reason in plan.mismatches)
    return (
        f'the API "{plan.existing_name}" ({plan.summary.api.slug}) exists and the document '
        f"does not look like a new version of it:\n{reasons}"
    )


def mismatch_refusal(*, path: str, plan: ImportPlan) -> str:
    return (
        f"{path}: nothing imported: {mismatch(plan)}\n"
        f"Run again with --api SLUG: --api {plan.summary.api.slug} to update this API all the "
        "same, or a new slug to import the document as another API. --dry-run shows the plan "
        "and writes nothing."
    )


class Command(BaseCommand):
    help = (
        "Import an OpenAPI document (Swagger 2.0, OpenAPI 3.0, 3.1 or 3.2; JSON or YAML) as an "
        "API. Importing into an existing API (same slug) synchronises it: operations are "
        "added, updated or marked removed. A document that does not look like a new version "
        "of the API its title names is refused unless --api names the slug. Nothing is "
        "fetched: external $refs are refused."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("path", help="The document to read; - for standard input.")
        parser.add_argument(
            "--api",
            dest="api_slug",
            help="Slug of the API to create or update (default: from the document's title).",
        )
        parser.add_argument(
            "--service-url",
            help="Base URL of the backend, instead of the document's servers (or host).",
        )
        parser.add_argument(
            "--document-url",
            help="The URL the document was downloaded from: relative server URLs are resolved "
            "against it (nothing is fetched).",
        )
        parser.add_argument(
            "--dry-run",
            action="store_true",
            help="Print what the import would add, change and remove; write nothing.",
        )

    def handle(self, *args, **options) -> None:
        path = options["path"]
        try:
            plan = plan_import(
                document=load_document(text=self._read(path)),
                api_slug=options["api_slug"],
                service_url=options["service_url"],
                document_url=options["document_url"],
            )
        except OpenApiError as error:
            raise self._problems(path, error) from None
        refused = not plan.same_identity and options["api_slug"] is None
        if options["dry_run"] or refused:
            self._write_lines(plan.lines())
        if refused and not options["dry_run"]:
            raise CommandError(mismatch_refusal(path=path, plan=plan))
        if options["dry_run"]:
            if refused:
                self.stdout.write(
                    self.style.WARNING(
                        f"Without --api this import is refused: {mismatch(plan)}\n"
                        f"--api {plan.summary.api.slug} updates this API all the same; a new "
                        "slug imports the document as another API."
                    )
                )
            self.stdout.write("Dry run: nothing was written.")
            return
        try:
            summary = apply_plan(plan=plan)
        except OpenApiError as error:
            raise self._problems(path, error) from None
        self._write_lines(summary.lines())

    def _write_lines(self, lines: list[str]) -> None:
        headline, *rest = lines
        self.stdout.write(self.style.SUCCESS(headline))
        for line in rest:
            self.stdout.write(line)

    def _problems(self, path: str, error: OpenApiError) -> CommandError:
        count = len(error.problems)
        problems = "\n".join(f"  {problem}" for problem in error.problems)
        return CommandError(
            f"{path}: nothing imported, {count} problem{'s' if count != 1 else ''}:\n{problems}"
        )

    def _read(self, path: str) -> bytes:
        if path == "-":
            return sys.stdin.buffer.read()
        try:
            return Path(path).read_bytes()
        except OSError as error:
            raise CommandError(f"Cannot read {path}: {error}") from None
