"""GET /history/<id>/body: a stored response body, for its owner only."""

import pytest
from django.test import Client

from console.models import Exchange

pytestmark = pytest.mark.django_db


def make_exchange(**fields) -> Exchange:
    return Exchange.objects.create(
        operation_name="X: y", method="GET", url="http://h/x", response_body=b"\x00\x01", **fields
    )


def test_owner_downloads_as_attachment(client, django_user_model):
    user = django_user_model.objects.create_user("ada", password="pw")
    exchange = make_exchange(owner=user)
    client.force_login(user)
    response = client.get(f"/history/{exchange.pk}/body")
    assert response.status_code == 200
    assert response.content == b"\x00\x01"
    assert response["Content-Disposition"].startswith("attachment;")
    assert response["X-Content-Type-Options"] == "nosniff"


def test_another_user_gets_404(client, django_user_model):
    owner = django_user_model.objects.create_user("ada", password="pw")
    exchange = make_exchange(owner=owner)
    client.force_login(django_user_model.objects.create_user("bob", password="pw"))
    assert client.get(f"/history/{exchange.pk}/body").status_code == 404


def test_anonymous_visitor_sees_only_their_session(client):
    session = client.session
    session.save()
    mine = make_exchange(session_key=session.session_key)
    theirs = make_exchange(session_key="another-session")
    assert client.get(f"/history/{mine.pk}/body").status_code == 200
    assert client.get(f"/history/{theirs.pk}/body").status_code == 404
    assert Client().get(f"/history/{mine.pk}/body").status_code == 404


@pytest.mark.parametrize(
    ("content_type", "filename"),
    [
        ("application/json", "response-{pk}.json"),
        ("application/json; charset=utf-8", "response-{pk}.json"),
        ("application/problem+json", "response-{pk}.json"),
        ("application/xml", "response-{pk}.xml"),
        ("text/plain; charset=utf-8", "response-{pk}.txt"),
        ("text/csv", "response-{pk}.csv"),
        ("image/png", "response-{pk}.png"),
        ("application/x-unknown-thing", "response-{pk}.bin"),
        ("", "response-{pk}.bin"),
        ('text/plain"; filename="evil.exe', "response-{pk}.bin"),
    ],
)
def test_the_file_name_matches_the_content_type(client, django_user_model, content_type, filename):
    user = django_user_model.objects.create_user("ada", password="pw")
    exchange = make_exchange(owner=user, response_content_type=content_type)
    client.force_login(user)
    response = client.get(f"/history/{exchange.pk}/body")
    expected = filename.format(pk=exchange.pk)
    assert response["Content-Disposition"] == f'attachment; filename="{expected}"'
    # Whatever the backend said its content is, the download is never rendered.
    assert response["Content-Type"] == "application/octet-stream"
