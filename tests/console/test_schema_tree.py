from console import schema_tree
from console.schema_tree import build_tree

DEFINITIONS = {
    "openapi": "3.0.3",
    "components": {
        "schemas": {
            "Node": {
                "type": "object",
                "title": "A node",
                "required": ["id"],
                "properties": {
                    "id": {"type": "integer", "format": "int64", "minimum": 1, "maximum": 99},
                    "children": {"type": "array", "items": {"$ref": "#/components/schemas/Node"}},
                },
            },
            "Cat": {"type": "object", "properties": {"meow": {"type": "boolean"}}},
            "Dog": {"type": "object", "properties": {"bark": {"type": "boolean"}}},
        }
    },
}


def tree(schema: dict):
    return build_tree(schema=schema, definitions=DEFINITIONS, prefix="t")


def test_a_property_has_its_name_type_format_required_marker_and_constraints():
    root = tree(
        {
            "type": "object",
            "required": ["name"],
            "properties": {
                "name": {"type": "string", "minLength": 2, "maxLength": 10, "pattern": "^[a-z]+$"},
                "when": {"type": "string", "format": "date-time"},
                "tags": {
                    "type": "array",
                    "items": {"type": "string"},
                    "minItems": 1,
                    "maxItems": 3,
                    "uniqueItems": True,
                },
            },
        }
    )
    name, when, tags = root.children
    assert (name.name, name.type_label, name.required) == ("name", "string", True)
    assert name.constraints == ["min length 2", "max length 10", 'pattern "^[a-z]+$"']
    assert (when.type_label, when.required) == ("string (date-time)", False)
    assert tags.type_label == "array of string"
    assert tags.constraints == ["min items 1", "max items 3", "unique items"]
    assert tags.items is not None and tags.items.type_label == "string"


def test_enum_default_description_nullable_read_and_write_only():
    root = tree(
        {
            "type": "object",
            "properties": {
                "state": {
                    "type": "string",
                    "enum": ["on", "off"],
                    "default": "on",
                    "description": "The **state**.",
                },
                "note": {"type": "string", "nullable": True, "readOnly": True},
                "secret": {"type": "string", "writeOnly": True, "deprecated": True},
            },
        }
    )
    state, note, secret = root.children
    assert state.enum == ['"on"', '"off"']
    assert state.default == '"on"'
    assert state.description == "The **state**."
    assert (note.nullable, note.read_only, note.write_only) == (True, True, False)
    assert (secret.write_only, secret.deprecated) == (True, True)


def test_3_1_type_lists_show_null_as_nullable():
    node = tree({"type": ["string", "null"]})
    assert (node.type_label, node.nullable) == ("string", True)


def test_a_ref_shows_its_name_and_expands_its_definition():
    root = tree({"type": "object", "properties": {"root": {"$ref": "#/components/schemas/Node"}}})
    node = root.children[0]
    assert (node.name, node.ref_name, node.type_label) == ("root", "Node", "object")
    assert node.anchor == "t-1-Node"
    assert [child.name for child in node.children] == ["id", "children"]
    assert node.children[0].constraints == ["minimum 1", "maximum 99"]
    assert node.children[0].type_label == "integer (int64)"


def test_a_recursive_schema_is_expanded_once_and_links_to_where_it_was():
    node = tree({"$ref": "#/components/schemas/Node"})
    children = node.children[1]
    assert children.type_label == "array of Node"
    again = children.items
    assert again is not None
    assert (again.recursion_to, again.ref_name, again.title) == ("t-1-Node", "Node", "Node")
    assert (again.type_label, again.children, again.anchor) == ("", [], "")


def test_choices_are_labelled_and_their_branches_titled():
    node = tree(
        {
            "oneOf": [{"$ref": "#/components/schemas/Cat"}, {"$ref": "#/components/schemas/Dog"}],
            "anyOf": [{"type": "string", "title": "Text"}, {"type": "integer"}],
            "allOf": [{"$ref": "#/components/schemas/Cat"}],
        }
    )
    assert node.type_label == ""
    assert [choice.label for choice in node.choices] == ["one of", "any of", "all of"]
    assert [branch.title for branch in node.choices[0].branches] == ["Cat", "Dog"]
    assert [branch.title for branch in node.choices[1].branches] == ["Text", "Option 2"]
    assert node.choices[0].branches[0].children[0].name == "meow"


def test_an_unresolvable_ref_says_so():
    node = tree({"$ref": "#/components/schemas/Missing"})
    assert (node.ref_name, node.type_label, node.children) == (
        "Missing",
        "unresolved reference",
        [],
    )


def test_depth_is_capped():
    schema: dict = {"type": "string"}
    for level in range(schema_tree.MAX_DEPTH + 3):
        schema = {"type": "object", "properties": {f"level{level}": schema}}
    node = tree(schema)
    depth = 0
    while node.children:
        node, depth = node.children[0], depth + 1
    assert depth == schema_tree.MAX_DEPTH
    assert node.cut == "Deeper levels are not shown."


def test_the_number_of_nodes_is_capped_with_a_count_of_those_left_out():
    many = {f"p{number}": {"type": "string"} for number in range(schema_tree.MAX_NODES + 50)}
    node = tree({"type": "object", "properties": many})
    assert len(node.children) == schema_tree.MAX_NODES - 1
    assert node.cut == "51 more properties are not shown."
