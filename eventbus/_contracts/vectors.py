"""``eventbus contracts vectors``: golden test vectors for encoders in other languages.

For every example of every version (valid and invalid), every binding (``ce-headers``,
``pubsub``, ``amqp``) and content mode (binary, structured): the message eventbus writes
(headers with their types, body as base64 and as text), the event a decoder must read back (in
the JSON event format), and whether the data is valid with the violations it has. Events are
deterministic (fixed id, time and source), so vectors are stable across runs; events of
deprecated types and versions carry the deprecation extension the bus adds. ``index.json``
lists every file.
"""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from eventbus._contracts.middleware import deprecation_attributes
from eventbus._contracts.registry import Example, Registry
from eventbus._wire._bindings import BINDINGS, ContentMode, decode, encode
from eventbus._wire._event import Event
from eventbus._wire._format import to_json
from eventbus._wire._message import HeaderValue, Message
from eventbus._wire._types import format_time

__all__ = ["VECTOR_TIME", "build_vectors", "write_vectors"]

VECTOR_TIME = datetime(2025, 1, 1, tzinfo=UTC)


def _header(name: str, value: HeaderValue) -> dict[str, str]:
    if isinstance(value, bool):
        return {"name": name, "type": "boolean", "value": "true" if value else "false"}
    if isinstance(value, int):
        return {"name": name, "type": "long", "value": str(value)}
    if isinstance(value, bytes):
        return {"name": name, "type": "binary", "value": base64.b64encode(value).decode()}
    if isinstance(value, datetime):
        return {"name": name, "type": "timestamp", "value": format_time(value)}
    return {"name": name, "type": "string", "value": value}


def _message_json(message: Message) -> dict[str, Any]:
    try:
        text: str | None = message.body.decode("utf-8")
    except UnicodeDecodeError:
        text = None
    return {
        "headers": [_header(k, v) for k, v in message.headers.items()],
        "body_base64": base64.b64encode(message.body).decode(),
        "body_text": text,
        "key": message.key,
        "dedupe_id": message.dedupe_id,
    }


def _event(registry: Registry, example: Example) -> Event[Any]:
    """The event the bus sends for an example: with the deprecation extension when the type
    or version is deprecated, as the validation middleware adds it."""
    event: Event[Any] = Event(
        type=example.type,
        source=f"/eventbus/vectors/{registry.name}",
        id=f"{example.type}.v{example.version}.{example.name}",
        time=VECTOR_TIME,
        subject=example.name,
        datacontenttype="application/json",
        dataschema=registry.dataschema(example.type, example.version),
        data=example.data,
    )
    deprecation = registry.contract(example.type).deprecation(example.version)
    if deprecation is not None:
        event = event.with_extensions(**deprecation_attributes(registry, deprecation))
    return event


def build_vectors(registry: Registry) -> list[tuple[str, dict[str, Any]]]:
    """``(relative file name, vector)`` for every example, binding and content mode."""
    out: list[tuple[str, dict[str, Any]]] = []
    for contract in registry.contracts:
        for example in contract.examples:
            if example.version not in {v.version for v in contract.versions}:
                continue
            event = _event(registry, example)
            violations = registry.violations(example.type, example.data, example.version)
            verdict = "valid" if example.valid else "invalid"
            for binding in BINDINGS:
                for mode in ContentMode:
                    message = encode(event, binding, mode)
                    expected = json.loads(to_json(decode(message, binding)))
                    name = f"{example.type}/v{example.version}/{example.name}.{verdict}.{binding}.{mode.value}.json"
                    out.append(
                        (
                            name,
                            {
                                "description": f"{example.type} v{example.version} example "
                                f"{example.name!r} ({verdict}) in the {binding} binding, "
                                f"{mode.value} content mode",
                                "type": example.type,
                                "version": example.version,
                                "dataschema": event.dataschema,
                                "example": example.name,
                                "binding": binding,
                                "mode": mode.value,
                                "message": _message_json(message),
                                "event": expected,
                                "valid": not violations,
                                "violations": [
                                    {
                                        "pointer": v.pointer,
                                        "keyword": v.keyword,
                                        "message": v.message,
                                    }
                                    for v in violations
                                ],
                            },
                        )
                    )
    return out


def write_vectors(registry: Registry, out_dir: Path) -> list[dict[str, Any]]:
    """Write every vector and ``index.json`` under ``out_dir``; return the index entries."""
    index = []
    for name, vector in build_vectors(registry):
        path = out_dir / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(vector, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        index.append(
            {
                "file": name,
                "type": vector["type"],
                "version": vector["version"],
                "example": vector["example"],
                "valid": vector["valid"],
                "binding": vector["binding"],
                "mode": vector["mode"],
            }
        )
    out_dir.mkdir(parents=True, exist_ok=True)
    manifest = {
        "$comment": "Golden CloudEvents vectors written by `eventbus contracts vectors`: encode "
        "`event` in `binding` and `mode` and compare with `message`; decode `message` and "
        "compare with `event`; validate the data and compare with `valid`/`violations`.",
        "registry": registry.name,
        "vectors": index,
    }
    (out_dir / "index.json").write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    return index
