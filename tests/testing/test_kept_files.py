"""The files a Try it call sent, kept: Save copies them to the saved request, Try again,
replays, collection runs and `manage.py replay` send them again, the saved request's
pages list them, and only who may see the call or the saved request gets their bytes.

The attacks: another user, an anonymous visitor, staff and a group reader guessing the
download URLs of the owner's files, through their own saved request's id too; a group
runner replaying the owner's request and looking for a copy in their own history."""

from __future__ import annotations

import base64
import json
import re
from io import StringIO

import pytest
from bs4 import BeautifulSoup
from django.contrib.auth.models import Group, User
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.test import Client

from catalog.models import Operation
from console.models import Exchange, KeptFile, KeptFileChunk
from openapi.sync import import_openapi
from testing import replay
from testing.actions import save_exchange
from testing.collection_check import CollectionFileError
from testing.collection_export import export_collection
from testing.collection_import import import_collection
from testing.models import Collection, CollectionShare, SavedRequest, ShareAccess
from tests.backends import RecordedRequest, scripted_server
from tests.console.test_sent_as_documented import DOCUMENT
from tests.factories import make_user
from tests.markup import attr, one

pytestmark = pytest.mark.django_db

PHOTO = bytes(range(256)) * 48  # 12 KB, NULs included


@pytest.fixture(autouse=True)
def runs_within_the_post(settings):
    settings.PORTAL_RUNS_IN_BACKGROUND = False
    settings.PORTAL_OUTBOUND_ALLOWED_PORTS = ["*"]


@pytest.fixture
def backend():
    with scripted_server() as server:
        api = import_openapi(document=DOCUMENT, api_slug="shapes", service_url=server.url).api
        yield server, Operation.objects.get(api=api, operation_id="upload")


def _try_url(operation: Operation) -> str:
    return f"/apis/{operation.api.slug}/operations/{operation.slug}/try"


def _signed_in(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _upload(client: Client, operation: Operation, **extra) -> Exchange:
    photo = SimpleUploadedFile("C:\\pics\\photo.png", PHOTO, content_type="image/png")
    client.post(_try_url(operation), {"part-file": photo, "part-title": "Holiday", **extra})
    return Exchange.objects.order_by("-id").first()  # type: ignore[return-value]


def _file_part(request: RecordedRequest) -> bytes:
    boundary = (request.header("Content-Type") or "").split("boundary=")[1].encode()
    for part in request.body.split(b"--" + boundary):
        if b'name="file"' in part:
            return part.split(b"\r\n\r\n", 1)[1].removesuffix(b"\r\n")
    raise AssertionError("no file part")


def _saved_for(owner: User, operation: Operation) -> SavedRequest:
    exchange = _upload(_signed_in(owner), operation)
    return save_exchange(exchange=exchange, user=owner, name="Photo", collection=None)


def test_a_call_keeps_its_file_and_save_copies_it(backend) -> None:
    _, operation = backend
    owner = make_user("owner")
    exchange = _upload(_signed_in(owner), operation)
    (kept,) = exchange.files.all()
    assert (kept.field, kept.name, kept.content_type, kept.size) == (
        "part-file",
        "photo.png",
        "image/png",
        len(PHOTO),
    )
    data = b"".join(bytes(c.data) for c in kept.chunks.order_by("index"))
    assert data == PHOTO
    assert exchange.values["parts"] == [["title", "Holiday"]]
    saved = save_exchange(exchange=exchange, user=owner, name="Photo", collection=None)
    (copy,) = saved.files.all()
    assert copy.pk != kept.pk and (copy.name, copy.size) == ("photo.png", len(PHOTO))
    # Each goes with its owner.
    exchange.delete()
    assert list(KeptFile.objects.all()) == [copy]
    saved.delete()
    assert KeptFile.objects.count() == 0 and KeptFileChunk.objects.count() == 0


def test_replay_run_and_the_command_send_the_same_bytes(backend) -> None:
    server, operation = backend
    owner = make_user("owner")
    saved = _saved_for(owner, operation)
    _signed_in(owner).post(f"/saved/{saved.pk}/replay")
    replay.run_collection(collection=saved.collection, user=owner)
    out = StringIO()
    call_command("replay", str(saved.collection.pk), stdout=out, no_color=True)
    sent, *replays = server.requests
    assert len(replays) == 3
    for request in replays:
        assert _file_part(request) == PHOTO == _file_part(sent)
        assert b'filename="photo.png"' in request.body
        assert b'name="title"\r\n\r\nHoliday\r\n' in request.body
        assert request.header("Content-Length") == str(len(request.body))
    # The owner's replays keep the file too, for their own Try again.
    latest = Exchange.objects.order_by("-id").first()
    assert latest is not None and [f.name for f in latest.files.all()] == ["photo.png"]


def test_the_saved_pages_list_each_file_and_edit_replaces_or_removes_it(backend) -> None:
    server, operation = backend
    owner = make_user("owner")
    saved = _saved_for(owner, operation)
    client = _signed_in(owner)
    page = BeautifulSoup(client.get(f"/saved/{saved.pk}/").content, "html.parser")
    row = one(page, "[data-kept-file=part-file]")
    assert [td.get_text(strip=True) for td in row.select("td")] == [
        "part-file",
        "photo.png",
        "12 KB",
        "image/png",
    ]
    (kept,) = saved.files.all()
    assert attr(one(row, "a"), "href") == f"/saved/{saved.pk}/files/{kept.pk}"
    edit = BeautifulSoup(client.get(f"/saved/{saved.pk}/edit").content, "html.parser")
    form = one(edit, f"form[action='/saved/{saved.pk}/files/{kept.pk}/replace']")
    assert attr(form, "enctype") == "multipart/form-data"
    other = SimpleUploadedFile("scan.pdf", b"%PDF-1.7 new", content_type="application/pdf")
    response = client.post(f"/saved/{saved.pk}/files/{kept.pk}/replace", {"file": other})
    assert response.status_code == 302
    kept.refresh_from_db()
    assert (kept.name, kept.size, kept.content_type) == ("scan.pdf", 12, "application/pdf")
    replay.run_saved_request(saved=saved, user=owner)
    assert _file_part(server.requests[-1]) == b"%PDF-1.7 new"
    client.post(f"/saved/{saved.pk}/files/{kept.pk}/remove")
    assert saved.files.count() == 0
    _, outcome = replay.run_saved_request(saved=saved, user=owner)
    assert outcome.error == "file: no file is kept for this part; attach one on the edit page."
    assert len(server.requests) == 2


def test_a_replacement_over_the_cap_is_refused_while_received(backend, settings) -> None:
    _, operation = backend
    owner = make_user("owner")
    saved = _saved_for(owner, operation)
    (kept,) = saved.files.all()
    settings.PORTAL_OUTBOUND_MAX_REQUEST_BODY_BYTES = 100 * 1024
    big = SimpleUploadedFile("big.bin", b"x" * (500 * 1024))
    page = (
        _signed_in(owner)
        .post(f"/saved/{saved.pk}/files/{kept.pk}/replace", {"file": big})
        .content.decode()
    )
    assert "The file is larger than the limit of 102400 bytes." in page
    kept.refresh_from_db()
    assert (kept.name, kept.size) == ("photo.png", len(PHOTO))


def test_try_again_reuses_the_file_unless_another_is_picked(backend) -> None:
    server, operation = backend
    owner = make_user("owner")
    client = _signed_in(owner)
    exchange = _upload(client, operation)
    page = client.get(f"{operation.get_absolute_url()}?from={exchange.pk}").content
    soup = BeautifulSoup(page, "html.parser")
    notice = one(soup, "[data-reused-file=part-file]")
    assert notice.get_text(" ", strip=True).startswith("Reusing photo.png (12 KB) from this call")
    assert attr(one(soup, "input[name=reuse_files]"), "value") == str(exchange.pk)
    client.post(_try_url(operation), {"reuse_files": str(exchange.pk), "part-title": "Again"})
    assert _file_part(server.requests[-1]) == PHOTO
    assert b'filename="photo.png"' in server.requests[-1].body
    other = SimpleUploadedFile("other.txt", b"other bytes")
    client.post(
        _try_url(operation),
        {"reuse_files": str(exchange.pk), "part-file": other, "part-title": "New"},
    )
    assert _file_part(server.requests[-1]) == b"other bytes"


def test_try_again_cannot_reuse_another_users_file(backend) -> None:
    server, operation = backend
    exchange = _upload(_signed_in(make_user("owner")), operation)
    intruder = _signed_in(make_user("intruder"))
    page = intruder.post(
        _try_url(operation), {"reuse_files": str(exchange.pk), "part-title": "x"}
    ).content.decode()
    assert "This field is required." in page
    assert len(server.requests) == 1


def _shared(owner: User) -> dict[str, User]:
    readers, runners = Group.objects.create(name="readers"), Group.objects.create(name="runners")
    users = {
        "reader": make_user("reader"),
        "runner": make_user("runner"),
        "other": make_user("other"),
        "staff": make_user("staff", staff=True),
    }
    users["reader"].groups.add(readers)
    users["runner"].groups.add(runners)
    collection = Collection.objects.get(owner=owner)
    CollectionShare.objects.create(collection=collection, group=readers, access=ShareAccess.READ)
    CollectionShare.objects.create(collection=collection, group=runners, access=ShareAccess.RUN)
    return users


def test_who_may_download_an_exchanges_file(backend) -> None:
    _, operation = backend
    owner = make_user("owner")
    exchange = _upload(_signed_in(owner), operation)
    (kept,) = exchange.files.all()
    url = f"/history/{exchange.pk}/files/{kept.pk}"
    detail = BeautifulSoup(_signed_in(owner).get(f"/history/{exchange.pk}/").content, "html.parser")
    link = one(detail, "[data-exchange-files] a")
    assert (attr(link, "href"), link.get_text()) == (url, "photo.png")
    response = _signed_in(owner).get(url)
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == PHOTO  # type: ignore[attr-defined]
    assert response["Content-Disposition"] == 'attachment; filename="photo.png"'
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Content-Type"] == "application/octet-stream"
    for name in ("other", "staff"):
        assert _signed_in(make_user(name, staff=name == "staff")).get(url).status_code == 404
    assert Client().get(url).status_code == 404
    # The intruder's own call with the owner's file id.
    own = _upload(_signed_in(User.objects.get(username="other")), operation)
    assert (
        _signed_in(User.objects.get(username="other"))
        .get(f"/history/{own.pk}/files/{kept.pk}")
        .status_code
        == 404
    )


def test_an_anonymous_callers_file_is_theirs_by_session(backend) -> None:
    _, operation = backend
    visitor = Client()
    exchange = _upload(visitor, operation)
    (kept,) = exchange.files.all()
    url = f"/history/{exchange.pk}/files/{kept.pk}"
    assert visitor.get(url).status_code == 200
    assert Client().get(url).status_code == 404
    assert _signed_in(make_user("staff", staff=True)).get(url).status_code == 404


def test_who_may_download_a_saved_requests_file(backend) -> None:
    _, operation = backend
    owner = make_user("owner")
    saved = _saved_for(owner, operation)
    users = _shared(owner)
    (kept,) = saved.files.all()
    url = f"/saved/{saved.pk}/files/{kept.pk}"
    for name, user in [("owner", owner), ("reader", users["reader"]), ("runner", users["runner"])]:
        response = _signed_in(user).get(url)
        assert response.status_code == 200, name
        assert b"".join(response.streaming_content) == PHOTO  # type: ignore[attr-defined]
    for name in ("other", "staff"):
        assert _signed_in(users[name]).get(url).status_code == 404, name
    anonymous = Client().get(url)
    assert anonymous.status_code == 302 and anonymous["Location"].startswith("/accounts/login/")
    # The other user's own saved request, with the owner's file id.
    mine = _saved_for(users["other"], operation)
    assert _signed_in(users["other"]).get(f"/saved/{mine.pk}/files/{kept.pk}").status_code == 404
    # Only the owner replaces or removes.
    for name in ("reader", "runner", "other", "staff"):
        client = _signed_in(users[name])
        assert client.post(f"/saved/{saved.pk}/files/{kept.pk}/remove").status_code == 404
        replacement = SimpleUploadedFile("x.bin", b"x")
        response = client.post(f"/saved/{saved.pk}/files/{kept.pk}/replace", {"file": replacement})
        assert response.status_code == 404
    assert saved.files.get().size == len(PHOTO)


def test_a_runner_sends_the_file_but_their_history_keeps_no_copy(backend) -> None:
    server, operation = backend
    owner = make_user("owner")
    saved = _saved_for(owner, operation)
    runner = _shared(owner)["runner"]
    client = _signed_in(runner)
    client.post(f"/saved/{saved.pk}/replay")
    assert _file_part(server.requests[-1]) == PHOTO
    exchange = Exchange.objects.get(owner=runner)
    assert exchange.files.count() == 0
    assert exchange.values["body"] == f"file: file photo.png ({len(PHOTO)} bytes)\ntitle: Holiday"
    page = client.get(f"{operation.get_absolute_url()}?from={exchange.pk}").content.decode()
    assert "Reusing" not in page
    assert not re.search(r"data-reused-file", page)


def test_collection_files_carry_the_files_in_base64_and_import_them(backend) -> None:
    server, operation = backend
    owner = make_user("owner")
    saved = _saved_for(owner, operation)
    text = export_collection(collection=saved.collection, format="json")
    document = json.loads(text)
    (request,) = document["requests"]
    assert request["parts"] == [["title", "Holiday"]]
    assert request["content_type"] == "multipart/form-data"
    assert request["files"] == [
        {
            "field": "part-file",
            "name": "photo.png",
            "content_type": "image/png",
            "base64": base64.b64encode(PHOTO).decode(),
        }
    ]
    other = make_user("other")
    imported = import_collection(text=text, owner=other)
    copy = imported.requests.get()
    (kept,) = copy.files.all()
    assert (kept.field, kept.name, kept.size) == ("part-file", "photo.png", len(PHOTO))
    replay.run_saved_request(saved=copy, user=other)
    assert _file_part(server.requests[-1]) == PHOTO
    assert b'name="title"\r\n\r\nHoliday\r\n' in server.requests[-1].body


def test_an_imported_file_over_the_cap_or_not_base64_imports_nothing(backend, settings) -> None:
    _, operation = backend
    owner = make_user("owner")
    saved = _saved_for(owner, operation)
    document = json.loads(export_collection(collection=saved.collection, format="json"))
    settings.PORTAL_OUTBOUND_MAX_REQUEST_BODY_BYTES = 1000
    document["requests"].append(dict(document["requests"][0], name="Broken"))
    document["requests"][1]["files"] = [
        {"field": "part-file", "name": "x.bin", "base64": "not base64!"}
    ]
    with pytest.raises(CollectionFileError) as caught:
        import_collection(text=json.dumps(document), owner=owner, name="Copy")
    assert caught.value.problems == [
        "requests[0].files[0]: the file is larger than the limit of 1000 bytes",
        "requests[1].files[0].base64: not base64",
    ]
    assert not Collection.objects.filter(name="Copy").exists()
