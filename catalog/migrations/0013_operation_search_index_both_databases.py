"""The search index made small on PostgreSQL, and added on SQLite (docs/design.md, "Search").

PostgreSQL: the stored generated vector of 0012 again, with the description's first
DESCRIPTION_CHARS characters only, so that it stays in the row (a vector of whole
descriptions was TOASTed, and the planner, not counting the cost of reading it, read
the table whole instead of using the index).

SQLite: an FTS5 table, `operations_operation_search` (rowid = the operation's id), of
the same words (`search_words`, registered on every SQLite connection by
catalog/search_words.py) in three columns, kept by triggers on every insert, update
and delete, bulk ones included (a contentless table: the
words only, not a second copy of the text); existing rows are indexed here.
"""

from django.db import migrations

from catalog.search_words import DESCRIPTION_CHARS

# PostgreSQL ------------------------------------------------------------------------


def _words(column: str) -> str:
    split = rf"regexp_replace({column}, '([[:lower:][:digit:]])([[:upper:]])', '\1 \2', 'g')"
    return rf"regexp_replace({column} || ' ' || {split}, '[^[:alnum:]]+', ' ', 'g')"


DESCRIPTION = f"left(description, {DESCRIPTION_CHARS})"
VECTOR = (
    "setweight(to_tsvector('simple'::regconfig, "
    f"{_words('name')} || ' ' || {_words('operation_id')} || ' ' || {_words('url_template')}"
    "), 'A') || "
    f"setweight(to_tsvector('simple'::regconfig, {_words('tags')}), 'B') || "
    f"setweight(to_tsvector('simple'::regconfig, {_words(DESCRIPTION)}), 'D')"
)
OLD_VECTOR = VECTOR.replace(DESCRIPTION, "description")


def _column(vector: str) -> list[str]:
    return [
        "DROP INDEX IF EXISTS operations_operation_search",
        "ALTER TABLE operations_operation DROP COLUMN IF EXISTS search_vector",
        "ALTER TABLE operations_operation ADD COLUMN search_vector tsvector "
        f"GENERATED ALWAYS AS ({vector}) STORED",
        "CREATE INDEX operations_operation_search ON operations_operation "
        "USING gin (search_vector)",
        "ANALYZE operations_operation",
    ]


# SQLite ----------------------------------------------------------------------------

FTS_COLUMNS = "naming, tags, description"
FTS_VALUES = (
    "search_words({p}name || ' ' || {p}operation_id || ' ' || {p}url_template), "
    "search_words({p}tags), "
    f"search_words(substr({{p}}description, 1, {DESCRIPTION_CHARS}))"
)
# A contentless table forgets a row when told the words it was indexed under.
DELETE = (
    "INSERT INTO operations_operation_search"
    f"(operations_operation_search, rowid, {FTS_COLUMNS}) "
    f"VALUES ('delete', old.id, {FTS_VALUES.format(p='old.')});"
)
FTS_FORWARD = [
    "CREATE VIRTUAL TABLE operations_operation_search USING fts5("
    f"{FTS_COLUMNS}, content='', "
    "tokenize='unicode61 remove_diacritics 0', prefix='1 2 3')",
    "CREATE TRIGGER operations_operation_search_insert AFTER INSERT ON operations_operation "
    f"BEGIN INSERT INTO operations_operation_search(rowid, {FTS_COLUMNS}) "
    f"VALUES (new.id, {FTS_VALUES.format(p='new.')}); END",
    "CREATE TRIGGER operations_operation_search_update AFTER UPDATE OF "
    "name, operation_id, url_template, tags, description ON operations_operation "
    f"BEGIN {DELETE} "
    f"INSERT INTO operations_operation_search(rowid, {FTS_COLUMNS}) "
    f"VALUES (new.id, {FTS_VALUES.format(p='new.')}); END",
    "CREATE TRIGGER operations_operation_search_delete AFTER DELETE ON operations_operation "
    f"BEGIN {DELETE} END",
    f"INSERT INTO operations_operation_search(rowid, {FTS_COLUMNS}) "
    f"SELECT id, {FTS_VALUES.format(p='')} FROM operations_operation",
]
FTS_BACKWARD = [
    "DROP TRIGGER IF EXISTS operations_operation_search_insert",
    "DROP TRIGGER IF EXISTS operations_operation_search_update",
    "DROP TRIGGER IF EXISTS operations_operation_search_delete",
    "DROP TABLE IF EXISTS operations_operation_search",
]

STATEMENTS = {
    ("postgresql", True): _column(VECTOR),
    ("postgresql", False): _column(OLD_VECTOR),
    ("sqlite", True): FTS_FORWARD,
    ("sqlite", False): FTS_BACKWARD,
}


def _run(forward: bool):
    def run(apps, schema_editor):
        for statement in STATEMENTS.get((schema_editor.connection.vendor, forward), []):
            schema_editor.execute(statement)

    return run


class Migration(migrations.Migration):
    dependencies = [
        ("operations", "0012_operation_search_vector_postgresql"),
    ]

    operations = [
        migrations.RunPython(_run(True), _run(False), elidable=False),
    ]
