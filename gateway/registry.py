"""What the gateway knows about APIs, operations and products, kept in each process.

Matching a call needs the published APIs' URL suffixes, an API's operations with their
parameters, and the products through which the API needs a key. Reading them from the
database on every call would cost more than the rest of the call, so each process keeps
them, compiled, in its part of the catalog's snapshot (catalog/snapshot.py), dropped with
it when an API, an operation, a parameter or a product changes. requires_key() answers
the portal's own pages too: whether Try it goes through the gateway.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from urllib.parse import unquote

from catalog import snapshot
from catalog.models import Api, Operation, Parameter, ParameterLocation
from gateway.forwarded_cookies import (
    exploded_properties,
    forwardable_names,
    security_cookie_names,
)
from gateway.models import Product
from gateway.routing import (
    Route,
    RouteTable,
    SuffixMatch,
    compile_route,
    find_by_suffix,
    suffix_segments,
)
from httpcore.masking import is_secret_name
from httpcore.templating import ParsedTemplate, Placeholder, TemplateError, parse_template

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class QueryItemPattern:
    """A query item of an operation's template, as the gateway reads it from a caller."""

    key: str
    literal: str | None  # the decoded value of an item without placeholders
    names: tuple[str, ...] = ()
    regex: re.Pattern[str] | None = None  # for a value mixing text and placeholders
    shape: str = ""  # the template's value, to name in an error ("name:{name}")

    def read(self, value: str) -> dict[str, str] | None:
        """The placeholders' values in a caller's value; None when it does not fit."""
        if len(self.names) == 1 and self.regex is None:
            return {self.names[0]: value}
        assert self.regex is not None
        found = self.regex.match(value)
        if found is None:
            return None
        return dict(zip(self.names, found.groups(), strict=True))


@dataclass(frozen=True)
class OperationEntry:
    id: int
    name: str
    method: str
    template: ParsedTemplate
    query_items: dict[str, QueryItemPattern]  # the template's query keys
    query_parameters: frozenset[str]  # declared query parameters (location "query")
    header_parameters: dict[str, str]  # lower-cased name -> declared name
    # Names a caller must send: required query placeholders, query and header parameters.
    required_query_names: tuple[str, ...]
    required_query_parameters: tuple[str, ...]
    required_headers: tuple[str, ...]
    # Documented cookie names the gateway sends on, the portal's own left out
    # (gateway/forwarded_cookies.py): the cookie parameters, an exploded object's declared
    # properties, and the cookie keys of the operation's security schemes.
    cookie_names: frozenset[str]
    # The required cookie parameters, each with the names that send it (itself, or one
    # of its properties for an exploded object).
    required_cookies: tuple[tuple[str, frozenset[str]], ...]
    # Lower-cased names whose values are masked (as console.tryit.secret_names_of).
    secret_names: frozenset[str]


@dataclass(frozen=True)
class ApiEntry:
    pk: int
    name: str
    service_url: str
    suffix: tuple[str, ...]
    subscription_key_header: str
    subscription_key_query: str
    # The products through which calls need a key (products_requiring_key), by id.
    products: dict[int, Product]
    operations: dict[int, OperationEntry]
    routes: RouteTable

    @property
    def key_required(self) -> bool:
        return bool(self.products)


@dataclass
class _Routes:
    # The published APIs' suffixes (as segments) -> API id, and the longest's length;
    # one attribute, so that a thread never sees one without the other.
    suffixes: tuple[dict[tuple[str, ...], int], int] | None = None
    apis: dict[int, ApiEntry | None] = field(default_factory=dict)
    # The ids of the APIs in a product that needs a subscription key.
    keyed_apis: frozenset[int] | None = None
    # The ids of the APIs that hold their URL suffix: the APIs on the gateway.
    gateway_apis: frozenset[int] | None = None


def _current() -> _Routes:
    return snapshot.part("gateway", _Routes)


# --- Reading ----------------------------------------------------------------------------


def _suffixes(routes: _Routes) -> tuple[dict[tuple[str, ...], int], int]:
    if routes.suffixes is None:
        routes.suffixes = _load_suffixes()
    return routes.suffixes


def find_api(segments: list[str]) -> SuffixMatch[ApiEntry] | None:
    """The published API whose URL suffix is the longest prefix of the path's segments."""
    routes = _current()
    suffixes, longest = _suffixes(routes)
    found = find_by_suffix(segments=segments, suffixes=suffixes, longest=longest)
    if found is None:
        return None
    entry = _api(routes, found.target)
    if entry is None:
        return None
    return SuffixMatch(target=entry, suffix=found.suffix, remaining=found.remaining)


def on_gateway(api_id: int) -> bool:
    """Whether the gateway answers for the API under its URL suffix: it is published, its
    suffix is not blank, and no older API holds the same suffix."""
    routes = _current()
    if routes.gateway_apis is None:
        routes.gateway_apis = frozenset(_suffixes(routes)[0].values())
    return api_id in routes.gateway_apis


def gateway_entries() -> list[ApiEntry]:
    """Every API the gateway answers for, by id (the data plane's routes)."""
    routes = _current()
    entries = (_api(routes, api_id) for api_id in sorted(set(_suffixes(routes)[0].values())))
    return [entry for entry in entries if entry is not None]


def api_entry(api_id: int) -> ApiEntry | None:
    """Any API by id, published or not (Try it through the gateway checks keys with it)."""
    return _api(_current(), api_id)


def requires_key(api_id: int) -> bool:
    """Whether the API, published or not, is in a product that needs a subscription key:
    calls from the portal to it then go through the gateway (gateway.tryit_access)."""
    routes = _current()
    if routes.keyed_apis is None:
        routes.keyed_apis = _load_keyed_apis()
    return api_id in routes.keyed_apis


def _api(routes: _Routes, api_id: int) -> ApiEntry | None:
    if api_id not in routes.apis:
        routes.apis[api_id] = _load_api(api_id)
    return routes.apis[api_id]


# --- Loading ----------------------------------------------------------------------------


def _load_suffixes() -> tuple[dict[tuple[str, ...], int], int]:
    suffixes: dict[tuple[str, ...], int] = {}
    # By id, so that of two APIs with one suffix the older one keeps it.
    rows = Api.objects.published().exclude(url_suffix="").order_by("id")
    for api_id, url_suffix in rows.values_list("id", "url_suffix"):
        segments = suffix_segments(url_suffix)
        if segments:
            suffixes.setdefault(segments, api_id)
    return suffixes, max((len(s) for s in suffixes), default=0)


def _load_keyed_apis() -> frozenset[int]:
    memberships = Product.apis.through.objects.filter(product__subscription_required=True)
    return frozenset(memberships.values_list("api_id", flat=True))


def _load_api(api_id: int) -> ApiEntry | None:
    api = (
        Api.objects.filter(pk=api_id)
        .only(
            "id",
            "name",
            "service_url",
            "url_suffix",
            "subscription_key_header",
            "subscription_key_query",
            "openapi",
        )
        .first()
    )
    if api is None:
        return None
    operations = list(
        Operation.objects.current()
        .filter(api_id=api_id)
        .only("id", "name", "method", "url_template", "order", "openapi")
    )
    parameters: dict[int, list[Parameter]] = {}
    for parameter in Parameter.objects.filter(operation__in=[o.pk for o in operations]).only(
        "operation_id", "name", "location", "required", "secret"
    ):
        parameters.setdefault(parameter.operation_id, []).append(parameter)
    entries: dict[int, OperationEntry] = {}
    routes: list[Route] = []
    for operation in operations:
        try:
            parsed = parse_template(operation.url_template)
        except TemplateError:
            logger.warning("gateway: operation %s has an invalid URL template", operation.pk)
            continue
        entries[operation.pk] = _operation_entry(
            operation,
            parsed=parsed,
            parameters=parameters.get(operation.pk, []),
            definitions=_mapping(api.openapi),
        )
        routes.append(
            compile_route(
                key=operation.pk,
                method=operation.method,
                template=parsed,
                order=(operation.order, operation.pk),
            )
        )
    products = {product.pk: product for product in api.products.filter(subscription_required=True)}
    return ApiEntry(
        pk=api.pk,
        name=api.name,
        service_url=api.service_url,
        suffix=suffix_segments(api.url_suffix),
        subscription_key_header=api.subscription_key_header,
        subscription_key_query=api.subscription_key_query,
        products=products,
        operations=entries,
        routes=RouteTable.build(routes),
    )


def _query_item_pattern(key: str, parts: tuple) -> QueryItemPattern:
    names = tuple(part.name for part in parts if isinstance(part, Placeholder))
    shape = "".join(f"{{{p.name}}}" if isinstance(p, Placeholder) else p for p in parts)
    if not names:
        return QueryItemPattern(key=unquote(key), literal=unquote(shape), shape=shape)
    if len(parts) == 1:
        return QueryItemPattern(key=unquote(key), literal=None, names=names, shape=shape)
    regex = "".join(
        "(.+?)" if isinstance(part, Placeholder) else re.escape(unquote(part)) for part in parts
    )
    return QueryItemPattern(
        key=unquote(key),
        literal=None,
        names=names,
        regex=re.compile(regex + r"\Z", re.DOTALL),
        shape=shape,
    )


def _mapping(value: object) -> dict:
    return value if isinstance(value, dict) else {}


def _operation_entry(
    operation: Operation,
    *,
    parsed: ParsedTemplate,
    parameters: list[Parameter],
    definitions: dict,
) -> OperationEntry:
    by_location: dict[str, list[Parameter]] = {}
    for parameter in parameters:
        by_location.setdefault(parameter.location, []).append(parameter)
    template_required = {
        p.name for p in by_location.get(ParameterLocation.TEMPLATE, []) if p.required
    }
    query_parameters = by_location.get(ParameterLocation.QUERY, [])
    header_parameters = by_location.get(ParameterLocation.HEADER, [])
    cookie_parameters = by_location.get(ParameterLocation.COOKIE, [])
    document = _mapping(operation.openapi)
    properties = exploded_properties(operation=document, definitions=definitions)
    scheme_cookies = security_cookie_names(operation=document, definitions=definitions)
    cookie_names = forwardable_names(
        [
            *(p.name for p in cookie_parameters),
            *(name for declared in properties.values() for name in declared),
            *scheme_cookies,
        ]
    )
    secret = {p.name.lower() for p in parameters if p.secret}
    secret |= {name.lower() for name in scheme_cookies}
    for item in parsed.query:
        # "?api_key={apikey}" masks the value of api_key when apikey is secret, and
        # "?token={t}" the value of t (as console.tryit.secret_names_of).
        placeholders = {p.name.lower() for p in item.value if isinstance(p, Placeholder)}
        if placeholders & secret:
            secret.add(unquote(item.key).lower())
        if is_secret_name(unquote(item.key)):
            secret |= placeholders
    return OperationEntry(
        id=operation.pk,
        name=operation.name,
        method=operation.method.upper(),
        template=parsed,
        query_items={
            unquote(item.key): _query_item_pattern(item.key, item.value) for item in parsed.query
        },
        query_parameters=frozenset(p.name for p in query_parameters),
        header_parameters={p.name.lower(): p.name for p in header_parameters},
        required_query_names=tuple(
            name for name in parsed.query_names if name in template_required
        ),
        required_query_parameters=tuple(p.name for p in query_parameters if p.required),
        required_headers=tuple(p.name for p in header_parameters if p.required),
        cookie_names=cookie_names,
        required_cookies=tuple(
            (p.name, frozenset({p.name, *properties.get(p.name, ())}) & cookie_names)
            for p in cookie_parameters
            if p.required and p.name in cookie_names
        ),
        secret_names=frozenset(secret),
    )
