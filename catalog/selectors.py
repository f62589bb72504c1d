"""Read-side queries for the pages: which APIs and operations a visitor sees.

Every page costs a fixed number of queries whatever the size of an API: counts are
annotated, lists select only the columns they show, and the API page loads the
operations of one page only.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import TypeVar, overload

from django.contrib.auth.models import AnonymousUser, User
from django.core.paginator import Page, Paginator
from django.db.models import Count, F, Func, IntegerField, OuterRef, Prefetch, Q, Subquery
from django.db.models.functions import Substr
from django.shortcuts import get_object_or_404
from django.utils.text import slugify

from catalog import snapshot
from catalog.models import Api, ApiQuerySet, Operation, Parameter

T = TypeVar("T")

UNTAGGED = "Operations"
# Enough Markdown for a catalog card's 30 words, whatever the length of a description.
SUMMARY_SOURCE_CHARS = 500
# Rows of the API page: an operation counts once per tag it is listed under.
OPERATIONS_PER_PAGE = 100
# What a catalog card shows of an API, besides its counted operations and description start.
CARD_COLUMNS = ("id", "name", "slug", "version", "published")
# What the API page shows of an operation; descriptions and examples stay in the database.
LISTED_COLUMNS = ("id", "api_id", "name", "slug", "method", "url_template", "deprecated")


@dataclass(frozen=True)
class TagGroup:
    """A tag's operations on one page of the API page."""

    tag: str
    anchor: str
    operations: list[Operation]
    continued: bool = False  # the tag began on an earlier page
    continues: bool = False  # and goes on on the next one


@dataclass(frozen=True)
class TagIndexEntry:
    """A line of the API page's tag index: where a tag starts and how many it holds."""

    tag: str
    anchor: str
    count: int
    page: int  # where the tag starts
    on_page: bool  # some of its operations are on the page shown


@dataclass(frozen=True)
class OperationsPage:
    """One page of an API's operations, grouped by tag, and the index of all its tags."""

    groups: list[TagGroup]
    tags: list[TagIndexEntry]
    page: Page  # over (tag position, operation id) rows
    page_links: list[int | str]  # page numbers, with Paginator.ELLIPSIS where some are left out
    operation_count: int
    search: str


def sees_unpublished(user: User | AnonymousUser) -> bool:
    """Staff see unpublished APIs too, so they can check them before release."""
    return bool(user.is_active and user.is_staff)


def can_call(*, user: User | AnonymousUser | None, operation: Operation) -> bool:
    """Whether the user may call the operation from the portal (Try it, a replay, a run):
    exactly when its page would show (get_operation), a current operation of a published
    API, or of any API for staff. Without a user (no one signed in), published only."""
    if operation.removed:
        return False
    return operation.api.published or (user is not None and sees_unpublished(user))


def visible_apis(*, user: User | AnonymousUser) -> ApiQuerySet:
    """Published APIs; staff also see unpublished ones so they can check them before release."""
    if sees_unpublished(user):
        return Api.objects.all()
    return Api.objects.published()


def catalog_apis(*, user: User | AnonymousUser) -> ApiQuerySet:
    """The catalog in one query: each API with its count of current operations.

    The count is a correlated subquery rather than a join and GROUP BY, so the database
    counts the operations of the APIs on the page only (with 1,000 APIs and 20,000
    operations, 2 ms instead of 20), and the paginator's own count stays a plain
    COUNT(*) of APIs. Only the columns a card shows are read (a search's: matching_cards).
    A card shows the start of the description only: its first SUMMARY_SOURCE_CHARS
    characters are all that is read and rendered, however long the description.
    """
    operations = Operation.objects.current().filter(api=OuterRef("pk")).order_by()
    # COUNT as a plain function, not an aggregate: no GROUP BY, one row, 0 for none.
    counted = operations.annotate(count=Func(F("pk"), function="COUNT")).values("count")
    apis = (
        visible_apis(user=user)
        .only(*CARD_COLUMNS)
        .annotate(
            operation_count=Subquery(counted, output_field=IntegerField()),
            description_start=Substr("description", 1, SUMMARY_SOURCE_CHARS),
        )
    )
    return apis.order_by("name")


def matching_cards(
    *, user: User | AnonymousUser, search: str, matching_api_ids: Collection[int]
) -> RowsInOrder[Api]:
    """The cards of a search, as a Paginator's list: the APIs whose name or description
    holds the text (case aside), or with an operation the search found
    (`matching_api_ids`, from catalog/search.py), by name. Which they are is decided on
    what the process keeps of every API (`_api_texts`), so only the page's cards are read;
    their operation counts come from `operation_counts`."""
    text = search.strip().casefold()
    unpublished = sees_unpublished(user)
    ids = [
        api.id
        for api in snapshot.part("api-search-texts", _api_texts)
        if (api.published or unpublished)
        and (api.id in matching_api_ids or text in api.name or text in api.description)
    ]
    cards = (
        visible_apis(user=user)
        .only(*CARD_COLUMNS)
        .annotate(description_start=Substr("description", 1, SUMMARY_SOURCE_CHARS))
    )

    def load(page: list[int]) -> dict[int, Api]:
        counts = operation_counts()
        rows = cards.filter(pk__in=page).in_bulk()
        for api in rows.values():
            api.operation_count = counts.get(api.pk, 0)
        return rows

    return RowsInOrder(ids, load)


@dataclass(frozen=True)
class _ApiText:
    id: int
    published: bool
    name: str  # case-folded, as is the description
    description: str


def _api_texts() -> list[_ApiText]:
    """Every API's name and description, case-folded, in the catalog's order, kept by the
    process until the catalog changes (catalog/snapshot.py). Searched in the database, a
    description is read whole for every search, and on PostgreSQL upper-cased from its
    compressed copy: 10-18 ms for 100 descriptions of 7 KB, against well under 1 ms here
    (at 1,000 such APIs, 7 MB a process)."""
    rows = Api.objects.order_by("name", "id").values_list("id", "published", "name", "description")
    return [
        _ApiText(id=api_id, published=published, name=name.casefold(), description=text.casefold())
        for api_id, published, name, text in rows
    ]


def _count_operations() -> dict[int, int]:
    counted = Operation.objects.current().order_by().values("api_id").annotate(count=Count("id"))
    return {row["api_id"]: row["count"] for row in counted}


def operation_counts() -> dict[int, int]:
    """Each API's count of current operations, kept by the process until the catalog
    changes (catalog/snapshot.py): one query per change, a few ms at 20,000 operations.
    Counted in the query of a search's cards, ordered by name, the database counts them for
    every match before sorting, reading each operation's row (on SQLite past its
    description's overflow pages: 10-20 ms a search at 20,000 operations)."""
    return snapshot.part("operation-counts", _count_operations)


def get_api(*, user: User | AnonymousUser, api_slug: str) -> Api:
    return get_object_or_404(visible_apis(user=user), slug=api_slug)


def _tags_of(tags: str) -> list[str]:
    """An operation's tags, each once, in the order written; untagged ones get a group too."""
    return list(dict.fromkeys(tag.strip() for tag in tags.split(",") if tag.strip())) or [UNTAGGED]


def _anchors(tags: list[str]) -> list[str]:
    """A readable, unique fragment id per tag: tag-pets, tag-pets-2, tag-3 ..."""
    anchors: list[str] = []
    taken: set[str] = set()
    for position, tag in enumerate(tags, start=1):
        base = f"tag-{slugify(tag) or position}"
        anchor, suffix = base, 2
        while anchor in taken:
            anchor, suffix = f"{base}-{suffix}", suffix + 1
        taken.add(anchor)
        anchors.append(anchor)
    return anchors


def _page_number(value: str | int | None, *, last: int) -> int:
    """The page asked for, clamped: not a number or below 1 is page 1, past the end the last."""
    try:
        number = int(value or 1)
    except (TypeError, ValueError):
        return 1
    return min(max(number, 1), last)


def api_operations(
    *,
    api: Api,
    search: str = "",
    page: str | int | None = None,
    per_page: int = OPERATIONS_PER_PAGE,
) -> OperationsPage:
    """A page of the API's current operations grouped by tag, in two queries.

    Tags come in the order of their first operation (Operation.order, the document's
    order for an import); an operation with several tags is listed under each. The
    first query reads only ids and tags of every matching operation, enough to lay
    out all the pages and the tag index; the second loads the listed columns of the
    operations on the asked page. The search matches names and URL templates.
    """
    operations = api.operations.current()
    text = search.strip()
    if text:
        operations = operations.filter(Q(name__icontains=text) | Q(url_template__icontains=text))
    members: dict[str, list[int]] = {}
    operation_count = 0
    for operation_id, tags in operations.order_by("order", "name", "id").values_list("id", "tags"):
        operation_count += 1
        for tag in _tags_of(tags):
            members.setdefault(tag, []).append(operation_id)

    tags = list(members)
    anchors = _anchors(tags)
    rows: list[tuple[int, int]] = []
    starts: list[int] = []
    for position, tag in enumerate(tags):
        starts.append(len(rows))
        rows.extend((position, operation_id) for operation_id in members[tag])

    paginator = Paginator(rows, per_page)
    current = paginator.page(_page_number(page, last=paginator.num_pages))
    listed = {
        operation.pk: operation
        for operation in Operation.objects.filter(
            pk__in={operation_id for _, operation_id in current.object_list}
        ).only(*LISTED_COLUMNS)
    }
    for operation in listed.values():
        operation.api = api  # get_absolute_url needs the slug: no query per operation

    first_row = current.start_index() - 1
    last_row = first_row + len(current.object_list) - 1
    groups: list[TagGroup] = []
    grouped: dict[int, list[Operation]] = {}
    for position, operation_id in current.object_list:
        if operation_id in listed:  # else removed between the two queries
            grouped.setdefault(position, []).append(listed[operation_id])
    for position, group in grouped.items():
        start, end = starts[position], starts[position] + len(members[tags[position]]) - 1
        groups.append(
            TagGroup(
                tag=tags[position],
                anchor=anchors[position],
                operations=group,
                continued=start < first_row,
                continues=end > last_row,
            )
        )

    index = []
    for position, tag in enumerate(tags):
        start, end = starts[position], starts[position] + len(members[tag]) - 1
        index.append(
            TagIndexEntry(
                tag=tag,
                anchor=anchors[position],
                count=len(members[tag]),
                page=start // per_page + 1,
                on_page=start <= last_row and end >= first_row,
            )
        )
    return OperationsPage(
        groups=groups,
        tags=index,
        page=current,
        page_links=list(paginator.get_elided_page_range(current.number, on_each_side=2)),
        operation_count=operation_count,
        search=text,
    )


def get_operation(*, user: User | AnonymousUser, api_slug: str, operation_slug: str) -> Operation:
    """The operation with its API and parameters; Http404 when the user cannot see it.

    Kept by the process until an API, operation, parameter or product changes
    (catalog.snapshot.kept): the operation page, every Try it call and every code sample
    start here, and a call that needs less CPU before it waits on its backend holds up
    the other visitors of its worker less (bench/concurrency.py). The instance is shared
    by the process's threads: callers read it and never change it.
    """
    staff = sees_unpublished(user)
    return snapshot.kept(
        ("operation", api_slug, operation_slug, staff),
        lambda: _load_operation(api_slug=api_slug, operation_slug=operation_slug, staff=staff),
    )


def current_operation(*, pk: int) -> Operation | None:
    """The operation with its API, parameters and the API's other servers, None when it
    is deleted or removed from the latest imported document; who may call it is the
    caller's check. Kept by the process like get_operation: every step of a replay
    starts here. The instance is shared by the process's threads: callers read it and
    never change it."""
    return snapshot.kept(("operation-id", pk), lambda: _load_current_operation(pk=pk))


def _load_current_operation(*, pk: int) -> Operation | None:
    return (
        Operation.objects.current()
        .select_related("api")
        .prefetch_related(
            Prefetch("parameters", queryset=Parameter.objects.order_by("order", "id")),
            "api__servers",
        )
        .filter(pk=pk)
        .first()
    )


def _load_operation(*, api_slug: str, operation_slug: str, staff: bool) -> Operation:
    """Three queries (the operation and API, its parameters, the API's other servers). The
    documented responses are not prefetched: only the operation page lists them, and it
    keeps them apart (catalog.response_docs.kept_responses)."""
    operations = (
        Operation.objects.current()
        .select_related("api")
        .prefetch_related(
            Prefetch("parameters", queryset=Parameter.objects.order_by("order", "id")),
            "api__servers",
        )
    )
    if not staff:  # visible_apis, as a condition on the joined API
        operations = operations.filter(api__published=True)
    return get_object_or_404(operations, api__slug=api_slug, slug=operation_slug)


class RowsInOrder(Sequence[T]):
    """Rows by id in a given order, for a Paginator: a slice loads its own rows only."""

    def __init__(self, ids: list[int], load: Callable[[list[int]], Mapping[int, T]]) -> None:
        self._ids = ids
        self._load = load

    def __len__(self) -> int:
        return len(self._ids)

    @overload
    def __getitem__(self, index: int) -> T: ...

    @overload
    def __getitem__(self, index: slice) -> list[T]: ...

    def __getitem__(self, index: int | slice) -> T | list[T]:
        if isinstance(index, int):
            return self[index : index + 1 or None][0]
        ids = self._ids[index]
        rows = self._load(ids) if ids else {}
        return [rows[row_id] for row_id in ids if row_id in rows]

    def __iter__(self) -> Iterator[T]:
        return iter(self[:])


def paginate(items, *, page: str | None, per_page: int) -> tuple[Page, list[int | str]]:
    """A page of items (out of range: the nearest page) and the page numbers to link."""
    paginator = Paginator(items, per_page)
    current = paginator.get_page(page)
    return current, list(paginator.get_elided_page_range(current.number, on_each_side=2))
