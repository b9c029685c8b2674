"""AsyncAPI per broker (issue 12, items 10 and 11): servers, bindings, the header names each
broker's encoder really writes, both content modes, examples, deprecation, ``$anchor`` refs;
every document checked by the official parser. And golden vectors carry what the bus adds."""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from eventbus import ContentMode, Event, Registry, ValidationMiddleware, encode
from eventbus._cli._main import main
from eventbus._contracts.asyncapi import asyncapi_document
from eventbus._contracts.asyncapi_wire import BROKERS, probe_event
from eventbus._contracts.vectors import build_vectors

WriteJson = Callable[[Path, Any], Path]
PARSE = Path(__file__).with_name("asyncapi_parse.js")
SHIPPED_TYPE = "com.example.shop.order.placed"
DEPRECATED_TYPE = "com.example.shop.order.shipped"
SERVERS = {
    "nats": ("nats://svc:s3cret-pass@nats.internal:4222", "ce-type"),
    "pubsub": ("pubsub://shop-prod", "ce-type"),
    "servicebus": ("servicebus://shop", "cloudEvents:type"),
    "kafka": ("kafka://kafka.internal:9092", "ce_type"),
}


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
    problems = [d for d in result["diagnostics"] if d["severity"] <= 1]
    assert result["parsed"] and not problems, problems
    return result


@pytest.mark.parametrize("broker", sorted(SERVERS))
def test_each_broker_export_names_its_own_headers_and_parses(
    broker: str, shipped: Registry, asyncapi_modules: Path, tmp_path: Path
) -> None:
    url, type_header = SERVERS[broker]
    document = asyncapi_document(shipped, servers=(url,))
    parse(document, asyncapi_modules, tmp_path)
    assert "s3cret" not in json.dumps(document)  # no credential in any document
    (server,) = document["servers"].values()
    assert server["protocol"] in {"nats", "googlepubsub", "amqps", "kafka"}
    messages = document["components"]["messages"]
    binary, structured = messages[f"{SHIPPED_TYPE}.v3"], messages[f"{SHIPPED_TYPE}.v3.structured"]
    assert binary["headers"]["properties"][type_header]["const"] == SHIPPED_TYPE
    assert structured["contentType"] == "application/cloudevents+json"
    assert structured["payload"]["schema"]["properties"]["type"]["const"] == SHIPPED_TYPE
    # The header names are the encoder's: what the bus writes for the probe event, exactly.
    sv = shipped.contract(SHIPPED_TYPE).version(3)
    sent = encode(probe_event(shipped, sv), BROKERS[broker].binding, ContentMode.BINARY)
    assert set(binary["headers"]["properties"]) == set(sent.headers)
    # Examples are the registry's valid ones, as sent.
    valid = {
        e.name: e.data
        for e in shipped.contract(SHIPPED_TYPE).examples
        if e.version == 3 and e.valid
    }
    assert {e["name"]: e["payload"] for e in binary["examples"]} == valid
    assert all(e["headers"][type_header] == SHIPPED_TYPE for e in binary["examples"])


def test_bindings_per_broker(shipped: Registry) -> None:
    nats = asyncapi_document(shipped, broker="nats")
    assert all(
        op["bindings"] == {"nats": {"bindingVersion": "0.1.0"}}
        for op in nats["operations"].values()
    )
    pubsub = asyncapi_document(shipped, servers=("pubsub://shop-prod",))
    assert pubsub["servers"]["pubsub"]["host"] == "pubsub.googleapis.com"
    message = pubsub["components"]["messages"][f"{SHIPPED_TYPE}.v3"]
    assert message["bindings"]["googlepubsub"]["attributes"]["ce-type"] == SHIPPED_TYPE
    servicebus = asyncapi_document(shipped, servers=("servicebus://shop",))
    assert servicebus["servers"]["servicebus"] == {
        "host": "shop.servicebus.windows.net",
        "protocol": "amqps",
        "description": "Azure Service Bus (AMQP 1.0)",
        "protocolVersion": "1.0",
    }


def test_deprecated_types_say_so_everywhere(
    shipped: Registry, asyncapi_modules: Path, tmp_path: Path
) -> None:
    document = asyncapi_document(shipped, broker="servicebus")
    parse(document, asyncapi_modules, tmp_path)
    message = document["components"]["messages"][f"{DEPRECATED_TYPE}.v1"]
    assert message["x-eventbus-deprecated"] is True and message["payload"]["schema"]["deprecated"]
    assert message["headers"]["properties"]["cloudEvents:deprecated"] == {
        "type": "boolean",
        "const": True,
    }
    assert "deprecated" in document["channels"][DEPRECATED_TYPE.replace(".", "-")]["description"]
    current = document["components"]["messages"][f"{SHIPPED_TYPE}.v3"]
    assert (
        "x-eventbus-deprecated" not in current
        and "cloudEvents:deprecated" not in current["headers"]["properties"]
    )


def test_anchor_references_point_into_the_document(
    tmp_path: Path, write_json: WriteJson, asyncapi_modules: Path
) -> None:
    registry_dir = tmp_path / "contracts"
    write_json(
        registry_dir / "com.example.tree" / "v1.schema.json",
        {
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "type": "object",
            "properties": {"root": {"$ref": "#node"}},
            "$defs": {
                "node": {
                    "$anchor": "node",
                    "type": "object",
                    "properties": {"children": {"type": "array", "items": {"$ref": "#node"}}},
                }
            },
        },
    )
    document = asyncapi_document(Registry(registry_dir))
    parse(document, asyncapi_modules, tmp_path)
    payload = document["components"]["messages"]["com.example.tree.v1"]["payload"]["schema"]
    assert payload["properties"]["root"]["$ref"] == (
        "#/components/messages/com.example.tree.v1/payload/schema/definitions/node"
    )


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    try:
        code = main(list(argv))
    except SystemExit as exc:
        code = int(exc.code or 0)
    out, err = capsys.readouterr()
    return code, out, err


def test_cli_asyncapi_servers(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    registry = str(Path(__file__).parents[2] / "contracts")
    out_file = tmp_path / "a.json"
    code, _, _ = run(
        capsys,
        "contracts",
        "asyncapi",
        registry,
        "--server",
        "nats://localhost:4222",
        "-o",
        str(out_file),
    )
    assert (
        code == 0
        and json.loads(out_file.read_text())["servers"]["nats"]["host"] == "localhost:4222"
    )
    code, _, err = run(capsys, "contracts", "asyncapi", registry, "--server", "ftp://x")
    assert code == 2 and "no AsyncAPI binding for scheme 'ftp'" in err
    code, _, err = run(
        capsys,
        "contracts",
        "asyncapi",
        registry,
        "--server",
        "nats://a:4222",
        "--server",
        "kafka://b:9092",
    )
    assert code == 2 and "one broker per document" in err


def test_golden_vectors_are_what_the_bus_sends_for_deprecated_types(shipped: Registry) -> None:
    vectors = dict(build_vectors(shipped))
    middleware = ValidationMiddleware(shipped)
    checked = 0
    for vector in vectors.values():
        if vector["type"] != DEPRECATED_TYPE or vector["valid"] is not True:
            continue
        event = vector["event"]
        assert event["deprecated"] in (True, "true") and "deprecationsunset" in event
        plain = Event(
            type=event["type"],
            source=event["source"],
            id=event["id"],
            time=datetime.fromisoformat(event["time"].replace("Z", "+00:00")),
            subject=event.get("subject"),
            datacontenttype=event["datacontenttype"],
            dataschema=event["dataschema"],
            data=event["data"],
        )
        sent = encode(middleware.check(plain), vector["binding"], ContentMode(vector["mode"]))
        names = [h["name"] for h in vector["message"]["headers"]]
        assert names == list(sent.headers), vector["description"]
        checked += 1
    assert checked >= 2 * len(BROKERS)


def test_the_official_html_template_renders_an_export(
    shipped: Registry, asyncapi_html_modules: Path, tmp_path: Path
) -> None:
    source = tmp_path / "asyncapi.json"
    source.write_text(
        json.dumps(asyncapi_document(shipped, servers=("nats://localhost:4222",))), encoding="utf-8"
    )
    out = tmp_path / "html"
    done = subprocess.run(
        [
            str(asyncapi_html_modules / ".bin" / "asyncapi"),
            "generate",
            "fromTemplate",
            str(source),
            str(asyncapi_html_modules / "@asyncapi" / "html-template"),
            "-o",
            str(out),
            "--force-write",
            "--no-interactive",
        ],
        capture_output=True,
        text=True,
        timeout=600,
        env={**os.environ, "PUPPETEER_SKIP_DOWNLOAD": "1"},
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    page = (out / "index.html").read_text(encoding="utf-8")
    for event_type in shipped.types:
        assert event_type.replace(".", "-") in page
    assert "ce-type" in page and "localhost:4222" in page
