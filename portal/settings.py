"""Settings for the API developer portal, read from the environment.

Every value has a safe production default; the README lists each variable.
"""

import os
from pathlib import Path

import dj_database_url
import xstatic.pkg.bootstrap
from django.core.exceptions import ImproperlyConfigured
from dotenv import load_dotenv

BASE_DIR = Path(__file__).resolve().parent.parent


def read_env_file() -> None:
    """Add the variables of the file PORTAL_ENV_FILE names to the environment; those
    already set win. manage.py names the development file (BASE_DIR/.env) when there is
    one; the WSGI application and the tests read no file unless PORTAL_ENV_FILE says so."""
    name = os.environ.get("PORTAL_ENV_FILE", "").strip()
    if not name:
        return
    if not Path(name).is_file():
        raise ImproperlyConfigured(f"PORTAL_ENV_FILE names {name}, which is not a file.")
    load_dotenv(name, override=False, interpolate=False)


read_env_file()


def env_str(name: str, default: str = "") -> str:
    return os.environ.get(name, default)


def env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None or value.strip() == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_int(name: str, default: int) -> int:
    value = os.environ.get(name, "").strip()
    return int(value) if value else default


def env_float(name: str, default: float) -> float:
    value = os.environ.get(name, "").strip()
    return float(value) if value else default


def env_list(name: str, default: list[str]) -> list[str]:
    value = os.environ.get(name)
    if value is None:
        return default
    return [item.strip() for item in value.split(",") if item.strip()]


def env_port(name: str, default: int) -> int:
    value = os.environ.get(name, "").strip()
    if not value:
        return default
    if not (value.isascii() and value.isdigit() and 1 <= int(value) <= 65535):
        raise ImproperlyConfigured(f"{name} must be a port number from 1 to 65535, not {value!r}.")
    return int(value)


# A server listening on every address is reached on loopback.
_WILDCARD_TO_LOOPBACK = {"": "127.0.0.1", "0.0.0.0": "127.0.0.1", "::": "::1", "[::]": "::1"}  # noqa: S104


def served_url(*, host: str, port: int) -> str:
    """The address of a server listening on host:port."""
    host = _WILDCARD_TO_LOOPBACK.get(host, host)
    if ":" in host and not host.startswith("["):
        host = f"[{host}]"
    return f"http://{host}:{port}"


DEBUG = env_bool("DEBUG", False)
# Where `make run` serves the portal (it records both in .env): the sample backend's
# default address follows them, and so does the port development lets backends use.
HOST = env_str("HOST", "127.0.0.1").strip()
PORT = env_port("PORT", 8000)

# A fixed key is only acceptable on a developer's machine; production must set one.
# Without one Django refuses at the key's first use, so that commands needing none
# (makemigrations, collectstatic) still run; portal/wsgi.py refuses to serve at once.
_DEVELOPMENT_SECRET_KEY = "insecure-development-key-do-not-use-in-production"  # noqa: S105
SECRET_KEY = env_str("SECRET_KEY") or (_DEVELOPMENT_SECRET_KEY if DEBUG else "")

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost"] if DEBUG else [])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django_htmx",
    "crispy_forms",
    "crispy_bootstrap5",
    "allauth",
    "allauth.account",
    "portal",
    "catalog",
    "gateway",
    "console",
    "samples",
    "testing",
    "openapi",
    "analytics",
    "demo",
    "oauth2_provider",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "portal.middleware.ContentSecurityPolicyMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
]

ROOT_URLCONF = "portal.urls"
WSGI_APPLICATION = "portal.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# Connections are kept a minute: opening one to PostgreSQL costs more than a Try it
# call's own work.
DATABASES = {
    "default": dj_database_url.parse(
        env_str("DATABASE_URL", f"sqlite:///{BASE_DIR / 'db.sqlite3'}"),
        conn_max_age=env_int("DATABASE_CONN_MAX_AGE", 60),
        conn_health_checks=True,
    )
}
# On PostgreSQL each process keeps a pool of connections instead of one per thread: a
# burst of requests on new threads does not wait to open connections, and the portal
# holds at most workers x DATABASE_POOL_MAX_SIZE of them (PostgreSQL allows 100 by
# default). 0 turns the pool off; connections are then kept DATABASE_CONN_MAX_AGE.
DATABASE_POOL_MAX_SIZE = env_int("DATABASE_POOL_MAX_SIZE", 16)
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql" and DATABASE_POOL_MAX_SIZE:
    DATABASES["default"]["CONN_MAX_AGE"] = 0  # the pool keeps them
    # With the pool, CONN_HEALTH_CHECKS would send a query on every checkout: a dropped
    # connection is found without one instead (portal/db_pool.py).
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = False
    DATABASES["default"].setdefault("OPTIONS", {})["pool"] = {
        "min_size": min(env_int("DATABASE_POOL_MIN_SIZE", 4), DATABASE_POOL_MAX_SIZE),
        "max_size": DATABASE_POOL_MAX_SIZE,
        # How long a request waits for a free connection before it fails.
        "timeout": env_float("DATABASE_POOL_TIMEOUT", 10.0),
    }
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # Values travel apart from the statement, bytes as bytes: a 5 MB response body kept in
    # the history is not first spelled out as 10 MB of hex inside the SQL text.
    DATABASES["default"].setdefault("OPTIONS", {})["server_side_binding"] = True
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Readers do not wait for the writer, and commits do not wait for every fsync.
    DATABASES["default"].setdefault("OPTIONS", {})["init_command"] = (
        "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;"
    )
# Local memory serves one process; several processes or machines share Redis, which
# keeps rate-limit counters common to all of them.
REDIS_URL = env_str("REDIS_URL")
CACHES = {
    "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}
    if REDIS_URL
    else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
}
# Sessions are read from Redis and written through to the database, which spares a query
# on every request. Local memory would let processes hold different copies of a session.
SESSION_ENGINE = (
    "django.contrib.sessions.backends.cached_db"
    if REDIS_URL
    else "django.contrib.sessions.backends.db"
)

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = env_str("TIME_ZONE", "UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
# Bootstrap comes from its Python package so that the portal works offline.
STATICFILES_DIRS = [BASE_DIR / "static", ("bootstrap", xstatic.pkg.bootstrap.BASE_DIR)]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}

CRISPY_ALLOWED_TEMPLATE_PACKS = "bootstrap5"
CRISPY_TEMPLATE_PACK = "bootstrap5"

LOGIN_URL = "account_login"
# Mail: sign-up confirmations and password resets. The console backend prints them in
# development; production names an SMTP server.
EMAIL_BACKEND = env_str(
    "EMAIL_BACKEND",
    "django.core.mail.backends.console.EmailBackend"
    if DEBUG
    else "django.core.mail.backends.smtp.EmailBackend",
)
EMAIL_HOST = env_str("EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("EMAIL_PORT", 25)
EMAIL_HOST_USER = env_str("EMAIL_HOST_USER")
EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "API portal <portal@localhost>")
LOGIN_REDIRECT_URL = "catalog:catalog"
LOGOUT_REDIRECT_URL = "catalog:catalog"

# --- Accounts: django-allauth's account app (README, Accounts) -------------------
AUTHENTICATION_BACKENDS = [
    # The admin's sign-in; the account pages sign in through allauth's backend.
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]
# Where the portal is reached, as https://portal.example.com: the links in emails are
# built on it, never on the Host header of the request that sent them. Development
# defaults to the address `make run` serves; production sends no link without it
# (the deployment check says so).
PORTAL_SITE_URL = env_str("PORTAL_SITE_URL", served_url(host=HOST, port=PORT) if DEBUG else "")
ACCOUNT_ADAPTER = "portal.account_adapter.PortalAccountAdapter"
ACCOUNT_LOGIN_METHODS = {"username"}
ACCOUNT_SIGNUP_FIELDS = ["username*", "email*", "password1*", "password2*"]
ACCOUNT_UNIQUE_EMAIL = True
# An address is taken once an account has confirmed it (portal/email_claims.py).
ACCOUNT_FORMS = {"signup": "portal.account_forms.PortalSignupForm"}
ACCOUNT_EMAIL_VERIFICATION = "mandatory"
ACCOUNT_LOGIN_ON_EMAIL_CONFIRMATION = True
# A new account lands on its profile once confirmed.
ACCOUNT_SIGNUP_REDIRECT_URL = "profile"
ACCOUNT_EMAIL_CONFIRMATION_EXPIRE_DAYS = 3
# One address per account; a new one replaces it only once its link is opened.
ACCOUNT_CHANGE_EMAIL = True
# Changing the address or the password asks for the password again after
# REAUTHENTICATION_TIMEOUT seconds from the last sign-in.
ACCOUNT_REAUTHENTICATION_REQUIRED = True
ACCOUNT_REAUTHENTICATION_TIMEOUT = 300
# The old address hears of a new one, and the user of a changed or reset password.
ACCOUNT_EMAIL_NOTIFICATIONS = True
# Sign-up with an address another account confirmed answers as for a new one and
# mails the owner instead. "strict": an address only asked for is no obstacle, so a
# sign-up with it keeps it as the new account's primary address.
ACCOUNT_PREVENT_ENUMERATION = "strict"
# A reset asked for an address without an account mails nobody.
ACCOUNT_EMAIL_UNKNOWN_ACCOUNTS = False
ACCOUNT_EMAIL_SUBJECT_PREFIX = ""
ACCOUNT_LOGOUT_ON_PASSWORD_CHANGE = False
ACCOUNT_SESSION_REMEMBER = True
# Counted in the cache (shared by every process with REDIS_URL). A refused attempt
# answers "Too many failed login attempts. Try again later."
ACCOUNT_RATE_LIMITS = {
    # Wrong passwords: 5 per username in 5 minutes, 10 a minute per IP address. A right
    # password does not reset the count.
    "login_failed": "10/m/ip,5/300s/key",
    "login": "30/m/ip",
    # Reset requests: 5 a minute per address, 20 a minute per IP address.
    "reset_password": "20/m/ip,5/m/key",
    "reset_password_from_key": "20/m/ip",
    "signup": "20/m/ip",
    "change_password": "5/m/user",
    "manage_email": "10/m/user",
    "reauthenticate": "10/m/user",
    # One confirmation mail per address in 3 minutes.
    "confirm_email": "1/180s/key",
}
# Proxies in front of the portal that add X-Forwarded-For: the client's IP address is
# read from that header, else the connection's address counts.
ALLAUTH_TRUSTED_PROXY_COUNT = env_int("ALLAUTH_TRUSTED_PROXY_COUNT", 0)

# Security headers; HTTPS-only settings follow SECURE_SSL_REDIRECT so that the
# demo works over plain http on a developer's machine.
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", not DEBUG)
SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", not DEBUG)
CSRF_COOKIE_SECURE = env_bool("CSRF_COOKIE_SECURE", not DEBUG)
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 0 if DEBUG else 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", not DEBUG)
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", not DEBUG)
SECURE_PROXY_SSL_HEADER = (
    ("HTTP_X_FORWARDED_PROTO", "https") if env_bool("SECURE_PROXY_SSL_HEADER", False) else None
)
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True

# The loggers that write request lines and paths mask every query value and the account
# links' tokens (portal/log_masking.py) before any handler sees the record. runserver's
# request lines keep Django's own handler and format.
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"mask_request_secrets": {"()": "portal.log_masking.MaskRequestSecrets"}},
    "formatters": {
        "django.server": {
            "()": "django.utils.log.ServerFormatter",
            "format": "[{server_time}] {message}",
            "style": "{",
        }
    },
    "handlers": {
        "console": {"class": "logging.StreamHandler"},
        "django.server": {"class": "logging.StreamHandler", "formatter": "django.server"},
    },
    "loggers": {
        "django.request": {"filters": ["mask_request_secrets"]},
        "django.security.csrf": {"filters": ["mask_request_secrets"]},
        "django.server": {
            "handlers": ["django.server"],
            "level": "INFO",
            "propagate": False,
            "filters": ["mask_request_secrets"],
        },
    },
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
}

# --- The outbound path (docs/design.md, "Outbound: a bare, bounded session",
# "Outbound: allowed addresses, pinned") ---------------------------------------
# Address ranges a backend may resolve to besides public ones, as CIDRs.
# Production default: none, so loopback and private ranges are refused.
PORTAL_OUTBOUND_ALLOWED_NETWORKS = env_list(
    "PORTAL_OUTBOUND_ALLOWED_NETWORKS", ["127.0.0.1/32", "::1/128"] if DEBUG else []
)
# Ports a backend may listen on; "*" allows any. The development setup adds the
# portal's own PORT, where the sample backend answers.
PORTAL_OUTBOUND_ALLOWED_PORTS = env_list(
    "PORTAL_OUTBOUND_ALLOWED_PORTS",
    list(dict.fromkeys(["80", "443", "8080", "8443", *([str(PORT)] if DEBUG else [])])),
)
PORTAL_OUTBOUND_CONNECT_TIMEOUT = env_float("PORTAL_OUTBOUND_CONNECT_TIMEOUT", 5.0)
PORTAL_OUTBOUND_READ_TIMEOUT = env_float("PORTAL_OUTBOUND_READ_TIMEOUT", 30.0)
PORTAL_OUTBOUND_DEADLINE = env_float("PORTAL_OUTBOUND_DEADLINE", 60.0)
PORTAL_OUTBOUND_MAX_RESPONSE_BYTES = env_int("PORTAL_OUTBOUND_MAX_RESPONSE_BYTES", 5 * 1024 * 1024)
PORTAL_OUTBOUND_MAX_REQUEST_BODY_BYTES = env_int(
    "PORTAL_OUTBOUND_MAX_REQUEST_BODY_BYTES", 1024 * 1024
)
# Seconds a connection to a backend, idle since its last answer, is kept for the next
# call to the same name and pinned address; 0: a new connection for every call.
PORTAL_OUTBOUND_KEEP_ALIVE_SECONDS = env_float("PORTAL_OUTBOUND_KEEP_ALIVE_SECONDS", 1.0)
# Django answers a larger form with a bare 400 page before the Try it form sees it. The
# room above the body limit lets an oversized body reach the form and get a plain
# message, and form encoding may triple a body (%XX for each byte of punctuation).
DATA_UPLOAD_MAX_MEMORY_SIZE = env_int(
    "DATA_UPLOAD_MAX_MEMORY_SIZE",
    max(12 * 1024 * 1024, 3 * PORTAL_OUTBOUND_MAX_REQUEST_BODY_BYTES + 1024 * 1024),
)
# Each header row is two fields: a form with far more rows than the 50 headers allowed
# still gets the form's "Too many headers" rather than a 400 page.
DATA_UPLOAD_MAX_NUMBER_FIELDS = env_int("DATA_UPLOAD_MAX_NUMBER_FIELDS", 5000)

# Key for secret values stored in the database; derived from SECRET_KEY when unset.
PORTAL_ENCRYPTION_KEY = env_str("PORTAL_ENCRYPTION_KEY")

# Try it calls each client (a signed-in user, else an IP address) may send per window.
# 0 turns the limit off.
PORTAL_TRY_IT_RATE_LIMIT = env_int("PORTAL_TRY_IT_RATE_LIMIT", 60)
PORTAL_TRY_IT_RATE_WINDOW = env_int("PORTAL_TRY_IT_RATE_WINDOW", 60)

# Collection runs started from a page continue in a background thread while the
# page shows their progress; off, the request waits for the run (tests).
PORTAL_RUNS_IN_BACKGROUND = env_bool("PORTAL_RUNS_IN_BACKGROUND", True)

# The longest Retry-After (seconds) a replay or collection run waits out before sending a
# request again, once per step, after a 429 or 503; 0 never waits.
PORTAL_RUN_RETRY_AFTER_MAX_SECONDS = env_int("PORTAL_RUN_RETRY_AFTER_MAX_SECONDS", 60)

# OpenID Connect providers whose discovery document the Authorize dialog may fetch:
# comma-separated origins (https://login.example.com); any other is refused unfetched.
PORTAL_OIDC_ISSUERS = env_list("PORTAL_OIDC_ISSUERS", [])

# The largest OpenAPI document an import reads, in bytes.
PORTAL_OPENAPI_MAX_BYTES = env_int("PORTAL_OPENAPI_MAX_BYTES", 50 * 1024 * 1024)

# --- The built-in sample backend ---------------------------------------------
# Whether /demo-backend/ answers at all: it accepts anyone holding the demo key, so it is
# on by default only in development (`make serve`, the demo profile, turns it on); off,
# its URLs are 404.
PORTAL_DEMO_BACKEND_ENABLED = env_bool("PORTAL_DEMO_BACKEND_ENABLED", DEBUG)
PORTAL_DEMO_BACKEND_URL = env_str(
    "PORTAL_DEMO_BACKEND_URL", served_url(host=HOST, port=PORT) + "/demo-backend"
)
PORTAL_DEMO_API_KEY = env_str("PORTAL_DEMO_API_KEY", "demo-key-0123456789abcdef")
# The sample backend's authorization server (django-oauth-toolkit, /demo-backend/o/):
# the scope its OAuth-protected operation asks for, and the secret of the confidential
# client `load_demo` registers for the client credentials grant.
OAUTH2_PROVIDER = {
    "SCOPES": {"profile": "Read who is calling the sample backend"},
    "DEFAULT_SCOPES": ["profile"],
    "PKCE_REQUIRED": True,
    "ACCESS_TOKEN_EXPIRE_SECONDS": 3600,
    # RFC 9700 (the OAuth 2.0 security BCP): no implicit or password grant, S256 only,
    # tokens in the Authorization header only, `iss` in the answer, tokens stored hashed,
    # a replayed refresh token revokes its family.
    "COMPLIANT_BCP_RFC9700_IMPLICIT_GRANT": True,
    "COMPLIANT_BCP_RFC9700_PASSWORD_GRANT": True,
    "COMPLIANT_BCP_RFC9700_PKCE_METHOD": True,
    "COMPLIANT_BCP_RFC9700_ACCESS_TOKEN_TRANSPORT": True,
    "COMPLIANT_BCP_RFC9700_AUTHZ_RESPONSE_ISS": True,
    "COMPLIANT_BCP_RFC9700_TOKEN_STORAGE": True,
    "REFRESH_TOKEN_REUSE_PROTECTION": True,
    # Plain http redirect URIs only for the demo served on http://127.0.0.1 (`make run`,
    # `make serve`); in production the demo is off and https is required.
    "ALLOWED_REDIRECT_URI_SCHEMES": (
        ["http", "https"] if DEBUG or PORTAL_DEMO_BACKEND_ENABLED else ["https"]
    ),
}
PORTAL_DEMO_OAUTH_CLIENT_SECRET = env_str(
    "PORTAL_DEMO_OAUTH_CLIENT_SECRET", "demo-oauth-secret-0123456789abcdef"
)
# How long a demo batch job stays Running after Start, in seconds.
PORTAL_DEMO_JOB_SECONDS = env_float("PORTAL_DEMO_JOB_SECONDS", 2.0)

# Pretty JSON longer than this is shown as plain text: highlighting it would be slow.
PORTAL_HIGHLIGHT_MAX_CHARS = env_int("PORTAL_HIGHLIGHT_MAX_CHARS", 2 * 1024 * 1024)
# Formatted JSON is highlighted and sent this many characters at a time ("Show more"):
# the first part is what a page shows of a response.
PORTAL_RESPONSE_PART_CHARS = env_int("PORTAL_RESPONSE_PART_CHARS", 200_000)

# --- The gateway -----------------------------------------------------------------
# Seconds a subscription key lookup stays in the cache. Changing a subscription's state
# or regenerating a key forgets it at once; this bounds what a bulk update leaves.
# 0 looks every key up in the database.
PORTAL_GATEWAY_KEY_CACHE_SECONDS = env_int("PORTAL_GATEWAY_KEY_CACHE_SECONDS", 30)
# Seconds each process keeps the APIs' compiled routes at most. Saving an API, an
# operation, a parameter or a product renews them at once in every process that shares
# the cache; this bounds bulk changes and processes that do not share one.
PORTAL_GATEWAY_ROUTE_CACHE_SECONDS = env_int("PORTAL_GATEWAY_ROUTE_CACHE_SECONDS", 30)
# Gateway calls are recorded by a writer thread of each process, many rows at a time,
# so that a call does not wait for the database; off, each call writes its row itself.
PORTAL_GATEWAY_RECORD_IN_BACKGROUND = env_bool("PORTAL_GATEWAY_RECORD_IN_BACKGROUND", True)
# The data plane on nginx (`manage.py dataplane`, docs/design.md "Data plane"): the nginx
# binary (Debian's nginx-extras, for its Lua module), its worker processes, and how often
# each worker pushes the calls it recorded to Redis.
PORTAL_DATAPLANE_NGINX = env_str("PORTAL_DATAPLANE_NGINX", "/usr/sbin/nginx")
PORTAL_DATAPLANE_WORKERS = env_int("PORTAL_DATAPLANE_WORKERS", 1)
PORTAL_DATAPLANE_FLUSH_SECONDS = env_float("PORTAL_DATAPLANE_FLUSH_SECONDS", 0.05)
# Seconds each nginx worker keeps a key it looked up: a revoked key is refused within
# it (at most 1, the promise); 0 asks Redis on every call.
PORTAL_DATAPLANE_KEY_CACHE_SECONDS = env_float("PORTAL_DATAPLANE_KEY_CACHE_SECONDS", 0.5)
