"""Exports: the AsyncAPI 3.0 document (checked by the official parser) and golden vectors."""

from __future__ import annotations

import base64
import copy
import json
import os
import subprocess
from pathlib import Path
from typing import Any

import pytest

from eventbus import ContentMode, Message, Registry, decode, encode, from_json
from eventbus._contracts.asyncapi import asyncapi_document
from eventbus._contracts.vectors import build_vectors, write_vectors
from eventbus._wire._bindings import BINDINGS

PARSE = Path(__file__).with_name("asyncapi_parse.js")


def parse(document: dict[str, Any], modules: Path, tmp_path: Path) -> dict[str, Any]:
    path = tmp_path / "asyncapi.json"
    path.write_text(json.dumps(document), encoding="utf-8")
    done = subprocess.run(
        ["node", str(PARSE), str(path)],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "NODE_PATH": str(modules)},
        check=False,
    )
    assert done.returncode == 0, done.stderr
    result: dict[str, Any] = json.loads(done.stdout)
    return result


def test_the_official_parser_accepts_the_asyncapi_export(
    shipped: Registry, asyncapi_modules: Path, tmp_path: Path
) -> None:
    document = asyncapi_document(shipped)
    result = parse(document, asyncapi_modules, tmp_path)
    problems = [d for d in result["diagnostics"] if d["severity"] <= 1]  # errors and warnings
    assert result["parsed"] and not problems, problems
    assert result["version"] == "3.0.0"
    assert sorted(result["channels"]) == sorted(shipped.types)
    versions = [f"{c.type}.v{v.version}" for c in shipped.contracts for v in c.versions]
    both_modes = versions + [f"{v}.structured" for v in versions]
    assert sorted(result["messages"]) == sorted(both_modes)
    assert len(result["operations"]) == 2 * len(shipped.types)
    assert set(result["payloadTypes"]) == {"object"}
    # The parser does catch a broken document: an operation on a channel that does not exist.
    broken = copy.deepcopy(document)
    next(iter(broken["operations"].values()))["channel"] = {"$ref": "#/channels/nowhere"}
    assert any(d["severity"] == 0 for d in parse(broken, asyncapi_modules, tmp_path)["diagnostics"])


def test_asyncapi_messages_carry_headers_payload_and_dataschema(shipped: Registry) -> None:
    document = asyncapi_document(shipped, title="Shop", version="2.1.0", actions=("receive",))
    assert document["info"] == {
        "title": "Shop",
        "version": "2.1.0",
        "description": shipped.description,
    }
    message = document["components"]["messages"]["com.example.shop.order.placed.v3"]
    assert message["headers"]["properties"]["ce-type"]["const"] == "com.example.shop.order.placed"
    assert message["x-eventbus-dataschema"] == shipped.dataschema(
        "com.example.shop.order.placed", 3
    )
    payload = message["payload"]
    assert payload["schemaFormat"] == "application/schema+json;version=draft-07"
    schema = payload["schema"]
    assert "$schema" not in schema and "definitions" in schema and "$defs" not in schema
    assert schema["properties"]["lines"]["items"]["$ref"] == (
        "#/components/messages/com.example.shop.order.placed.v3/payload/schema/definitions/line"
    )
    legacy = document["components"]["messages"]["com.example.shop.order.shipped.v1"]
    assert (
        legacy["x-eventbus-deprecated"] is True
        and "deprecated since 2025-06-01" in legacy["summary"]
    )
    assert {op["action"] for op in document["operations"].values()} == {"receive"}


def _message(vector: dict[str, Any]) -> Message:
    headers: dict[str, Any] = {}
    for h in vector["message"]["headers"]:
        value = h["value"]
        if h["type"] == "boolean":
            value = value == "true"
        elif h["type"] == "long":
            value = int(value)
        headers[h["name"]] = value
    return Message(headers, base64.b64decode(vector["message"]["body_base64"]))


def test_vectors_cover_every_example_binding_and_mode_and_round_trip(shipped: Registry) -> None:
    vectors = dict(build_vectors(shipped))
    examples = sum(len(c.examples) for c in shipped.contracts)
    assert len(vectors) == examples * len(BINDINGS) * 2
    assert {(v["binding"], v["mode"]) for v in vectors.values()} == {
        (b, m.value) for b in BINDINGS for m in ContentMode
    }
    for name, vector in vectors.items():
        expected = from_json(json.dumps(vector["event"]).encode())
        decoded = decode(_message(vector), vector["binding"])
        assert decoded == expected, name
        again = encode(expected, vector["binding"], ContentMode(vector["mode"]))
        if vector["binding"] != "amqp":  # AMQP headers carry native timestamps
            assert _message(vector).headers == dict(again.headers), name
        assert again.body == base64.b64decode(vector["message"]["body_base64"]), name
        assert vector["valid"] is (".valid." in name)
        assert bool(vector["violations"]) is not vector["valid"]


def test_invalid_vectors_list_their_violations(shipped: Registry) -> None:
    vectors = dict(build_vectors(shipped))
    bad = vectors["com.example.shop.order.placed/v3/bad-lines.invalid.ce-headers.binary.json"]
    pointers = {v["pointer"] for v in bad["violations"]}
    assert {
        "/order_id",
        "/customer",
        "/lines/0/sku",
        "/lines/0/quantity",
        "/lines/0/gift",
    } <= pointers
    headers = {h["name"]: h["value"] for h in bad["message"]["headers"]}
    assert headers["ce-dataschema"] == shipped.dataschema("com.example.shop.order.placed", 3)
    assert headers["ce-id"] == "com.example.shop.order.placed.v3.bad-lines"


def test_vectors_are_deterministic(shipped: Registry, tmp_path: Path) -> None:
    write_vectors(shipped, tmp_path / "a")
    write_vectors(shipped, tmp_path / "b")
    files = sorted(p.relative_to(tmp_path / "a") for p in (tmp_path / "a").rglob("*.json"))
    assert files == sorted(p.relative_to(tmp_path / "b") for p in (tmp_path / "b").rglob("*.json"))
    for f in files:
        assert (tmp_path / "a" / f).read_bytes() == (tmp_path / "b" / f).read_bytes(), f


@pytest.mark.parametrize("binding", ["ce-headers", "pubsub", "amqp"])
def test_amqp_and_header_types_are_explicit(shipped: Registry, binding: str) -> None:
    vectors = dict(build_vectors(shipped))
    vector = vectors[f"com.example.shop.payment.captured/v2/card.valid.{binding}.binary.json"]
    types = {h["name"]: h["type"] for h in vector["message"]["headers"]}
    if binding == "amqp":
        # timestamps travel as strings (AMQP timestamps hold milliseconds): docs/architecture.md
        assert types["cloudEvents:time"] == "string"
        assert "cloudEvents:id" in types
    else:
        assert set(types.values()) == {"string"}
