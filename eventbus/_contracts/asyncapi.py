"""``eventbus contracts asyncapi``: the registry as one AsyncAPI 3.0 document, per broker.

One channel per event type (its address is the type: the bus's default route), two messages per
schema version, ``<type>.v<N>`` in binary content mode (the data as payload, the CloudEvents
attributes as headers) and ``<type>.v<N>.structured`` (the whole CloudEvent as payload), and a
``send`` and/or ``receive`` operation per channel. ``servers`` come from the URLs given
(``nats://``, ``pubsub://PROJECT``, ``servicebus://NAMESPACE`` or ``amqps://``, ``kafka://``);
the broker decides the header names (``ce-`` headers on NATS, ``ce-`` attributes on Pub/Sub,
``cloudEvents:`` application properties on AMQP 1.0 / Service Bus, ``ce_`` on Kafka), read off
eventbus's own encoders, and the bindings (NATS operation, Google Pub/Sub and Kafka message).
Messages carry the registry's valid examples as sent, and deprecated types and versions say so
(the deprecation extension in the headers, ``deprecated`` on the payload schema).

Payloads are the registered schemas (``schemaFormat`` draft-07: 2020-12 schemas are converted
when they only use keywords draft-07 has; otherwise the format says 2020-12). References inside
a payload, JSON pointers and ``$anchor`` names alike, are rewritten to point into the document.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Mapping
from typing import Any

from eventbus._contracts.asyncapi_wire import (
    Broker,
    broker_for,
    example_messages,
    headers_schema,
    server_object,
)
from eventbus._contracts.jsonvalue import escape
from eventbus._contracts.registry import Contract, Registry, SchemaVersion
from eventbus._contracts.validate import DRAFT7
from eventbus._wire._bindings import ContentMode

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
    servers: tuple[str, ...] = (),
    broker: str | None = None,
) -> dict[str, Any]:
    """An AsyncAPI 3.0.0 document (a JSON-ready dict) describing every type and version on
    the broker of ``servers`` (or ``broker``: nats, pubsub, servicebus, kafka)."""
    target = broker_for(list(servers), broker)
    channels: dict[str, Any] = {}
    operations: dict[str, Any] = {}
    messages: dict[str, Any] = {}
    for contract in registry.contracts:
        channel_id = _id(contract.type)
        refs: dict[str, Any] = {}
        for sv in contract.versions:
            for mode in ContentMode:
                message_id = f"{contract.type}.v{sv.version}"
                if mode is ContentMode.STRUCTURED:
                    message_id += ".structured"
                messages[message_id] = _message(registry, contract, sv, message_id, target, mode)
                refs[message_id] = {"$ref": f"#/components/messages/{message_id}"}
        channel: dict[str, Any] = {"address": contract.type, "messages": refs}
        description = contract.config.description
        if contract.config.deprecated is not None:
            description = (
                f"{description or contract.type} ({contract.config.deprecated.describe()})"
            )
        if description:
            channel["description"] = description
        channels[channel_id] = channel
        for action in actions:
            operation: dict[str, Any] = {
                "action": action,
                "channel": {"$ref": f"#/channels/{channel_id}"},
                "summary": f"{'Publish' if action == 'send' else 'Consume'} {contract.type}",
                "messages": [{"$ref": f"#/channels/{channel_id}/messages/{m}"} for m in refs],
            }
            if target.name == "nats":
                operation["bindings"] = {"nats": {"bindingVersion": "0.1.0"}}
            operations[f"{action}-{channel_id}"] = operation
    info: dict[str, Any] = {"title": title or f"{registry.name} events", "version": version}
    if registry.description:
        info["description"] = registry.description
    document: dict[str, Any] = {"asyncapi": "3.0.0", "info": info}
    if servers:
        document["servers"] = {
            (f"{target.name}-{index}" if len(servers) > 1 else target.name): server_object(
                url, target
            )
            for index, url in enumerate(servers, 1)
        }
    document["defaultContentType"] = "application/json"
    document["channels"] = channels
    document["operations"] = operations
    document["components"] = {"messages": messages}
    return document


def _message(
    registry: Registry,
    contract: Contract,
    sv: SchemaVersion,
    message_id: str,
    broker: Broker,
    mode: ContentMode,
) -> dict[str, Any]:
    here = f"#/components/messages/{message_id}/payload/schema"
    structured = mode is ContentMode.STRUCTURED
    deprecation = contract.deprecation(sv.version)
    schema_format, data_schema = _payload(
        sv.schema, sv.dialect, f"{here}/properties/data" if structured else here
    )
    if deprecation is not None:
        data_schema["deprecated"] = True
    message: dict[str, Any] = {
        "name": f"{contract.type}{'.structured' if structured else ''}",
        "title": str(sv.schema.get("title") or f"{contract.type} v{sv.version}")
        + (" (structured)" if structured else ""),
        "contentType": "application/cloudevents+json" if structured else "application/json",
        "headers": headers_schema(registry, sv, broker, mode),
        "payload": {
            "schemaFormat": schema_format,
            "schema": _envelope(registry, sv, data_schema) if structured else data_schema,
        },
        "x-eventbus-dataschema": sv.uri,
        "x-eventbus-version": sv.version,
        "x-eventbus-content-mode": mode.value,
    }
    examples = example_messages(registry, sv, broker, mode)
    if examples:
        message["examples"] = examples
    bindings = _message_bindings(sv, broker)
    if bindings:
        message["bindings"] = bindings
    description = sv.schema.get("description") or contract.config.description
    if deprecation is not None:
        description = f"{description or ''} ({deprecation.describe()})".strip()
        message["x-eventbus-deprecated"] = True
    if description:
        message["summary"] = description
    return message


def _message_bindings(sv: SchemaVersion, broker: Broker) -> dict[str, Any]:
    if broker.name == "pubsub":
        fixed = {"ce-specversion": "1.0", "ce-type": sv.type, "ce-dataschema": sv.uri}
        return {"googlepubsub": {"attributes": fixed, "bindingVersion": "0.2.0"}}
    if broker.name == "kafka":
        key = {"type": "string", "description": "the partitionkey extension, when set"}
        return {"kafka": {"key": key, "bindingVersion": "0.5.0"}}
    return {}


def _envelope(registry: Registry, sv: SchemaVersion, data_schema: Any) -> dict[str, Any]:
    """The JSON event format of this version: the CloudEvent with ``data`` as a member."""
    text = {"type": "string", "minLength": 1}
    properties: dict[str, Any] = {
        "specversion": {"type": "string", "const": "1.0"},
        "type": {"type": "string", "const": sv.type},
        "id": text,
        "source": text,
        "time": {"type": "string", "format": "date-time"},
        "subject": text,
        "datacontenttype": {"type": "string", "const": "application/json"},
        "dataschema": {"type": "string", "const": sv.uri},
        "data": data_schema,
    }
    if registry.contract(sv.type).deprecation(sv.version) is not None:
        properties["deprecated"] = {"type": "boolean", "const": True}
        for name in ("deprecationfrom", "deprecationsunset"):
            properties[name] = {"type": "string", "format": "date-time"}
        properties["deprecationmigration"] = {"type": "string", "format": "uri"}
    return {
        "type": "object",
        "description": "a CloudEvent in the JSON event format (structured content mode)",
        "properties": properties,
        "required": ["specversion", "type", "id", "source", "data"],
    }


def _payload(schema: Mapping[str, Any], dialect: str | None, here: str) -> tuple[str, Any]:
    converted = copy.deepcopy(dict(schema))
    schema_format = DRAFT7_FORMAT
    if dialect != DRAFT7:
        if _uses(converted, _NOT_IN_DRAFT7):
            schema_format = DRAFT2020_FORMAT
        else:
            converted = _to_draft7(converted)
    converted.pop("$schema", None)
    converted.pop("$id", None)
    return schema_format, _rebase_refs(converted, here, _anchors(converted))


def _anchors(node: Any, path: str = "") -> dict[str, str]:
    """``$anchor`` name -> JSON pointer of its subschema (values under enum/const skipped)."""
    found: dict[str, str] = {}
    if isinstance(node, dict):
        if isinstance(node.get("$anchor"), str):
            found[node["$anchor"]] = path
        for key, value in node.items():
            if key not in _VALUES:
                found.update(_anchors(value, f"{path}/{escape(key)}"))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            found.update(_anchors(value, f"{path}/{index}"))
    return found


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


def _rebase_refs(node: Any, here: str, anchors: dict[str, str]) -> Any:
    if isinstance(node, list):
        return [_rebase_refs(v, here, anchors) for v in node]
    if not isinstance(node, dict):
        return node
    out = {k: (v if k in _VALUES else _rebase_refs(v, here, anchors)) for k, v in node.items()}
    ref = out.get("$ref")
    if isinstance(ref, str) and ref.startswith("#"):
        fragment = ref[1:]
        if fragment and not fragment.startswith("/"):  # an anchor: its subschema's pointer
            fragment = anchors.get(fragment, fragment)
        out["$ref"] = here + fragment
    return out
