"""The compatibility mode table of the reference, row by row.

Source: ../shared/reference/wire-formats-and-contracts.md, section 3, "Resulting mode table
(STRICT; FORWARD = diff with arguments swapped)". Each ROW quotes its bullet; the test checks the
verdict of BACKWARD, FORWARD and FULL (and their _TRANSITIVE forms on the two-version history)
and the Confluent kinds named in the bullet, read old -> new and new -> old.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pytest

from eventbus import CompatibilityMode, CompatibilityPolicy, Direction, check_compatibility
from eventbus._contracts.compat import check_history

S = {"type": "string"}
I = {"type": "integer"}  # noqa: E741
N = {"type": "number"}


def obj(props: dict[str, Any], required: tuple[str, ...] = (), **extra: Any) -> dict[str, Any]:
    return {"type": "object", "properties": props, "required": list(required), **extra}


@dataclass(frozen=True)
class Row:
    bullet: str
    old: Any
    new: Any
    backward: bool
    forward: bool
    kinds: tuple[str, ...] = ()  # read old -> new (BACKWARD)
    reverse: tuple[str, ...] = ()  # read new -> old (FORWARD)
    policy: CompatibilityPolicy = CompatibilityPolicy.STRICT
    pointer: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)


CLOSED: dict[str, Any] = {"additionalProperties": False}
LENIENT = CompatibilityPolicy.LENIENT

ROWS = {
    "add-optional-open": Row(
        "Add optional prop, open schema: BACKWARD no (OPTIONAL_PROPERTY_ADDED_TO_OPEN...), "
        "FORWARD yes (PROPERTY_REMOVED_FROM_OPEN...), FULL no.",
        obj({"a": S}),
        obj({"a": S, "b": S}),
        backward=False,
        forward=True,
        kinds=("OPTIONAL_PROPERTY_ADDED_TO_OPEN_CONTENT_MODEL",),
        reverse=("PROPERTY_REMOVED_FROM_OPEN_CONTENT_MODEL",),
        pointer="/properties/b",
    ),
    "add-optional-closed": Row(
        "Add optional prop, closed schema: BACKWARD yes, FORWARD no "
        "(PROPERTY_REMOVED_FROM_CLOSED...), FULL no.",
        obj({"a": S}, **CLOSED),
        obj({"a": S, "b": S}, **CLOSED),
        backward=True,
        forward=False,
        kinds=("OPTIONAL_PROPERTY_ADDED_TO_UNOPEN_CONTENT_MODEL",),
        reverse=("PROPERTY_REMOVED_FROM_CLOSED_CONTENT_MODEL",),
        pointer="/properties/b",
    ),
    "add-covered-additional-properties": Row(
        "Add prop covered by additionalProperties/patternProperties schema (partially open): "
        "BACKWARD yes, FORWARD yes when the property schema equals the covering schema -> the "
        "only FULL-safe add/remove under STRICT.",
        obj({"a": S}, additionalProperties=S),
        obj({"a": S, "b": S}, additionalProperties=S),
        backward=True,
        forward=True,
        kinds=(
            "PROPERTY_ADDED_IS_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL",
            "OPTIONAL_PROPERTY_ADDED_TO_UNOPEN_CONTENT_MODEL",
        ),
        reverse=("PROPERTY_REMOVED_IS_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL",),
        pointer="/properties/b",
    ),
    "add-covered-pattern-properties": Row(
        "(same bullet, patternProperties)",
        obj({"a": S}, patternProperties={"^x-": S}, **CLOSED),
        obj({"a": S, "x-b": S}, patternProperties={"^x-": S}, **CLOSED),
        backward=True,
        forward=True,
        kinds=("PROPERTY_ADDED_IS_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL",),
        reverse=("PROPERTY_REMOVED_IS_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL",),
        pointer="/properties/x-b",
    ),
    "add-covered-but-wider": Row(
        "(same bullet) ... FORWARD only when the property schema equals the covering schema: "
        "a wider property (number under integer) is BACKWARD only.",
        obj({}, additionalProperties=I),
        obj({"b": N}, additionalProperties=I),
        backward=True,
        forward=False,
        kinds=("PROPERTY_ADDED_IS_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL",),
        reverse=("PROPERTY_REMOVED_NOT_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL",),
        pointer="/properties/b",
    ),
    "remove-open": Row(
        "Remove prop, open schema: BACKWARD yes, FORWARD no.",
        obj({"a": S, "b": S}),
        obj({"a": S}),
        backward=True,
        forward=False,
        kinds=("PROPERTY_REMOVED_FROM_OPEN_CONTENT_MODEL",),
        reverse=("OPTIONAL_PROPERTY_ADDED_TO_OPEN_CONTENT_MODEL",),
        pointer="/properties/b",
    ),
    "remove-optional-closed": Row(
        "Remove optional prop, closed schema: BACKWARD no, FORWARD yes.",
        obj({"a": S, "b": S}, **CLOSED),
        obj({"a": S}, **CLOSED),
        backward=False,
        forward=True,
        kinds=("PROPERTY_REMOVED_FROM_CLOSED_CONTENT_MODEL",),
        reverse=("OPTIONAL_PROPERTY_ADDED_TO_UNOPEN_CONTENT_MODEL",),
        pointer="/properties/b",
    ),
    "add-required": Row(
        'Add "required" entry: BACKWARD no (yes if the property has a default); FORWARD yes.',
        obj({"a": S, "b": S}),
        obj({"a": S, "b": S}, ("b",)),
        backward=False,
        forward=True,
        kinds=("REQUIRED_ATTRIBUTE_ADDED",),
        reverse=("REQUIRED_ATTRIBUTE_REMOVED",),
        pointer="/required/b",
    ),
    "add-required-with-default": Row(
        "(same bullet) ... yes if the property has a default.",
        obj({"a": S, "b": S}),
        obj({"a": S, "b": {"type": "string", "default": "x"}}, ("b",)),
        backward=True,
        forward=True,
        kinds=("REQUIRED_ATTRIBUTE_WITH_DEFAULT_ADDED",),
        reverse=("REQUIRED_ATTRIBUTE_REMOVED",),
        pointer="/required/b",
    ),
    "drop-required": Row(
        'Drop "required": reverse.',
        obj({"a": S, "b": S}, ("b",)),
        obj({"a": S, "b": S}),
        backward=True,
        forward=False,
        kinds=("REQUIRED_ATTRIBUTE_REMOVED",),
        reverse=("REQUIRED_ATTRIBUTE_ADDED",),
        pointer="/required/b",
    ),
    "integer-to-number": Row(
        "integer->number: BACKWARD yes, FORWARD no.",
        obj({"a": I}),
        obj({"a": N}),
        backward=True,
        forward=False,
        kinds=("TYPE_EXTENDED",),
        reverse=("TYPE_NARROWED",),
        pointer="/properties/a/type",
    ),
    "enum-value-added": Row(
        "Enum value added: BACKWARD yes, FORWARD no.",
        {"type": "string", "enum": ["EUR", "USD"]},
        {"type": "string", "enum": ["EUR", "USD", "GBP"]},
        backward=True,
        forward=False,
        kinds=("ENUM_ARRAY_EXTENDED",),
        reverse=("ENUM_ARRAY_NARROWED",),
        pointer="/enum",
    ),
    "enum-value-removed": Row(
        "Enum value removed: reverse.",
        {"type": "string", "enum": ["EUR", "USD", "GBP"]},
        {"type": "string", "enum": ["EUR", "USD"]},
        backward=False,
        forward=True,
        kinds=("ENUM_ARRAY_NARROWED",),
        reverse=("ENUM_ARRAY_EXTENDED",),
        pointer="/enum",
    ),
    "additional-properties-false-to-true": Row(
        "additionalProperties false->true/absent: BACKWARD yes, FORWARD no (LENIENT: yes).",
        obj({"a": S}, **CLOSED),
        obj({"a": S}, additionalProperties=True),
        backward=True,
        forward=False,
        kinds=("ADDITIONAL_PROPERTIES_ADDED",),
        reverse=("ADDITIONAL_PROPERTIES_REMOVED",),
        pointer="/additionalProperties",
    ),
    "additional-properties-false-to-absent": Row(
        "(same bullet, absent)",
        obj({"a": S}, **CLOSED),
        obj({"a": S}),
        backward=True,
        forward=False,
        kinds=("ADDITIONAL_PROPERTIES_ADDED",),
        reverse=("ADDITIONAL_PROPERTIES_REMOVED",),
        pointer="/additionalProperties",
    ),
    "additional-properties-false-to-true-lenient": Row(
        "(same bullet) ... (LENIENT: yes).",
        obj({"a": S}, **CLOSED),
        obj({"a": S}),
        backward=True,
        forward=True,
        kinds=("ADDITIONAL_PROPERTIES_ADDED",),
        reverse=("ADDITIONAL_PROPERTIES_REMOVED",),
        policy=LENIENT,
    ),
}
for name, old, new in (
    ("add-optional-open", obj({"a": S}), obj({"a": S, "b": S})),
    ("add-optional-closed", obj({"a": S}, **CLOSED), obj({"a": S, "b": S}, **CLOSED)),
    ("remove-optional-open", obj({"a": S, "b": S}), obj({"a": S})),
    ("remove-optional-closed", obj({"a": S, "b": S}, **CLOSED), obj({"a": S}, **CLOSED)),
):
    ROWS[f"lenient-{name}"] = Row(
        "Under LENIENT, adding/removing optional properties in open or closed schemas passes "
        "BACKWARD, FORWARD and FULL.",
        old,
        new,
        backward=True,
        forward=True,
        policy=LENIENT,
        pointer="/properties/b",
    )


@pytest.mark.parametrize("row", ROWS.values(), ids=ROWS.keys())
def test_mode_table_row(row: Row) -> None:
    expected = {
        CompatibilityMode.BACKWARD: row.backward,
        CompatibilityMode.FORWARD: row.forward,
        CompatibilityMode.FULL: row.backward and row.forward,
        CompatibilityMode.NONE: True,
    }
    for mode, ok in expected.items():
        result = check_compatibility(row.old, row.new, mode, row.policy)
        assert result.compatible is ok, f"{mode.value}: {[str(c) for c in result.changes]}"
        transitive = CompatibilityMode(f"{mode.value}_TRANSITIVE") if mode.value != "NONE" else mode
        history = check_history([("v1", row.old), ("v2", row.new)], transitive, row.policy)
        assert (not history) is ok, transitive
    changes = check_compatibility(row.old, row.new, policy=row.policy).changes
    at = [c for c in changes if row.pointer is None or c.pointer == row.pointer]
    assert at, [str(c) for c in changes]
    kinds = {c.kind.value for c in at}
    assert set(row.kinds) <= kinds, kinds
    reverse = {c.reverse_kind.value for c in at if c.reverse_kind}
    assert set(row.reverse) <= reverse, reverse
    broken = {d for c in changes for d in c.breaks}
    assert (Direction.BACKWARD not in broken) is row.backward
    assert (Direction.FORWARD not in broken) is row.forward


def test_strict_is_the_default_policy() -> None:
    row = ROWS["add-optional-open"]
    assert not check_compatibility(row.old, row.new).compatible
    assert check_compatibility(row.old, row.new, policy="lenient").compatible


def test_none_checks_nothing() -> None:
    assert check_compatibility(S, I, "NONE").compatible
    assert not check_compatibility(S, I, "BACKWARD").compatible
    assert check_history([("v1", S), ("v2", I)], CompatibilityMode.NONE) == []


def test_transitive_modes_check_every_earlier_version() -> None:
    """Field reuse: v2 drops p (fine), v3 adds p back as a string (fine against v2 under LENIENT),
    but data written with v1 (p: integer) no longer reads."""
    v1, v2, v3 = obj({"p": I}), obj({}), obj({"p": S})
    history = [("v1", v1), ("v2", v2), ("v3", v3)]
    assert check_history(history, CompatibilityMode.BACKWARD, LENIENT) == []
    failures = check_history(history, CompatibilityMode.BACKWARD_TRANSITIVE, LENIENT)
    assert [(f.old, f.new) for f in failures] == [("v1", "v3")]
    assert [c.kind.value for c in failures[0].violations()] == ["TYPE_CHANGED"]
    assert failures[0].violations()[0].pointer == "/properties/p/type"
    # FORWARD reads the other way: old readers of v3 data.
    assert check_history(history, CompatibilityMode.FORWARD, LENIENT) == []
    assert [
        (f.old, f.new)
        for f in check_history(history, CompatibilityMode.FORWARD_TRANSITIVE, LENIENT)
    ] == [("v1", "v3")]
    assert len(check_history(history, CompatibilityMode.FULL_TRANSITIVE, LENIENT)) == 1
