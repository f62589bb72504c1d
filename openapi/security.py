"""Security schemes as the operations' credential parameters.

The first requirement of `security` (the operation's, else the document's) becomes secret
parameters: API keys in a header, the query or a cookie, `Authorization` for bearer, basic,
OAuth and OpenID Connect. A credential is required when every alternative asks for it.
Mutual TLS cannot be used from the console: it is noted and skipped.
"""

from __future__ import annotations

from typing import Any

from catalog.models import ParameterLocation
from openapi.plans import ParameterPlan
from openapi.reading import Reading, one_line
from openapi.refs import join

# Where an apiKey security scheme's key goes ("in").
_KEY_LOCATIONS = {
    "header": ParameterLocation.HEADER,
    "query": ParameterLocation.QUERY,
    "cookie": ParameterLocation.COOKIE,
}


class SecurityReading(Reading):
    """The document's security schemes, and the credentials each operation asks for."""

    # name → (the scheme, its pointer); read before the operations.
    security_schemes: dict[str, tuple[dict, str]]
    # The document's requirements, for operations that give none.
    global_security: Any

    def read_security_schemes(self) -> dict[str, tuple[dict, str]]:
        if self.v2:
            schemes = self.mapping(self.document, "securityDefinitions", "")
            base = "/securityDefinitions"
        else:
            components = self.mapping(self.document, "components", "")
            schemes = self.mapping(components, "securitySchemes", "/components")
            base = "/components/securitySchemes"
        result = {}
        for name, scheme in schemes.items():
            resolved = self.deref(scheme, join(base, name))
            if resolved is None:
                continue
            if not isinstance(resolved[0], dict):
                self.problem(join(base, name), "must be an object")
                continue
            result[name] = resolved
        return result

    def security_parameters(self, security: Any, place: str) -> list[ParameterPlan]:
        """The credentials of the first security requirement that asks for any.

        A credential is required when every alternative asks for it; the schemes of the
        other alternatives are named in the description.
        """
        if not isinstance(security, list):
            if security is not None:
                self.problem(place, "must be an array of security requirements")
            return []
        requirements = [r for r in security if isinstance(r, dict)]
        chosen = next((r for r in requirements if r), None)
        if chosen is None:
            return []
        others = [name for r in requirements if r is not chosen for name in r if name not in chosen]
        parameters: list[ParameterPlan] = []
        for name in chosen:
            if name not in self.security_schemes:
                self.note(f"{place}: unknown security scheme {name!r} ignored.")
                continue
            scheme, _ = self.security_schemes[name]
            parameter = self.scheme_parameter(name, scheme)
            if parameter is None:
                continue
            parameter.required = all(name in r for r in requirements)
            if others:
                alternatives = ", ".join(sorted(set(others)))
                parameter.description += f" Alternatives: {alternatives}."
            parameters.append(parameter)
        return parameters

    def scheme_parameter(self, name: str, scheme: dict) -> ParameterPlan | None:
        kind = scheme.get("type")
        text = found if isinstance(found := scheme.get("description"), str) else ""
        described = one_line(text) or f"Security scheme {name}."
        if kind == "apiKey":
            key_name = scheme.get("name")
            where = scheme.get("in")
            if not isinstance(key_name, str) or not key_name or len(key_name) > 200:
                self.note(f"security scheme {name!r} has no usable key name; ignored.")
                return None
            location = _KEY_LOCATIONS.get(where) if isinstance(where, str) else None
            if location is None:
                self.note(f"security scheme {name!r}: unknown key location {where!r}; ignored.")
                return None
            if location == ParameterLocation.HEADER and not self.sendable_header(key_name):
                return None
            if location == ParameterLocation.COOKIE:
                self.note_portal_cookie(key_name)
            return ParameterPlan(
                name=key_name, location=location, secret=True, description=f"API key. {described}"
            )
        if kind == "basic" or (kind == "http" and str(scheme.get("scheme", "")).lower() == "basic"):
            return ParameterPlan(
                name="Authorization",
                location=ParameterLocation.HEADER,
                secret=True,
                default="Basic ",
                description=f"HTTP Basic credentials: Basic base64(user:password). {described}",
            )
        if kind == "http":
            word = str(scheme.get("scheme") or "Bearer")
            word = "Bearer" if word.lower() == "bearer" else word.capitalize()
            detail = f" ({scheme['bearerFormat']})" if scheme.get("bearerFormat") else ""
            return ParameterPlan(
                name="Authorization",
                location=ParameterLocation.HEADER,
                secret=True,
                default=f"{word} ",
                description=f"{word} token{detail}. {described}",
            )
        if kind in {"oauth2", "openIdConnect"}:
            where = self.token_source(scheme)
            return ParameterPlan(
                name="Authorization",
                location=ParameterLocation.HEADER,
                secret=True,
                default="Bearer ",
                description=f"Bearer access token ({kind}): obtain the token elsewhere{where} "
                f"and paste it after 'Bearer '. {described}",
            )
        if kind == "mutualTLS":
            self.note(f"security scheme {name!r} (mutual TLS) cannot be used from the console.")
            return None
        self.note(f"security scheme {name!r} of type {kind!r} is not supported; ignored.")
        return None

    @staticmethod
    def token_source(scheme: dict) -> str:
        if isinstance(scheme.get("openIdConnectUrl"), str):
            return f" (OpenID Connect: {scheme['openIdConnectUrl']})"
        urls: list[str] = []
        flows = scheme.get("flows")
        if isinstance(flows, dict):
            for flow in flows.values():
                if isinstance(flow, dict):
                    urls.extend(
                        flow[key]
                        for key in ("tokenUrl", "authorizationUrl")
                        if isinstance(flow.get(key), str)
                    )
        for key in ("tokenUrl", "authorizationUrl"):
            if isinstance(scheme.get(key), str):
                urls.append(scheme[key])
        return f" ({', '.join(dict.fromkeys(urls))})" if urls else ""

    def merge_security(self, plans: list[ParameterPlan], security: list[ParameterPlan]) -> None:
        """Security parameters join the operation's; a declared one of that name turns secret."""
        for extra in security:
            same = next(
                (
                    plan
                    for plan in plans
                    if plan.location == extra.location
                    and (
                        plan.name.lower() == extra.name.lower()
                        if extra.location == ParameterLocation.HEADER
                        else plan.name == extra.name
                    )
                ),
                None,
            )
            if same is None:
                plans.append(extra)
            else:
                same.secret = True
                same.required = same.required or extra.required
                same.default = same.default or extra.default
                same.description = same.description or extra.description
