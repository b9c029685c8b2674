"""Differential test on hypothesis-generated instances: our validators against an independent
oracle (the pure-Python jsonschema with ECMA-262 patterns and exact multipleOf, see _oracle),
and the fast verdict against the list of violations.

Instances are drawn near each schema (its properties, enum values, bounds +/- 1, patterns,
missing and extra members) with random JSON mixed in, so both verdicts occur often. Schemas:
every version in the shipped registry, and every schema of the official suite.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pytest
from _oracle import covers, oracle
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from eventbus import Registry, SchemaValidator

SETTINGS = settings(
    max_examples=100,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)

leaves = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-1000, 1000),
    st.floats(allow_nan=False, allow_infinity=False, width=32),
    st.sampled_from([0, 1, 1.0, -1, 0.5, 2.5, 10**20, True, False, "", "a", "0"]),
    st.text(max_size=6),
)
json_values = st.recursive(
    leaves,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=4), inner, max_size=4)
    ),
    max_leaves=10,
)


def _deref(schema: Any, root: Any) -> Any:
    for _ in range(10):
        if (
            isinstance(schema, dict)
            and isinstance(schema.get("$ref"), str)
            and schema["$ref"].startswith("#/")
        ):
            node = root
            for token in schema["$ref"][2:].split("/"):
                token = token.replace("~1", "/").replace("~0", "~")
                node = node[int(token)] if isinstance(node, list) else node.get(token, {})
            schema = node
    return schema


def _numbers(schema: dict[str, Any], integer: bool) -> st.SearchStrategy[Any]:
    bounds = [
        schema[k]
        for k in ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum")
        if isinstance(schema.get(k), int | float) and not isinstance(schema.get(k), bool)
    ]
    near = [b + d for b in bounds for d in (-1, 0, 1)]
    if integer:
        near = [math.floor(n) for n in near]
    extra = st.sampled_from(near) if near else st.integers(-5, 5)
    low = min(bounds) if bounds else -100
    base = (
        st.integers(math.floor(low), math.floor(low) + 200)
        if integer
        else st.floats(low, low + 200)
    )
    return st.one_of(extra, base, base, st.sampled_from([0, 1.0, 2.0, 0.5]))


def _from_regex(pattern: Any) -> st.SearchStrategy[str] | None:
    """Strings matching ``pattern`` as Python reads it (None when Python cannot)."""
    if not isinstance(pattern, str):
        return None
    strategy = st.from_regex(pattern, fullmatch=True)
    try:
        strategy.validate()
    except Exception:
        return None
    return strategy


@st.composite
def near(draw: st.DrawFn, schema: Any, root: Any, depth: int = 0) -> Any:
    schema = _deref(schema, root)
    if depth > 3 or not isinstance(schema, dict) or draw(st.integers(0, 24)) == 0:
        return draw(json_values)
    if "const" in schema and draw(st.booleans()):
        return schema["const"]
    if isinstance(schema.get("enum"), list) and schema["enum"] and draw(st.integers(0, 3)):
        return draw(st.sampled_from(schema["enum"]))
    for keyword in ("anyOf", "oneOf", "allOf"):
        if isinstance(schema.get(keyword), list) and schema[keyword] and draw(st.booleans()):
            return draw(near(draw(st.sampled_from(schema[keyword])), root, depth + 1))
    types = schema.get("type")
    types = (
        [types] if isinstance(types, str) else types if isinstance(types, list) and types else None
    )
    kind = (
        draw(st.sampled_from(types))
        if types
        else draw(st.sampled_from(["object", "array", "string", "number", "integer"]))
    )
    if kind == "object":
        props = schema.get("properties") if isinstance(schema.get("properties"), dict) else {}
        required = (
            set(schema.get("required") or ()) if isinstance(schema.get("required"), list) else set()
        )
        out: dict[str, Any] = {}
        for name, sub in props.items():
            if draw(st.integers(0, 19)) < (19 if name in required else 10):
                out[name] = draw(near(sub, root, depth + 1))
        for name in required - out.keys():
            if isinstance(name, str) and draw(st.integers(0, 9)):
                out[name] = draw(json_values)
        if draw(st.integers(0, 9)) == 0:
            out[draw(st.text(max_size=4))] = draw(json_values)
        return out
    if kind == "array":
        items = schema.get("items", {})
        prefix = schema.get("prefixItems") or (items if isinstance(items, list) else [])
        rest = items if isinstance(items, dict | bool) else schema.get("additionalItems", {})
        values = [
            draw(near(s, root, depth + 1)) for s in prefix[: draw(st.integers(0, len(prefix)))]
        ]
        values += draw(st.lists(near(rest, root, depth + 1), max_size=3))
        return values
    if kind == "string":
        strategy = _from_regex(schema.get("pattern"))
        if strategy is not None and draw(st.integers(0, 4)):
            return draw(strategy)
        low, high = schema.get("minLength", 0), schema.get("maxLength", 6)
        low = low if isinstance(low, int) else 0
        high = high if isinstance(high, int) else low + 6
        return draw(st.text(alphabet="ab-0", min_size=max(0, low - 1), max_size=max(low, high) + 1))
    if kind in ("number", "integer"):
        return draw(_numbers(schema, kind == "integer"))
    if kind == "boolean":
        return draw(st.booleans())
    return None


SHIPPED = Path(__file__).resolve().parents[2] / "contracts"
registry = Registry(SHIPPED)
VERSIONS = [(c.type, v.version) for c in registry.contracts for v in c.versions]


@pytest.mark.parametrize(("event_type", "version"), VERSIONS)
@SETTINGS
@given(data=st.data())
def test_registry_schemas_agree_with_the_oracle(
    event_type: str, version: int, data: st.DataObject
) -> None:
    sv = registry.contract(event_type).version(version)
    ours = registry.validator(event_type, version)
    instance = data.draw(near(sv.schema, sv.schema))
    verdict = ours.is_valid(instance)
    assert (not ours.validate(instance)) == verdict, json.dumps(instance)
    if covers(sv.schema):
        assert verdict == oracle(sv.schema, sv.dialect or "").is_valid(instance), json.dumps(
            instance
        )


def _suite_schemas() -> list[tuple[str, Any, str]]:
    import sys

    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from _fetch import json_schema_test_suite

    root = json_schema_test_suite()
    out = []
    for name, dialect in (("draft2020-12", "2020-12"), ("draft7", "draft-07")):
        for path in sorted((root / "tests" / name).glob("*.json")):
            for case in json.loads(path.read_text(encoding="utf-8")):
                if "localhost:1234" in json.dumps(case["schema"]) or not covers(case["schema"]):
                    continue  # remote references need the suite's remotes; see test_contracts_suite
                out.append((f"{name}/{path.stem}: {case['description']}", case["schema"], dialect))
    return out


@pytest.fixture(scope="module")
def suite_schemas(suite_root: Path) -> list[tuple[str, Any, str]]:
    return _suite_schemas()


_compiled: dict[str, tuple[SchemaValidator, Any]] = {}


def _pair(label: str, schema: Any, dialect: str) -> tuple[SchemaValidator, Any]:
    if label not in _compiled:
        _compiled[label] = (SchemaValidator(schema, dialect=dialect), oracle(schema, dialect))
    return _compiled[label]


@settings(max_examples=1000, deadline=None, suppress_health_check=list(HealthCheck))
@given(data=st.data())
def test_suite_schemas_agree_with_the_oracle_on_generated_instances(
    suite_schemas: list[tuple[str, Any, str]], data: st.DataObject
) -> None:
    label, schema, dialect = data.draw(st.sampled_from(suite_schemas), label="schema")
    ours, theirs = _pair(label, schema, dialect)
    instance = data.draw(near(schema, schema), label="instance")
    try:
        expected: Any = theirs.is_valid(instance)
    except Exception as exc:
        expected = type(exc).__name__
    try:
        got: Any = ours.is_valid(instance)
    except Exception as exc:
        got = type(exc).__name__
    assert got == expected, f"{label}: {json.dumps(instance)}"
    assert (not ours.validate(instance)) == got, f"{label}: {json.dumps(instance)}"
