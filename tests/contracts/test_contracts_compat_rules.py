"""Confluent's other difference kinds: strings, numbers, arrays, combinations, refs, models."""

from __future__ import annotations

from typing import Any

import pytest

from eventbus import check_compatibility
from eventbus._contracts.diff import diff


def kinds(old: Any, new: Any) -> list[tuple[str, str]]:
    return [(d.kind.value, d.pointer) for d in diff(old, new)]


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        (
            {"type": "string", "maxLength": 5},
            {"type": "string", "maxLength": 9},
            ("MAX_LENGTH_INCREASED", "/maxLength"),
        ),
        (
            {"type": "string", "maxLength": 5},
            {"type": "string"},
            ("MAX_LENGTH_REMOVED", "/maxLength"),
        ),
        (
            {"type": "string"},
            {"type": "string", "minLength": 1},
            ("MIN_LENGTH_ADDED", "/minLength"),
        ),
        (
            {"type": "string", "pattern": "^a"},
            {"type": "string", "pattern": "^b"},
            ("PATTERN_CHANGED", "/pattern"),
        ),
        (
            {"type": "number", "maximum": 5},
            {"type": "number", "maximum": 4},
            ("MAXIMUM_DECREASED", "/maximum"),
        ),
        (
            {"type": "number", "minimum": 5},
            {"type": "number", "minimum": 4},
            ("MINIMUM_DECREASED", "/minimum"),
        ),
        (
            {"type": "number", "exclusiveMaximum": 5},
            {"type": "number", "exclusiveMaximum": 4},
            ("EXCLUSIVE_MAXIMUM_DECREASED", "/exclusiveMaximum"),
        ),
        (
            {"type": "number", "multipleOf": 0.5},
            {"type": "number", "multipleOf": 1.5},
            ("MULTIPLE_OF_EXPANDED", "/multipleOf"),
        ),
        (
            {"type": "number", "multipleOf": 1.5},
            {"type": "number", "multipleOf": 0.5},
            ("MULTIPLE_OF_REDUCED", "/multipleOf"),
        ),
        (
            {"type": "number", "multipleOf": 0.2},
            {"type": "number", "multipleOf": 0.3},
            ("MULTIPLE_OF_CHANGED", "/multipleOf"),
        ),
        ({"type": "string"}, {"type": "integer"}, ("TYPE_CHANGED", "/type")),
        ({"type": "string"}, {"type": ["string", "null"]}, ("SUM_TYPE_EXTENDED", "/type")),
        ({"type": ["string", "null"]}, {"type": "string"}, ("SUM_TYPE_NARROWED", "/type")),
        (
            {"type": "string"},
            {"anyOf": [{"type": "string"}, {"type": "null"}]},
            ("SUM_TYPE_EXTENDED", "/anyOf"),
        ),
        (
            {"anyOf": [{"type": "string"}]},
            {"anyOf": [{"type": "string"}, {"type": "null"}]},
            ("SUM_TYPE_EXTENDED", "/anyOf"),
        ),
        (
            {"oneOf": [{"type": "string"}, {"type": "null"}]},
            {"anyOf": [{"type": "string"}, {"type": "null"}]},
            ("COMBINED_TYPE_EXTENDED", "/anyOf"),
        ),
        (
            {"anyOf": [{"type": "string"}, {"type": "null"}]},
            {"oneOf": [{"type": "string"}, {"type": "null"}]},
            ("COMBINED_TYPE_CHANGED", "/oneOf"),
        ),
        (
            {"allOf": [{"type": "string"}, {"maxLength": 3}]},
            {"allOf": [{"type": "string"}]},
            ("PRODUCT_TYPE_NARROWED", "/allOf"),
        ),
        (
            {"anyOf": [{"type": "string"}, {"type": "integer"}]},
            {"anyOf": [{"type": "boolean"}, {"type": "null"}]},
            ("COMBINED_TYPE_SUBSCHEMAS_CHANGED", "/anyOf"),
        ),
        (
            {"not": {"type": "string"}},
            {"not": {"type": ["string", "null"]}},
            ("NOT_TYPE_EXTENDED", "/not"),
        ),
        (
            {"not": {"type": ["string", "null"]}},
            {"not": {"type": "string"}},
            ("NOT_TYPE_NARROWED", "/not"),
        ),
        (
            {"type": "array", "items": {"type": "integer"}},
            {"type": "array", "items": {"type": "number"}},
            ("TYPE_EXTENDED", "/items/type"),
        ),
        (
            {"type": "array"},
            {"type": "array", "items": {"type": "integer"}},
            ("SCHEMA_ADDED", "/items"),
        ),
        (
            {"type": "array", "maxItems": 3},
            {"type": "array", "maxItems": 2},
            ("MAX_ITEMS_DECREASED", "/maxItems"),
        ),
        (
            {"type": "array"},
            {"type": "array", "uniqueItems": True},
            ("UNIQUE_ITEMS_ADDED", "/uniqueItems"),
        ),
        (
            {"prefixItems": [{"type": "string"}], "items": False},
            {"prefixItems": [{"type": "string"}, {"type": "integer"}], "items": False},
            ("ITEM_ADDED_TO_CLOSED_CONTENT_MODEL", "/prefixItems/1"),
        ),
        (
            {"prefixItems": [{"type": "string"}]},
            {"prefixItems": [{"type": "string"}, {"type": "integer"}]},
            ("ITEM_ADDED_TO_OPEN_CONTENT_MODEL", "/prefixItems/1"),
        ),
        (
            {"items": [{"type": "string"}], "additionalItems": False},
            {"items": [{"type": "string"}]},
            ("ADDITIONAL_ITEMS_ADDED", "/additionalItems"),
        ),
        (
            {"type": "object", "additionalProperties": True},
            {"type": "object", "additionalProperties": {"type": "string"}},
            ("ADDITIONAL_PROPERTIES_NARROWED", "/additionalProperties"),
        ),
        (
            {"type": "object", "additionalProperties": {"type": "integer"}},
            {"type": "object", "additionalProperties": {"type": "number"}},
            ("TYPE_EXTENDED", "/additionalProperties/type"),
        ),
        (
            {"type": "object", "unevaluatedProperties": False},
            {"type": "object"},
            ("UNEVALUATED_PROPERTIES_ADDED", "/unevaluatedProperties"),
        ),
        (
            {"type": "object", "maxProperties": 3},
            {"type": "object"},
            ("MAX_PROPERTIES_REMOVED", "/maxProperties"),
        ),
        (
            {"dependentRequired": {"a": ["b"]}},
            {"dependentRequired": {"a": ["b", "c"]}},
            ("DEPENDENCY_ARRAY_EXTENDED", "/dependentRequired/a"),
        ),
        (
            {"type": "object", "dependencies": {"a": ["b"]}},
            {"type": "object"},
            ("DEPENDENCY_ARRAY_REMOVED", "/dependencies/a"),
        ),
        (
            {"type": "object"},
            {"type": "object", "dependentSchemas": {"a": {"required": ["b"]}}},
            ("DEPENDENCY_SCHEMA_ADDED", "/dependentSchemas/a"),
        ),
        (
            {"title": "A", "description": "x"},
            {"title": "B", "description": "y"},
            ("TITLE_CHANGED", "/title"),
        ),
        ({"$id": "urn:a:v1"}, {"$id": "urn:a:v2"}, ("ID_CHANGED", "/$id")),
        ({"enum": ["a", "b"]}, {"enum": ["a", "c"]}, ("ENUM_ARRAY_CHANGED", "/enum")),
        ({"const": "a"}, {"enum": ["a", "b"]}, ("ENUM_ARRAY_EXTENDED", "/enum")),
        (True, False, ("TYPE_CHANGED", "")),
    ],
)
def test_difference_kinds(old: Any, new: Any, expected: tuple[str, str]) -> None:
    assert expected in kinds(old, new)


def test_false_to_anything_and_anything_to_true_are_compatible_without_changes() -> None:
    assert kinds(False, {"type": "string"}) == []
    assert kinds({"type": "string"}, True) == []
    assert kinds({"type": "string", "title": "t"}, {"title": "t"}) == []  # now accepts anything
    assert kinds({"type": "string"}, {"minLength": 1}) == [
        ("TYPE_EXTENDED", "/type"),
        ("MIN_LENGTH_ADDED", "/minLength"),
    ]


def test_refs_are_followed_in_both_documents() -> None:
    old = {
        "$defs": {"money": {"type": "integer"}},
        "properties": {"total": {"$ref": "#/$defs/money"}},
    }
    new = {
        "definitions": {"amount": {"type": "number"}},
        "properties": {"total": {"$ref": "#/definitions/amount"}},
    }
    assert kinds(old, new) == [("TYPE_EXTENDED", "/properties/total/type")]


def test_recursive_schemas_terminate() -> None:
    tree = {"type": "object", "properties": {"children": {"type": "array", "items": {"$ref": "#"}}}}
    bigger = {**tree, "properties": {**tree["properties"], "name": {"type": "string"}}}
    assert ("OPTIONAL_PROPERTY_ADDED_TO_OPEN_CONTENT_MODEL", "/properties/name") in kinds(
        tree, bigger
    )
    assert check_compatibility(tree, tree, "FULL").changes == ()


def test_property_removed_with_false_from_closed_model_is_compatible() -> None:
    old = {
        "type": "object",
        "properties": {"a": {"type": "string"}, "legacy": False},
        "additionalProperties": False,
    }
    new = {"type": "object", "properties": {"a": {"type": "string"}}, "additionalProperties": False}
    assert kinds(old, new) == [
        ("PROPERTY_WITH_FALSE_REMOVED_FROM_CLOSED_CONTENT_MODEL", "/properties/legacy")
    ]
    assert check_compatibility(old, new, "BACKWARD").compatible


def test_unevaluated_properties_false_closes_the_content_model() -> None:
    old = {
        "type": "object",
        "properties": {"a": {"type": "string"}},
        "unevaluatedProperties": False,
    }
    new = {
        "type": "object",
        "properties": {"a": {"type": "string"}, "b": {"type": "string"}},
        "unevaluatedProperties": False,
    }
    assert kinds(old, new) == [("OPTIONAL_PROPERTY_ADDED_TO_UNOPEN_CONTENT_MODEL", "/properties/b")]


def test_combined_subschemas_are_matched_whatever_their_order() -> None:
    old = {"oneOf": [{"type": "string"}, {"type": "integer"}]}
    new = {"oneOf": [{"type": "number"}, {"type": "string"}]}
    assert kinds(old, new) == [("TYPE_EXTENDED", "/oneOf/1/type")]
    assert check_compatibility(old, new, "BACKWARD").compatible


def test_changes_report_their_direction_and_render() -> None:
    result = check_compatibility(
        {"type": "object", "properties": {"a": {"type": "integer"}}, "additionalProperties": False},
        {
            "type": "object",
            "properties": {"a": {"type": "number"}, "b": {"type": "string"}},
            "required": ["b"],
            "additionalProperties": False,
        },
        "FULL",
    )
    rendered = {c.pointer: str(c) for c in result.changes}
    assert rendered["/properties/a/type"].startswith("FORWARD ")
    assert "BACKWARD+FORWARD" in rendered["/properties/b"]
    assert "REQUIRED_PROPERTY_ADDED_TO_UNOPEN_CONTENT_MODEL" in rendered["/properties/b"]
    data = result.to_json()
    assert data["compatible"] is False and data["breaks"] == ["BACKWARD", "FORWARD"]
    assert {c["pointer"] for c in data["changes"]} == {"/properties/a/type", "/properties/b"}
