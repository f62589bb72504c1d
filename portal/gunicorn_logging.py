"""gunicorn's logger with keys and account tokens masked (gunicorn.conf.py, logger_class).

The access log's atoms are masked before they are formatted, whatever the format uses:
the request line (`r`), path (`U`), query (`q`), referrer (`f`) and every URL-valued
header or environ atom as portal.log_masking masks them, the values of secret headers
(`Authorization`, `Cookie`, `Ocp-Apim-Subscription-Key`...) whole. The error log gets
the same filter as Django's request loggers: gunicorn names the request's URI there when
a request fails outside the application.
"""

from __future__ import annotations

from typing import Any

from gunicorn import glogging

from httpcore.headers import SECRET_HEADER_NAMES
from httpcore.masking import mask_value
from portal.log_masking import MaskRequestSecrets, mask_log_text, mask_query_string

_QUERY_ATOMS = frozenset({"q", "{query_string}e"})


def _header_name(atom: str) -> str:
    """The header an atom holds, lowercased: `{name}i` and `{name}o` directly,
    `{http_name}e` from the environ; "" for any other atom."""
    if atom.endswith(("}i", "}o")):
        return atom[1:-2]
    if atom.startswith("{http_") and atom.endswith("}e"):
        return atom[6:-2].replace("_", "-")
    return ""


def masked_atoms(*, atoms: dict[str, Any]) -> dict[str, Any]:
    """The access log's atoms with every secret in them masked, in place."""
    for atom, value in atoms.items():
        if not isinstance(value, str) or not value:
            continue
        if atom in _QUERY_ATOMS:
            atoms[atom] = mask_query_string(query=value)
        elif atom.startswith("{") and _header_name(atom) in SECRET_HEADER_NAMES:
            atoms[atom] = mask_value(value)
        else:
            atoms[atom] = mask_log_text(text=value)
    return atoms


class MaskingLogger(glogging.Logger):
    # The stub's TypedDict lists only the fixed atoms, not the `{name}i`, `{name}o` and
    # `{name}e` ones gunicorn adds to the plain dict it returns.
    def atoms(self, resp, req, environ, request_time) -> dict[str, Any]:  # type: ignore[override]
        return masked_atoms(atoms=dict(super().atoms(resp, req, environ, request_time)))

    def setup(self, cfg) -> None:
        super().setup(cfg)  # again at every reload: one filter is enough
        if not any(isinstance(f, MaskRequestSecrets) for f in self.error_log.filters):
            self.error_log.addFilter(MaskRequestSecrets())
