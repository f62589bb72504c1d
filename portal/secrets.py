"""Encrypt secret values at rest (saved requests, collection variables, exchanges).

Fernet (AES-128-CBC with HMAC-SHA256). The key comes from PORTAL_ENCRYPTION_KEY, or
is derived from SECRET_KEY when that is unset, so rotating SECRET_KEY without
setting PORTAL_ENCRYPTION_KEY makes stored secrets unreadable (they read as "").
"""

from __future__ import annotations

import base64
import hashlib
import json
from typing import Any

from cryptography.fernet import Fernet, InvalidToken
from django.conf import settings

PREFIX = "enc:"


def _fernet() -> Fernet:
    secret = settings.PORTAL_ENCRYPTION_KEY or settings.SECRET_KEY
    key = hashlib.sha256(f"api-portal-secrets:{secret}".encode()).digest()
    return Fernet(base64.urlsafe_b64encode(key))


def encrypt(value: str) -> str:
    if value == "":
        return ""
    return PREFIX + _fernet().encrypt(value.encode("utf-8")).decode("ascii")


def decrypt(token: str) -> str:
    """The plain value; "" for an empty or unreadable token (e.g. after a key change)."""
    if not token.startswith(PREFIX):
        return token
    try:
        return _fernet().decrypt(token[len(PREFIX) :].encode("ascii")).decode("utf-8")
    except (InvalidToken, ValueError):
        return ""


def encrypt_json(value: Any) -> str:
    return encrypt(json.dumps(value))


def decrypt_json(token: str, default: Any = None) -> Any:
    plain = decrypt(token)
    if not plain:
        return default
    try:
        return json.loads(plain)
    except ValueError:
        return default
