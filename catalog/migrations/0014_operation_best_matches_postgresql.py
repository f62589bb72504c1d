"""The search's best matches in one statement on PostgreSQL (docs/design.md, "Search").

Two more stored generated vectors, each with a GIN index: `search_naming` (the words of
the name, operationId and URL template) and `search_tags`, as 0013's `search_vector`
weighs them A and B. A query of the one vector restricted to a weight (`'list':*A`)
reads every row holding the word to check its weight: 70-230 ms for a word in 15,000
rows of which few are in a name, against 1-3 ms through an index of the names' words.

`operations_operation_best_matches(query, wanted)`: the ids of operations matching
`query` in their naming fields, then in their tags, then anywhere, each step unordered
and limited to `wanted`, and the step that found them; when the first step finds
`wanted`, the others do not run. The caller keeps each id's first row. A function, for
its SET clause: the planner, its cost of random reads set for disks, reads the table whole
for a word in more than a few hundred rows (40-240 ms at 20,000 operations, against 1-5
ms through the index); the clause turns that off for this statement alone, without a
transaction and a SET LOCAL around it (three more round trips a search).
Nothing on SQLite, whose FTS5 table filters by column.
"""

from django.db import migrations


def _words(column: str) -> str:
    split = rf"regexp_replace({column}, '([[:lower:][:digit:]])([[:upper:]])', '\1 \2', 'g')"
    return rf"regexp_replace({column} || ' ' || {split}, '[^[:alnum:]]+', ' ', 'g')"


NAMING = (
    "to_tsvector('simple'::regconfig, "
    f"{_words('name')} || ' ' || {_words('operation_id')} || ' ' || {_words('url_template')})"
)
TAGS = f"to_tsvector('simple'::regconfig, {_words('tags')})"

FUNCTION = """
CREATE FUNCTION operations_operation_best_matches(query tsquery, wanted integer)
RETURNS TABLE (hit_id bigint, hit_step integer)
LANGUAGE plpgsql STABLE
SET enable_seqscan = off
AS $$
DECLARE
    named integer;
BEGIN
    RETURN QUERY SELECT o.id, 1 FROM operations_operation o
        WHERE o.search_naming @@ query LIMIT wanted;
    GET DIAGNOSTICS named = ROW_COUNT;
    IF named >= wanted THEN
        RETURN;
    END IF;
    RETURN QUERY SELECT o.id, 2 FROM operations_operation o
        WHERE o.search_tags @@ query LIMIT wanted;
    RETURN QUERY SELECT o.id, 3 FROM operations_operation o
        WHERE o.search_vector @@ query LIMIT wanted;
END
$$
"""

FORWARD = [
    "ALTER TABLE operations_operation "
    f"ADD COLUMN search_naming tsvector GENERATED ALWAYS AS ({NAMING}) STORED, "
    f"ADD COLUMN search_tags tsvector GENERATED ALWAYS AS ({TAGS}) STORED",
    "CREATE INDEX operations_operation_search_naming ON operations_operation "
    "USING gin (search_naming)",
    "CREATE INDEX operations_operation_search_tags ON operations_operation "
    "USING gin (search_tags)",
    FUNCTION,
    "ANALYZE operations_operation",
]
BACKWARD = [
    "DROP FUNCTION IF EXISTS operations_operation_best_matches(tsquery, integer)",
    "ALTER TABLE operations_operation DROP COLUMN IF EXISTS search_naming, "
    "DROP COLUMN IF EXISTS search_tags",
]


def _run(statements: list[str]):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            for statement in statements:
                schema_editor.execute(statement)

    return run


class Migration(migrations.Migration):
    dependencies = [
        ("operations", "0013_operation_search_index_both_databases"),
    ]

    operations = [
        migrations.RunPython(_run(FORWARD), _run(BACKWARD), elidable=False),
    ]
