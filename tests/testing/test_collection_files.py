import json

import pytest
import yaml
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import CommandError

from demo.collection import BATCH_NAME, create_demo_collection
from portal.secrets import decrypt, encrypt
from testing.collection_check import CollectionFileError
from testing.collection_export import collection_document, export_collection
from testing.collection_import import import_collection
from testing.models import Collection, CollectionVariable, SavedRequest

LITERAL_KEY = "literal-key-9f8e7d6c5b4a"


@pytest.fixture
def owner(django_user_model):
    return django_user_model.objects.create_user(username="tess", password="pw-123456789")


@pytest.fixture
def batch(demo_api, owner) -> Collection:
    return create_demo_collection(owner=owner, api=demo_api)


@pytest.fixture
def literal_secret(demo_api, owner) -> Collection:
    """A request saved from the history: the key is stored in the header itself."""
    collection = Collection.objects.create(owner=owner, name="Literal")
    operation = demo_api.operations.get(slug="rrs-execute")
    SavedRequest.objects.create(
        collection=collection,
        name="Score",
        operation=operation,
        operation_label="AzureML Demo API: RRS Execute",
        values={
            "template": {"workspace": "w", "service": "s", "apiversion": "2.0", "details": ""},
            "query": [],
            "headers": [
                ["Authorization", encrypt(f"Bearer {LITERAL_KEY}")],
                # Typed in a form without encryption: still a credential by its name.
                ["X-Api-Key", LITERAL_KEY + "-plain"],
            ],
            "body": None,
        },
        expected_status=200,
    )
    return collection


# --- Export -----------------------------------------------------------------------------


def test_export_of_the_demo_collection_reads_like_the_documented_format(batch) -> None:
    text = export_collection(collection=batch)
    document = yaml.safe_load(text)
    assert list(document) == [
        "portal_collection",
        "name",
        "description",
        "ignored_headers",
        "variables",
        "requests",
    ]
    assert document["portal_collection"] == 1
    assert document["name"] == BATCH_NAME
    assert "Date" in document["ignored_headers"]
    assert document["variables"] == [
        {"name": "api_key", "secret": True},
        {"name": "service", "value": "text-features"},
        {"name": "workspace", "value": "demo-workspace"},
    ]
    submit, start, status, delete = document["requests"]
    assert submit["operation"] == {"api": "azureml-demo", "operation": "bes-submit"}
    assert submit["template"] == {
        "workspace": "{{workspace}}",
        "service": "{{service}}",
        "apiversion": "2.0",
    }
    assert ["Authorization", "Bearer {{api_key}}"] in submit["headers"]
    assert json.loads(submit["body"])["Inputs"]["input1"]["ColumnNames"] == ["Col2"]
    assert submit["expect"] == {"status": 200}
    assert submit["extract"] == ["jobid = json $"]
    assert start["template"]["jobid"] == "{{jobid}}"
    assert status["repeat"] == {
        "until": "json $.StatusCode = Finished",
        "max_tries": 2,
        "delay_seconds": 3.0,
    }
    assert status["expect"]["checks"] == [
        "json $.StatusCode = Finished",
        "json $.Results.output1.value.ColumnNames",
    ]
    assert delete["name"] == "BES Delete"
    # Readable in a diff: block style, a literal block for the body, pairs on one line.
    assert "  body: |\n    {\n" in text
    assert "  operation: {api: azureml-demo, operation: bes-submit}\n" in text
    assert "  - [Authorization, 'Bearer {{api_key}}']\n" in text


def test_export_holds_no_id_timestamp_or_baseline(batch) -> None:
    saved = batch.requests.first()
    saved.baseline_status = 200
    saved.baseline_body = b'"baseline-body-marker"'
    saved.save()
    text = export_collection(collection=batch)
    assert "baseline" not in text
    assert "baseline-body-marker" not in text
    assert str(batch.created_at.year) not in text
    assert not any(key in text for key in ("\nid:", " id:", "created_at", "owner"))


def test_no_secret_value_is_ever_exported(batch, literal_secret) -> None:
    for collection in (batch, literal_secret):
        for format in ("yaml", "json"):
            text = export_collection(collection=collection, format=format)
            assert settings.PORTAL_DEMO_API_KEY not in text
            assert LITERAL_KEY not in text
            assert "enc:" not in text


def test_a_literal_secret_header_becomes_a_secret_variable_named_after_it(literal_secret) -> None:
    document = yaml.safe_load(export_collection(collection=literal_secret))
    assert document["requests"][0]["headers"] == [
        ["Authorization", "{{authorization}}"],
        ["X-Api-Key", "{{x_api_key}}"],
    ]
    assert document["variables"] == [
        {"name": "authorization", "secret": True},
        {"name": "x_api_key", "secret": True},
    ]


def test_a_plain_variable_is_never_turned_secret(literal_secret) -> None:
    CollectionVariable.objects.create(collection=literal_secret, name="authorization", value="x")
    document = yaml.safe_load(export_collection(collection=literal_secret))
    assert document["requests"][0]["headers"][0] == ["Authorization", "{{authorization_2}}"]
    assert {"name": "authorization", "value": "x"} in document["variables"]
    assert {"name": "authorization_2", "secret": True} in document["variables"]


def test_json_export_is_the_same_document(batch) -> None:
    text = export_collection(collection=batch, format="json")
    assert json.loads(text) == json.loads(json.dumps(collection_document(collection=batch)))
    assert text.endswith("}\n")


def test_unknown_format_is_refused(batch) -> None:
    with pytest.raises(ValueError, match="unknown format"):
        export_collection(collection=batch, format="xml")


def test_template_order_does_not_depend_on_the_database(batch) -> None:
    saved = batch.requests.get(name="BES Start")
    # PostgreSQL's jsonb keeps keys in its own order; the export follows the operation's.
    saved.values["template"] = dict(reversed(saved.values["template"].items()))
    saved.save()
    document = yaml.safe_load(export_collection(collection=batch))
    assert list(document["requests"][1]["template"]) == [
        "workspace",
        "service",
        "apiversion",
        "jobid",
    ]


# --- Round trip -------------------------------------------------------------------------


@pytest.mark.parametrize("format", ["yaml", "json"])
def test_export_import_export_gives_the_same_text(batch, owner, format) -> None:
    first = export_collection(collection=batch, format=format)
    copy = import_collection(text=first, owner=owner)
    assert copy.pk != batch.pk
    second = export_collection(collection=copy, format=format)
    assert second == first.replace(f"{BATCH_NAME}", f"{BATCH_NAME} (2)", 1)


def test_round_trip_with_literal_secrets(literal_secret, owner) -> None:
    first = export_collection(collection=literal_secret)
    copy = import_collection(text=first, owner=owner, name="Literal")
    assert copy.name == "Literal (2)"
    assert export_collection(collection=copy) == first.replace("Literal", "Literal (2)", 1)


def test_import_keeps_what_the_replay_needs(batch, owner) -> None:
    copy = import_collection(text=export_collection(collection=batch), owner=owner, name="Copy")
    assert copy.name == "Copy"
    original = list(batch.requests.all())
    imported = list(copy.requests.all())
    assert [r.name for r in imported] == [r.name for r in original]
    for mine, theirs in zip(imported, original, strict=True):
        assert mine.operation_id == theirs.operation_id
        assert mine.values == theirs.values
        assert mine.checks == theirs.checks
        assert mine.extract == theirs.extract
        assert mine.repeat_until == theirs.repeat_until
        assert mine.repeat_max_tries == theirs.repeat_max_tries
        assert mine.expected_status == theirs.expected_status
        assert mine.baseline_status is None
    assert copy.ignored_headers == batch.ignored_headers
    api_key = copy.variables.get(name="api_key")
    # The user fills the secret in before running the copy.
    assert api_key.secret and api_key.value == ""


# --- Import -----------------------------------------------------------------------------

GOOD = """\
portal_collection: 1
name: Hand written
variables:
- name: key
  value: s3cret-value-123
  secret: true
- name: workspace
  value: w1
requests:
- name: Score
  operation: {api: azureml-demo, operation: rrs-execute}
  template: {workspace: '{{workspace}}', service: s, apiversion: '2.0', details: 'true'}
  headers:
  - [Authorization, 'Bearer {{key}}']
  - [Api-Key, 'literal-value-42']
  body: '{}'
  expect:
    status: 200
    checks:
    - header Content-Type = application/json
    - json $.Results
    - duration < 500
"""


def test_a_hand_written_file_imports(demo_api, owner) -> None:
    collection = import_collection(text=GOOD, owner=owner)
    key = collection.variables.get(name="key")
    assert key.secret and key.value.startswith("enc:") and decrypt(key.value) == "s3cret-value-123"
    saved = collection.requests.get()
    assert saved.operation is not None
    assert saved.operation.slug == "rrs-execute"
    assert saved.operation_label == "AzureML Demo API: RRS Execute"
    authorization, api_key = saved.values["headers"]
    # A reference to variables hides nothing; a literal credential is kept encrypted.
    assert authorization == ["Authorization", "Bearer {{key}}"]
    assert api_key[1].startswith("enc:") and decrypt(api_key[1]) == "literal-value-42"
    assert [check["kind"] for check in saved.checks] == [
        "header_equals",
        "json_present",
        "duration_under",
    ]
    assert saved.expected_status == 200
    assert saved.repeat_until is None and saved.repeat_max_tries == 1


def test_json_imports_too(demo_api, owner) -> None:
    text = json.dumps(yaml.safe_load(GOOD))
    assert import_collection(text=text, owner=owner).requests.count() == 1


def test_json_indented_with_tabs_imports(demo_api, owner) -> None:
    # YAML refuses tabs for indentation; JSON does not.
    text = json.dumps(yaml.safe_load(GOOD), indent="\t")
    assert import_collection(text=text, owner=owner).requests.count() == 1
    with pytest.raises(CollectionFileError, match=r"line 1, column 3: not valid JSON \(Expecting"):
        import_collection(text="{\t,}", owner=owner)


def test_a_huge_file_is_refused_before_parsing(db, owner) -> None:
    with pytest.raises(CollectionFileError, match="larger than 10 MB"):
        import_collection(text="#" * 10_000_001, owner=owner)


def test_an_import_never_replaces_a_collection(demo_api, owner) -> None:
    first = import_collection(text=GOOD, owner=owner)
    second = import_collection(text=GOOD, owner=owner)
    third = import_collection(text=GOOD, owner=owner)
    assert [first.name, second.name, third.name] == [
        "Hand written",
        "Hand written (2)",
        "Hand written (3)",
    ]


def test_another_owner_keeps_the_name(demo_api, owner, django_user_model) -> None:
    import_collection(text=GOOD, owner=owner)
    other = django_user_model.objects.create_user(username="other")
    assert import_collection(text=GOOD, owner=other).name == "Hand written"


BAD = """\
portal_collection: 1
name: Broken
colour: blue
variables:
- name: workspace
  value: w1
- name: api_key
  secret: "yes"
- name: workspace
  value: w2
- name: 'bad name'
requests:
- name: Score
  operation: {api: azureml-demo, operation: rrs-execute}
  template: {workspace: '{{workspace}}', service: 2, nope: x}
  headers:
  - [Host, example.com]
  - [Authorization]
  expect:
    status: 99
    checks: ['json $.a = 1', 'jsonn $.b', 'status abc']
  extract: ['jobid = xml $']
  repeat: {until: 'json $.StatusCode = Finished', max_tries: 0, delay_seconds: 'soon'}
- name: Status
  operation: {api: azureml-demo, operation: bes-stat}
  template: {jobid: '{{jobi}}'}
- name: Elsewhere
  operation: {api: nowhere, operation: x}
- operation: null
  body: 12
"""


def test_every_problem_is_reported_with_its_place_and_nothing_is_written(demo_api, owner):
    with pytest.raises(CollectionFileError) as caught:
        import_collection(text=BAD, owner=owner)
    problems = caught.value.problems
    expected = [
        "colour: unknown field",
        'variables[1].secret: expected true or false, got "yes"',
        'variables[2].name: "workspace" is already defined in variables[0]',
        'variables[3].name: "bad name" cannot be written as {{bad name}}',
        "requests[0].template.service: expected a string, got 2 (put it in quotes)",
        'requests[0].template.nope: operation "rrs-execute" has no URL template parameter',
        'requests[0].template: missing "apiversion", "details" of the URL template '
        "/workspaces/{workspace}/services/{service}/execute?api-version={apiversion}"
        "&details={details} (write '' to leave an optional query value empty)",
        "requests[0].headers[0]: the portal sets Host itself; it cannot be sent",
        "requests[0].headers[1]: expected a [name, value] pair, got a list",
        "requests[0].expect.status: expected a whole number from 100 to 599, got 99",
        "requests[0].expect.checks[1]: unknown check 'jsonn'; start the line with status, "
        "header, json, body contains, duration < or schema",
        "requests[0].expect.checks[2]: status needs a code from 100 to 599, such as "
        "'status 200', not 'abc'",
        "requests[0].extract[0]: after 'jobid =' write 'json $.path' or 'header Name'",
        "requests[0].repeat.max_tries: expected a whole number from 1 to 100, got 0",
        'requests[0].repeat.delay_seconds: expected a number from 0 to 60, got "soon"',
        'requests[1].operation: no operation "bes-stat" in API "azureml-demo"',
        'requests[2].operation: no API "nowhere" in the portal',
        "requests[3].name: missing",
        "requests[3].operation: missing; write it as "
        "{api: <API slug>, operation: <operation slug>}",
        "requests[3].body: expected a string, got 12 (put it in quotes)",
        'requests[1].template.jobid: unknown variable "jobi": define it under variables '
        "or extract it from a request",
    ]
    for problem in expected:
        assert problem in problems
    assert len(problems) == len(expected), problems
    assert not Collection.objects.exists()
    assert not SavedRequest.objects.exists()


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("name: x\nrequests: []\n", "portal_collection: missing"),
        ("portal_collection: 2\nname: x\n", "portal_collection: expected 1, got 2"),
        ("- a\n- b\n", "the file: expected a mapping"),
        ("portal_collection: 1\nname: [unclosed\n", "line 3, column 1: not valid YAML"),
        ("portal_collection: 1\nname: ''\n", "name: must not be empty"),
        ("portal_collection: 1\nname: x\nrequests: {}\n", "requests: expected a list"),
        ("portal_collection: 1\nname: x\nignored_headers: [Date, 'a b']\n", "ignored_headers[1]"),
    ],
)
def test_file_level_problems(db, owner, text, problem) -> None:
    with pytest.raises(CollectionFileError) as caught:
        import_collection(text=text, owner=owner)
    assert any(p.startswith(problem) for p in caught.value.problems), caught.value.problems


def test_an_empty_field_means_none(demo_api, owner) -> None:
    text = (
        "portal_collection: 1\nname: Sparse\nvariables:\nrequests:\n"
        "- name: Score\n  operation: {api: azureml-demo, operation: rrs-execute}\n"
        "  template: {workspace: w, service: s, apiversion: '2.0', details: ''}\n"
        "  query:\n  headers:\n  extract:\n  expect:\n"
    )
    saved = import_collection(text=text, owner=owner).requests.get()
    assert saved.values["query"] == saved.values["headers"] == []
    assert saved.values["body"] is None
    assert saved.checks == saved.extract == []


def test_a_collection_of_a_deleted_operation_exports_but_does_not_import(batch, owner) -> None:
    batch.requests.filter(name="BES Delete").update(operation=None)
    text = export_collection(collection=batch)
    document = yaml.safe_load(text)
    assert document["requests"][3]["operation"] is None
    assert document["requests"][3]["operation_label"] == "AzureML Demo API: BES Delete"
    with pytest.raises(CollectionFileError, match=r"requests\[3\]\.operation: missing"):
        import_collection(text=text, owner=owner)


# --- Management commands ----------------------------------------------------------------


def test_export_and_import_commands(batch, owner, tmp_path, capsys) -> None:
    path = tmp_path / "batch.yaml"
    call_command("export_collection", BATCH_NAME, "--output", str(path))
    assert path.read_text() == export_collection(collection=batch)
    call_command("export_collection", str(batch.pk), "--format", "json")
    assert json.loads(capsys.readouterr().out)["name"] == BATCH_NAME
    call_command("import_collection", str(path), "--owner", "tess")
    out = capsys.readouterr().out
    assert f'Imported "{BATCH_NAME} (2)"' in out
    assert "1 secret variable has no value" in out
    assert Collection.objects.filter(owner=owner, name=f"{BATCH_NAME} (2)").exists()


def test_command_errors_are_plain(batch, tmp_path) -> None:
    with pytest.raises(CommandError, match='No collection with the id or name "nope"'):
        call_command("export_collection", "nope")
    path = tmp_path / "bad.yaml"
    path.write_text(BAD)
    with pytest.raises(CommandError, match="nothing imported, 21 problems") as caught:
        call_command("import_collection", str(path), "--owner", "tess")
    assert 'requests[1].operation: no operation "bes-stat"' in str(caught.value)
    with pytest.raises(CommandError, match='No user "ghost"'):
        call_command("import_collection", str(path), "--owner", "ghost")
    with pytest.raises(CommandError, match="Cannot read"):
        call_command("import_collection", str(tmp_path / "missing.yaml"), "--owner", "tess")


def test_an_ambiguous_name_asks_for_an_id(batch, demo_api, django_user_model) -> None:
    other = django_user_model.objects.create_user(username="other")
    create_demo_collection(owner=other, api=demo_api)
    with pytest.raises(CommandError, match=f'2 collections are named "{BATCH_NAME}"'):
        call_command("export_collection", BATCH_NAME)
