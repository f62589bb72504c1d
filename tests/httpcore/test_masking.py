import pytest

from httpcore.masking import (
    MASK,
    holds_no_credential,
    is_secret,
    is_secret_name,
    mask_headers,
    mask_url,
    mask_values,
)


def test_known_credential_headers_are_masked_keeping_the_scheme():
    headers = [("Authorization", "Bearer abc"), ("X-API-Key", "k"), ("Accept", "*/*")]
    assert mask_headers(headers) == [
        ["Authorization", f"Bearer {MASK}"],
        ["X-API-Key", MASK],
        ["Accept", "*/*"],
    ]


def test_headers_marked_secret_are_masked_whatever_their_name():
    assert mask_headers([("X-Tenant-Token", "t0k")], secret_names={"x-tenant-token"}) == [
        ["X-Tenant-Token", MASK]
    ]


def test_secret_query_values_are_masked_in_urls():
    url = "https://api.example.com/x?code=abc&q=1&Code=def"
    assert mask_url(url, secret_names={"code"}) == (
        f"https://api.example.com/x?code={MASK}&q=1&Code={MASK}"
    )
    assert mask_url(url) == url


def test_values_are_masked_by_name():
    assert mask_values({"key": "k", "q": "1", "empty": ""}, secret_names={"key", "empty"}) == {
        "key": MASK,
        "q": "1",
        "empty": "",
    }


# --- Secret by name: credential words, whatever the header or query key is called ------

SECRET_NAMES = [
    "Authorization",
    "Proxy-Authorization",
    "authorisation",
    "X-Api-Token",
    "x-custom-token",
    "access_token",
    "X-Auth",
    "X-Auth-User",
    "oauth_verifier",
    "client_secret",
    "Password",
    "db_passwd",
    "X-Credential",
    "X-Amz-Signature",
    "X-Session-Id",
    "sessionid",
    "Cookie",
    "Set-Cookie",
    "api_key",
    "X-Goog-Api-Key",
    "Idempotency-Key",
    "sig",
    " X-API-TOKEN ",
]
PUBLIC_NAMES = [
    "Accept",
    "Content-Type",
    "X-Custom",
    "X-Request-Id",
    "q",
    "page",
    "author",
    "authors",
    "Authority",
    "keyword",
    "keywords",
    "WWW-Authenticate",
    "Proxy-Authenticate",
    "Access-Control-Allow-Credentials",
    "signal",
]


@pytest.mark.parametrize("name", SECRET_NAMES)
def test_names_with_a_credential_word_are_secret(name):
    assert is_secret_name(name) is True
    assert mask_headers([(name, "v4lue-1234")]) == [[name, MASK]]


@pytest.mark.parametrize("name", PUBLIC_NAMES)
def test_other_names_are_not(name):
    assert is_secret_name(name) is False
    assert mask_headers([(name, "v4lue-1234")]) == [[name, "v4lue-1234"]]


def test_a_parameter_marked_secret_wins_over_a_public_name():
    assert is_secret_name("WWW-Authenticate", secret_names={"www-authenticate"}) is True


# --- Secret by value: an auth scheme and a space, whatever the name ---------------------


@pytest.mark.parametrize(
    ("value", "masked"),
    [
        ("Bearer abc.def", f"Bearer {MASK}"),
        ("bearer abc", f"bearer {MASK}"),
        ("BASIC dXNlcjpwYXNz", f"BASIC {MASK}"),
        ('Digest username="u", response="r"', f"Digest {MASK}"),
        ("Token t0k", f"Token {MASK}"),
        ("Negotiate YIIB", f"Negotiate {MASK}"),
        ("AWS4-HMAC-SHA256 Credential=AKIA/x, Signature=ab", f"AWS4-HMAC-SHA256 {MASK}"),
        ("  Bearer\tabc", f"Bearer {MASK}"),
        ("SharedAccessSignature sr=x&sig=y", f"SharedAccessSignature {MASK}"),
    ],
)
def test_a_value_with_an_auth_scheme_is_secret_under_any_name(value, masked):
    assert is_secret("X-Custom", value) is True
    assert mask_headers([("X-Custom", value)]) == [["X-Custom", masked]]
    assert mask_values({"note": value}, secret_names=()) == {"note": masked}


@pytest.mark.parametrize(
    "value", ["Bearer", "Bearer ", "Bearerabc", "hello world", "Basically fine", "text/plain"]
)
def test_a_value_without_a_scheme_and_a_credential_is_not(value):
    assert is_secret("X-Custom", value) is False
    assert mask_headers([("X-Custom", value)]) == [["X-Custom", value]]


def test_a_challenge_names_a_scheme_and_stays_readable():
    challenge = 'Bearer realm="api", error="invalid_token"'
    assert mask_headers([("WWW-Authenticate", challenge)]) == [["WWW-Authenticate", challenge]]


def test_a_secret_without_a_known_scheme_is_masked_whole():
    # Not "correct ••••••": the first word of a pass phrase is part of the secret.
    assert mask_headers([("Password", "correct horse battery")]) == [["Password", MASK]]
    assert mask_headers([("Authorization", "Custom abc")]) == [["Authorization", MASK]]


def test_query_values_are_masked_by_key_or_scheme():
    url = (
        "https://api.example.com/x?access_token=abc&q=1&X-Auth=a%20b&keyword=cats"
        "&note=Bearer+zzz&page=2&Session=s1"
    )
    assert mask_url(url) == (
        f"https://api.example.com/x?access_token={MASK}&q=1&X-Auth={MASK}&keyword=cats"
        f"&note={MASK}&page=2&Session={MASK}"
    )


def test_only_a_scheme_word_holds_no_credential() -> None:
    assert holds_no_credential("")
    assert holds_no_credential("  \t")
    assert holds_no_credential("Bearer ")
    assert holds_no_credential("basic")
    assert not holds_no_credential("Bearer abc")
    assert not holds_no_credential("abc")
