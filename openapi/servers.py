"""The document's servers beyond the service URL: the API's extra servers (ApiServer).

- OpenAPI 3.x: every entry of the top-level `servers`, its variables resolved: each
  `{name}` takes the variable's `default`; a variable with an `enum` gives one server per
  value (the default first), at most MAX_PER_SERVER a server entry, with a note when
  there are more. servers[0] with every default is the service URL (openapi.reader);
  everything else is an extra server.
- Swagger 2.0: one server per `schemes` entry, with `host` and `basePath`; the reader's
  choice (https when listed) is the service URL.
- A relative URL is resolved against the URL the document was read from, when the
  import names one; else it is skipped with a note. A URL the service-URL rules or the
  network policy refuse is skipped with a note saying why.
- `servers` on a path item or an operation is noted as not supported.
"""

from __future__ import annotations

import itertools
from urllib.parse import urljoin, urlsplit

from catalog.validators import service_url_problems
from openapi.parameters import PLACEHOLDER
from openapi.plans import ServerPlan
from openapi.reading import METHODS, Reading, one_line

MAX_PER_SERVER = 10
MAX_URL_LENGTH = 500
DESCRIPTION_LENGTH = 200


def server_url_problems(url: str) -> list[str]:
    """Why a server URL cannot be registered (the service URL's rules, its length)."""
    if len(url) > MAX_URL_LENGTH:
        return [f"The URL is longer than {MAX_URL_LENGTH} characters."]
    return service_url_problems(url)


def _describe(description: str, choices: list[str]) -> str:
    """ "Production; region: eu" from the server's description and the enum values taken."""
    text = "; ".join(part for part in (one_line(description), ", ".join(choices)) if part)
    return text if len(text) <= DESCRIPTION_LENGTH else text[: DESCRIPTION_LENGTH - 1] + "…"


class ServerReading(Reading):
    """Reads the servers a document lists besides its service URL."""

    # The URL the document was downloaded from, when the import names one.
    document_url: str = ""

    def resolve_relative(self, url: str) -> str | None:
        """An absolute URL for a server URL; None when it is relative and there is no
        document URL to resolve it against."""
        if urlsplit(url).scheme:
            return url
        if not self.document_url:
            return None
        return urljoin(self.document_url, url)

    def read_servers(self, *, service_url: str, overridden: bool) -> list[ServerPlan]:
        """The extra servers, in the document's order, without the service URL.

        `overridden`: the service URL was given instead of the document's, so servers[0]
        with its defaults is an extra server too."""
        self.note_local_servers()
        candidates = self._v2_candidates() if self.v2 else self._v3_candidates(quiet=not overridden)
        if candidates and candidates[0][3] and not overridden:
            candidates = candidates[1:]  # the service URL, read by openapi.reader
        servers: list[ServerPlan] = []
        seen = {service_url.rstrip("/")}
        for url, description, place, _ in candidates:
            absolute = self.resolve_relative(url)
            if absolute is None:
                self.note(
                    f"{place}: the server {url} skipped: it is relative and the import names "
                    "no document URL to resolve it against."
                )
                continue
            absolute = absolute.rstrip("/")
            problems = server_url_problems(absolute)
            if problems:
                self.note(f"{place}: the server {absolute} skipped: {' '.join(problems)}")
                continue
            if absolute in seen:
                continue
            seen.add(absolute)
            servers.append(ServerPlan(url=absolute, description=description, order=len(servers)))
        return servers

    # (URL, description, pointer, whether it is the document's first server with its
    # defaults, which the reader made the service URL)
    def _v2_candidates(self) -> list[tuple[str, str, str, bool]]:
        document = self.document
        host, base_path = document.get("host"), document.get("basePath") or "/"
        if not isinstance(host, str) or not host or not isinstance(base_path, str):
            return []
        if not base_path.startswith("/"):
            base_path = "/" + base_path
        schemes = [s for s in document.get("schemes") or [] if isinstance(s, str)]
        chosen = "https" if "https" in schemes or not schemes else schemes[0]
        ordered = [chosen, *(s for s in schemes if s != chosen)]
        return [
            (f"{scheme}://{host}{base_path}", "", "/schemes", index == 0)
            for index, scheme in enumerate(ordered)
        ]

    def _v3_candidates(self, *, quiet: bool) -> list[tuple[str, str, str, bool]]:
        """`quiet`: servers[0]'s problems are the reader's, which reports them."""
        servers = self.document.get("servers")
        if not isinstance(servers, list):
            return []
        candidates: list[tuple[str, str, str, bool]] = []
        for index, server in enumerate(servers):
            place = f"/servers/{index}"
            silent = quiet and index == 0
            if not isinstance(server, dict) or not isinstance(server.get("url"), str):
                if not silent:
                    self.note(f"{place}: skipped: a server needs a url (a string).")
                continue
            expanded = self._expand(server, place=place, quiet=silent)
            for position, (url, description) in enumerate(expanded or []):
                candidates.append((url, description, place, index == 0 and position == 0))
        return candidates

    def _expand(self, server: dict, *, place: str, quiet: bool) -> list[tuple[str, str]] | None:
        """(URL, description) for each value combination of the server's variables, the
        defaults first; None when a variable has no default."""
        url: str = server["url"]
        found_description = server.get("description")
        description = found_description if isinstance(found_description, str) else ""
        variables = found if isinstance(found := server.get("variables"), dict) else {}
        names = list(dict.fromkeys(PLACEHOLDER.findall(url)))
        choices: list[list[str]] = []
        for name in names:
            variable = variables.get(name)
            if not isinstance(variable, dict) or "default" not in variable:
                if not quiet:
                    self.note(
                        f"{place}: the server {url} skipped: it uses {{{name}}} but gives it "
                        "no default value."
                    )
                return None
            default = str(variable["default"])
            enum = variable.get("enum")
            values = [str(value) for value in enum] if isinstance(enum, list) else []
            choices.append(
                [default, *(value for value in dict.fromkeys(values) if value != default)]
            )
        total = 1
        for values in choices:
            total *= len(values)
        if total > MAX_PER_SERVER:
            self.note(
                f"{place}: the server {url} has {total} values of its variables; the first "
                f"{MAX_PER_SERVER} are registered."
            )
        expanded = []
        for combination in itertools.islice(itertools.product(*choices), MAX_PER_SERVER):
            filled = url
            taken = []
            for name, value, values in zip(names, combination, choices, strict=True):
                filled = filled.replace(f"{{{name}}}", value)
                if len(values) > 1:
                    taken.append(f"{name}: {value}")
            expanded.append((filled, _describe(description, taken)))
        return expanded

    def note_local_servers(self) -> None:
        """`servers` on path items and operations: said, not imported."""
        places: list[str] = []
        for root in ("paths", "x-portal-paths"):
            paths = self.document.get(root)
            if not isinstance(paths, dict):
                continue
            for path, item in paths.items():
                if not isinstance(item, dict):
                    continue
                if item.get("servers"):
                    places.append(str(path))
                places.extend(
                    f"{method.upper()} {path}"
                    for method, operation in item.items()
                    if method in METHODS
                    and isinstance(operation, dict)
                    and operation.get("servers")
                )
        if places:
            shown = ", ".join(places[:5]) + (
                f" and {len(places) - 5} more" if len(places) > 5 else ""
            )
            self.note(
                f"servers given for a path or an operation are not supported ({shown}): those "
                "operations are called at the API's servers."
            )
