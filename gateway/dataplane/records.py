"""The calls the data plane recorded, moved from their Redis list into GatewayCall rows.

nginx's log phase queues one tab-separated line per call in its worker; a timer pushes
the queue to the list `gw-dp-calls` every PORTAL_DATAPLANE_FLUSH_SECONDS (0.05 s by
default). `drain` takes up to `batch` lines off the list at once and inserts them in one
statement. What a restart can lose: the lines a worker had queued and not yet pushed
(a worker ending gracefully pushes them first), and a batch taken off the list while
the database refused it (logged).
"""

from __future__ import annotations

import ipaddress
import logging
from datetime import UTC, datetime

from gateway.dataplane.render import RECORDS_LIST
from gateway.models import CallSource, GatewayCall
from portal import shared_cache

logger = logging.getLogger(__name__)


def _int(text: str) -> int | None:
    return int(text) if text.isdigit() else None


def _float(text: str) -> float | None:
    try:
        return float(text)
    except ValueError:
        return None


def parse(line: str) -> GatewayCall:
    fields = line.split("\t")
    fields += [""] * (16 - len(fields))
    started, api, operation, subscription, product, user, method, path = fields[:8]
    outcome, status, error_kind, duration, backend, request_bytes, response_bytes, client = fields[
        8:16
    ]
    try:
        address: str | None = str(ipaddress.ip_address(client))
    except ValueError:
        address = None
    return GatewayCall(
        created_at=datetime.fromtimestamp(_float(started) or 0, tz=UTC),
        source=CallSource.GATEWAY,
        api_id=_int(api),
        operation_id=_int(operation),
        subscription_id=_int(subscription),
        product_id=_int(product),
        user_id=_int(user),
        method=method[:10],
        path=path,
        outcome=outcome,
        status_code=_int(status),
        error_kind=error_kind[:30],
        duration_ms=_float(duration) or 0,
        backend_duration_ms=_float(backend),
        request_bytes=_int(request_bytes) or 0,
        response_bytes=_int(response_bytes) or 0,
        client_address=address,
    )


def drain(*, batch: int = 1000) -> int:
    """Insert up to `batch` recorded calls; how many."""
    client = shared_cache.redis_client()
    if client is None:
        return 0
    lines = client.lpop(RECORDS_LIST, batch) or []
    rows = [parse(line.decode("utf-8", "replace")) for line in lines]  # type: ignore[union-attr]
    if not rows:
        return 0
    try:
        GatewayCall.objects.bulk_create(rows)
    except Exception:
        # A row naming something deleted meanwhile must not lose the others.
        for row in rows:
            try:
                row.save(force_insert=True)
            except Exception:
                logger.exception("dataplane: a call could not be recorded")
    return len(rows)
