import sys
from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser

from testing.collection_check import CollectionFileError
from testing.collection_import import import_collection


class Command(BaseCommand):
    help = (
        "Create a collection from a YAML or JSON file written by export_collection. "
        "Never replaces a collection: a name already taken gets a (2) suffix."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", help="The file to read; - for standard input.")
        parser.add_argument(
            "--owner", required=True, help="Username of the new collection's owner."
        )
        parser.add_argument("--name", help="Name for the collection instead of the file's.")

    def handle(self, *args, **options) -> None:
        owner = get_user_model().objects.filter(username=options["owner"]).first()
        if owner is None:
            raise CommandError(f'No user "{options["owner"]}".')
        text = self._read(options["file"])
        try:
            collection = import_collection(text=text, owner=owner, name=options["name"])
        except CollectionFileError as error:
            problems = "\n".join(f"  {problem}" for problem in error.problems)
            raise CommandError(
                f"{options['file']}: nothing imported, {len(error.problems)} "
                f"problem{'s' if len(error.problems) != 1 else ''}:\n{problems}"
            ) from None
        secrets = collection.variables.filter(secret=True, value="").count()
        self.stdout.write(
            self.style.SUCCESS(
                f'Imported "{collection.name}" (id {collection.pk}, '
                f"{collection.requests.count()} requests) for {owner.get_username()}."
            )
        )
        if secrets:
            self.stdout.write(
                f"{secrets} secret variable{'s have' if secrets != 1 else ' has'} no value: "
                "fill them in on the collection's page before running it."
            )

    def _read(self, path: str) -> str:
        if path == "-":
            return sys.stdin.read()
        try:
            return Path(path).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as error:
            raise CommandError(f"Cannot read {path}: {error}") from None
