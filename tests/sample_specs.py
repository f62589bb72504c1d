"""The OpenAPI sample documents the tests import, in tests/specs: a bookshop, a library,
weather stations and match scores, one document per group of features."""

from __future__ import annotations

from pathlib import Path

SPECS = Path(__file__).resolve().parent / "specs"
SPEC_SUFFIXES = {".yaml", ".yml", ".json"}


def spec_files() -> list[Path]:
    """Every sample document, by name."""
    return sorted(path for path in SPECS.iterdir() if path.suffix in SPEC_SUFFIXES)
