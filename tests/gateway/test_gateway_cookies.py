"""Cookies through the gateway, from the attacker's side: only the operation's documented
names reach the backend, never the portal's own cookies, whatever the document names.

Every call goes to a real loopback backend (tests/backends.py); what it received is the
judge.
"""

import logging

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.test import Client, override_settings

from catalog.models import Api, Operation, Parameter, ParameterLocation
from gateway.forwarded_cookies import MAX_INCOMING_COOKIE_LENGTH, forwarded_cookies
from gateway.models import GatewayCall
from openapi.sync import import_openapi
from portal.own_cookies import portal_cookie_names
from tests.backends import reply_with, scripted_server
from tests.factories import make_product, make_subscription

pytestmark = pytest.mark.django_db

KEY_HEADER = "Ocp-Apim-Subscription-Key"
VICTIM_SESSION = "victimsession0123456789abcdefghij"
SECRET_COOKIE = "cookie-secret-5f0c2a9e7d3b41c8"


@pytest.fixture
def backend():
    with scripted_server(reply_with(200, body=b"ok")) as server:
        yield server


def add_operation(api: Api, slug: str, *cookies: str, required: tuple[str, ...] = ()) -> None:
    operation = Operation.objects.create(
        api=api, name=slug, slug=slug, method="GET", url_template=f"/{slug}"
    )
    for name in cookies:
        Parameter.objects.create(
            operation=operation,
            name=name,
            location=ParameterLocation.COOKIE,
            required=name in required,
            secret=name == "session_token",
        )


@pytest.fixture
def api(backend) -> Api:
    api = Api.objects.create(
        name="Shop", slug="shop", service_url=f"{backend.url}/base", url_suffix="shop"
    )
    add_operation(api, "tracked", "session_token", "ids")
    add_operation(api, "plain")
    # A document naming the portal's own cookies, in any case.
    add_operation(
        api, "greedy", "sessionid", "csrftoken", "SessionID", "django_language", "messages"
    )
    add_operation(api, "needs-cookie", "session_token", required=("session_token",))
    add_operation(api, "needs-session", "sessionid", required=("sessionid",))
    return api


@pytest.fixture
def key(api) -> str:
    owner = get_user_model().objects.create(username="owner")
    return make_subscription(user=owner, product=make_product(api)).key("primary")


def call(key: str, path: str, cookie: str | None, client: Client | None = None):
    headers = {KEY_HEADER: key}
    if cookie is not None:
        headers["Cookie"] = cookie
    return (client or Client()).get(f"/gateway/shop/{path}", headers=headers)


def sent_cookie(backend) -> str | None:
    [sent] = backend.requests
    return sent.header("Cookie")


# --- What reaches the backend -----------------------------------------------------------


def test_only_the_documented_cookie_reaches_the_backend(backend, api, key):
    cookie = f"sessionid={VICTIM_SESSION}; csrftoken=csrf0123456789; session_token=abc; x=1"
    response = call(key, "tracked", cookie)
    assert response.status_code == 200
    assert sent_cookie(backend) == "session_token=abc"


def test_an_undocumented_cookie_is_not_forwarded(backend, api, key):
    assert call(key, "plain", "session_token=abc; theme=dark").status_code == 200
    assert sent_cookie(backend) is None


def test_the_portals_cookies_are_not_forwarded_when_the_document_names_them(backend, api, key):
    cookie = (
        f"sessionid={VICTIM_SESSION}; csrftoken=csrf0123456789; SessionID=x; "
        "django_language=fr; messages=m"
    )
    assert call(key, "greedy", cookie).status_code == 200
    assert sent_cookie(backend) is None


def test_a_signed_in_browsers_own_session_is_not_forwarded(backend, api, key):
    browser = Client()
    browser.force_login(get_user_model().objects.create(username="victim"))
    browser.cookies[settings.CSRF_COOKIE_NAME] = "csrf0123456789"
    session = browser.cookies[settings.SESSION_COOKIE_NAME].value
    assert session
    # The browser's jar sends the portal's cookies, as a browser does on the same origin.
    response = browser.get("/gateway/shop/greedy", headers={KEY_HEADER: key})
    assert response.status_code == 200
    [sent] = backend.requests
    assert sent.header("Cookie") is None
    assert session not in str(sent.headers)


@override_settings(SESSION_COOKIE_NAME="portal_sid", CSRF_COOKIE_NAME="portal_csrf")
def test_renamed_portal_cookies_are_kept_back_too(backend, api, key):
    Parameter.objects.create(
        operation=api.operations.get(slug="tracked"),
        name="portal_sid",
        location=ParameterLocation.COOKIE,
    )
    assert call(key, "tracked", f"portal_sid={VICTIM_SESSION}; ids=1").status_code == 200
    assert sent_cookie(backend) == "ids=1"


def test_the_clients_order_and_repeats_are_kept_in_one_header(backend, api, key):
    assert call(key, "tracked", "ids=1; session_token=abc; ids=2,3").status_code == 200
    assert sent_cookie(backend) == "ids=1; session_token=abc; ids=2,3"


def test_repeated_cookie_headers_joined_by_the_server_are_read_as_pairs(backend, api, key):
    # gunicorn and runserver join two Cookie headers with ",".
    assert call(key, "tracked", "sessionid=v,session_token=abc,ids=4,5").status_code == 200
    assert sent_cookie(backend) == "session_token=abc; ids=4,5"


@pytest.mark.parametrize(
    ("cookie", "sent"),
    [
        ("session_token; ids=1", "ids=1"),  # no "="
        ("session_token=a\x01b; ids=1", "ids=1"),  # a control character
        ("session_token=a b; ids=1", "ids=1"),  # a space inside the value
        ('session_token="abc"; ids=1', "ids=1"),  # quoted
        ("session_token=caf\xe9; ids=1", "ids=1"),  # not ASCII
        ("session_token=a\\b; ids=1", "ids=1"),  # a backslash
        ("  session_token = abc ;ids=1", "session_token=abc; ids=1"),  # whitespace trimmed
        ("=abc; ids=1", "ids=1"),  # no name
        (";;; ids=1;", "ids=1"),
    ],
)
def test_a_malformed_cookie_is_dropped_on_its_own(backend, api, key, cookie, sent):
    assert call(key, "tracked", cookie).status_code == 200
    assert sent_cookie(backend) == sent


def test_a_cookie_header_too_long_is_a_400_and_nothing_is_sent(backend, api, key):
    cookie = "session_token=abc; filler=" + "a" * MAX_INCOMING_COOKIE_LENGTH
    response = call(key, "tracked", cookie)
    assert response.status_code == 400
    assert response.json()["error"] == {
        "code": "CookieTooLarge",
        "message": f"The Cookie header is longer than the gateway reads "
        f"({MAX_INCOMING_COOKIE_LENGTH} characters).",
    }
    assert backend.requests == []


def test_a_missing_required_cookie_is_a_400_and_nothing_is_sent(backend, api, key):
    response = call(key, "needs-cookie", "session_token=a b; ids=1")
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "MissingParameter"
    assert response.json()["error"]["parameters"] == ["session_token"]
    assert backend.requests == []
    assert call(key, "needs-cookie", "session_token=abc").status_code == 200


def test_a_required_cookie_with_the_portals_name_does_not_block_calls(backend, api, key):
    assert call(key, "needs-session", None).status_code == 200
    assert sent_cookie(backend) is None


def test_an_api_key_cookie_of_an_imported_security_scheme_is_forwarded(backend, key):
    document = {
        "openapi": "3.0.3",
        "info": {"title": "Keyed", "version": "1"},
        "servers": [{"url": f"{backend.url}/keyed"}],
        "components": {
            "securitySchemes": {
                "cookieKey": {"type": "apiKey", "in": "cookie", "name": "api_key"},
                "portalSession": {"type": "apiKey", "in": "cookie", "name": "sessionid"},
            }
        },
        "security": [{"cookieKey": [], "portalSession": []}],
        "paths": {"/things": {"get": {"operationId": "things", "responses": {"200": {}}}}},
    }
    summary = import_openapi(document=document, api_slug="keyed")
    assert (
        "cookie 'sessionid' has the name of one of the portal's own cookies: imported, "
        "but the gateway does not forward it."
    ) in summary.notes
    Api.objects.filter(pk=summary.api.pk).update(url_suffix="keyed")
    owner = get_user_model().objects.create(username="keyed-owner")
    product = make_product(summary.api, slug="keyed")
    keyed = make_subscription(user=owner, product=product).key("primary")
    response = Client().get(
        "/gateway/keyed/things",
        headers={KEY_HEADER: keyed, "Cookie": f"sessionid={VICTIM_SESSION}; api_key=k-123"},
    )
    assert response.status_code == 200
    assert sent_cookie(backend) == "api_key=k-123"


def imported_on_gateway(backend, document: dict, slug: str) -> str:
    """Import the document as an API on the gateway under /gateway/<slug>/; a key to it."""
    document = {
        "openapi": "3.0.3",
        "info": {"title": slug, "version": "1"},
        "servers": [{"url": f"{backend.url}/{slug}"}],
        **document,
    }
    summary = import_openapi(document=document, api_slug=slug)
    Api.objects.filter(pk=summary.api.pk).update(url_suffix=slug)
    owner = get_user_model().objects.create(username=f"{slug}-owner")
    return make_subscription(user=owner, product=make_product(summary.api, slug=slug)).key(
        "primary"
    )


def gateway_get(key: str, path: str, cookie: str | None = None):
    headers = {KEY_HEADER: key, **({"Cookie": cookie} if cookie is not None else {})}
    return Client().get(f"/gateway/{path}", headers=headers)


COLOR = {
    "type": "object",
    "properties": {"R": {"type": "integer"}, "G": {"type": "integer"}, "csrftoken": {}},
}


def color_document(parameter: dict) -> dict:
    operation = {"operationId": "paint", "parameters": [parameter], "responses": {"200": {}}}
    return {
        "components": {"schemas": {"Color": COLOR}},
        "paths": {"/paint": {"get": operation}},
    }


def test_an_exploded_objects_declared_properties_are_forwarded_as_cookies(backend):
    # style form, explode true: the defaults for a cookie; the schema through a $ref.
    parameter = {"name": "color", "in": "cookie", "schema": {"$ref": "#/components/schemas/Color"}}
    key = imported_on_gateway(backend, color_document(parameter), "paint")
    cookie = f"R=100; sessionid={VICTIM_SESSION}; B=7; G=200; csrftoken=c0123456789; color=x,1"
    response = gateway_get(key, "paint/paint", cookie)
    assert response.status_code == 200
    # The undeclared B is dropped; the declared csrftoken is the portal's own, never sent;
    # the parameter's own name still goes (Try it sends undeclared properties under it).
    assert sent_cookie(backend) == "R=100; G=200; color=x,1"


def test_an_object_not_exploded_is_forwarded_under_its_name_only(backend):
    parameter = {"name": "color", "in": "cookie", "explode": False, "schema": COLOR}
    key = imported_on_gateway(backend, color_document(parameter), "flat")
    assert gateway_get(key, "flat/paint", "R=100; G=200; color=R,100,G,200").status_code == 200
    assert sent_cookie(backend) == "color=R,100,G,200"


def test_a_required_exploded_object_is_sent_by_one_of_its_properties(backend):
    parameter = {"name": "color", "in": "cookie", "required": True, "schema": COLOR}
    key = imported_on_gateway(backend, color_document(parameter), "needs-color")
    assert gateway_get(key, "needs-color/paint", "G=200").status_code == 200
    assert sent_cookie(backend) == "G=200"
    for cookie in (None, "B=1; csrftoken=c0123456789"):
        response = gateway_get(key, "needs-color/paint", cookie)
        assert response.status_code == 400
        assert response.json()["error"] == {
            "code": "MissingParameter",
            "message": "Missing required parameter: color.",
            "parameters": ["color"],
        }
    assert len(backend.requests) == 1


SCHEMES = {
    "ApiKeyHeader": {"type": "apiKey", "in": "header", "name": "X-Api-Key"},
    "ApiKeyCookie": {"type": "apiKey", "in": "cookie", "name": "api_key"},
    "SessionKey": {"type": "apiKey", "in": "cookie", "name": "SessionID"},
    "OtherCookie": {"type": "apiKey", "in": "cookie", "name": "other_key"},
}


def keyed_document(security: list[dict]) -> dict:
    return {
        "components": {"securitySchemes": SCHEMES},
        "security": [{"OtherCookie": []}],
        "paths": {
            "/things": {
                "get": {"operationId": "things", "security": security, "responses": {"200": {}}}
            }
        },
    }


ALL_KEYS = f"api_key=k-123; other_key=o-456; SessionID={VICTIM_SESSION}; X-Api-Key=h"


def test_the_cookie_key_of_a_later_security_alternative_is_forwarded(backend):
    security = [{"ApiKeyHeader": []}, {"ApiKeyCookie": []}]
    key = imported_on_gateway(backend, keyed_document(security), "alternatives")
    response = gateway_get(key, "alternatives/things", ALL_KEYS)
    assert response.status_code == 200
    # The document-wide OtherCookie is replaced by the operation's own requirements.
    assert sent_cookie(backend) == "api_key=k-123"


def test_a_security_scheme_named_as_a_portal_cookie_is_never_forwarded(backend):
    security = [{"ApiKeyHeader": []}, {"SessionKey": []}, {"ApiKeyCookie": []}]
    key = imported_on_gateway(backend, keyed_document(security), "portal-named")
    assert gateway_get(key, "portal-named/things", ALL_KEYS).status_code == 200
    [sent] = backend.requests
    assert sent.header("Cookie") == "api_key=k-123"
    assert VICTIM_SESSION not in str(sent.headers)


def test_no_cookie_key_is_forwarded_for_an_operation_without_security(backend):
    key = imported_on_gateway(backend, keyed_document([]), "open")
    assert gateway_get(key, "open/things", ALL_KEYS).status_code == 200
    assert sent_cookie(backend) is None


# --- Nothing keeps a cookie's value -----------------------------------------------------


def test_no_log_line_or_record_holds_a_cookie_value(backend, api, key, caplog):
    caplog.set_level(logging.DEBUG)
    cookie = f"sessionid={VICTIM_SESSION}; session_token={SECRET_COOKIE}"
    assert call(key, "tracked", cookie).status_code == 200
    # A refused call logs too (django.request's "Bad Request").
    assert call(key, "needs-cookie", f"sessionid={VICTIM_SESSION}").status_code == 400
    assert sent_cookie_values(backend) == [f"session_token={SECRET_COOKIE}"]
    logged = "\n".join(
        f"{record.getMessage()} {record.args!r} {vars(record)!r}" for record in caplog.records
    )
    assert SECRET_COOKIE not in logged
    assert VICTIM_SESSION not in logged
    for row in GatewayCall.objects.values():
        assert SECRET_COOKIE not in repr(row)
        assert VICTIM_SESSION not in repr(row)


def sent_cookie_values(backend) -> list[str | None]:
    return [sent.header("Cookie") for sent in backend.requests]


def test_the_analytics_export_holds_no_cookie_value(backend, api, key):
    assert call(key, "tracked", f"session_token={SECRET_COOKIE}").status_code == 200
    staff = get_user_model().objects.create(username="staff", is_staff=True)
    browser = Client()
    browser.force_login(staff)
    response = browser.get("/analytics/?export=csv&range=24h")
    assert response.status_code == 200
    content = b"".join(response.streaming_content).decode()
    assert "/gateway/shop/tracked" in content
    assert SECRET_COOKIE not in content


# --- The rules on their own -------------------------------------------------------------


def test_the_portals_cookie_names_come_from_its_settings_and_packages():
    assert portal_cookie_names() == {
        "sessionid",
        "csrftoken",
        "django_language",
        "messages",
        "mfa_trusted",
    }
    with override_settings(SESSION_COOKIE_NAME="Portal_SID"):
        assert "portal_sid" in portal_cookie_names()


def test_forwarded_cookies_checks_the_portals_names_again_at_call_time():
    names = frozenset({"sessionid", "doc"})
    assert forwarded_cookies(header="sessionid=v; doc=1", names=names) == [("doc", "1")]
    assert forwarded_cookies(header=None, names=names) == []
    assert forwarded_cookies(header="doc=1", names=frozenset()) == []


def test_the_import_notes_a_cookie_parameter_named_as_a_portal_cookie():
    document = {
        "openapi": "3.0.3",
        "info": {"title": "Named", "version": "1"},
        "servers": [{"url": "http://127.0.0.1:9/named"}],
        "paths": {
            "/a": {
                "get": {
                    "operationId": "a",
                    "parameters": [
                        {"name": "csrftoken", "in": "cookie", "schema": {"type": "string"}},
                        {"name": "theme", "in": "cookie", "schema": {"type": "string"}},
                        {"name": "sessionid", "in": "query", "schema": {"type": "string"}},
                    ],
                    "responses": {"200": {"description": "ok"}},
                }
            }
        },
    }
    summary = import_openapi(document=document, api_slug="named")
    assert [note for note in summary.notes if "portal's own cookies" in note] == [
        "cookie 'csrftoken' has the name of one of the portal's own cookies: imported, "
        "but the gateway does not forward it."
    ]
    names = set(summary.api.operations.get().parameters.values_list("location", "name"))
    assert ("cookie", "csrftoken") in names
