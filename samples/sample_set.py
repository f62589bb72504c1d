"""The samples panel's content: the request written in every language, highlighted, with
the environment variables the samples read."""

from __future__ import annotations

from dataclasses import dataclass

from django.utils.safestring import SafeString

from catalog.models import Operation
from console.forms import TryItValues
from samples.highlight import highlighted, marked_placeholders
from samples.languages import LANGUAGES
from samples.placeholders import Placeholder, with_placeholders
from samples.request import GatewayTarget, SampleRequest, Secret, gateway_target, sample_request_via


@dataclass(frozen=True)
class Sample:
    key: str
    label: str
    note: str
    code: str
    highlighted: SafeString


@dataclass(frozen=True)
class SampleSet:
    samples: list[Sample]
    secrets: tuple[Secret, ...]  # the environment variables the samples read
    gateway: GatewayTarget | None = None  # None: the samples call the backend itself
    placeholders: tuple[Placeholder, ...] = ()  # what the reader fills in before running

    @property
    def revealable(self) -> bool:
        """Whether "Show secrets" would write some of the variables' values."""
        return any(not secret.stored for secret in self.secrets)

    @property
    def stored(self) -> bool:
        return any(secret.stored for secret in self.secrets)


def write_samples(request: SampleRequest, *, marked: tuple[str, ...] = ()) -> list[Sample]:
    """`marked`: placeholders' text, shown marked in the highlighted code."""
    return [
        Sample(
            key=language.key,
            label=language.label,
            note=language.note,
            code=(code := language.write(request)),
            highlighted=marked_placeholders(highlighted(code, language.lexer), marked),
        )
        for language in LANGUAGES
    ]


def build_samples(
    *,
    operation: Operation,
    values: TryItValues,
    reveal: bool,
    portal_url: str,
    base_url: str | None = None,
    placeholders: list[Placeholder] | None = None,
) -> SampleSet:
    """Samples in every language; `portal_url` is the portal's base URL, for the gateway's.
    `base_url`: another of the API's servers chosen in Try it (console/servers.py), called
    directly, not through the gateway. `placeholders`: tokens in `values` that stand for
    what the form still needs (samples/placeholders.py), written as their text.

    Raises templating.BindError or SampleError.
    """
    gateway = None if base_url else gateway_target(api=operation.api, portal_url=portal_url)
    request = sample_request_via(
        operation=operation, values=values, reveal=reveal, gateway=gateway, base_url=base_url
    )
    placeholders = placeholders or []
    request = with_placeholders(request, placeholders)
    return SampleSet(
        samples=write_samples(request, marked=tuple({p.text for p in placeholders})),
        secrets=request.secrets,
        gateway=gateway,
        placeholders=tuple(placeholders),
    )
