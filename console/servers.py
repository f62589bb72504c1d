"""Try it's Server select: which registered base URL a call is bound under.

The choices, in order: the gateway's URL for an API on the gateway (the call Try it has
always made: to the service URL, through the gateway's key check and limits when the API
needs a key, shown at the gateway's URL); the service URL (for an API on the gateway, to
staff only, who see the backend's address anyway); then the API's other servers
(catalog.ApiServer). A choice is posted as its value ("gateway", "service" or a server's
id) and looked up in the list again on the server side: nothing typed ever gives the
scheme, host or port. A call to any choice but the first one of an API on the gateway
is not a gateway call, so it needs no key (and never carries one).

The last choice is remembered per user and API in the session. Every call records its
choice (value and URL, Exchange.server and server_url), and whatever sends it again (Try
again, Save and the replays of the saved request, share links) looks the value up again
for whoever sends it (recorded_choice): a server removed since, or one the service-URL
rules and network policy no longer allow, or the staff-only service URL for anyone else,
is an error and nothing is sent.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth.models import AnonymousUser, User
from django.contrib.sessions.backends.base import SessionBase

from catalog.models import Api
from catalog.validators import service_url_problems
from gateway import public_urls, registry
from portal.markdown_text import markdown_plain

GATEWAY = "gateway"
SERVICE = "service"
SESSION_KEY = "tryit_servers"
UNKNOWN_SERVER = (
    "This server is not one of the API's servers (it may have been removed since the page "
    "was loaded): choose one from the list."
)
UNKNOWN_LINKED_SERVER = (
    "The link's server is not one of the API's servers you can call: choose one from the list."
)
# Said instead of the service URL of an API on the gateway to whoever may not see it.
HIDDEN_SERVICE_URL = "(the API's service URL)"


@dataclass(frozen=True)
class ServerChoice:
    value: str  # what the select posts
    label: str
    # The base URL the call is bound under; None: the service URL as Try it has always
    # called it, through the gateway's step when the API needs a key.
    base_url: str | None
    # The URL a call's record keeps for it: the gateway's, the service URL or the server's.
    url: str = ""


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
        choices.append(
            ServerChoice(value=GATEWAY, label=f"{gateway} (gateway)", base_url=None, url=gateway)
        )
        if public_urls.sees_backend(user):
            choices.append(
                ServerChoice(
                    value=SERVICE,
                    label=f"{api.service_url} (service URL, staff only)",
                    base_url=api.service_url,
                    url=api.service_url,
                )
            )
    else:
        choices.append(
            ServerChoice(value=SERVICE, label=api.service_url, base_url=None, url=api.service_url)
        )
    for server in api.servers.all():
        # An option holds text only: the description's Markdown is read as its words.
        description = markdown_plain(text=server.description)
        label = f"{server.url} ({description})" if description else server.url
        choices.append(
            ServerChoice(value=str(server.pk), label=label, base_url=server.url, url=server.url)
        )
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
    recorded: tuple[str, str] | None = None,
    linked: str | None = None,
) -> ServerPick:
    """The choices and the chosen one: `posted` (the select's value after a Send; None
    when the form had no select), else `recorded` (Try again: the earlier call's
    (server, server_url)), else `linked` (a share link's), else the one remembered in the
    session, else the first. A recorded or linked server that cannot be chosen is the
    error and none is chosen, so that nothing is sent to another one unseen."""
    choices = server_choices(api=api, user=user, portal_url=portal_url)
    by_value = {choice.value: choice for choice in choices}
    if posted is not None:
        chosen = by_value.get(posted)
        return ServerPick(choices=choices, chosen=chosen, error="" if chosen else UNKNOWN_SERVER)
    if recorded is not None and recorded[0]:
        value, url = recorded
        try:
            return ServerPick(
                choices=choices,
                chosen=recorded_choice(api=api, user=user, value=value, url=url, choices=choices),
            )
        except ServerGone as gone:
            return ServerPick(choices=choices, chosen=None, error=gone.message)
    if linked:
        chosen = by_value.get(linked)
        if chosen is None or usable_problem(chosen):
            return ServerPick(choices=choices, chosen=None, error=UNKNOWN_LINKED_SERVER)
        return ServerPick(choices=choices, chosen=chosen)
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


class ServerGone(Exception):
    """A recorded server that cannot be sent to any more; the message says which."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def usable_problem(choice: ServerChoice) -> str:
    """Why a listed choice cannot be sent to ("" when it can): its URL no longer meets the
    service-URL rules and network policy (a row written past the validator, a policy
    narrowed since). The API's first choice is the call Try it has always made, which
    `outbound.send` checks as it always has."""
    if choice.base_url is None:
        return ""
    problems = service_url_problems(choice.url)
    return problems[0] if problems else ""


def shown_server_url(*, api: Api, value: str, url: str, user: User | AnonymousUser | None) -> str:
    """A recorded server's URL as `user` may see it: the service URL of an API on the
    gateway only to staff ("Servers")."""
    if value == SERVICE and registry.on_gateway(api.pk) and not public_urls.sees_backend(user):
        return HIDDEN_SERVICE_URL
    return url


def server_gone_message(
    *, api: Api, value: str, url: str, user: User | AnonymousUser | None
) -> str:
    shown = shown_server_url(api=api, value=value, url=url, user=user) or f"({value})"
    return f"This request's server {shown} is no longer one of the API's servers."


def recorded_choice(
    *,
    api: Api,
    user: User | AnonymousUser | None,
    value: str,
    url: str,
    choices: list[ServerChoice] | None = None,
    portal_url: str = "",
) -> ServerChoice:
    """The choice a call was recorded with, looked up again for `user` (who sends it now).

    "" (a call recorded before choices were) is the first choice, as it was then. Raises
    ServerGone, before anything is sent, for a choice that is not in the user's list any
    more (a server removed, the API off the gateway, the staff-only service URL for anyone
    else) or whose URL the service-URL rules no longer allow."""
    viewer = user if user is not None else AnonymousUser()
    if choices is None:
        # A replay has no request: the gateway's URL is recorded at the portal's address.
        portal_url = portal_url or settings.PORTAL_SITE_URL or "/"
        choices = server_choices(api=api, user=viewer, portal_url=portal_url)
    if not value:
        return choices[0]
    chosen = next((choice for choice in choices if choice.value == value), None)
    if chosen is None or usable_problem(chosen):
        raise ServerGone(server_gone_message(api=api, value=value, url=url, user=user))
    return chosen
