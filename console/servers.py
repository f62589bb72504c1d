"""Try it's Server select: which registered base URL a call is bound under.

The choices, in order: the gateway's URL for an API on the gateway (the call Try it has
always made: to the service URL, through the gateway's key check and limits when the API
needs a key, shown at the gateway's URL); the service URL (for an API on the gateway, to
staff only, who see the backend's address anyway); then the API's other servers
(catalog.ApiServer). A choice is posted as its value ("gateway", "service" or a server's
id) and looked up in the list again on the server side: nothing typed ever gives the
scheme, host or port. A call to any choice but the first one of an API on the gateway
is not a gateway call, so it needs no key (and never carries one).

The last choice is remembered per user and API in the session.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib.auth.models import AnonymousUser, User
from django.contrib.sessions.backends.base import SessionBase

from catalog.models import Api
from gateway import public_urls

GATEWAY = "gateway"
SERVICE = "service"
SESSION_KEY = "tryit_servers"
UNKNOWN_SERVER = (
    "This server is not one of the API's servers (it may have been removed since the page "
    "was loaded): choose one from the list."
)


@dataclass(frozen=True)
class ServerChoice:
    value: str  # what the select posts
    label: str
    # The base URL the call is bound under; None: the service URL as Try it has always
    # called it, through the gateway's step when the API needs a key.
    base_url: str | None


@dataclass(frozen=True)
class ServerPick:
    """The choices for one API and viewer, and the chosen one (None: a posted value that
    is not in the list, which `error` explains)."""

    choices: list[ServerChoice]
    chosen: ServerChoice | None
    error: str = ""

    @property
    def shown(self) -> bool:
        """The select is shown when there is something to choose."""
        return len(self.choices) > 1 or bool(self.error)


def server_choices(*, api: Api, user: User | AnonymousUser, portal_url: str) -> list[ServerChoice]:
    gateway = public_urls.gateway_base(api=api, portal_url=portal_url)
    choices = []
    if gateway is not None:
        choices.append(ServerChoice(value=GATEWAY, label=f"{gateway} (gateway)", base_url=None))
        if public_urls.sees_backend(user):
            choices.append(
                ServerChoice(
                    value=SERVICE,
                    label=f"{api.service_url} (service URL, staff only)",
                    base_url=api.service_url,
                )
            )
    else:
        choices.append(ServerChoice(value=SERVICE, label=api.service_url, base_url=None))
    for server in api.servers.all():
        label = f"{server.url} ({server.description})" if server.description else server.url
        choices.append(ServerChoice(value=str(server.pk), label=label, base_url=server.url))
    return choices


def _session_slot(*, user: User | AnonymousUser, api: Api) -> str:
    return f"{user.pk if user.is_authenticated else 'visitor'}:{api.pk}"


def pick_server(
    *,
    api: Api,
    user: User | AnonymousUser,
    portal_url: str,
    session: SessionBase,
    posted: str | None = None,
) -> ServerPick:
    """The choices and the chosen one: `posted` (the select's value after a Send; None
    when the form had no select) else the one remembered in the session, else the first."""
    choices = server_choices(api=api, user=user, portal_url=portal_url)
    by_value = {choice.value: choice for choice in choices}
    if posted is not None:
        chosen = by_value.get(posted)
        return ServerPick(choices=choices, chosen=chosen, error="" if chosen else UNKNOWN_SERVER)
    remembered = (session.get(SESSION_KEY) or {}).get(_session_slot(user=user, api=api))
    chosen = by_value.get(remembered) if isinstance(remembered, str) else None
    return ServerPick(choices=choices, chosen=chosen or choices[0])


def remember_server(
    *, api: Api, user: User | AnonymousUser, session: SessionBase, choice: ServerChoice
) -> None:
    remembered = dict(session.get(SESSION_KEY) or {})
    slot = _session_slot(user=user, api=api)
    if remembered.get(slot) != choice.value:
        remembered[slot] = choice.value
        session[SESSION_KEY] = remembered
