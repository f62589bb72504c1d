from operations.masking import MASK, mask_headers, mask_url, mask_values


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
