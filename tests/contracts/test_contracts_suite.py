"""Differential test: compiled validators against jsonschema on the official JSON-Schema-Test-Suite.

Every test of the 2020-12 and draft-07 directories (optional ones included) must get the same
verdict from ``SchemaValidator.is_valid`` as from jsonschema's own validator with the same remote
schemas, or both must raise. Most schemas must take the compiled path, so this compares code
generation, not jsonschema with itself.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import referencing
import referencing.jsonschema

from eventbus import SchemaValidator

DIALECTS = {
    "draft2020-12": ("2020-12", jsonschema.Draft202012Validator),
    "draft7": ("draft-07", jsonschema.Draft7Validator),
}


CORE = {
    f"{d}/{k}.json"
    for d in DIALECTS
    for k in (
        "additionalProperties",
        "allOf",
        "anyOf",
        "boolean_schema",
        "const",
        "contains",
        "default",
        "enum",
        "exclusiveMaximum",
        "exclusiveMinimum",
        "format",
        "if-then-else",
        "infinite-loop-detection",
        "items",
        "maxItems",
        "maxLength",
        "maxProperties",
        "maximum",
        "minItems",
        "minLength",
        "minProperties",
        "minimum",
        "multipleOf",
        "oneOf",
        "pattern",
        "patternProperties",
        "properties",
        "propertyNames",
        "required",
        "type",
        "uniqueItems",
        "dependentRequired",
        "dependentSchemas",
        "dependencies",
        "prefixItems",
        "minContains",
        "maxContains",
        "additionalItems",
        "optional/bignum",
        "optional/float-overflow",
    )
}


def remotes(root: Path, name: str, cls: Any) -> referencing.Registry[Any]:
    """The suite's remote schemas at http://localhost:1234/, as its own runner loads them."""
    spec = referencing.jsonschema.specification_with(cls.META_SCHEMA["$schema"])
    pairs = []
    for path in (root / "remotes").rglob("*.json"):
        schema = json.loads(path.read_text(encoding="utf-8"))
        relative = path.relative_to(root / "remotes").as_posix()
        if (
            "$schema" not in schema
            and relative.startswith("draft")
            and not relative.startswith(name)
        ):
            continue
        pairs.append((f"http://localhost:1234/{relative}", schema))
    return referencing.Registry().with_contents(pairs, default_specification=spec)


def outcome(fn: Any, data: Any) -> Any:
    try:
        return bool(fn(data))
    except Exception as exc:
        return type(exc).__name__


def cases(root: Path, name: str) -> Iterator[tuple[str, Any, list[dict[str, Any]]]]:
    for path in sorted((root / "tests" / name).rglob("*.json")):
        for case in json.loads(path.read_text(encoding="utf-8")):
            label = f"{path.relative_to(root / 'tests').as_posix()}: {case['description']}"
            yield label, case["schema"], case["tests"]


@pytest.mark.parametrize("name", sorted(DIALECTS))
def test_compiled_verdicts_equal_jsonschema_on_the_official_suite(
    suite_root: Path, name: str
) -> None:
    dialect, cls = DIALECTS[name]
    registry = remotes(suite_root, name, cls)
    mismatches: list[str] = []
    schemas = compiled = tests = 0
    fell_back: list[str] = []
    for label, schema, suite_tests in cases(suite_root, name):
        ours = SchemaValidator(schema, registry=registry, dialect=dialect)
        theirs = cls(schema, registry=registry)
        schemas += 1
        compiled += ours.compiled
        if not ours.compiled and label.split(":")[0] in CORE:
            fell_back.append(f"{label}: {ours.fallback}")
        for test in suite_tests:
            tests += 1
            expected = outcome(theirs.is_valid, test["data"])
            got = outcome(ours.is_valid, test["data"])
            if got != expected:
                mismatches.append(
                    f"{label} / {test['description']}: ours {got}, jsonschema {expected}"
                )
    assert not mismatches, "\n".join(mismatches)
    assert tests > 800, f"only {tests} suite tests found under {suite_root}"
    # The compiled path must carry the suite: every schema of the core keyword files compiles;
    # only remote refs, anchors, embedded resources, $dynamicRef, unevaluated* and ECMA-only
    # regexes fall back to jsonschema (2020-12 has many of those: 67 unevaluated* cases alone).
    assert not fell_back, "\n".join(fell_back)
    assert compiled / schemas > (0.65 if name == "draft2020-12" else 0.85), f"{compiled}/{schemas}"


def test_fallback_schemas_say_why(suite_root: Path) -> None:
    schema = {"$ref": "http://localhost:1234/draft2020-12/integer.json"}
    validator = SchemaValidator(
        schema, registry=remotes(suite_root, "draft2020-12", jsonschema.Draft202012Validator)
    )
    assert not validator.compiled
    assert "not a pointer into this document" in (validator.fallback or "")
    assert validator.is_valid(1) and not validator.is_valid("a")
