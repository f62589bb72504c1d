from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from catalog import catalog_cards, selectors
from catalog import search as operation_search


@require_GET
def catalog(request: HttpRequest) -> HttpResponse:
    """The API cards; with ?q= the matching APIs (?page=) and operations (?ops=)."""
    query = operation_search.parse_query(raw=request.GET.get("q", ""))
    search = query.text
    context = {
        "search": search,
        "max_query_chars": operation_search.MAX_QUERY_CHARS,
        "results": None,
    }
    if not search:  # the cards the process keeps (catalog/catalog_cards.py)
        listing = catalog_cards.cards_page(user=request.user, page=request.GET.get("page"))
        context |= {"page": listing.page, "page_links": listing.page_links, "cards": listing.cards}
        return render(request, "catalog/catalog.html", context)
    matches = operation_search.search_operations(user=request.user, query=query)
    apis = selectors.matching_cards(
        user=request.user, search=search, matching_api_ids=matches.api_ids
    )
    page, page_links = selectors.paginate(apis, page=request.GET.get("page"), per_page=24)
    results, result_links = selectors.paginate(
        matches.operations(),
        page=request.GET.get("ops"),
        per_page=operation_search.RESULTS_PER_PAGE,
    )
    context |= {
        "page": page,
        "page_links": page_links,
        "results": results,
        "result_links": result_links,
        "search_truncated": query.truncated,
        "max_ranked": operation_search.MAX_RANKED,
    }
    return render(request, "catalog/catalog.html", context)


@require_GET
def api_detail(request: HttpRequest, api_slug: str) -> HttpResponse:
    """The API and one page of its operations by tag; ?q= filters them, ?page= pages them."""
    api = selectors.get_api(user=request.user, api_slug=api_slug)
    listing = selectors.api_operations(
        api=api, search=request.GET.get("q", ""), page=request.GET.get("page")
    )
    context = {"api": api, "listing": listing, "groups": listing.groups, "search": listing.search}
    return render(request, "catalog/api_detail.html", context)
