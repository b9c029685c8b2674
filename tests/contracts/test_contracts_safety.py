"""Broken schemas are typed errors and isolated; dialects come from the registry; depth limits.

Issue 12, items 2, 8 and 9: a ``$ref`` to an unknown URI, an invalid regex or ``"type":
"strin"`` is reported at load (``problems``) as an :class:`InvalidSchemaError`, other types
still validate, the CLI exits 2, and the bus dead-letters with ``schema-error`` at once.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from eventbus import (
    Event,
    EventBus,
    InvalidSchemaError,
    Registry,
    RegistryError,
    SchemaValidationError,
    SchemaValidator,
    ValidationMiddleware,
)
from eventbus._cli._main import main
from eventbus._contracts.cli import EXIT_USAGE
from eventbus._contracts.validate import MAX_DATA_DEPTH, MAX_SCHEMA_DEPTH
from eventbus.testing import wait_until

WriteJson = Callable[[Path, Any], Path]

GOOD = "com.example.good"
BROKEN = {
    "com.example.ref": ({"$ref": "https://nowhere.example/x.json"}, "unresolvable-ref", "/$ref"),
    "com.example.regex": (
        {"properties": {"a": {"type": "string", "pattern": "(["}}},
        "meta-schema",
        "/properties/a/pattern",
    ),
    "com.example.typo": (
        {"properties": {"a": {"type": "strin"}}},
        "meta-schema",
        "/properties/a/type",
    ),
}


@pytest.fixture
def broken_registry(tmp_path: Path, write_json: WriteJson) -> Path:
    draft = "https://json-schema.org/draft/2020-12/schema"
    write_json(
        tmp_path / GOOD / "v1.schema.json", {"$schema": draft, "type": "object", "required": ["a"]}
    )
    for name, (schema, _, _) in BROKEN.items():
        write_json(tmp_path / name / "v1.schema.json", {"$schema": draft, **schema})
    return tmp_path


def test_broken_schemas_are_reported_at_load_and_isolated(broken_registry: Path) -> None:
    registry = Registry(broken_registry)  # strict: still opens
    found = {(Path(f.path).parent.name, f.code, f.pointer) for f in registry.problems}
    for name, (_, code, pointer) in BROKEN.items():
        assert (name, code, pointer) in found
        with pytest.raises(InvalidSchemaError) as info:
            registry.validate(name, {"a": 1})
        assert info.value.code == code and info.value.pointer == pointer
        assert name in str(info.value) and "v1.schema.json" in str(info.value)
    registry.validate(GOOD, {"a": 1})  # the other type is unaffected
    with pytest.raises(SchemaValidationError, match="/a"):
        registry.validate(GOOD, {})


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    try:
        code = main(list(args))
    except SystemExit as exc:
        code = int(exc.code or 0)
    return code, capsys.readouterr().out


def test_cli_validate_exits_2_on_a_broken_schema_and_1_on_bad_data(
    broken_registry: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    def event_file(name: str, event_type: str, data: Any) -> str:
        path = tmp_path / f"{name}.json"
        event = {"specversion": "1.0", "id": name, "source": "/t", "type": event_type, "data": data}
        path.write_text(json.dumps(event), encoding="utf-8")
        return str(path)

    bad = event_file("bad", GOOD, {})
    assert run(capsys, "contracts", "validate", bad, "--registry", str(broken_registry))[0] == 1
    broken = event_file("broken", "com.example.regex", {"a": "x"})
    code, out = run(capsys, "contracts", "validate", broken, "--registry", str(broken_registry))
    assert code == EXIT_USAGE and "cannot be used" in out
    code, out = run(capsys, "contracts", "lint", str(broken_registry), "--json")
    assert code == 1 and {f["code"] for f in json.loads(out)["findings"]} >= {"unresolvable-ref"}


async def test_the_bus_dead_letters_a_broken_schema_at_once(
    broken_registry: Path, memory_url: str
) -> None:
    registry = Registry(broken_registry)
    async with (
        EventBus(memory_url, middleware=[ValidationMiddleware(registry)]) as bus,
        EventBus(memory_url) as legacy,
    ):
        handled: list[Event[Any]] = []
        dead: list[Event[Any]] = []
        await bus.subscribe("com.example.regex", handled.append)
        await bus.subscribe(
            ">",
            dead.append,
            channel="com.example.regex.dlq",
            group="dlq",
            dead_letter_channel=False,
        )
        with pytest.raises(InvalidSchemaError):
            await bus.publish(Event(type="com.example.regex", source="/t", data={"a": "x"}))
        await legacy.publish(Event(type="com.example.regex", source="/t", data={"a": "x"}))
        await wait_until(lambda: len(dead) == 1)
    assert not handled
    assert dead[0].extensions["deadletterreason"] == "schema-error"
    assert str(dead[0].extensions["deadletterattempts"]) == "1"  # no retries


def test_dialect_comes_from_the_type_then_the_registry_then_draft7(
    tmp_path: Path, write_json: WriteJson
) -> None:
    tuple_schema = {"type": "array", "items": [{"type": "string"}]}  # draft-07 style
    write_json(tmp_path / "com.example.a" / "v1.schema.json", tuple_schema)
    write_json(
        tmp_path / "com.example.b" / "v1.schema.json",
        {"type": "array", "prefixItems": [{"type": "string"}]},
    )
    write_json(tmp_path / "com.example.b" / "contract.json", {"dialect": "2020-12"})
    registry = Registry(tmp_path)
    assert registry.dialect == "draft-07"
    assert registry.validator("com.example.a").dialect == "draft-07"
    assert not registry.validator("com.example.a").is_valid([1])
    assert registry.validator("com.example.b").dialect == "2020-12"
    assert not registry.validator("com.example.b").is_valid([1])
    write_json(
        tmp_path / "registry.json", {"dialect": "https://json-schema.org/draft/2020-12/schema"}
    )
    again = Registry(tmp_path)  # as 2020-12, type a's tuple "items" breaks the meta-schema
    broken = again.broken("com.example.a", 1)
    assert broken is not None and broken.pointer == "/items"
    assert again.validator("com.example.b").dialect == "2020-12"


def test_unknown_dialects_are_registry_errors(tmp_path: Path, write_json: WriteJson) -> None:
    write_json(tmp_path / "registry.json", {"dialect": "draft-04"})
    write_json(tmp_path / "com.example.a" / "v1.schema.json", {"type": "object"})
    with pytest.raises(
        RegistryError, match=r"registry.json: dialect 'draft-04' is not a supported"
    ):
        Registry(tmp_path)
    (tmp_path / "registry.json").unlink()
    write_json(
        tmp_path / "com.example.a" / "v1.schema.json", {"$schema": "http://example.com/mine"}
    )
    problems = Registry(tmp_path).problems
    assert [(p.code, p.pointer) for p in problems] == [("dialect", "/$schema")]


def test_schema_depth_limit_is_a_typed_error() -> None:
    schema: Any = {"type": "integer"}
    for _ in range(MAX_SCHEMA_DEPTH):
        schema = {"properties": {"a": schema}}
    with pytest.raises(InvalidSchemaError, match=f"deeper than {MAX_SCHEMA_DEPTH}") as info:
        SchemaValidator(schema)
    assert info.value.code == "depth"
    shallow: Any = {"type": "integer"}
    for _ in range(MAX_SCHEMA_DEPTH // 2 - 1):
        shallow = {"properties": {"a": shallow}}
    assert SchemaValidator(shallow).is_valid({"a": {"a": 1}})


def nested(depth: int) -> Any:
    data: Any = []
    for _ in range(depth):
        data = [data]
    return data


def test_data_depth_limit_under_a_recursive_schema() -> None:
    tree = SchemaValidator(
        {"$defs": {"n": {"type": "array", "items": {"$ref": "#/$defs/n"}}}, "$ref": "#/$defs/n"},
        dialect="2020-12",
    )
    assert tree.recursive
    assert tree.is_valid(nested(MAX_DATA_DEPTH - 1))
    for depth in (MAX_DATA_DEPTH + 1, 50_000):  # 50 000 would overflow the native stack
        assert not tree.is_valid(nested(depth))
        assert [(v.pointer, v.keyword) for v in tree.validate(nested(depth))] == [("", "depth")]
    flat = SchemaValidator({"type": "array", "items": {"type": "array"}})
    assert not flat.recursive and flat.is_valid(nested(50_000))  # the schema bounds the walk


def test_values_that_are_not_json_are_violations_not_crashes() -> None:
    validator = SchemaValidator({"type": "object"})
    with pytest.raises(SchemaValidationError, match="not a JSON value"):
        validator.check({1, 2})
    deep_const = SchemaValidator({"const": [1]})
    assert deep_const.validate(nested(100_000))[0].keyword == "type"


def test_check_reports_a_broken_version_and_goes_on(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, write_json: WriteJson
) -> None:
    draft = "https://json-schema.org/draft/2020-12/schema"
    write_json(tmp_path / GOOD / "v1.schema.json", {"$schema": draft, "type": "object"})
    write_json(
        tmp_path / GOOD / "v2.schema.json",
        {"$schema": draft, "properties": {"a": {"$ref": "#/$defs/missing"}}},
    )
    code, out = run(capsys, "contracts", "check", str(tmp_path), "--json")
    assert code == 1  # a finding, not an internal failure
    found = {(Path(f["path"]).name, f["code"]) for f in json.loads(out)["findings"]}
    assert ("v2.schema.json", "unresolvable-ref") in found
