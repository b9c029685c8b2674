"""The official JSON-Schema-Test-Suite, draft-07 and 2020-12, through ``SchemaValidator``.

Every test of every file must get the suite's verdict: the required files, and the optional
ones this project promises (``ecmascript-regex``, ``float-overflow``, ``bignum``,
``non-bmp-regex`` and the rest), remote references served from the suite's ``remotes/``.
The ``optional/format`` files assume format assertion, which eventbus leaves off (``format``
is an annotation): they are counted and must all pass with ``validate_formats`` on in
jsonschema-rs itself, and with eventbus they only need to be consistent. The counts are
printed (``pytest -s``) so the results can be quoted per dialect.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jsonschema_rs
import pytest

from eventbus import InvalidSchemaError, SchemaValidator

DIALECTS = {"draft2020-12": "2020-12", "draft7": "draft-07"}
# Kept apart because eventbus treats format as an annotation (see the module docstring).
FORMAT = "optional/format/"


def remotes(root: Path, name: str) -> dict[str, Any]:
    """The suite's remote schemas at http://localhost:1234/, as its own runner serves them."""
    out = {}
    for path in (root / "remotes").rglob("*.json"):
        relative = path.relative_to(root / "remotes").as_posix()
        schema = json.loads(path.read_text(encoding="utf-8"))
        other_draft = relative.startswith("draft") and not relative.startswith(f"{name}/")
        if other_draft and not (isinstance(schema, dict) and "$schema" in schema):
            continue  # another draft's remote without $schema: not for this dialect
        out[f"http://localhost:1234/{relative}"] = schema
    return out


def cases(root: Path, name: str) -> Iterator[tuple[str, str, Any, list[dict[str, Any]]]]:
    for path in sorted((root / "tests" / name).rglob("*.json")):
        relative = path.relative_to(root / "tests" / name).as_posix()
        group = (
            "format"
            if relative.startswith(FORMAT)
            else "optional"
            if "/" in relative
            else "required"
        )
        for case in json.loads(path.read_text(encoding="utf-8")):
            yield group, f"{name}/{relative}: {case['description']}", case["schema"], case["tests"]


def outcome(fn: Any, data: Any) -> Any:
    try:
        return bool(fn(data))
    except Exception as exc:
        return type(exc).__name__


@pytest.mark.parametrize("name", sorted(DIALECTS))
def test_every_suite_verdict_holds(suite_root: Path, name: str) -> None:
    dialect = DIALECTS[name]
    served = remotes(suite_root, name)
    counts: Counter[tuple[str, bool]] = Counter()
    wrong: list[str] = []
    for group, label, schema, tests in cases(suite_root, name):
        try:
            ours = SchemaValidator(schema, dialect=dialect, retrieve=served.get)
        except InvalidSchemaError as exc:
            wrong.append(f"{label}: refused: {exc}")
            continue
        for test in tests:
            where = f"{label} / {test['description']}"
            got = outcome(ours.is_valid, test["data"])
            listed = not ours.validate(test["data"])
            if group == "format":
                counts[group, listed == got] += 1
                if listed != got:
                    wrong.append(f"{where}: is_valid {got}, validate {'[]' if listed else '[...]'}")
                continue
            ok = got == test["valid"] and listed == test["valid"]
            counts[group, ok] += 1
            if not ok:
                wrong.append(f"{where}: ours {got} (listed: {listed}), suite {test['valid']}")
    print(
        f"\n{name}: "
        + ", ".join(f"{g} {'pass' if ok else 'fail'} {n}" for (g, ok), n in sorted(counts.items()))
    )
    assert not wrong, "\n".join(wrong)
    assert counts["required", True] > 900 and counts["optional", True] > 100, counts
    assert counts["required", False] == counts["optional", False] == 0


@pytest.mark.parametrize("name", sorted(DIALECTS))
def test_format_files_pass_in_the_engine_with_format_assertion(suite_root: Path, name: str) -> None:
    """The engine asserts formats correctly when asked (eventbus does not ask)."""
    served = remotes(suite_root, name)
    cls = jsonschema_rs.Draft7Validator if name == "draft7" else jsonschema_rs.Draft202012Validator
    failed, passed = [], 0
    for group, label, schema, tests in cases(suite_root, name):
        if group != "format":
            continue
        validator = cls(schema, validate_formats=True, retriever=served.__getitem__)
        for test in tests:
            if validator.is_valid(test["data"]) == test["valid"]:
                passed += 1
            else:
                failed.append(f"{label} / {test['description']}")
    print(f"\n{name}: format (asserted) pass {passed} fail {len(failed)}")
    assert not failed and passed > 300, failed


def test_ecma_regex_and_exact_decimals_that_python_gets_wrong() -> None:
    """The cases of issue 12, each of which Python's re or float arithmetic decides otherwise."""
    price = SchemaValidator({"type": "number", "multipleOf": 0.01})
    cents = [f"{i // 100}.{i % 100:02d}" for i in range(1001)]
    assert all(price.is_valid(float(text)) for text in cents)
    assert not price.is_valid(0.1 + 0.2)  # 0.30000000000000004 is not a multiple of 0.01
    assert not price.is_valid(0.075)
    order_id = SchemaValidator({"type": "string", "pattern": "^o-[0-9]+$"})
    assert order_id.is_valid("o-1") and not order_id.is_valid("o-1\n")
    assert not SchemaValidator({"pattern": r"^\d$"}).is_valid("\u0663")  # ARABIC-INDIC THREE
    assert not SchemaValidator({"pattern": r"^\w$"}).is_valid("é")
    assert SchemaValidator({"pattern": r"^\s$"}).is_valid("\ufeff")  # ECMA-262 WhiteSpace
    letters = SchemaValidator({"pattern": r"^\p{Letter}+$"})
    assert letters.is_valid("olé") and not letters.is_valid("olé1")
    big = SchemaValidator({"type": "integer", "maximum": 2**64})
    assert big.is_valid(2**64) and not big.is_valid(2**64 + 1)
