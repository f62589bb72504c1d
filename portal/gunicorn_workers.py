"""How many gunicorn workers the production profile runs (gunicorn.conf.py).

The gateway's rate limits and quotas, the Try it limit and the resend throttle count in
Django's cache. Only Redis (REDIS_URL) shares it between processes; local memory is each
process's own, so with several workers every limit would hold per worker, a Starter key
getting its 5 calls a minute from each of them. Without REDIS_URL the portal therefore
runs one worker, and refuses to start with more.
"""

from __future__ import annotations

from collections.abc import Mapping

from dotenv import dotenv_values

# With Redis: 4 processes rather than 2 (gunicorn.conf.py says why).
WORKERS_WITH_REDIS = 4


def redis_url(*, environ: Mapping[str, str]) -> str:
    """REDIS_URL as the settings will read it: the environment's, else the line of the
    file PORTAL_ENV_FILE names (portal.settings.read_env_file)."""
    if "REDIS_URL" in environ:
        return environ["REDIS_URL"].strip()
    name = environ.get("PORTAL_ENV_FILE", "").strip()
    if not name:
        return ""
    try:
        values = dotenv_values(name, interpolate=False)
    except OSError:  # the settings refuse to start and say why
        return ""
    return (values.get("REDIS_URL") or "").strip()


def workers_refusal(*, workers: int, environ: Mapping[str, str]) -> str | None:
    """Why `workers` processes cannot serve under `environ`, or None when they can."""
    if workers <= 1 or redis_url(environ=environ):
        return None
    return (
        f"gunicorn: {workers} workers without REDIS_URL would each count rate limits, "
        f"quotas and throttles on their own, multiplying every limit by {workers}. "
        "Set REDIS_URL to share the counters, or run one worker (GUNICORN_WORKERS=1)."
    )


def worker_count(*, environ: Mapping[str, str]) -> int:
    """GUNICORN_WORKERS, by default 4 with REDIS_URL and 1 without; SystemExit with the
    reason when that is more than one without REDIS_URL."""
    value = environ.get("GUNICORN_WORKERS", "").strip()
    default = WORKERS_WITH_REDIS if redis_url(environ=environ) else 1
    workers = int(value) if value else default
    if (reason := workers_refusal(workers=workers, environ=environ)) is not None:
        raise SystemExit(reason)
    return workers
