"""The WSGI application gunicorn serves. It reads no development .env (manage.py
does): its settings are the environment, plus the file PORTAL_ENV_FILE names, if any."""

import os

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")


def _require_secret_key() -> None:
    """Refuse to serve without a key; Django would refuse only at the first request that
    signs something (a session, a CSRF token)."""
    try:
        key = settings.SECRET_KEY
    except ImproperlyConfigured:  # Django's own refusal of an empty key
        key = ""
    if not key:
        raise ImproperlyConfigured("Set SECRET_KEY (or DEBUG=true for local development).")


application = get_wsgi_application()
_require_secret_key()
