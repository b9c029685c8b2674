"""The registry on disk, dataschema URIs, and validation errors that name every pointer."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from eventbus import (
    Registry,
    RegistryError,
    SchemaValidationError,
    SchemaValidator,
    UnknownSchemaError,
    Violation,
)

ORDER = "com.example.shop.order.placed"
BASE = "https://contracts.example.com/shop/"
WriteJson = Callable[[Path, Any], Path]


def test_the_shipped_registry_holds_the_shop_domain(shipped: Registry) -> None:
    assert len(shipped.types) >= 5
    assert {t.split(".")[3] for t in shipped.types} == {"order", "payment", "shipping"}
    multi = [c for c in shipped.contracts if len(c.versions) >= 2]
    assert len(multi) >= 3
    assert [v.version for v in shipped.contract(ORDER).versions] == [1, 2, 3]
    assert shipped.contract(ORDER).version(1).dialect == "draft-07"
    assert shipped.contract(ORDER).version(3).dialect == "2020-12"
    modes = {c.config.compatibility.value for c in shipped.contracts}
    assert {"BACKWARD", "BACKWARD_TRANSITIVE", "FORWARD", "FULL", "NONE"} <= modes
    assert any(e.valid for e in shipped.contract(ORDER).examples)
    assert any(not e.valid for e in shipped.contract(ORDER).examples)


def test_dataschema_uris_follow_type_and_version_and_resolve(shipped: Registry) -> None:
    uri = shipped.dataschema(ORDER, 2)
    assert uri == f"{BASE}{ORDER}/v2.schema.json"
    assert shipped.contract(ORDER).version(2).schema["$id"] == uri
    assert shipped.resolve(ORDER, uri) is shipped.contract(ORDER).version(2)
    assert shipped.resolve(ORDER) is shipped.contract(ORDER).latest  # no dataschema: latest
    assert shipped.resolve("com.example.unknown") is None
    with pytest.raises(UnknownSchemaError, match=r"does not resolve.*v1\.schema\.json"):
        shipped.resolve(ORDER, f"{BASE}{ORDER}/v9.schema.json")
    other = shipped.dataschema("com.example.shop.payment.captured", 1)
    with pytest.raises(
        UnknownSchemaError, match=re.escape("is the schema of 'com.example.shop.payment.captured'")
    ):
        shipped.resolve(ORDER, other)


def test_validate_lists_every_failing_pointer(shipped: Registry) -> None:
    bad = {
        "order_id": "1006",
        "customer": "",
        "amount_cents": 0,
        "extra": 1,
        "lines": [{"sku": "", "quantity": 0}],
    }
    with pytest.raises(SchemaValidationError) as info:
        shipped.validate(ORDER, bad)
    err = info.value
    assert set(err.pointers) == {
        "/order_id",
        "/customer",
        "/amount_cents",
        "/extra",
        "/lines/0/sku",
        "/lines/0/quantity",
        "/lines/0/unit_price_cents",
    }
    assert (err.event_type, err.version, err.dataschema) == (ORDER, 3, shipped.dataschema(ORDER, 3))
    keywords = {v.pointer: v.keyword for v in err.violations}
    assert keywords["/extra"] == "additionalProperties"
    assert keywords["/lines/0/unit_price_cents"] == "required"
    assert keywords["/amount_cents"] == "exclusiveMinimum"
    text = str(err)
    assert text.index("/lines/0/unit_price_cents") < text.index("--")  # pointers first
    assert isinstance(err, ValueError)


def test_a_version_is_validated_against_itself(shipped: Registry) -> None:
    v1_data = {"order_id": "o-1", "customer": "ada", "amount_cents": 1}
    shipped.validate(ORDER, v1_data, version=1)
    with pytest.raises(SchemaValidationError, match="/currency"):
        shipped.validate(ORDER, {**v1_data, "currency": "EUR"}, version=1)  # v1 is closed
    shipped.validate(ORDER, {**v1_data, "currency": "EUR"}, version=2)


def test_each_schema_is_compiled_once(shipped: Registry) -> None:
    first = shipped.validator(ORDER, 3)
    assert first is shipped.validator(ORDER, 3)
    assert first.dialect == "2020-12" and not first.recursive


def test_schema_validator_reports_pointers_escaped_and_root() -> None:
    validator = SchemaValidator(
        {"type": "object", "properties": {"a/b": {"type": "integer"}}, "required": ["x~y"]}
    )
    violations = validator.validate({"a/b": "no"})
    assert sorted(v.pointer for v in violations) == ["/a~1b", "/x~0y"]
    assert SchemaValidator({"type": "object"}).validate([]) == [
        Violation("", "type", '[] is not of type "object"', "/type")
    ]
    assert str(SchemaValidator({"type": "object"}).validate(1)[0]).startswith("(root): ")


def test_registry_problems_name_the_file(tmp_path: Path, write_json: WriteJson) -> None:
    root = tmp_path / "contracts"
    write_json(root / "com.example.a" / "v1.schema.json", {"type": "object"})
    (root / "com.example.b").mkdir()
    (root / "com.example.b" / "v1.schema.json").write_text("{nope", encoding="utf-8")
    with pytest.raises(
        RegistryError, match=r"com\.example\.b/v1\.schema\.json: not valid JSON.*line 1 column 2"
    ):
        Registry(root)
    lenient = Registry(root, strict=False)
    assert lenient.types == ("com.example.a",)
    assert [p.code for p in lenient.problems] == ["unreadable"]


@pytest.mark.parametrize(
    ("config", "message"),
    [
        ({"compatibility": "SIDEWAYS"}, "compatibility 'SIDEWAYS' is not one of NONE, BACKWARD"),
        ({"policy": "loose"}, "policy 'loose' is not one of STRICT, LENIENT"),
        ({"colour": "blue"}, "unknown key"),
        ({"deprecated": {"since": "soon"}}, "deprecated.since: 'soon' is not a date"),
        (
            {"deprecated": {"migration": "not a uri"}},
            "deprecated.migration must be an absolute URI",
        ),
        ({"versions": {"one": {}}}, "versions.one must be"),
    ],
)
def test_malformed_config_is_a_registry_error(
    tmp_path: Path, write_json: WriteJson, config: dict[str, object], message: str
) -> None:
    root = tmp_path / "contracts"
    write_json(root / "com.example.a" / "v1.schema.json", {"type": "object"})
    write_json(root / "com.example.a" / "contract.json", config)
    with pytest.raises(RegistryError, match=message) as info:
        Registry(root)
    assert info.value.path is not None and info.value.path.endswith("contract.json")


def test_no_registry_directory(tmp_path: Path) -> None:
    with pytest.raises(RegistryError, match="no contract registry here"):
        Registry(tmp_path / "missing")


def test_default_base_uri_without_registry_json(tmp_path: Path, write_json: WriteJson) -> None:
    write_json(tmp_path / "com.example.a" / "v1.schema.json", {"type": "object"})
    registry = Registry(tmp_path)
    assert (
        registry.dataschema("com.example.a", 1)
        == "urn:eventbus:contracts:com.example.a/v1.schema.json"
    )


def test_schemas_can_reference_each_other_by_dataschema(
    tmp_path: Path, write_json: WriteJson
) -> None:
    write_json(tmp_path / "registry.json", {"base_uri": "https://c.example/"})
    write_json(tmp_path / "com.example.money" / "v1.schema.json", {"type": "integer", "minimum": 0})
    write_json(
        tmp_path / "com.example.a" / "v1.schema.json",
        {
            "type": "object",
            "properties": {"cents": {"$ref": "https://c.example/com.example.money/v1.schema.json"}},
        },
    )
    registry = Registry(tmp_path)
    validator = registry.validator("com.example.a")
    assert validator.is_valid({"cents": 5})
    assert [v.pointer for v in validator.validate({"cents": -5})] == ["/cents"]


def test_examples_and_consumers_are_found(shipped: Registry) -> None:
    contract = shipped.contract(ORDER)
    names = {(e.version, e.name, e.valid) for e in contract.examples}
    assert (3, "bad-lines", False) in names and (1, "minimal", True) in names
    assert [p.name for p in contract.consumer_paths] == ["payments.json", "warehouse.json"]
    example = next(e for e in contract.examples if e.name == "with-lines")
    assert example.data == json.loads(example.path.read_text(encoding="utf-8"))
