"""/environments/: a user's named variable sets, theirs alone; secrets never shown."""

from collections.abc import Sequence

import pytest
from bs4 import BeautifulSoup

from console.models import Environment
from portal.secrets import decrypt, encrypt
from tests.factories import make_user

pytestmark = pytest.mark.django_db

SECRET = "s3cret-env-value-0123456789"


def soup_of(response) -> BeautifulSoup:
    assert response.status_code == 200, response.status_code
    return BeautifulSoup(response.content, "html.parser")


def form_data(name: str = "Dev", rows: Sequence[tuple[str, str, bool]] = (), **extra) -> dict:
    data = {
        "name": name,
        "var-TOTAL_FORMS": str(len(rows)),
        "var-INITIAL_FORMS": "0",
        "var-MIN_NUM_FORMS": "0",
        "var-MAX_NUM_FORMS": "1000",
    }
    for index, (variable, value, secret) in enumerate(rows):
        data[f"var-{index}-name"] = variable
        data[f"var-{index}-value"] = value
        if secret:
            data[f"var-{index}-secret"] = "on"
    data.update(extra)
    return data


def make_environment(owner, name: str = "Dev") -> Environment:
    return Environment.objects.create(
        owner=owner,
        name=name,
        variables=[
            {"name": "host", "value": "example.org", "secret": False},
            {"name": "token", "value": encrypt(SECRET), "secret": True},
        ],
    )


@pytest.fixture
def ada(client):
    user = make_user("ada")
    client.force_login(user)
    return user


# --- create, edit, delete -------------------------------------------------------------


def test_create_with_plain_and_secret_variables(client, ada):
    response = client.post(
        "/environments/new",
        form_data(rows=[("jobid", "abc", False), ("token", SECRET, True)]),
    )
    assert response.status_code == 302
    assert response["Location"] == "/environments/"
    environment = Environment.objects.get(owner=ada)
    assert environment.name == "Dev"
    plain, secret = environment.variables
    assert plain == {"name": "jobid", "value": "abc", "secret": False}
    assert secret["name"] == "token" and secret["secret"] is True
    assert secret["value"] != SECRET and decrypt(secret["value"]) == SECRET
    listing = soup_of(client.get("/environments/"))
    assert listing.select_one("[data-environment='Dev']").get_text(" ", strip=True) == (
        "Dev 2 variables"
    )


def test_edit_never_shows_a_secret_and_empty_keeps_it(client, ada):
    environment = make_environment(ada)
    page = client.get(f"/environments/{environment.pk}/edit")
    assert SECRET not in page.content.decode()
    soup = soup_of(page)
    token_value = soup.select_one("input[name='var-1-value']")
    assert token_value["type"] == "password"
    assert not token_value.get("value")
    assert token_value["placeholder"] == "••••••"
    data = form_data(rows=[("host", "example.com", False), ("token", "", True)])
    data["var-INITIAL_FORMS"] = "2"
    assert client.post(f"/environments/{environment.pk}/edit", data).status_code == 302
    environment.refresh_from_db()
    host, token = environment.variables
    assert host == {"name": "host", "value": "example.com", "secret": False}
    assert decrypt(token["value"]) == SECRET


def test_a_secret_typed_on_a_refused_form_is_not_shown_back(client, ada):
    data = form_data(name="", rows=[("token", SECRET, True)])
    response = client.post("/environments/new", data)
    assert SECRET not in response.content.decode()
    assert Environment.objects.count() == 0


def test_delete_and_blank_rows(client, ada):
    environment = make_environment(ada)
    data = form_data(rows=[("host", "example.org", False), ("token", "", True), ("", "", False)])
    data["var-INITIAL_FORMS"] = "2"
    data["var-0-DELETE"] = "on"
    client.post(f"/environments/{environment.pk}/edit", data)
    environment.refresh_from_db()
    assert [v["name"] for v in environment.variables] == ["token"]
    response = client.post(f"/environments/{environment.pk}/delete")
    assert response.status_code == 302 and response["Location"] == "/environments/"
    assert not Environment.objects.filter(pk=environment.pk).exists()


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        (form_data(name=""), "name", "This field is required."),
        (form_data(name="   "), "name", "This field is required."),
        (
            form_data(rows=[("", "orphan", False)]),
            "var-0-name",
            "Enter a name for this variable.",
        ),
        (
            form_data(rows=[("job id", "1", False)]),
            "var-0-name",
            "Use letters, digits, '_', '-' and '.', starting with a letter or '_'.",
        ),
        (
            form_data(rows=[("1abc", "1", False)]),
            "var-0-name",
            "Use letters, digits, '_', '-' and '.', starting with a letter or '_'.",
        ),
        (
            form_data(rows=[("x", "1", False), ("x", "2", False)]),
            "var-1-name",
            "x is already a variable of this environment.",
        ),
    ],
)
def test_bad_input_is_refused_on_its_field(client, ada, data, field, message):
    response = client.post("/environments/new", data)
    soup = soup_of(response)
    assert [e.get_text(strip=True) for e in soup.select(f"[id^=error_][id$=_id_{field}]")] == [
        message
    ]
    assert Environment.objects.count() == 0


def test_duplicate_name_is_refused_for_the_same_owner_only(client, ada):
    make_environment(ada, "Dev")
    soup = soup_of(client.post("/environments/new", form_data(name="Dev")))
    assert [e.get_text(strip=True) for e in soup.select("[id^=error_][id$=_id_name]")] == [
        "You already have an environment named Dev."
    ]
    assert Environment.objects.filter(owner=ada).count() == 1
    other = make_user("bob")
    make_environment(other, "Prod")
    assert client.post("/environments/new", form_data(name="Prod")).status_code == 302


def test_renaming_to_its_own_name_is_allowed(client, ada):
    environment = make_environment(ada, "Dev")
    data = form_data(name="Dev", rows=[("host", "h", False), ("token", "", True)])
    data["var-INITIAL_FORMS"] = "2"
    assert client.post(f"/environments/{environment.pk}/edit", data).status_code == 302


# --- who may ----------------------------------------------------------------------------


def test_another_user_cannot_list_see_edit_or_delete(client):
    owner = make_user("ada")
    environment = make_environment(owner)
    client.force_login(make_user("bob"))
    listing = client.get("/environments/")
    assert "Dev" not in listing.content.decode()
    assert client.get(f"/environments/{environment.pk}/edit").status_code == 404
    data = form_data(name="Mine now")
    assert client.post(f"/environments/{environment.pk}/edit", data).status_code == 404
    assert client.post(f"/environments/{environment.pk}/delete").status_code == 404
    environment.refresh_from_db()
    assert environment.name == "Dev" and environment.owner == owner


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", "/environments/"),
        ("get", "/environments/new"),
        ("post", "/environments/new"),
        ("get", "/environments/{pk}/edit"),
        ("post", "/environments/{pk}/delete"),
    ],
)
def test_anonymous_is_sent_to_sign_in(client, method, path):
    environment = make_environment(make_user("ada"))
    url = path.format(pk=environment.pk)
    response = getattr(client, method)(url)
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/?next=")
    assert Environment.objects.count() == 1


def test_delete_needs_post(client, ada):
    environment = make_environment(ada)
    assert client.get(f"/environments/{environment.pk}/delete").status_code == 405
    assert Environment.objects.filter(pk=environment.pk).exists()


def test_too_many_variables_are_refused(client, ada):
    rows = [(f"v{index}", "x", False) for index in range(201)]
    soup = soup_of(client.post("/environments/new", form_data(rows=rows)))
    assert soup.select_one(".alert-danger").get_text(strip=True) == (
        "Please submit at most 200 forms."
    )
    assert Environment.objects.count() == 0


def test_a_too_long_variable_name_is_refused(client, ada):
    soup = soup_of(client.post("/environments/new", form_data(rows=[("a" * 101, "x", False)])))
    assert [e.get_text(strip=True) for e in soup.select("[id^=error_][id$=_id_var-0-name]")] == [
        "Ensure this value has at most 100 characters (it has 101)."
    ]
