"""Read an OpenAPI document (Swagger 2.0, OpenAPI 3.0, 3.1 and 3.2) into an ApiPlan.

Reading is pure but for one query (an existing API's service URL) and collects every
problem with its JSON pointer. Validation is our own, for the fields the import reads:
openapi-spec-validator takes ~7 s on a 10 MB document (the whole import takes ~1.5 s)
and refuses documents real tools accept (`swagger: 2.0` as a number).

- Service URL: the override, else servers[0] with its variables' defaults (3.x), else
  https (when listed, or no schemes) + host + basePath (2.0). A relative one is resolved
  against the document's URL when the import names one; a relative or missing one is
  an error, except when updating an API, which keeps its own. It must pass the network
  policy (validators.service_url_problems). The other servers: openapi.servers.
- Skipped, each said in the plan's notes: webhooks, TRACE and QUERY operations,
  `x-ms-paths`, mutual TLS. The export's `x-portal-paths` are read like `paths`.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from urllib.parse import urlsplit

from django.utils.text import slugify

from catalog.models import Api
from catalog.validators import service_url_problems
from openapi.bodies import BodyReading
from openapi.definitions import DefinitionReading
from openapi.examples import SchemaExamples
from openapi.parameters import PLACEHOLDER, ParameterReading
from openapi.plans import FIELD_LIMITS, ApiPlan, OpenApiError, OperationPlan, ParameterPlan
from openapi.reading import METHODS, one_line
from openapi.refs import Resolver, join, ref_problems
from openapi.security import SecurityReading
from openapi.servers import ServerReading

MAX_PROBLEMS = 200
MAX_NOTES = 30
UNSUPPORTED_METHODS = {"trace", "query"}
PATH_ITEM_FIELDS = {"$ref", "summary", "description", "servers", "parameters"}
SLUG = re.compile(r"[-a-zA-Z0-9_]{1,100}")


def _truncate(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _service_url_problems(url: str) -> list[str]:
    if len(url) > 500:
        return ["The service URL is longer than 500 characters."]
    return service_url_problems(url)


class DocumentReader(
    SecurityReading, ParameterReading, BodyReading, DefinitionReading, ServerReading
):
    """Reads one document into a plan."""

    def read(
        self,
        *,
        api_slug: str | None,
        service_url: str | None,
        existing_service_url: Callable[[str], str | None] = lambda slug: None,
    ) -> ApiPlan:
        document = self.document
        self.read_version()
        if self.problems:
            raise OpenApiError(self.problems)
        self.resolver = Resolver(
            document,
            legacy_section=("definitions",) if self.v2 else ("components", "schemas"),
        )
        self.examples = SchemaExamples(self.resolver)
        for place, ref, message in ref_problems(
            document, self.resolver, literal_examples_map=self.v2
        ):
            self.bad_refs.add(ref)
            self.problem(place, message)
        info = document.get("info")
        name = description = version = ""
        if not isinstance(info, dict):
            self.problem("/info", "required (an object with the API's title and version)")
        else:
            name = one_line(self.string(info, "title", "/info"))
            if not name:
                self.problem("/info/title", "required")
            description = self.string(info, "description", "/info")
            version = self.string(info, "version", "/info")[: FIELD_LIMITS["version"]]
        slug = api_slug.strip() if api_slug else slugify(name)[:100].strip("-")
        if api_slug is not None and not SLUG.fullmatch(slug):
            self.problem("api", f"the API slug {api_slug!r} is not a valid slug")
        elif not slug and name:
            self.problem("/info/title", "gives no slug; give one (--api or the admin field)")
        url, missing = self.read_service_url(service_url)
        if url is None and missing is not None:
            # An API being updated keeps its service URL when the document names none.
            url = existing_service_url(slug) if slug else None
            if url is None:
                self.problem(*missing)
        servers = self.read_servers(service_url=url, overridden=bool(service_url)) if url else []
        self.security_schemes = self.read_security_schemes()
        self.global_security = document.get("security")
        operations = self.read_paths()
        self.read_webhooks()
        self.read_other_paths()
        if self.callbacks:
            self.note(
                f"{self.callbacks} callback(s) are described in their operations' descriptions "
                "and not imported: they are requests the API sends, not operations to try."
            )
        if self.renamed:
            self.note(
                f"{self.renamed} path parameter name(s) are not valid URL template names and "
                "were renamed; their descriptions give the original names."
            )
        if self.problems:
            problems = self.problems
            if len(problems) > MAX_PROBLEMS:
                hidden = len(problems) - MAX_PROBLEMS
                problems = [*problems[:MAX_PROBLEMS], f"… and {hidden} more problems."]
            raise OpenApiError(problems)
        notes = self.notes
        if len(notes) > MAX_NOTES:
            notes = [*notes[:MAX_NOTES], f"… and {len(notes) - MAX_NOTES} more notes."]
        return ApiPlan(
            slug=slug,
            name=_truncate(name, FIELD_LIMITS["name"]),
            description=description,
            version=version,
            service_url=url or "",
            operations=operations,
            notes=notes,
            openapi=self.api_definitions(),
            servers=servers,
        )

    def read_version(self) -> None:
        document = self.document
        if "swaggerVersion" in document and "openapi" not in document:
            self.problem(
                "/swaggerVersion",
                "Swagger 1.x documents are not supported; convert the document to OpenAPI 3 "
                "(or Swagger 2.0) first",
            )
            return
        if "openapi" in document:
            raw = document["openapi"]
            text = str(raw) if isinstance(raw, str | int | float) else ""
            match = re.fullmatch(r"3\.(\d+)(\.\d+)?(-[0-9A-Za-z.\-]+)?", text)
            if not match:
                self.problem(
                    "/openapi",
                    f"unsupported version {raw!r}: this portal imports Swagger 2.0 and "
                    "OpenAPI 3.0, 3.1 and 3.2",
                )
            elif int(match.group(1)) > 2:
                self.problem(
                    "/openapi",
                    f"unsupported version {text}: this portal imports Swagger 2.0 and OpenAPI "
                    "3.0, 3.1 and 3.2",
                )
            return
        if "swagger" in document:
            raw = document["swagger"]
            if str(raw) not in {"2.0", "2"}:
                self.problem(
                    "/swagger",
                    f"unsupported version {raw!r}: this portal imports Swagger 2.0 and "
                    "OpenAPI 3.0, 3.1 and 3.2",
                )
            self.v2 = True
            return
        self.problem(
            "/openapi",
            "required: the document has no openapi (or swagger) version field, so it is not "
            "an OpenAPI document",
        )

    @property
    def responses_required(self) -> bool:
        """OpenAPI 3.1 made an operation's responses optional."""
        return self.v2 or str(self.document.get("openapi", "")).startswith("3.0")

    # -- the service URL

    def read_service_url(self, override: str | None) -> tuple[str | None, tuple | None]:
        """(URL, (pointer, message) when the document names no usable server).

        The URL is checked against the network policy.
        """
        if override:
            given = override.strip().rstrip("/")
            for message in _service_url_problems(given):
                self.problem("service URL", message)
            return given, None
        url, place, missing = self.document_server_url()
        if url is None:
            return None, missing
        for message in _service_url_problems(url):
            self.problem(
                place, f"{message} Give another service URL (--service-url or the admin field)."
            )
        return url, None

    def document_server_url(self) -> tuple[str | None, str, tuple | None]:
        """(URL, its pointer, (pointer, message) when there is none to use)."""
        document = self.document
        hint = "give the service URL (--service-url or the admin field)"
        if self.v2:
            host = document.get("host")
            if not host:
                return None, "/host", ("/host", f"the document has no host; {hint}")
            if not isinstance(host, str):
                self.problem("/host", "must be a string")
                return None, "/host", None
            base_path = document.get("basePath") or "/"
            if not isinstance(base_path, str):
                self.problem("/basePath", "must be a string")
                base_path = "/"
            schemes = [s for s in self.sequence(document, "schemes", "") if isinstance(s, str)]
            scheme = "https" if "https" in schemes or not schemes else schemes[0]
            if not base_path.startswith("/"):
                base_path = "/" + base_path
            return f"{scheme}://{host}{base_path}".rstrip("/"), "/host", None
        servers = document.get("servers")
        if servers is not None and not isinstance(servers, list):
            self.problem("/servers", "must be an array")
            return None, "/servers", None
        if not servers:
            return None, "/servers", ("/servers", f"the document has no server; {hint}")
        server = servers[0]
        if not isinstance(server, dict) or not isinstance(server.get("url"), str):
            self.problem("/servers/0/url", "required (a string)")
            return None, "/servers/0/url", None
        url = server["url"]
        variables = found if isinstance(found := server.get("variables"), dict) else {}
        for name in PLACEHOLDER.findall(url):
            variable = variables.get(name)
            if not isinstance(variable, dict) or "default" not in variable:
                self.problem(
                    "/servers/0/variables",
                    f"the server URL uses {{{name}}} but gives it no default value",
                )
                return None, "/servers/0/url", None
            url = url.replace(f"{{{name}}}", str(variable["default"]))
        url = self.resolve_relative(url) or url
        if not urlsplit(url).scheme:
            return (
                None,
                "/servers/0/url",
                ("/servers/0/url", f"the server URL {url!r} is relative; {hint}"),
            )
        return url.rstrip("/"), "/servers/0/url", None

    # -- paths and operations

    def read_paths(self) -> list[OperationPlan]:
        document = self.document
        paths = document.get("paths")
        if paths is None:
            if self.v2 or str(document.get("openapi", "")).startswith("3.0"):
                self.problem("/paths", "required")
            return []
        if not isinstance(paths, dict):
            self.problem("/paths", "must be an object")
            return []
        operations: list[OperationPlan] = []
        self.read_path_items(paths, root="/paths", operations=operations)
        # The export's place for operations `paths` cannot hold beside another (the same
        # method and path): keyed by URL template, "#2" told apart.
        extra = document.get("x-portal-paths")
        if isinstance(extra, dict):
            self.read_path_items(extra, root="/x-portal-paths", operations=operations)
        return operations

    def read_path_items(self, paths: dict, *, root: str, operations: list[OperationPlan]) -> None:
        for key, item in paths.items():
            place = join(root, key)
            if not isinstance(key, str) or key.startswith("x-"):
                continue
            # The query and "#n" of an x-portal-paths key are also in the operation's
            # parameters, which rebuild them.
            path = key.partition("#")[0].partition("?")[0] if root != "/paths" else key
            if not path.startswith("/"):
                self.problem(place, "a path must start with '/'")
                continue
            resolved = self.deref(item, place)
            if resolved is None:
                continue
            item, item_place = resolved
            if not isinstance(item, dict):
                self.problem(place, "must be an object (a path item)")
                continue
            for key, operation in item.items():
                if not isinstance(key, str) or key in PATH_ITEM_FIELDS or key.startswith("x-"):
                    continue
                method = key.lower()
                if method in UNSUPPORTED_METHODS:
                    self.note(f"{method.upper()} {path} skipped: the console cannot send {key}.")
                    continue
                if key == "additionalOperations":
                    self.note(f"{path}: additionalOperations skipped.")
                    continue
                if method not in METHODS:
                    continue
                op_place = join(item_place, key)
                if not isinstance(operation, dict):
                    self.problem(op_place, "must be an object (an operation)")
                    continue
                plan = self.read_operation(
                    path=path, method=method, operation=operation, item=item, place=op_place
                )
                if plan is not None:
                    plan.order = len(operations)
                    operations.append(plan)

    def read_other_paths(self) -> None:
        extra = self.document.get("x-ms-paths")
        if isinstance(extra, dict) and extra:
            self.note(f"the {len(extra)} path(s) under x-ms-paths are not imported.")

    def read_webhooks(self) -> None:
        webhooks = self.document.get("webhooks")
        if isinstance(webhooks, dict) and webhooks:
            names = ", ".join(str(name) for name in list(webhooks)[:10])
            more = "…" if len(webhooks) > 10 else ""
            self.note(
                f"{len(webhooks)} webhook(s) skipped ({names}{more}): webhooks are requests "
                "the API sends to you, not operations to try."
            )

    def read_operation(
        self, *, path: str, method: str, operation: dict, item: dict, place: str
    ) -> OperationPlan | None:
        problems_before = len(self.problems)
        operation_id = self.string(operation, "operationId", place).strip()
        if len(operation_id) > 200:
            self.problem(join(place, "operationId"), "longer than 200 characters")
        if operation_id in self.operation_ids:
            self.problem(
                join(place, "operationId"),
                f"duplicate operationId {operation_id!r} (also at "
                f"{self.operation_ids[operation_id]}/operationId)",
            )
        elif operation_id:
            self.operation_ids[operation_id] = place
        slug_hint = operation.get("x-portal-slug")
        slug_hint = slug_hint if isinstance(slug_hint, str) and SLUG.fullmatch(slug_hint) else ""
        summary = one_line(self.string(operation, "summary", place))
        name = summary or operation_id or f"{method.upper()} {path}"
        description = self.string(operation, "description", place) or self.string(
            item, "description", place
        )
        tags = [
            tag.replace(",", " ").strip()
            for tag in self.sequence(operation, "tags", place)
            if isinstance(tag, str) and tag.strip()
        ]
        joined = ""
        for tag in tags:
            candidate = f"{joined}, {tag}" if joined else tag
            if len(candidate) > FIELD_LIMITS["tags"]:
                break
            joined = candidate
        deprecated = operation.get("deprecated") is True
        responses = operation.get("responses")
        if responses is None and self.responses_required:
            self.problem(join(place, "responses"), "required")
        elif responses is not None and not isinstance(responses, dict):
            self.problem(join(place, "responses"), "must be an object")
            responses = None

        parameters = self.merged_parameters(item=item, operation=operation, place=place)
        template, template_parameters = self.url_template(
            path=path, declared=parameters, place=place
        )
        sections: list[str] = []
        plans: list[ParameterPlan] = list(template_parameters)
        content_type, body_example = "", ""
        form_parameters: list[tuple[dict, str]] = []
        body: tuple[dict, str] | None = None
        for parameter, parameter_place in parameters:
            where = parameter.get("in")
            if where == "path":
                continue
            if where == "body":
                body = (parameter, parameter_place)
                continue
            if where == "formData":
                form_parameters.append((parameter, parameter_place))
                continue
            plan = self.parameter_plan(parameter, parameter_place)
            if plan is not None:
                plans.append(plan)
        if self.v2:
            content_type, body_example = self.v2_body(operation, body, form_parameters, sections)
        elif "requestBody" in operation:
            content_type, body_example = self.v3_body(
                operation["requestBody"], join(place, "requestBody"), sections
            )
        security = operation.get("security", self.global_security)
        security_place = join(place, "security") if "security" in operation else "/security"
        self.merge_security(plans, self.security_parameters(security, security_place))
        response_plans = self.response_plans(
            responses or {}, join(place, "responses"), operation, sections
        )
        callbacks = operation.get("callbacks")
        if isinstance(callbacks, dict) and callbacks:
            sections.append(self.callback_section(callbacks))
        if len(self.problems) > problems_before:
            return None
        for index, plan in enumerate(plans):
            plan.order = index
        if sections:
            description = "\n\n".join(part for part in [description.strip(), *sections] if part)
        definition = self.operation_definition(
            operation=operation, parameters=parameters, security=security
        )
        self.add_media_examples(definition, operation=operation, place=place)
        return OperationPlan(
            method=method.upper(),
            path=path,
            url_template=template,
            operation_id=operation_id,
            name=_truncate(name, FIELD_LIMITS["name"]),
            description=description,
            tags=joined,
            deprecated=deprecated,
            request_content_type=content_type,
            body_example=body_example,
            parameters=plans,
            responses=response_plans,
            order=0,
            pointer=place,
            slug_hint=slug_hint,
            openapi=definition,
        )


def read_document(
    *,
    document: dict,
    api_slug: str | None = None,
    service_url: str | None = None,
    document_url: str | None = None,
) -> ApiPlan:
    """The plan for a document, without touching the database; raises OpenApiError.

    `document_url`: where the document was downloaded from, which relative server URLs
    are resolved against."""
    if not isinstance(document, dict):
        raise OpenApiError(["/: the document must be an object."])
    reader = DocumentReader(document)
    reader.document_url = document_url or ""
    return reader.read(
        api_slug=api_slug,
        service_url=service_url,
        existing_service_url=lambda slug: (
            Api.objects.filter(slug=slug).values_list("service_url", flat=True).first()
        ),
    )
