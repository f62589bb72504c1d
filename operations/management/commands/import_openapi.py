import sys
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError, CommandParser

from operations.openapi import OpenApiError, import_openapi, load_document


class Command(BaseCommand):
    help = (
        "Import an OpenAPI document (Swagger 2.0, OpenAPI 3.0, 3.1 or 3.2; JSON or YAML) as an "
        "API. Importing into an existing API (same slug) synchronises it: operations are "
        "added, updated or marked removed. Nothing is fetched: external $refs are refused."
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

    def handle(self, *args, **options) -> None:
        path = options["path"]
        try:
            document = load_document(text=self._read(path))
            summary = import_openapi(
                document=document,
                api_slug=options["api_slug"],
                service_url=options["service_url"],
            )
        except OpenApiError as error:
            count = len(error.problems)
            problems = "\n".join(f"  {problem}" for problem in error.problems)
            raise CommandError(
                f"{path}: nothing imported, {count} problem{'s' if count != 1 else ''}:\n{problems}"
            ) from None
        headline, *rest = summary.lines()
        self.stdout.write(self.style.SUCCESS(headline))
        for line in rest:
            self.stdout.write(line)

    def _read(self, path: str) -> bytes:
        if path == "-":
            return sys.stdin.buffer.read()
        try:
            return Path(path).read_bytes()
        except OSError as error:
            raise CommandError(f"Cannot read {path}: {error}") from None
