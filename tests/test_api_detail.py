import pytest

pytestmark = pytest.mark.django_db


def test_api_page_groups_operations_by_tag(client, demo_api):
    response = client.get("/apis/azureml-demo/")
    assert response.status_code == 200
    groups = [(g.tag, [op.name for op in g.operations]) for g in response.context["groups"]]
    assert groups == [
        ("Request-Response", ["RRS Execute"]),
        ("Batch Execution", ["BES Submit", "BES Start", "BES Status", "BES Delete"]),
    ]
    assert b'href="/apis/azureml-demo/operations/rrs-execute/"' in response.content


def test_description_markdown_is_rendered_and_sanitised(client, demo_api):
    demo_api.description = "**bold** <script>alert(1)</script> <img src=x onerror=alert(1)>"
    demo_api.save()
    content = client.get("/apis/azureml-demo/").content.decode()
    assert "<strong>bold</strong>" in content
    assert "<script>alert(1)</script>" not in content
    assert "onerror" not in content


def test_unknown_or_unpublished_api_is_404(client, demo_api):
    assert client.get("/apis/nope/").status_code == 404
    demo_api.published = False
    demo_api.save()
    assert client.get("/apis/azureml-demo/").status_code == 404
