"""``eventbus contracts compat|check|validate|lint|asyncapi|vectors``: output and exit codes."""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from eventbus import Event, to_json
from eventbus._cli._main import main

ORDER = "com.example.shop.order.placed"
WriteJson = Callable[[Path, Any], Path]


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    try:
        code = main(list(argv))
    except SystemExit as exc:  # argparse usage errors
        code = int(exc.code or 0)
    out, err = capsys.readouterr()
    return code, out, err


# -- compat --------------------------------------------------------------------------------------


@pytest.fixture
def schemas(tmp_path: Path, write_json: WriteJson) -> tuple[Path, Path]:
    old = write_json(
        tmp_path / "old.json",
        {"type": "object", "properties": {"a": {"type": "integer"}}, "additionalProperties": False},
    )
    new = write_json(
        tmp_path / "new.json",
        {
            "type": "object",
            "properties": {"a": {"type": "number"}, "b": {"type": "string"}},
            "additionalProperties": False,
        },
    )
    return old, new


def test_compat_prints_each_change_and_exits_0_when_compatible(
    capsys: pytest.CaptureFixture[str], schemas: tuple[Path, Path]
) -> None:
    old, new = schemas
    code, out, _ = run(capsys, "contracts", "compat", str(old), str(new))
    assert code == 0
    assert out.startswith("compatible: ")
    assert "#/properties/a/type" in out and "TYPE_EXTENDED" in out
    assert "OPTIONAL_PROPERTY_ADDED_TO_UNOPEN_CONTENT_MODEL" in out


def test_compat_exits_1_and_names_the_broken_direction(
    capsys: pytest.CaptureFixture[str], schemas: tuple[Path, Path]
) -> None:
    old, new = schemas
    code, out, _ = run(capsys, "contracts", "compat", str(old), str(new), "--mode", "full")
    assert code == 1
    assert out.startswith("INCOMPATIBLE")
    assert "breaks: FORWARD" in out
    code, out, _ = run(
        capsys, "contracts", "compat", str(old), str(new), "--mode", "FULL", "--json"
    )
    data = json.loads(out)
    assert code == 1 and data["compatible"] is False and data["mode"] == "FULL"
    assert {
        "kind": "TYPE_EXTENDED",
        "direction": "old->new",
        "pointer": "/properties/a/type",
        "breaks": ["FORWARD"],
        "old_to_new": "TYPE_EXTENDED",
        "new_to_old": "TYPE_NARROWED",
    } in data["changes"]
    code, _, _ = run(capsys, "contracts", "compat", str(new), str(old), "--policy", "lenient")
    assert code == 1  # TYPE_NARROWED is never compatible


def test_compat_usage_and_unreadable_schemas_exit_2(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, schemas: tuple[Path, Path]
) -> None:
    old, _ = schemas
    broken = tmp_path / "broken.json"
    broken.write_text("{", encoding="utf-8")
    code, _, err = run(capsys, "contracts", "compat", str(old), str(broken))
    assert code == 2 and "broken.json: not valid JSON" in err
    code, _, err = run(capsys, "contracts", "compat", str(old), str(tmp_path / "missing.json"))
    assert code == 2 and "missing.json: cannot read" in err
    assert run(capsys, "contracts", "compat", str(old), str(old), "--mode", "SIDEWAYS")[0] == 2
    assert run(capsys, "contracts")[0] == 2


# -- check ---------------------------------------------------------------------------------------


def test_check_passes_on_the_shipped_registry(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "contracts", "check", str(Path(__file__).parents[2] / "contracts"))
    assert code == 0, out
    assert out.strip().endswith("check: ok (0 error(s), 0 warning(s))")


def test_check_fails_on_modes_examples_and_consumers(
    capsys: pytest.CaptureFixture[str], registry_copy: Path, write_json: WriteJson
) -> None:
    v3 = registry_copy / ORDER / "v3.schema.json"
    schema = json.loads(v3.read_text())
    schema["required"].append("placed_at")  # breaks BACKWARD_TRANSITIVE
    write_json(v3, schema)
    write_json(
        registry_copy / ORDER / "examples" / "v2" / "valid" / "wrong.json", {"order_id": "x"}
    )
    write_json(
        registry_copy / ORDER / "examples" / "v2" / "invalid" / "fine.json",
        {"order_id": "o-1", "customer": "a", "amount_cents": 1},
    )
    consumer = registry_copy / ORDER / "consumers" / "payments.json"
    reads = json.loads(consumer.read_text())
    reads["reads"]["/discount_cents"] = "integer"
    write_json(consumer, reads)
    code, out, _ = run(capsys, "contracts", "check", str(registry_copy), "--json")
    assert code == 1
    findings = json.loads(out)["findings"]
    codes = {f["code"] for f in findings}
    assert {"incompatible", "example-invalid", "example-accepted", "consumer-unmet"} <= codes
    incompatible = [f for f in findings if f["code"] == "incompatible"]
    assert {f["message"].split(" is not")[0] for f in incompatible} == {"v3"}
    assert all(
        "REQUIRED_PROPERTY_ADDED_TO_UNOPEN_CONTENT_MODEL at #/properties/placed_at" in f["message"]
        for f in incompatible
    )
    unmet = next(f for f in findings if f["code"] == "consumer-unmet")
    assert unmet["path"].endswith("payments.json") and unmet["pointer"] == "/reads/~1discount_cents"
    assert "payments reads /discount_cents, but v1" in unmet["message"]


def test_check_against_a_directory_forbids_changing_published_versions(
    capsys: pytest.CaptureFixture[str], registry_copy: Path, write_json: WriteJson
) -> None:
    base = Path(__file__).parents[2] / "contracts"
    v2 = registry_copy / ORDER / "v2.schema.json"
    schema = json.loads(v2.read_text())
    schema["description"] = "Reworded: allowed in place."
    write_json(v2, schema)
    assert run(capsys, "contracts", "check", str(registry_copy), "--against", str(base))[0] == 0
    schema["properties"]["customer"]["maxLength"] = 50
    write_json(v2, schema)
    shutil.rmtree(registry_copy / "com.example.shop.payment.failed")
    code, out, _ = run(capsys, "contracts", "check", str(registry_copy), "--against", str(base))
    assert code == 1
    assert (
        "v2 was published and must not change; add v4 instead (MAX_LENGTH_DECREASED at #/properties/customer/maxLength)"
        in out
    )
    assert (
        "com.example.shop.payment.failed exists in the base but was removed; deprecate it first,"
        in out
    )


def git(cwd: Path, *args: str) -> None:
    subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True)


def test_check_against_a_git_ref(
    capsys: pytest.CaptureFixture[str], registry_copy: Path, write_json: WriteJson
) -> None:
    repo = registry_copy.parent
    git(repo, "init", "-q", "-b", "main")
    git(repo, "-c", "user.name=t", "-c", "user.email=t@example.invalid", "add", ".")
    git(
        repo,
        "-c",
        "user.name=t",
        "-c",
        "user.email=t@example.invalid",
        "commit",
        "-q",
        "-m",
        "base",
    )
    v1 = registry_copy / "com.example.shop.payment.captured" / "v1.schema.json"
    schema = json.loads(v1.read_text())
    schema["required"] = ["order_id"]
    write_json(v1, schema)
    code, out, _ = run(capsys, "contracts", "check", str(registry_copy), "--against", "HEAD")
    assert code == 1
    assert "v1 was published and must not change" in out and "check against HEAD: FAILED" in out
    code, _, err = run(capsys, "contracts", "check", str(registry_copy), "--against", "no-such-ref")
    assert code == 2
    assert "--against 'no-such-ref' is neither a directory nor a commit" in err
    assert "expected a branch, tag or commit" in err and "rev-parse" not in err


def test_check_exits_2_on_an_unreadable_schema(
    capsys: pytest.CaptureFixture[str], registry_copy: Path
) -> None:
    (registry_copy / ORDER / "v2.schema.json").write_text("{", encoding="utf-8")
    code, out, _ = run(capsys, "contracts", "check", str(registry_copy))
    assert code == 2
    assert "v2.schema.json: not valid JSON" in out


# -- lint ----------------------------------------------------------------------------------------


def test_lint_reports_structure_problems_with_file_and_pointer(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, write_json: WriteJson
) -> None:
    root = tmp_path / "contracts"
    write_json(root / "registry.json", {"base_uri": "https://c.example/"})
    t = root / "com.example.thing"
    write_json(
        t / "v1.schema.json",
        {
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "$id": "https://wrong.example/",
            "title": "T",
            "description": "d",
            "type": "object",
            "properties": {"a": {"$ref": "#/$defs/missing"}},
        },
    )
    write_json(
        t / "v3.schema.json",
        {
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "type": "object",
            "minProperties": -1,
        },
    )
    write_json(t / "v4.schema.json", {"$schema": "http://json-schema.org/draft-04/schema#"})
    write_json(t / "examples" / "v9" / "valid" / "x.json", {})
    write_json(t / "consumers" / "c.json", {"consumer": "c"})
    (t / "notes.txt").write_text("hi", encoding="utf-8")
    code, out, _ = run(capsys, "contracts", "lint", str(root), "--json")
    assert code == 1
    found = {(Path(f["path"]).name, f["code"], f["pointer"]) for f in json.loads(out)["findings"]}
    assert ("v1.schema.json", "id-mismatch", "/$id") in found
    assert ("v1.schema.json", "unresolvable-ref", "/properties/a/$ref") in found
    assert ("com.example.thing", "version-gap", None) in found
    assert ("v3.schema.json", "meta-schema", "/minProperties") in found
    assert ("v4.schema.json", "dialect", "/$schema") in found
    assert ("x.json", "example-version", None) in found
    assert ("c.json", "consumer-file", None) in found
    assert ("notes.txt", "stray-file", None) in found
    assert ("v3.schema.json", "no-$id", None) in found  # a warning


def test_lint_strict_fails_on_warnings(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, write_json: WriteJson
) -> None:
    write_json(tmp_path / "com.example.a" / "v1.schema.json", {"type": "object"})
    code, out, _ = run(capsys, "contracts", "lint", str(tmp_path))
    assert code == 0 and "warning" in out and "no-base-uri" in out
    assert run(capsys, "contracts", "lint", str(tmp_path), "--strict")[0] == 1


# -- validate ------------------------------------------------------------------------------------


def test_validate_cloudevents_files(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    registry = str(Path(__file__).parents[2] / "contracts")
    good = Event(
        type=ORDER,
        source="/t",
        id="e-1",
        data={"order_id": "o-1", "customer": "a", "amount_cents": 5},
    )
    bad = good.replace(
        id="e-2", data={"order_id": "o-1", "customer": "a", "amount_cents": -5, "x": 1}
    )
    unknown = Event(type="com.example.nothing", source="/t", data={})
    (tmp_path / "good.json").write_bytes(to_json(good))
    (tmp_path / "bad.json").write_bytes(to_json(bad))
    (tmp_path / "batch.json").write_bytes(b"[" + to_json(good) + b"," + to_json(unknown) + b"]")
    (tmp_path / "junk.json").write_text('{"hello": 1}', encoding="utf-8")
    code, out, _ = run(
        capsys, "contracts", "validate", str(tmp_path / "good.json"), "--registry", registry
    )
    assert code == 0 and f"ok ({ORDER} v3)" in out
    code, out, _ = run(
        capsys,
        "contracts",
        "validate",
        str(tmp_path / "good.json"),
        str(tmp_path / "bad.json"),
        "--registry",
        registry,
    )
    assert code == 1
    assert (
        "bad.json: INVALID" in out and "/amount_cents:" in out and "/x: additional property" in out
    )
    code, out, _ = run(
        capsys,
        "contracts",
        "validate",
        str(tmp_path / "batch.json"),
        str(tmp_path / "junk.json"),
        "--registry",
        registry,
        "--json",
    )
    results = {r["file"]: r for r in json.loads(out)["results"]}
    assert code == 1
    assert results[f"{tmp_path / 'batch.json'}[0]"]["valid"] is True
    assert (
        "no contract for 'com.example.nothing'" in results[f"{tmp_path / 'batch.json'}[1]"]["error"]
    )
    assert "not a CloudEvent" in results[str(tmp_path / "junk.json")]["error"]
    code, _, err = run(
        capsys, "contracts", "validate", str(tmp_path / "nope.json"), "--registry", registry
    )
    assert code == 2 and "nope.json: cannot read" in err


# -- asyncapi and vectors ------------------------------------------------------------------------


def test_asyncapi_prints_a_document_or_writes_a_file(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    registry = str(Path(__file__).parents[2] / "contracts")
    code, out, _ = run(
        capsys, "contracts", "asyncapi", registry, "--title", "Shop", "--action", "send"
    )
    document = json.loads(out)
    assert code == 0 and document["asyncapi"] == "3.0.0" and document["info"]["title"] == "Shop"
    assert all(op["action"] == "send" for op in document["operations"].values())
    target = tmp_path / "asyncapi.json"
    assert run(capsys, "contracts", "asyncapi", registry, "-o", str(target))[0] == 0
    assert json.loads(target.read_text())["channels"].keys() == document["channels"].keys()


def test_vectors_writes_files_and_an_index(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    registry = str(Path(__file__).parents[2] / "contracts")
    code, out, _ = run(capsys, "contracts", "vectors", registry, str(tmp_path / "v"), "--json")
    assert code == 0
    index = json.loads((tmp_path / "v" / "index.json").read_text())["vectors"]
    assert len(index) == len(json.loads(out)["vectors"]) > 0
    assert all((tmp_path / "v" / entry["file"]).is_file() for entry in index)
    assert run(capsys, "contracts", "vectors", "a", "b", "c")[0] == 2
