"""Compatibility: Confluent's combined-schema rules, recursion, dangling refs, directions, and
removals (issue 12, items 3 to 7)."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from eventbus import CompatibilityMode, InvalidSchemaError, check_compatibility
from eventbus._cli._main import main
from eventbus._contracts.check import _removal_problem
from eventbus._contracts.model import Deprecation

WriteJson = Callable[[Path, Any], Path]
NUMBER, STRING = {"type": "number"}, {"type": "string"}


def kinds(old: Any, new: Any) -> list[str]:
    """The kinds read old -> new (what BACKWARD checks)."""
    changes = check_compatibility(old, new).changes
    return [c.kind.value for c in changes if c.direction == "old->new"]


@pytest.mark.parametrize(
    ("old", "new", "expected", "compatible"),
    [
        # fewer branches of a conjunction: fewer constraints (the OLD keyword names the kind)
        (
            {"allOf": [NUMBER, STRING]},
            {"anyOf": [STRING]},
            ["COMBINED_TYPE_EXTENDED", "PRODUCT_TYPE_NARROWED"],
            True,
        ),
        (
            {"allOf": [NUMBER, STRING]},
            {"oneOf": [STRING]},
            ["COMBINED_TYPE_EXTENDED", "PRODUCT_TYPE_NARROWED"],
            True,
        ),
        ({"anyOf": [NUMBER, STRING]}, {"allOf": [STRING]}, ["COMBINED_TYPE_CHANGED"], False),
        ({"anyOf": [NUMBER, STRING]}, {"anyOf": [STRING]}, ["SUM_TYPE_NARROWED"], False),
        ({"oneOf": [STRING]}, {"allOf": [STRING]}, ["COMBINED_TYPE_EXTENDED"], True),
        ({"anyOf": [NUMBER, STRING]}, {"oneOf": [STRING]}, ["COMBINED_TYPE_CHANGED"], False),
    ],
)
def test_combined_keyword_changes_follow_confluent(
    old: Any, new: Any, expected: list[str], compatible: bool
) -> None:
    assert kinds(old, new) == expected
    assert check_compatibility(old, new).compatible is compatible


def memo_masking(t0_id: str, t1_id: str) -> dict[str, Any]:
    """Confluent's testRecursiveOneOfMemoizationDoesNotMaskIncompatibility pair: T0 -> T2 -> T0
    is a cycle behind singleton oneOfs, and the root is oneOf[T0, T1]."""

    def node(id_type: str, ref: str) -> dict[str, Any]:
        return {
            "type": "object",
            "additionalProperties": True,
            "properties": {
                "id": {"type": id_type},
                "ref": {"oneOf": [{"$ref": f"#/definitions/{ref}"}]},
            },
        }

    return {
        "$schema": "http://json-schema.org/draft-07/schema#",
        "type": "object",
        "additionalProperties": True,
        "definitions": {
            "T0": node(t0_id, "T2"),
            "T1": node(t1_id, "T2"),
            "T2": node("integer", "T0"),
        },
        "properties": {
            "root": {"oneOf": [{"$ref": "#/definitions/T0"}, {"$ref": "#/definitions/T1"}]}
        },
    }


def test_memoised_cycles_do_not_mask_an_incompatible_change() -> None:
    old, new = memo_masking("integer", "boolean"), memo_masking("boolean", "number")
    result = check_compatibility(old, new)
    assert not result.compatible
    # The data that proves it: valid under the old schema, invalid under the new one.
    from eventbus import SchemaValidator

    data = {"root": {"id": 5, "ref": {"id": 1, "ref": {"id": 7}}}}
    assert SchemaValidator(old).is_valid(data) and not SchemaValidator(new).is_valid(data)


TYPES = ["Asset", "Basket", "Swap", "Bond", "Option", "Future", "Forward", "Loan", "Repo"]
TYPES += ["Equity", "Index", "CommodityLeg"]


def trade(asset_id: str = "string") -> dict[str, Any]:
    """Confluent's testRecursiveOneOfUnionTerminates schema: a oneOf over 12 mutually recursive
    definitions, used three times in each."""

    def union() -> dict[str, Any]:
        return {"oneOf": [{"$ref": f"#/definitions/{t}"} for t in TYPES]}

    definitions = {
        t: {
            "type": "object",
            "properties": {
                "id": {"type": "string"},
                "underlying": union(),
                "referenceProduct": union(),
            },
        }
        for t in TYPES
    }
    definitions["Asset"]["properties"]["id"]["type"] = asset_id
    return {
        "$schema": "http://json-schema.org/draft-07/schema#",
        "type": "object",
        "additionalProperties": True,
        "definitions": definitions,
        "properties": {"tradeId": {"type": "string"}, "product": union()},
    }


def test_a_oneof_over_mutually_recursive_definitions_terminates() -> None:
    assert check_compatibility(trade(), trade()).changes == ()
    changed = check_compatibility(trade(), trade("number"), CompatibilityMode.BACKWARD)
    assert not changed.compatible


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    try:
        code = main(list(argv))
    except SystemExit as exc:
        code = int(exc.code or 0)
    out, err = capsys.readouterr()
    return code, out, err


def test_too_deep_to_compare_is_a_typed_error_and_exit_2(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    deep: Any = {"type": "string"}
    for _ in range(30_000):
        deep = {"type": "object", "properties": {"a": deep}}
    with pytest.raises(InvalidSchemaError, match="too deeply to compare"):
        check_compatibility(deep, deep)
    text = '{"properties": {"a": ' * 5_000 + "{}" + "}}" * 5_000
    (tmp_path / "deep.json").write_text(text, encoding="utf-8")
    code, _, err = run(
        capsys, "contracts", "compat", str(tmp_path / "deep.json"), str(tmp_path / "deep.json")
    )
    assert code == 2 and "deep.json" in err


def test_a_dangling_ref_is_reported_not_read_as_empty(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, write_json: WriteJson
) -> None:
    old = {"type": "object", "properties": {"a": {"$ref": "#/definitions/missing"}}}
    new = {"type": "object", "properties": {"a": {"type": "string"}}}
    with pytest.raises(
        InvalidSchemaError, match="'#/definitions/missing' in the old schema"
    ) as info:
        check_compatibility(old, new)
    assert info.value.code == "unresolvable-ref" and info.value.pointer == "/properties/a"
    write_json(tmp_path / "old.json", old)
    write_json(tmp_path / "new.json", new)
    code, _, err = run(
        capsys, "contracts", "compat", str(tmp_path / "old.json"), str(tmp_path / "new.json")
    )
    assert code == 2 and "does not resolve" in err
    elsewhere = {"$ref": "https://schemas.example/other.json"}
    with pytest.raises(InvalidSchemaError, match="in the new schema names no schema known here"):
        check_compatibility({"type": "string"}, elsewhere)


def test_every_change_says_which_way_it_reads(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, write_json: WriteJson
) -> None:
    old = {"type": "object", "properties": {"a": {"type": "string"}}}
    new = {"type": "object", "properties": {"a": {"type": "string"}, "b": {"type": "string"}}}
    write_json(tmp_path / "old.json", old)
    write_json(tmp_path / "new.json", new)
    _, out, _ = run(
        capsys,
        "contracts",
        "compat",
        str(tmp_path / "old.json"),
        str(tmp_path / "new.json"),
        "--json",
    )
    (change,) = json.loads(out)["changes"]
    assert change["direction"] == "old->new"
    assert change["old_to_new"] == "OPTIONAL_PROPERTY_ADDED_TO_OPEN_CONTENT_MODEL"
    assert change["new_to_old"] == "PROPERTY_REMOVED_FROM_OPEN_CONTENT_MODEL"
    # A change only visible new -> old: the maximum is in the old schema only.
    only_back = check_compatibility({"type": "integer", "maximum": 3}, {"type": "integer"}).changes
    assert [(c.direction, c.old_to_new) for c in only_back] == [
        ("old->new", c.kind) for c in only_back
    ]
    for change_obj in check_compatibility(
        {"type": "integer"}, {"type": "integer", "maximum": 3}
    ).changes:
        if change_obj.direction == "new->old":
            assert change_obj.old_to_new is None and change_obj.new_to_old is change_obj.kind
            assert "read new->old only" in str(change_obj)


NOW = datetime(2026, 1, 1, tzinfo=UTC)


@pytest.mark.parametrize(
    ("deprecation", "allowed"),
    [
        (None, False),
        (Deprecation(), False),  # no sunset
        (Deprecation(sunset=datetime(2027, 1, 1, tzinfo=UTC)), False),
        (Deprecation(sunset=datetime(2025, 1, 1, tzinfo=UTC)), True),
    ],
)
def test_a_type_is_removed_only_after_its_sunset(
    deprecation: Deprecation | None, allowed: bool
) -> None:
    assert (_removal_problem(deprecation, NOW) is None) is allowed


def test_check_refuses_removing_a_deprecated_type_before_its_sunset(
    capsys: pytest.CaptureFixture[str], registry_copy: Path
) -> None:
    import shutil

    base = Path(__file__).parents[2] / "contracts"
    shutil.rmtree(registry_copy / "com.example.shop.order.shipped")  # deprecated, sunset 2030
    code, out, _ = run(capsys, "contracts", "check", str(registry_copy), "--against", str(base))
    assert code == 1
    assert (
        "order.shipped exists in the base but was removed; its sunset (2030-01-01) has not passed"
        in out
    )
