"""What the Authorize dialog's buttons do: keep a credential, get a token, start an
authorization, log out; and the one notice the dialog shows after it."""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib.sessions.backends.base import SessionBase

from catalog.models import Api
from console import oauth
from console.authorization import (
    API_KEY,
    BASIC,
    BEARER,
    CLIENT_CREDENTIALS,
    OPENID,
    forget,
    held_credentials,
    hold,
)
from console.authorize_forms import AuthorizeForm

NOTICE_KEY = "authorize_notice"


@dataclass(frozen=True)
class Notice:
    text: str
    error: bool = False


def set_notice(*, session: SessionBase, api: Api, text: str, error: bool = False) -> None:
    session[NOTICE_KEY] = {"api": api.pk, "text": text, "error": error}


def take_notice(*, session: SessionBase, api: Api) -> Notice | None:
    """The notice left for this API's dialog, once."""
    notice = session.get(NOTICE_KEY)
    if not isinstance(notice, dict) or notice.get("api") != api.pk:
        return None
    del session[NOTICE_KEY]
    return Notice(text=str(notice.get("text", "")), error=bool(notice.get("error")))


def authorize(
    *,
    session: SessionBase,
    api: Api,
    form: AuthorizeForm,
    redirect_uri: str,
    return_to: str,
    client_key: str,
) -> str:
    """Act on a valid form; the URL the browser goes to next (the authorization server's
    for the authorization code flow, else back to the page). A refusal is the notice."""
    scheme = form.scheme
    try:
        if scheme.kind in {API_KEY, BASIC, BEARER}:
            hold(session=session, api=api, scheme=scheme.name, data=form.held_data)
            set_notice(session=session, api=api, text=f"{scheme.name}: authorized.")
            return return_to
        client_id = form.cleaned_data["client_id"].strip()
        client_secret = form.cleaned_data["client_secret"]
        if form.redirects:
            flow = form.chosen_flow
            if scheme.kind == OPENID:
                flow = oauth.discovered_flow(api=api, scheme=scheme, client_key=client_key)
            assert flow is not None  # the form checked it
            return oauth.start_authorization(
                session=session,
                api=api,
                scheme=scheme,
                flow=flow,
                client_id=client_id,
                client_secret=client_secret,
                scopes=form.scope_names,
                redirect_uri=redirect_uri,
                return_to=return_to,
            )
        flow = form.chosen_flow
        assert flow is not None and flow.kind == CLIENT_CREDENTIALS
        data = oauth.client_credentials(
            api=api,
            flow=flow,
            client_id=client_id,
            client_secret=client_secret,
            scopes=form.scope_names,
            client_key=client_key,
        )
        hold(session=session, api=api, scheme=scheme.name, data=data)
        set_notice(session=session, api=api, text=f"{scheme.name}: authorized as {client_id}.")
    except oauth.AuthorizeError as error:
        set_notice(session=session, api=api, text=f"{scheme.name}: {error.message}", error=True)
    return return_to


def log_out(*, session: SessionBase, api: Api, scheme: str, client_key: str) -> None:
    """Forget the scheme's credential, then revoke an OAuth token at its provider when it
    has a revocation endpoint. The session never keeps the token past this, whatever the
    provider answers: a failed revocation is the notice, and the token lives on there
    until it expires."""
    held = held_credentials(session=session, api=api).get(scheme)
    forget(session=session, api=api, scheme=scheme)
    try:
        revoked = held is not None and oauth.revoke(held=held, client_key=client_key)
    except oauth.AuthorizeError as error:
        text = f"{scheme}: logged out here, but the token was not revoked: {error.message}"
        set_notice(session=session, api=api, text=text, error=True)
        return
    text = f"{scheme}: logged out" + ("; the token was revoked." if revoked else ".")
    set_notice(session=session, api=api, text=text)
