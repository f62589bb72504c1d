"""The exported OpenAPI document as JSON or YAML text, valid UTF-8 whatever an admin typed."""

from __future__ import annotations

import json
import re
from typing import TYPE_CHECKING

import yaml

if TYPE_CHECKING:
    _FastDumper = yaml.SafeDumper  # the interface of libyaml's CSafeDumper too
else:
    _FastDumper = getattr(yaml, "CSafeDumper", yaml.SafeDumper)  # libyaml when available


class _Dumper(_FastDumper):
    """Writes multi-line text (descriptions, examples) as literal blocks."""


# Plain scalars that a YAML 1.2 reader takes for something other than text, though
# PyYAML (YAML 1.1) writes them unquoted: "1e3", "0o17", ".5" ...
YAML_12_NOT_TEXT = re.compile(
    r"(~|null|Null|NULL|true|True|TRUE|false|False|FALSE"
    r"|[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+"
    r"|[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?"
    r"|[-+]?\.(inf|Inf|INF)|\.(nan|NaN|NAN))\Z"
)


def _represent_text(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    style = "|" if "\n" in value else ("'" if YAML_12_NOT_TEXT.match(value) else None)
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


class _PythonDumper(yaml.SafeDumper):
    """The pure-Python emitter, which escapes what libyaml cannot write (lone surrogates)."""


_Dumper.add_representer(str, _represent_text)
_PythonDumper.add_representer(str, _represent_text)


def dumps_json(document: dict) -> str:
    text = json.dumps(document, indent=2, ensure_ascii=False)
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        # A lone surrogate in an admin's text: escaped, so the file is valid UTF-8.
        text = json.dumps(document, indent=2)
    return text + "\n"


def dumps_yaml(document: dict) -> str:
    try:
        return _dump_yaml(document, dumper=_Dumper)
    except UnicodeEncodeError:
        return _dump_yaml(document, dumper=_PythonDumper)


def _dump_yaml(document: dict, *, dumper: type[yaml.SafeDumper]) -> str:
    return yaml.dump(
        document,
        Dumper=dumper,
        sort_keys=False,
        allow_unicode=True,
        default_flow_style=False,
        width=100,
    )
