"""The data plane's nginx configuration, rendered from the portal's routes and settings.

`render` writes two files into a directory of their own: nginx.conf (from the template
templates/gateway/dataplane/nginx.conf) and dataplane_config.lua, the routes, products
and answers gateway.lua reads when nginx starts or reloads. Every string the Lua sends
back (error bodies, messages) is written here by the portal's own functions, so both
gateways say the same words.
"""

from __future__ import annotations

import math
import re
import subprocess
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote, urlsplit

from django.conf import settings
from django.core.cache import cache
from django.template.loader import render_to_string

from gateway import access, limits, registry
from gateway.answers import ANSWER_HEADERS, DROPPED_RESPONSE_HEADERS, bad_request, error_answer
from gateway.incoming import FORWARDED_REQUEST_HEADERS
from gateway.models import CallOutcome, Product
from gateway.public_urls import backend_failure_message
from gateway.registry import ApiEntry, OperationEntry
from gateway.routing import GATEWAY_PREFIX, Route
from httpcore.headers import is_refused_name
from httpcore.masking import CREDENTIAL_WORD, MASK
from httpcore.outbound import format_size

LUA_DIR = Path(__file__).resolve().parent
RECORDS_LIST = "gw-dp-calls"
KEY_HASH_PREFIX = "gw-dp-key:"


@dataclass(frozen=True)
class RedisTarget:
    host: str
    port: int
    db: int
    password: str

    @classmethod
    def from_url(cls, url: str) -> RedisTarget:
        parts = urlsplit(url)
        path = parts.path.strip("/")
        return cls(
            host=parts.hostname or "127.0.0.1",
            port=parts.port or 6379,
            db=int(path) if path.isdigit() else 0,
            password=parts.password or "",
        )


def lua(value: object) -> str:
    """A Lua literal for a JSON-like value (strings escaped byte by byte)."""
    if value is None:
        return "nil"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str):
        escaped = "".join(
            chr(b) if 0x20 <= b < 0x7F and b not in (0x22, 0x5C) else f"\\{b:03d}"
            for b in value.encode()
        )
        return f'"{escaped}"'
    if isinstance(value, dict):
        return "{" + ", ".join(f"[{lua(k)}] = {lua(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list | tuple):
        return "{" + ", ".join(lua(v) for v in value) + "}"
    raise TypeError(type(value))


def _body(refusal_code: str, message: str, **details: object) -> str:
    return error_answer(bad_request(refusal_code, message, **details)).body.decode()


def _segment_pattern(pattern: object) -> dict:
    literal = getattr(pattern, "literal", None)
    if literal is not None:
        return {"literal": literal}
    regex = pattern.regex.pattern  # type: ignore[attr-defined]
    return {"regex": "^" + regex.removesuffix(r"\Z") + r"\z"}


def _operation(api: ApiEntry, route: Route, operation: OperationEntry) -> dict:
    key_header = api.subscription_key_header.lower()
    headers = {
        name.lower(): True
        for name in [*operation.header_parameters.values(), *FORWARDED_REQUEST_HEADERS]
        if name.lower() != key_header and not is_refused_name(name)
    }
    if operation.cookie_names:
        headers["cookie"] = True
    fixed = {
        key: {
            "value": item.literal,
            "body": _body(
                "InvalidParameter",
                f"The query parameter {key} is fixed to {item.literal!r} by the operation.",
                parameter=key,
            ),
        }
        for key, item in operation.query_items.items()
        if item.literal is not None
    }
    fixed_pairs = [
        f"{_quote(key)}={_quote(entry['value'])}" for key, entry in fixed.items() if entry["value"]
    ]
    secret = {name.lower(): True for name in operation.secret_names}
    if api.subscription_key_query:
        secret[api.subscription_key_query.lower()] = True
    masked = {
        index + 1: True
        for index, names in enumerate(pattern.names for pattern in route.segments)
        if any(name.lower() in secret for name in names)
    }
    # [query key, name in the error]: a template's placeholder is named as in the template.
    required_query = [
        [key, name]
        for key, item in operation.query_items.items()
        if item.literal is None
        for name in item.names
        if name in operation.required_query_names
    ] + [[name, name] for name in operation.required_query_parameters]
    return {
        "id": operation.id,
        "method": route.method,
        "segments": [_segment_pattern(pattern) for pattern in route.segments],
        "query": {
            key: True
            for key in [*operation.query_items, *operation.query_parameters]
            if key not in fixed
        },
        "fixed": fixed,
        "fixed_pairs": fixed_pairs,
        "required_query": required_query,
        "required_headers": list(operation.required_headers),
        "headers": headers,
        "cookies": {name: True for name in operation.cookie_names},
        "secret": secret,
        "masked_segments": masked or None,
    }


def _quote(text: str) -> str:
    return quote(text, safe="")


def _product(product: Product) -> dict:
    rate = limits.limit_refusal(
        admission=limits.Admission(allowed=False, refused_by="rate"), product=product
    )
    quota = limits.limit_refusal(
        admission=limits.Admission(allowed=False, refused_by="quota"), product=product
    )
    return {
        "rate_limit": product.rate_limit_calls,
        "rate_period": product.rate_limit_period_seconds,
        "quota_limit": product.quota_calls,
        "quota_period": product.quota_period_seconds,
        "rate_message": rate.message,
        "quota_message": quota.message,
    }


def _api(api: ApiEntry) -> dict:
    service = urlsplit(api.service_url)
    scheme = service.scheme.lower()
    port = service.port or (443 if scheme == "https" else 80)
    routes = api.routes.all_routes()
    missing = access.check_key(api=api, key="")
    secret = {api.subscription_key_query.lower(): True} if api.subscription_key_query else {}
    return {
        "id": api.pk,
        "name": api.name,
        "suffix": "/".join(api.suffix),
        "upstream": f"{scheme}://dp_api_{api.pk}",
        "host": service.netloc.rpartition("@")[2],
        "scheme": scheme,
        "hostname": (service.hostname or "").lower(),
        "port": port,
        "service_path": service.path.rstrip("/"),
        "key_header": api.subscription_key_header.lower(),
        "key_query": api.subscription_key_query,
        "keyed": api.key_required,
        "secret": secret,
        "products": {pk: _product(product) for pk, product in api.products.items()},
        "missing_key": _body(missing.code, missing.message) if not missing.allowed else "",
        "operation_not_found": _body(
            "OperationNotFound", f"{api.name} has no operation at this path."
        ),
        "operations": [_operation(api, route, api.operations[route.key]) for route in routes],
        "upstream_server": f"{service.hostname}:{port}",
    }


def config_table(*, redis_url: str) -> dict:
    target = RedisTarget.from_url(redis_url)
    apis = [_api(entry) for entry in registry.gateway_entries()]
    inactive: dict[str, str] = {
        str(state): _body(code, f"The subscription {reason}.")
        for state, (code, reason) in access._INACTIVE.items()
    }
    inactive[""] = _body("SubscriptionNotActive", "The subscription is not active.")
    limit = settings.PORTAL_OUTBOUND_MAX_REQUEST_BODY_BYTES
    return {
        "prefix": GATEWAY_PREFIX,
        "script_path": str(LUA_DIR / "limits.lua"),
        "key_prefix": cache.make_key(""),
        "key_hash_prefix": KEY_HASH_PREFIX,
        "records_list": RECORDS_LIST,
        "flush_seconds": settings.PORTAL_DATAPLANE_FLUSH_SECONDS,
        "key_cache_seconds": settings.PORTAL_DATAPLANE_KEY_CACHE_SECONDS,
        "key_cache_size": 10_000,
        "max_queued": 100_000,
        "mask": MASK,
        "credential_word": CREDENTIAL_WORD.pattern,
        "max_response_bytes": settings.PORTAL_OUTBOUND_MAX_RESPONSE_BYTES,
        "answer_headers": [list(pair) for pair in ANSWER_HEADERS],
        "dropped": {name: True for name in DROPPED_RESPONSE_HEADERS - {"content-length"}},
        "outcomes": {outcome.name.lower(): outcome.value for outcome in CallOutcome},
        "inactive": inactive,
        "failure_messages": {
            kind: backend_failure_message(kind) for kind in ("connect", "timeout")
        },
        "bodies": {
            "api_not_found": _body("ApiNotFound", "No API is published under this path."),
            "invalid_key": _body(
                "InvalidSubscriptionKey", "The subscription key is not valid for this API."
            ),
            "redirect": _body(
                "BackendError",
                "The backend answered with a Location outside its own URL; the gateway does "
                "not pass it on.",
                kind="redirect",
            ),
            "too_large": _body(
                "BackendResponseTooLarge",
                "The backend's answer is larger than the gateway passes on "
                f"({format_size(settings.PORTAL_OUTBOUND_MAX_RESPONSE_BYTES)}).",
            ),
            "request_too_large": _body(
                "RequestBodyTooLarge",
                f"The request body is larger than the gateway takes ({format_size(limit)}).",
            ),
        },
        "unavailable_body": _body(
            "GatewayUnavailable", "The gateway cannot check the call now; try again later."
        ),
        "max_suffix": max((len(api["suffix"].split("/")) for api in apis), default=0),
        "apis": {api["suffix"]: api for api in apis},
        "redis": {
            "host": target.host,
            "port": target.port,
            "db": target.db,
            "password": target.password,
            "pool": f"dataplane-redis-{target.host}-{target.port}-{target.db}",
            "pool_size": 64,
            "connect_timeout_ms": 1000,
            "timeout_ms": 1000,
            "idle_ms": 60_000,
        },
    }


def render(*, directory: Path, listen: str, redis_url: str, workers: int | None = None) -> Path:
    """Write nginx.conf and dataplane_config.lua into `directory`; the conf's path.
    Files are written whole and then moved into place, so a reload reads old or new."""
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "tmp").mkdir(exist_ok=True)
    table = config_table(redis_url=redis_url)
    upstreams = [
        {"name": api["upstream"].partition("://")[2], "server": api["upstream_server"]}
        for api in table["apis"].values()
    ]
    _write(directory / "dataplane_config.lua", config_text(table))
    conf = render_to_string(
        "gateway/dataplane/nginx.conf",
        {
            "directory": str(directory),
            "lua_dir": str(LUA_DIR),
            "listen": listen,
            "workers": workers or settings.PORTAL_DATAPLANE_WORKERS,
            "upstreams": upstreams,
            "max_body": settings.PORTAL_OUTBOUND_MAX_REQUEST_BODY_BYTES,
            "connect_timeout": math.ceil(settings.PORTAL_OUTBOUND_CONNECT_TIMEOUT),
            "read_timeout": math.ceil(settings.PORTAL_OUTBOUND_READ_TIMEOUT),
        },
    )
    path = directory / "nginx.conf"
    _write(path, conf)
    return path


def config_text(table: dict) -> str:
    return f"return {lua(table)}\n"


def _write(path: Path, text: str) -> None:
    temporary = path.with_suffix(path.suffix + ".tmp")
    temporary.write_text(text)
    temporary.replace(path)


def nginx_command(conf: Path, *signal: str) -> list[str]:
    """The nginx command line serving `conf` (with a signal: sending it to that nginx)."""
    command = [settings.PORTAL_DATAPLANE_NGINX, "-p", str(conf.parent), "-c", str(conf)]
    command += ["-e", str(conf.parent / "error.log")]
    return command + (["-s", *signal] if signal else [])


def refresh(*, conf: Path, redis_url: str) -> bool:
    """Render the routes again and, when they changed, have nginx reload them (graceful:
    calls in flight end on the old workers). Whether it reloaded."""
    path = conf.parent / "dataplane_config.lua"
    text = config_text(config_table(redis_url=redis_url))
    if path.exists() and path.read_text() == text:
        return False
    listen = re.search(r"^\s*listen (\S+)", conf.read_text(), re.MULTILINE)
    workers = re.search(r"^worker_processes (\d+);", conf.read_text(), re.MULTILINE)
    assert listen is not None and workers is not None
    render(
        directory=conf.parent,
        listen=listen.group(1),
        redis_url=redis_url,
        workers=int(workers.group(1)),
    )
    # The configured nginx binary on files the portal wrote: no caller's input.
    subprocess.run(nginx_command(conf, "reload"), check=True, capture_output=True)  # noqa: S603
    return True
