"""``eventbus contracts asyncapi``: the registry as one AsyncAPI 3.0 document.

One channel per event type (its address is the type: the bus's default route), one message per
schema version (``components.messages["<type>.v<N>"]``), a ``send`` and/or ``receive`` operation
per channel. Each message carries the binary-mode ``ce-`` headers as its ``headers`` schema and
the registered schema as its payload (``schemaFormat`` draft-07: 2020-12 schemas are converted
when they only use keywords draft-07 has; otherwise the format says 2020-12). References inside a
payload are rewritten to point into the document, where AsyncAPI resolves them.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Mapping
from typing import Any

from eventbus._contracts.registry import Contract, Registry, SchemaVersion

__all__ = ["asyncapi_document"]

DRAFT7_FORMAT = "application/schema+json;version=draft-07"
DRAFT2020_FORMAT = "application/schema+json;version=2020-12"
_NOT_IN_DRAFT7 = {"unevaluatedProperties", "unevaluatedItems", "$dynamicRef", "$dynamicAnchor"}
_NOT_IN_DRAFT7 |= {"dependentSchemas", "dependentRequired", "minContains", "maxContains"}
_VALUES = frozenset({"enum", "const", "default", "examples"})  # data, not schemas


def _id(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_-]", "-", text)


def asyncapi_document(
    registry: Registry,
    *,
    title: str | None = None,
    version: str = "1.0.0",
    actions: tuple[str, ...] = ("send", "receive"),
) -> dict[str, Any]:
    """An AsyncAPI 3.0.0 document (a JSON-ready dict) describing every type and version."""
    channels: dict[str, Any] = {}
    operations: dict[str, Any] = {}
    messages: dict[str, Any] = {}
    for contract in registry.contracts:
        channel_id = _id(contract.type)
        refs: dict[str, Any] = {}
        for sv in contract.versions:
            message_id = f"{contract.type}.v{sv.version}"
            messages[message_id] = _message(registry, contract, sv, message_id)
            refs[message_id] = {"$ref": f"#/components/messages/{message_id}"}
        channel: dict[str, Any] = {"address": contract.type, "messages": refs}
        if contract.config.description:
            channel["description"] = contract.config.description
        channels[channel_id] = channel
        for action in actions:
            operations[f"{action}-{channel_id}"] = {
                "action": action,
                "channel": {"$ref": f"#/channels/{channel_id}"},
                "summary": f"{'Publish' if action == 'send' else 'Consume'} {contract.type}",
                "messages": [{"$ref": f"#/channels/{channel_id}/messages/{m}"} for m in refs],
            }
    info: dict[str, Any] = {"title": title or f"{registry.name} events", "version": version}
    if registry.description:
        info["description"] = registry.description
    return {
        "asyncapi": "3.0.0",
        "info": info,
        "defaultContentType": "application/json",
        "channels": channels,
        "operations": operations,
        "components": {"messages": messages},
    }


def _message(
    registry: Registry, contract: Contract, sv: SchemaVersion, message_id: str
) -> dict[str, Any]:
    schema_format, payload = _payload(
        sv.schema, f"#/components/messages/{message_id}/payload/schema"
    )
    message: dict[str, Any] = {
        "name": contract.type,
        "title": str(sv.schema.get("title") or f"{contract.type} v{sv.version}"),
        "contentType": "application/json",
        "headers": _headers(contract.type, sv.uri),
        "payload": {"schemaFormat": schema_format, "schema": payload},
        "x-eventbus-dataschema": sv.uri,
        "x-eventbus-version": sv.version,
    }
    description = sv.schema.get("description") or contract.config.description
    deprecation = contract.deprecation(sv.version)
    if deprecation is not None:
        description = f"{description or ''} ({deprecation.describe()})".strip()
        message["x-eventbus-deprecated"] = True
    if description:
        message["summary"] = description
    return message


def _headers(event_type: str, uri: str) -> dict[str, Any]:
    text = {"type": "string", "minLength": 1}
    return {
        "type": "object",
        "description": "CloudEvents attributes in binary content mode (ce- headers)",
        "properties": {
            "ce-specversion": {"type": "string", "const": "1.0"},
            "ce-type": {"type": "string", "const": event_type},
            "ce-id": text,
            "ce-source": text,
            "ce-time": {"type": "string", "format": "date-time"},
            "ce-subject": text,
            "ce-datacontenttype": {"type": "string", "const": "application/json"},
            "ce-dataschema": {"type": "string", "const": uri},
        },
        "required": ["ce-specversion", "ce-type", "ce-id", "ce-source"],
    }


def _payload(schema: Mapping[str, Any], here: str) -> tuple[str, Any]:
    converted = copy.deepcopy(dict(schema))
    draft7 = str(schema.get("$schema", "")).startswith("http://json-schema.org/draft-07")
    schema_format = DRAFT7_FORMAT
    if not draft7:
        if _uses(converted, _NOT_IN_DRAFT7):
            schema_format = DRAFT2020_FORMAT
        else:
            converted = _to_draft7(converted)
    converted.pop("$schema", None)
    converted.pop("$id", None)
    return schema_format, _rebase_refs(converted, here)


def _uses(node: Any, keywords: set[str]) -> bool:
    if isinstance(node, dict):
        return bool(node.keys() & keywords) or any(_uses(v, keywords) for v in node.values())
    if isinstance(node, list):
        return any(_uses(v, keywords) for v in node)
    return False


def _to_draft7(node: Any) -> Any:
    """2020-12 -> draft-07 for the keywords both have under other names."""
    if isinstance(node, list):
        return [_to_draft7(v) for v in node]
    if not isinstance(node, dict):
        return node
    out = {k: (v if k in _VALUES else _to_draft7(v)) for k, v in node.items()}
    if "$defs" in out:
        out["definitions"] = out.pop("$defs")
    if isinstance(out.get("$ref"), str):
        out["$ref"] = out["$ref"].replace("#/$defs/", "#/definitions/")
    if "prefixItems" in out:
        rest = out.pop("items", None)
        out["items"] = out.pop("prefixItems")
        if rest is not None:
            out["additionalItems"] = rest
    return out


def _rebase_refs(node: Any, here: str) -> Any:
    if isinstance(node, list):
        return [_rebase_refs(v, here) for v in node]
    if not isinstance(node, dict):
        return node
    out = {k: (v if k in _VALUES else _rebase_refs(v, here)) for k, v in node.items()}
    ref = out.get("$ref")
    if isinstance(ref, str) and ref.startswith("#"):
        out["$ref"] = here + ref[1:]
    return out
