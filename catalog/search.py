"""The catalog's search of operations: what matches, in which order (docs/design.md, "Search").

A query is split at whitespace into words; an operation matches when every word is in
its name, operationId, URL template, tags or description, as plain text (no character
of the query is an operator or a wildcard). The full-text index of each database (FTS5
on SQLite, a tsvector on PostgreSQL: migrations 0013 and 0014) decides for the letters
and digits of the words (a word of the documentation starting with each); a word holding
other characters must also be in a field as typed (LIKE, on the rows the index found).
A query without a letter or digit reads what the process keeps of the short fields.

Results come ranked, the same on both databases: an operation whose operationId, name or
URL template is the query first, then one whose operationId, name or URL template holds
it, then one whose tags do, then the rest (a description hit); within each, by API name
and the operation's order.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from dataclasses import dataclass
from itertools import pairwise
from typing import Any

from django.contrib.auth.models import AnonymousUser, User
from django.db import connection
from django.db.models import Q

from catalog import snapshot
from catalog.models import Operation
from catalog.selectors import RowsInOrder, sees_unpublished

MAX_QUERY_CHARS = 100
RESULTS_PER_PAGE = 20
# Matches ranked at most: the index's naming hits first, then tags, then the rest. The
# count then says "more than" beyond it; one more is fetched to know.
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
    a prefix, all required; nothing else of the query reaches it. Empty when the query has
    no letter or digit."""
    parts = [part for word in words for part in _NOT_ALNUM.split(word) if part]
    return " & ".join(_lexemes(part) for part in parts)


def _holds(field: str, text: str) -> Q:
    return Q(**{f"{field}__icontains": text})


@dataclass(frozen=True)
class _Candidate:
    """What ranking reads of a matching operation."""

    id: int
    api_id: int
    api_name: str
    order: int
    name: str
    operation_id: str
    url_template: str
    tags: str


# The columns a candidate is read from, in _Candidate's order.
_CANDIDATE_COLUMNS = (
    "id",
    "api_id",
    "api__name",
    "order",
    "name",
    "operation_id",
    "url_template",
    "tags",
)


def _candidate(row: tuple[Any, ...]) -> _Candidate:
    operation_id, api_id, api_name, order, name, operation_key, url_template, tags = row
    return _Candidate(
        id=operation_id,
        api_id=api_id,
        api_name=api_name,
        order=order,
        name=name,
        operation_id=operation_key,
        url_template=url_template,
        tags=tags,
    )


@dataclass(frozen=True)
class OperationMatches:
    """The operations a search found, best first: MAX_RANKED + 1 at most (one more than
    are ranked, to know there are more), and the APIs they belong to."""

    ids: list[int]
    api_ids: frozenset[int]

    @property
    def count(self) -> int:
        return len(self.ids)

    def operations(self) -> RowsInOrder[Operation]:
        """The matches as operations to show, read a page at a time (a Paginator's list)."""
        shown = Operation.objects.select_related("api").only(*RESULT_COLUMNS)
        return RowsInOrder(self.ids, shown.in_bulk)


def _best_matches(*, query: SearchQuery) -> list[int]:
    """The ids of the operations the index finds, MAX_RANKED + 1 at most (one more than are
    ranked, to know there are more).

    The best are taken field by field: matches in the naming fields first, then in the
    tags, then anywhere (the description, or the words in different fields), each step
    unordered and limited to MAX_RANKED + 1 (the last step alone holds that many when
    there are, whatever the others found). Asking the index for its own best (ordering by
    ts_rank or bm25) ranks every match first: 15-25 ms for a word in thousands of rows at
    20,000 operations, against about 1 ms a step. On PostgreSQL the steps are one
    statement, a function of migration 0014 (for its planner setting).
    """
    wanted = MAX_RANKED + 1
    found: dict[int, None] = {}
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            terms = fts_query_text(words=query.words)
            for match in (f"{{naming}} : ({terms})", f"{{tags}} : ({terms})", terms):
                cursor.execute(
                    "SELECT rowid FROM operations_operation_search "
                    "WHERE operations_operation_search MATCH %s LIMIT %s",
                    (match, wanted),
                )
                found.update(dict.fromkeys(row[0] for row in cursor.fetchall()))
                if len(found) >= wanted:
                    break
        else:
            cursor.execute(
                "SELECT hit_id FROM operations_operation_best_matches("
                "to_tsquery('simple', %s), %s)",
                (tsquery_text(words=query.words), wanted),
            )
            found.update(dict.fromkeys(row[0] for row in cursor.fetchall()))
    return list(found)[:wanted]


def _indexed_candidates(*, query: SearchQuery, published_only: bool) -> list[_Candidate]:
    """The index's best matches the viewer may see, and that hold every word with other
    characters than letters and digits as typed (the index saw only its letters and digits)."""
    ids = _best_matches(query=query)
    if not ids:
        return []
    rows = Operation.objects.current().filter(id__in=ids)
    if published_only:  # visible_apis, as a condition on the joined API
        rows = rows.filter(api__published=True)
    for word in query.words:
        if _NOT_ALNUM.search(word):
            # A word without a letter or digit (`%`, `&`) is looked for in the short fields
            # only, as when the whole query is such words.
            fields = SEARCHED_FIELDS if _NOT_ALNUM.sub("", word) else SHORT_FIELDS
            any_field = Q()
            for field in fields:
                any_field |= _holds(field, word)
            rows = rows.filter(any_field)
    return [_candidate(row) for row in rows.order_by().values_list(*_CANDIDATE_COLUMNS)]


@dataclass(frozen=True)
class _ShortFields:
    """Every current operation as a candidate, whether its API is published, and one text
    of their short fields (name, operationId, URL template, tags), case-folded: each
    operation's fields joined by line breaks, the operations by NUL, `starts` the offset
    of each operation's part."""

    candidates: list[_Candidate]
    published: list[bool]
    text: str
    starts: list[int]

    def holding(self, word: str) -> set[int]:
        """The positions in `candidates` of the operations whose short fields hold word."""
        found: set[int] = set()
        at = self.text.find(word)
        while at >= 0:
            position = bisect_right(self.starts, at) - 1
            found.add(position)
            # On to the next operation: it holds the word or not whatever else is here.
            following = position + 1
            at = (
                self.text.find(word, self.starts[following]) if following < len(self.starts) else -1
            )
        return found


def _short_fields() -> _ShortFields:
    """Kept by the process until the catalog changes (catalog/snapshot.py). A query without
    a letter or digit has no index to ask; this is what it reads instead of the table
    (whose short columns, on SQLite, follow the description's overflow pages: 80-150 ms at
    20,000 operations, against 1-3 ms here)."""
    rows = Operation.objects.current().order_by().values_list(*_CANDIDATE_COLUMNS, "api__published")
    candidates: list[_Candidate] = []
    published: list[bool] = []
    parts: list[str] = []
    starts: list[int] = []
    offset = 0
    for *columns, is_published in rows.iterator(chunk_size=2000):
        candidate = _candidate(tuple(columns))
        part = "\n".join(
            (candidate.name, candidate.operation_id, candidate.url_template, candidate.tags)
        ).casefold()
        candidates.append(candidate)
        published.append(bool(is_published))
        parts.append(part)
        starts.append(offset)
        offset += len(part) + 1
    return _ShortFields(
        candidates=candidates, published=published, text="\0".join(parts), starts=starts
    )


def _scanned_candidates(*, query: SearchQuery, published_only: bool) -> list[_Candidate]:
    """The operations holding every word (of neither letters nor digits) in a short field."""
    fields = snapshot.part("search-short-fields", _short_fields)
    positions: set[int] | None = None
    for word in query.words:
        holding = fields.holding(word.casefold())
        positions = holding if positions is None else positions & holding
        if not positions:
            return []
    return [
        fields.candidates[position]
        for position in sorted(positions or ())
        if fields.published[position] or not published_only
    ]


def _tier(candidate: _Candidate, *, text: str) -> int:
    """0: the query is the operationId, name or URL template; 1: one of them holds it;
    2: the tags hold it; 3: the rest (the description, or words apart)."""
    naming = [
        candidate.operation_id.casefold(),
        candidate.name.casefold(),
        candidate.url_template.casefold(),
    ]
    if text in naming:
        return 0
    if any(text in field for field in naming):
        return 1
    if text in candidate.tags.casefold():
        return 2
    return 3


def search_operations(*, user: User | AnonymousUser, query: SearchQuery) -> OperationMatches:
    """The current operations the user may see that match, best first (module docstring)."""
    if not query.words:
        return OperationMatches(ids=[], api_ids=frozenset())
    published_only = not sees_unpublished(user)
    if tsquery_text(words=query.words):
        candidates = _indexed_candidates(query=query, published_only=published_only)
    else:
        candidates = _scanned_candidates(query=query, published_only=published_only)
    text = query.text.casefold()
    candidates.sort(
        key=lambda candidate: (
            _tier(candidate, text=text),
            candidate.api_name,
            candidate.order,
            candidate.id,
        )
    )
    return OperationMatches(
        ids=[candidate.id for candidate in candidates[: MAX_RANKED + 1]],
        api_ids=frozenset(candidate.api_id for candidate in candidates),
    )
