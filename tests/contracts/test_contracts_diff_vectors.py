"""Schema-diff vectors in Confluent's test format (``diff-*examples*.json`` of its
json-schema-provider: description, original_schema, update_schema, changes as
``"KIND #/pointer"``, compatible).

``diff_vectors.json`` holds this project's own cases. Confluent's files are not published to a
package registry, so CI cannot fetch them; to run them too, point ``EVENTBUS_CONFLUENT_VECTORS``
at a directory holding them (a checkout of confluentinc/schema-registry's test resources): each
``diff-*examples*.json`` there becomes a test. Kinds are compared as multisets and the STRICT
verdict exactly; pointers are compared by prefix, because eventbus points at the changed keyword
(``#/properties/a/anyOf``) where Confluent points at its schema (``#/properties/a``).
"""

from __future__ import annotations

import json
import os
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from eventbus import CompatibilityPolicy
from eventbus._contracts.diff import diff
from eventbus._contracts.kinds import compatible_kinds

OURS = Path(__file__).with_name("diff_vectors.json")
FILES = [OURS]
if os.environ.get("EVENTBUS_CONFLUENT_VECTORS"):
    FILES += sorted(Path(os.environ["EVENTBUS_CONFLUENT_VECTORS"]).glob("diff-*examples*.json"))


def disagreements(cases: list[dict[str, Any]]) -> list[str]:
    strict = compatible_kinds(CompatibilityPolicy.STRICT)
    wrong = []
    for case in cases:
        found = diff(case["original_schema"], case["update_schema"])
        kinds = Counter(d.kind.value for d in found)
        expected = Counter(str(c).split(" ", 1)[0] for c in case["changes"])
        compatible = all(d.kind in strict for d in found)
        pointers_ok = all(
            any(
                ("#" + d.pointer).startswith(str(c).split(" ", 1)[1])
                for d in found
                if d.kind.value == str(c).split(" ", 1)[0]
            )
            for c in case["changes"]
            if " " in str(c)
        )
        if kinds != expected or compatible != case["compatible"] or not pointers_ok:
            got = [f"{d.kind.value} #{d.pointer}" for d in found]
            wrong.append(
                f"{case['description']}: ours {got} ({compatible}), expected {case['changes']} ({case['compatible']})"
            )
    return wrong


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_diff_vectors_agree(path: Path) -> None:
    cases = json.loads(path.read_text(encoding="utf-8"))
    assert cases, path
    wrong = disagreements(cases)
    assert not wrong, "\n".join(wrong)
