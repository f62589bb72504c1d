"""The catalog's search of operations: what matches, in which order (docs/design.md, "Search").

A query is split at whitespace into words; an operation matches when every word is in
its name, operationId, URL template, tags or description, as plain text (no character
of the query is an operator or a wildcard). On SQLite LIKE decides. On PostgreSQL the
full-text index (catalog/migrations/0011) does, for words of letters and digits (a word
of the documentation starting with each), and ranks; a word holding other characters
must also be in a field as typed (LIKE, on the rows the index found).

Results come ranked: an operation whose operationId, name or URL template is the query
first, then one whose operationId, name or URL template holds it, then one whose tags
do, then the rest (a description hit); on PostgreSQL by full-text rank within each of
these, then by API name and the operation's order.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from itertools import pairwise
from typing import Any

from django.contrib.auth.models import AnonymousUser, User
from django.contrib.postgres.search import SearchQuery as TsQuery
from django.contrib.postgres.search import SearchRank, SearchVectorField
from django.db import connection, transaction
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models import Case, Expression, IntegerField, Q, QuerySet, Value, When
from django.db.models.sql.compiler import SQLCompiler

from catalog.models import Operation
from catalog.selectors import sees_unpublished

MAX_QUERY_CHARS = 100
RESULTS_PER_PAGE = 20
# Matches ranked at most: the index's best, by its own rank (naming fields weigh most).
# The count then says "more than" beyond it; one more is fetched to know.
MAX_RANKED = 200
# What a result shows of an operation and its API.
RESULT_COLUMNS = (
    "id",
    "name",
    "slug",
    "method",
    "url_template",
    "deprecated",
    "tags",
    "api__id",
    "api__name",
    "api__slug",
    "api__published",
)
SEARCHED_FIELDS = ("name", "operation_id", "url_template", "tags", "description")
SHORT_FIELDS = SEARCHED_FIELDS[:-1]
# Fields whose hits rank first: the ones that name the operation.
NAMING_FIELDS = ("operation_id", "name", "url_template")

_NOT_ALNUM = re.compile(r"[\W_]+")


@dataclass(frozen=True)
class SearchQuery:
    """What was typed, cut to MAX_QUERY_CHARS, and its words."""

    text: str
    truncated: bool
    words: tuple[str, ...]


def parse_query(*, raw: str) -> SearchQuery:
    """The query as searched: surrounding whitespace dropped, at most MAX_QUERY_CHARS."""
    text = " ".join(raw.split())
    truncated = len(text) > MAX_QUERY_CHARS
    text = text[:MAX_QUERY_CHARS].strip()
    return SearchQuery(text=text, truncated=truncated, words=tuple(text.split()))


def _lexemes(part: str) -> str:
    """A part of a word as a tsquery: a prefix of one word of the index, or, for a part in
    camel case, of each of its pieces (getPetById: get, Pet, By, Id)."""
    whole = f"'{part.lower()}':*"
    pieces = _camel_pieces(part)
    if len(pieces) < 2:
        return whole
    each = " & ".join(f"'{piece.lower()}':*" for piece in pieces)
    return f"({whole} | {each})"


def _camel_pieces(part: str) -> list[str]:
    """As the index splits it: before a capital that follows a small letter or a digit."""
    pieces = [part[:1]]
    for previous, char in pairwise(part):
        if char.isupper() and (previous.islower() or previous.isdigit()):
            pieces.append("")
        pieces[-1] += char
    return pieces


def _fts_terms(part: str) -> str:
    """As _lexemes, in FTS5's query syntax (a part holds letters and digits only)."""
    whole = f'"{part}"*'
    pieces = _camel_pieces(part)
    if len(pieces) < 2:
        return whole
    each = " AND ".join(f'"{piece}"*' for piece in pieces)
    return f"({whole} OR ({each}))"


def fts_query_text(*, words: tuple[str, ...]) -> str:
    """tsquery_text for SQLite's FTS5 index: the same prefixes, all required."""
    parts = [part for word in words for part in _NOT_ALNUM.split(word) if part]
    return " AND ".join(_fts_terms(part) for part in parts)


def tsquery_text(*, words: tuple[str, ...]) -> str:
    """The raw tsquery the index is asked: the letters and digits of every word, each run
    a prefix, all required; nothing else of the query reaches it. Empty when the query
    has no letter or digit."""
    parts = [part for word in words for part in _NOT_ALNUM.split(word) if part]
    return " & ".join(_lexemes(part) for part in parts)


class _SearchVectorColumn(Expression):
    """The PostgreSQL-only column of migration 0011, which the model does not declare."""

    output_field = SearchVectorField()

    def as_sql(
        self, compiler: SQLCompiler, connection: BaseDatabaseWrapper
    ) -> tuple[str, list[Any]]:
        table = compiler.quote_name_unless_alias(Operation._meta.db_table)
        return f'{table}."search_vector"', []


def _holds(field: str, text: str) -> Q:
    return Q(**{f"{field}__icontains": text})


def _best_matches(*, query: SearchQuery, tsquery: str) -> list[int]:
    """The ids of the operations the index finds, its best first, MAX_RANKED + 1 at most.

    Read once, so that the counts and the page do not each search again. On PostgreSQL
    the planner, its cost of random reads set for disks, prefers reading the table whole
    to the index for any word in more than a few hundred rows (40-240 ms at 20,000
    operations, against 1-5 ms): for this one statement it is told not to.
    """
    if connection.vendor == "sqlite":
        sql = (
            "SELECT rowid FROM operations_operation_search "
            "WHERE operations_operation_search MATCH %s "
            "ORDER BY bm25(operations_operation_search, 10.0, 5.0, 1.0) LIMIT %s"
        )
        with connection.cursor() as cursor:
            cursor.execute(sql, (fts_query_text(words=query.words), MAX_RANKED + 1))
            return [row[0] for row in cursor.fetchall()]
    sql = (
        "SELECT id FROM operations_operation WHERE search_vector @@ to_tsquery('simple', %s) "
        "ORDER BY ts_rank(search_vector, to_tsquery('simple', %s)) DESC, id LIMIT %s"
    )
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute(sql, (tsquery, tsquery, MAX_RANKED + 1))
        return [row[0] for row in cursor.fetchall()]


def search_operations(*, user: User | AnonymousUser, query: SearchQuery) -> QuerySet[Operation]:
    """The current operations the user may see that match, best first (module docstring)."""
    operations = Operation.objects.current().select_related("api").only(*RESULT_COLUMNS)
    if not sees_unpublished(user):  # visible_apis, as a condition on the joined API
        operations = operations.filter(api__published=True)
    if not query.words:
        return operations.none()
    tsquery = tsquery_text(words=query.words)
    indexed = connection.vendor in ("postgresql", "sqlite") and bool(tsquery)
    for word in query.words:
        if indexed and not _NOT_ALNUM.search(word):
            continue  # the index alone decides a word of letters and digits
        # A word without a letter or digit (`%`, `&`) is looked for in the short fields
        # only: it would otherwise read every description, for a match nobody wants.
        fields = SEARCHED_FIELDS if _NOT_ALNUM.sub("", word) else SHORT_FIELDS
        any_field = Q()
        for field in fields:
            any_field |= _holds(field, word)
        operations = operations.filter(any_field)

    exact = Q()
    named = Q()
    for field in NAMING_FIELDS:
        exact |= Q(**{f"{field}__iexact": query.text})
        named |= _holds(field, query.text)
    tier = Case(
        When(exact, then=Value(0)),
        When(named, then=Value(1)),
        When(_holds("tags", query.text), then=Value(2)),
        default=Value(3),
        output_field=IntegerField(),
    )
    operations = operations.alias(tier=tier)
    order: list[str] = ["tier"]

    if indexed:
        # The index's best MAX_RANKED + 1 matches (one more, to know there are more), by
        # its own rank; the tiers order these only.
        operations = operations.filter(id__in=_best_matches(query=query, tsquery=tsquery))
    if indexed and connection.vendor == "postgresql":
        vector = _SearchVectorColumn()
        matched = TsQuery(tsquery, search_type="raw", config="simple")
        operations = operations.alias(rank=SearchRank(vector, matched))
        order.append("-rank")
    return operations.order_by(*order, "api__name", "order", "id")
