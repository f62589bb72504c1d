"""The catalog without a search: a page of API cards, kept by the process.

Every visitor of a page sees the same cards until an API, an operation or a product
changes, so each process keeps, under the configuration's generation
(catalog/snapshot.py, which drops them with every change), the count of the APIs a
visitor may see and each page's rendered cards: a visit reads no row and renders no
card. Staff, who also see unpublished APIs, have their own count and pages.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib.auth.models import AnonymousUser, User
from django.core.paginator import Page, Paginator
from django.template.loader import render_to_string
from django.utils.safestring import SafeString, mark_safe

from catalog import selectors, snapshot

CARDS_PER_PAGE = 24


@dataclass(frozen=True)
class CardsPage:
    page: Page  # over range(count): the numbers the pagination needs, no rows
    page_links: list[int | str]  # page numbers, with Paginator.ELLIPSIS where some are left out
    cards: SafeString  # the page's cards, rendered


def _cards(*, user: User | AnonymousUser, page: Page) -> SafeString:
    apis = selectors.catalog_apis(user=user)
    listed = list(apis[page.start_index() - 1 : page.end_index()]) if page.paginator.count else []
    html = render_to_string("catalog/_api_cards.html", {"page": listed, "search": ""})
    return mark_safe(html)  # noqa: S308 - rendered by the template engine, escaped there


def cards_page(*, user: User | AnonymousUser, page: str | None) -> CardsPage:
    """The asked page of the catalog's cards (not a number: the first; out of range: the
    last), with what its pagination shows."""
    # What the user sees depends on this alone: it is part of every key.
    staff = selectors.sees_unpublished(user)
    count = snapshot.kept(
        ("catalog-count", staff), lambda: selectors.visible_apis(user=user).count()
    )
    paginator = Paginator(range(count), CARDS_PER_PAGE)
    current = paginator.get_page(page)
    cards = snapshot.kept(
        ("catalog-cards", staff, current.number), lambda: _cards(user=user, page=current)
    )
    links = list(paginator.get_elided_page_range(current.number, on_each_side=2))
    return CardsPage(page=current, page_links=links, cards=cards)
