"""Subscription keys: made at random, looked up by their hash, shown from an encrypted copy.

The database never holds a key in the clear: a lookup needs only the SHA-256 of the
key, and the key page decrypts its copy when the owner asks to see it.
"""

from __future__ import annotations

import hashlib
import secrets

KEY_BYTES = 16  # 32 hex characters, the length of API Management's keys


def generate_key() -> str:
    return secrets.token_hex(KEY_BYTES)


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()


def mask_key(key: str) -> str:
    """What a page shows until the owner reveals the key: its last four characters."""
    if len(key) <= 4:
        return "•" * len(key)
    return "•" * (len(key) - 4) + key[-4:]
