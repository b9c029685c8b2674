"""Consumer expectations: what a consumer reads against what each producer version guarantees."""

from __future__ import annotations

from typing import Any, Literal

import msgspec
import pytest

from eventbus import ConsumerExpectation, RegistryError
from eventbus._contracts.expectations import unmet
from eventbus._contracts.expectations_types import expectation_from_type


def reads(fields: dict[str, Any], **extra: Any) -> ConsumerExpectation:
    return ConsumerExpectation.parse({"consumer": "c", "reads": fields, **extra})


def obj(props: dict[str, Any], required: tuple[str, ...] = (), **extra: Any) -> dict[str, Any]:
    return {"type": "object", "properties": props, "required": list(required), **extra}


S, I, N = {"type": "string"}, {"type": "integer"}, {"type": "number"}  # noqa: E741


@pytest.mark.parametrize(
    ("schema", "field", "problem"),
    [
        (obj({"a": S}), {"/a": "string"}, "is optional in the schema"),
        (obj({"a": N}, ("a",)), {"/a": "integer"}, "may be number; the consumer reads integer"),
        (obj({"a": {"type": ["string", "null"]}}, ("a",)), {"/a": "string"}, "may be null"),
        (obj({}), {"/a": {"type": "string", "required": False}}, "could hold anything"),
        (obj({"a": {}}, ("a",)), {"/a": "string"}, "has no type"),
        (
            obj({"c": {"type": "string", "enum": ["EUR", "CHF"]}}, ("c",)),
            {"/c": {"type": "string", "enum": ["EUR"]}},
            "may be ['CHF']; the consumer handles only ['EUR']",
        ),
        (obj({"c": S}, ("c",)), {"/c": {"enum": ["EUR"]}}, "allows any value"),
        (obj({"a": S}, additionalProperties=False), {"/b": "string"}, "closed content model"),
        (
            obj({"lines": {"type": "array", "items": obj({"sku": I}, ("sku",))}}, ("lines",)),
            {"/lines/*/sku": "string"},
            "may be integer",
        ),
    ],
)
def test_unmet_expectations_name_the_problem(
    schema: Any, field: dict[str, Any], problem: str
) -> None:
    found = unmet(schema, reads(field))
    assert found, "expected a problem"
    assert problem in found[0][1]
    assert found[0][0] == next(iter(field))


@pytest.mark.parametrize(
    ("schema", "field"),
    [
        (obj({"a": I}, ("a",)), {"/a": "number"}),  # number accepts integer
        (obj({"a": S}, additionalProperties=False), {"/b": {"type": "string", "required": False}}),
        (obj({"c": {"enum": ["EUR"]}}, ("c",)), {"/c": {"type": "string", "enum": ["EUR", "USD"]}}),
        (
            {"allOf": [obj({"a": S}, ("a",)), obj({"b": I}, ("b",))]},
            {"/a": "string", "/b": "integer"},
        ),
        ({"oneOf": [obj({"a": S}, ("a",)), obj({"a": S, "b": S}, ("a",))]}, {"/a": "string"}),
        (
            {
                "$defs": {"line": obj({"sku": S}, ("sku",))},
                **obj({"l": {"type": "array", "items": {"$ref": "#/$defs/line"}}}),
            },
            {"/l/*/sku": {"type": "string", "required": False}},
        ),
        (
            obj({"n": {"type": "object", "properties": {"m": S}, "required": ["m"]}}, ("n",)),
            {"/n/m": "string"},
        ),
    ],
)
def test_met_expectations(schema: Any, field: dict[str, Any]) -> None:
    assert unmet(schema, reads(field)) == []


def test_a_branch_of_oneof_that_lacks_the_field_breaks_the_consumer() -> None:
    schema = {"oneOf": [obj({"a": S}, ("a",)), obj({"b": S}, ("b",), additionalProperties=False)]}
    assert [p for _, p in unmet(schema, reads({"/a": "string"}))] == [
        "does not have it (closed content model)"
    ]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ([], "must be a JSON object"),
        ({"reads": {"/a": "string"}}, "consumer must name"),
        ({"consumer": "c", "reads": {}}, "reads must map"),
        ({"consumer": "c", "reads": {"a": "string"}}, "'a' is not a JSON pointer"),
        ({"consumer": "c", "reads": {"/a": "text"}}, "not JSON types"),
        ({"consumer": "c", "reads": {"/a": {"required": "yes"}}}, "required must be true or false"),
        ({"consumer": "c", "reads": {"/a": "string"}, "since_version": 0}, "since_version"),
        ({"consumer": "c", "reads": {"/a": "string"}, "extra": 1}, "unknown key"),
    ],
)
def test_malformed_expectations(data: Any, message: str) -> None:
    with pytest.raises(RegistryError, match=message):
        ConsumerExpectation.parse(data, path="consumers/c.json")


class Line(msgspec.Struct):
    sku: str
    quantity: int


class Order(msgspec.Struct):
    order_id: str
    lines: list[Line]
    currency: Literal["EUR", "USD"] = "EUR"
    note: str | None = None


def test_expectation_from_a_handler_type() -> None:
    derived = expectation_from_type("shop", "com.example.order", Order)
    fields = {f.pointer: f for f in derived.fields}
    assert fields["/order_id"].types == frozenset({"string"}) and fields["/order_id"].required
    assert fields["/lines"].types == frozenset({"array"})
    assert (
        fields["/lines/*/sku"].types == frozenset({"string"})
        and not fields["/lines/*/sku"].required
    )
    assert fields["/currency"].enum == ("EUR", "USD") and not fields["/currency"].required
    assert fields["/note"].types == frozenset({"string", "null"})
    again = ConsumerExpectation.parse(derived.to_json())
    assert {f.pointer: f for f in again.fields} == fields
