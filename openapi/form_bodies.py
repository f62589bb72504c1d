"""application/x-www-form-urlencoded bodies as their document's `encoding` says: the
encoding itself lives in console/form_encoding.py, which Try it's field lists share."""

from __future__ import annotations

from console.form_encoding import form_body_text, form_pairs

__all__ = ["form_body_text", "form_pairs"]
