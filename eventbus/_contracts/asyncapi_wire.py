"""What the AsyncAPI export says about the wire: servers from URLs, and per binding the header
(attribute, application property) names and examples, taken from eventbus's own encoders.

Header schemas are not written by hand: a probe event of the version (every optional attribute
set, the deprecation extension when the bus adds it) is encoded with the binding, and each
header it gets is described, so the document names exactly what the bus sends on that broker.
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

from eventbus._contracts.middleware import deprecation_attributes
from eventbus._contracts.registry import Registry, SchemaVersion
from eventbus._errors import RegistryError
from eventbus._wire._bindings import ContentMode, encode
from eventbus._wire._event import Event
from eventbus._wire._format import to_json

__all__ = ["Broker", "broker_for", "example_messages", "headers_schema", "server_object"]

_PROBE_TIME = datetime(2025, 1, 1, tzinfo=UTC)
_REQUIRED = ("specversion", "type", "id", "source")
_FIXED = ("specversion", "type", "datacontenttype", "dataschema")


@dataclass(frozen=True)
class Broker:
    """A broker family: its AsyncAPI protocol, eventbus binding and how headers are called."""

    name: str
    protocol: str
    binding: str
    headers: str  # what the document calls the message's headers on this broker
    protocol_version: str | None = None


BROKERS = {
    "nats": Broker("nats", "nats", "ce-headers", "NATS message headers"),
    "pubsub": Broker("pubsub", "googlepubsub", "pubsub", "Pub/Sub message attributes"),
    "servicebus": Broker(
        "servicebus", "amqp", "amqp", "AMQP 1.0 application properties", protocol_version="1.0"
    ),
    "kafka": Broker("kafka", "kafka", "kafka", "Kafka record headers"),
}
GENERIC = Broker("generic", "", "ce-headers", "binary-mode ce- headers")
_SCHEMES = {
    "nats": "nats",
    "tls": "nats",
    "pubsub": "pubsub",
    "servicebus": "servicebus",
    "amqp": "servicebus",
    "amqps": "servicebus",
    "kafka": "kafka",
}


def broker_for(urls: list[str], name: str | None = None) -> Broker:
    """The broker of the servers' URLs (all must agree), or the one named; generic without
    either. Raises :class:`RegistryError` naming a URL eventbus cannot describe."""
    found: set[str] = set()
    for url in urls:
        scheme = urlsplit(url).scheme.lower()
        if scheme not in _SCHEMES:
            raise RegistryError(
                f"--server {_public(url)!r}: no AsyncAPI binding for scheme {scheme!r} "
                f"(one of: {', '.join(sorted(_SCHEMES))})"
            )
        found.add(_SCHEMES[scheme])
    if name is not None:
        found.add(name)
    if len(found) > 1:
        raise RegistryError(f"one broker per document: got {', '.join(sorted(found))}")
    return BROKERS[found.pop()] if found else GENERIC


def _public(url: str) -> str:
    """The URL without credentials, query or fragment (nothing secret goes into a document)."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if parts.port:
        host = f"{host}:{parts.port}"
    return f"{parts.scheme}://{host}{parts.path}"


def server_object(url: str, broker: Broker) -> dict[str, Any]:
    """An AsyncAPI 3.0 server for a broker URL (credentials and query dropped)."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if parts.port:
        host = f"{host}:{parts.port}"
    server: dict[str, Any] = {"host": host, "protocol": broker.protocol}
    if broker.name == "pubsub":
        server["host"] = "pubsub.googleapis.com"
        server["pathname"] = f"/projects/{host}"
        server["description"] = f"Google Cloud Pub/Sub, project {host}"
    elif broker.name == "servicebus":
        if parts.scheme.lower() == "servicebus" and "." not in host:
            server["host"] = f"{host}.servicebus.windows.net"
        server["protocol"] = "amqps" if parts.scheme.lower() != "amqp" else "amqp"
        server["description"] = "Azure Service Bus (AMQP 1.0)"
    elif parts.path and parts.path != "/":
        server["pathname"] = parts.path
    if broker.protocol_version:
        server["protocolVersion"] = broker.protocol_version
    return server


def probe_event(registry: Registry, sv: SchemaVersion, data: Any = None) -> Event[Any]:
    """The event the bus sends for this version (every optional attribute set)."""
    event: Event[Any] = Event(
        type=sv.type,
        source=f"/{registry.name}",
        id=f"{sv.type}.v{sv.version}",
        time=_PROBE_TIME,
        subject="example",
        datacontenttype="application/json",
        dataschema=sv.uri,
        data={} if data is None else data,
    )
    deprecation = registry.contract(sv.type).deprecation(sv.version)
    if deprecation is not None:
        event = event.with_extensions(**deprecation_attributes(registry, deprecation))
    return event


def _attribute(name: str, binding: str) -> str:
    lowered = name.lower()
    if lowered == "content-type":
        return "datacontenttype"
    for prefix in ("ce-", "ce_", "cloudevents_", "cloudevents:"):
        if lowered.startswith(prefix):
            return lowered[len(prefix) :]
    return lowered


def _value_schema(value: Any) -> dict[str, Any]:
    if isinstance(value, bool):
        return {"type": "boolean"}
    if isinstance(value, int):
        return {"type": "integer"}
    if isinstance(value, datetime):
        return {"type": "string", "format": "date-time", "description": "an AMQP timestamp"}
    if isinstance(value, bytes):
        return {"type": "string", "contentEncoding": "base64"}
    return {"type": "string"}


def headers_schema(
    registry: Registry, sv: SchemaVersion, broker: Broker, mode: ContentMode
) -> dict[str, Any]:
    """The headers the bus sets on this broker in this content mode, as a JSON Schema."""
    message = encode(probe_event(registry, sv), broker.binding, mode)
    properties: dict[str, Any] = {}
    required: list[str] = []
    for name, value in message.headers.items():
        attribute = _attribute(name, broker.binding)
        schema = _value_schema(value)
        if mode is ContentMode.BINARY and (
            attribute in _FIXED or attribute.startswith("deprecation") or attribute == "deprecated"
        ):
            schema["const"] = _json_header(value)
        if mode is ContentMode.STRUCTURED or attribute in _REQUIRED:
            required.append(name)
        properties[name] = schema
    what = "binary" if mode is ContentMode.BINARY else "structured"
    return {
        "type": "object",
        "description": f"{broker.headers} in CloudEvents {what} content mode",
        "properties": properties,
        "required": required,
    }


def _json_header(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat().replace("+00:00", "Z")
    if isinstance(value, bytes):
        return base64.b64encode(value).decode()
    return value


def example_messages(
    registry: Registry, sv: SchemaVersion, broker: Broker, mode: ContentMode
) -> list[dict[str, Any]]:
    """The registry's valid examples of this version as AsyncAPI message examples, with the
    headers and payload the bus sends for them on this broker."""
    examples = []
    contract = registry.contract(sv.type)
    for example in contract.examples:
        if example.version != sv.version or not example.valid:
            continue
        event = probe_event(registry, sv, example.data).replace(
            id=f"{sv.type}.v{sv.version}.{example.name}", subject=example.name
        )
        message = encode(event, broker.binding, mode)
        payload = example.data if mode is ContentMode.BINARY else json.loads(to_json(event))
        examples.append(
            {
                "name": example.name,
                "summary": f"{sv.type} v{sv.version}: examples/v{sv.version}/valid/"
                f"{example.path.name}",
                "headers": {k: _json_header(v) for k, v in message.headers.items()},
                "payload": payload,
            }
        )
    return examples
