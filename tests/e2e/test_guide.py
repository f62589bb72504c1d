import pytest

pytestmark = pytest.mark.django_db(transaction=True)


def test_scratch(page, live_demo_api, live_server):
    page.goto(live_server.url + "/apis/azureml-demo/operations/rrs-execute/")
    print(page.locator("#try-it").inner_html())
    for label in page.locator("label").all():
        print(repr(label.inner_text()))
    print(page.problems.all)
