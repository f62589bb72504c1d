from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser

from testing.actions import CollectionNotFound, find_collection
from testing.collection_export import FORMATS, export_collection


class Command(BaseCommand):
    help = "Write a collection as YAML or JSON, for git: no ids, no baselines, no secret values."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("collection", help="The collection's id or exact name.")
        parser.add_argument("--format", choices=FORMATS, default="yaml")
        parser.add_argument("--output", "-o", help="File to write; standard output without it.")
        parser.add_argument(
            "--user",
            help="Write it for this user (the collection's owner without it): the service "
            "URL of an API on the gateway is written for staff only.",
        )

    def handle(self, *args, **options) -> None:
        try:
            collection = find_collection(reference=options["collection"])
        except CollectionNotFound as error:
            raise CommandError(str(error)) from None
        viewer = None
        if options["user"]:
            viewer = get_user_model().objects.filter(username=options["user"]).first()
            if viewer is None:
                raise CommandError(f'No user "{options["user"]}".')
        text = export_collection(collection=collection, format=options["format"], viewer=viewer)
        if not options["output"]:
            self.stdout.write(text, ending="")
            return
        try:
            Path(options["output"]).write_text(text, encoding="utf-8")
        except OSError as error:
            raise CommandError(f"Cannot write {options['output']}: {error.strerror}") from None
        self.stderr.write(f"Wrote {collection.name} to {options['output']}.")
