from django.apps import AppConfig


class CatalogConfig(AppConfig):
    name = "catalog"
    # The label the catalog, console, testing and OpenAPI models were created under:
    # their tables and migrations keep it (docs/design.md, "Packages and app labels").
    label = "operations"
    verbose_name = "APIs and operations"

    def ready(self) -> None:
        # The catalog's cache forgets what changes (catalog/invalidation.py).
        # The function SQLite's search index is kept with (catalog/search_words.py).
        from catalog import (
            invalidation,  # noqa: F401
            search_words,  # noqa: F401
        )
