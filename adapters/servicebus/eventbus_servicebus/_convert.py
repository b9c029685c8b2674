"""``Message`` to and from the SDK's messages (the bus encodes with the "amqp" binding).

Out: the header ``content-type`` becomes the AMQP ``properties.content-type``; every other
header an application property, value as it is (native bool/str/bytes/datetime), except that an
int goes out as an AMQP ``long``, as the CloudEvents AMQP binding maps Integer (the SDK's encoder
would pick the 32-bit ``int``; its typed-value form ``{"TYPE": "LONG", "VALUE": n}`` says long).
``dedupe_id`` becomes the MessageId (duplicate detection); ``key`` the SessionId.

In: application properties become headers again; a message without a body section has an
empty body (an event without data). The SDK returns property names and string
values as ``bytes`` (and binary values as ``bytes`` too, indistinguishably): names are decoded,
and values that are valid UTF-8 become ``str``. A timestamp with sub-millisecond digits is sent as
its canonical RFC 3339 string (receivers must accept both forms), since an AMQP timestamp
holds milliseconds only and the round trip would change the event. An AMQP timestamp arrives as milliseconds
since the epoch (the amqp binding reads an int ``time`` that way). ``content_type`` becomes the
``content-type`` header again.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from azure.servicebus import ServiceBusMessage, ServiceBusReceivedMessage

from eventbus.adapter import HeaderValue, Message

__all__ = ["ATTEMPTS_PROPERTY", "from_received", "session_for", "to_servicebus"]

# The SDK's AMQP encoder takes {"TYPE": ..., "VALUE": ...} for a value of a given AMQP type.
_TYPE, _VALUE, _LONG = "TYPE", "VALUE", "LONG"
#: Attempts made before a scheduled copy (queues' delayed redelivery); not shown as a header.
ATTEMPTS_PROPERTY = "eventbus-attempts"
_MAX_SESSION_ID = 128
#: The session of messages without a partition key: one, so that they keep their order too in
#: a session-enabled subscription (where they are handled one at a time).
UNKEYED_SESSION = "eventbus-unkeyed"


def session_for(message: Message) -> str:
    """The SessionId: the partition key; messages without one share one session.

    Every message carries one, so that any subscription may be session-enabled (ordered
    subscribers); subscriptions without sessions ignore it."""
    key = message.key
    if key is None:
        return UNKEYED_SESSION
    if len(key) > _MAX_SESSION_ID:
        return hashlib.sha256(key.encode()).hexdigest()
    return key


_INT32_MIN, _INT32_MAX = -(2**31), 2**31 - 1


def to_servicebus(message: Message, extra: Mapping[str, Any] | None = None) -> ServiceBusMessage:
    properties: dict[str | bytes, Any] = {}
    content_type = None
    for name, value in message.headers.items():
        if name.lower() == "content-type" and isinstance(value, str):
            content_type = value
        elif isinstance(value, datetime) and value.microsecond % 1000:
            properties[name] = _canonical_time(value)  # an AMQP timestamp keeps milliseconds
        elif type(value) is int and not _INT32_MIN <= value <= _INT32_MAX:
            # Only a received AMQP timestamp (milliseconds) is an int this large (CloudEvents
            # integers are 32-bit); the SDK sends ints as AMQP int, so send it as a timestamp.
            properties[name] = datetime.fromtimestamp(value / 1000, UTC)
        elif type(value) is int:
            properties[name] = {_TYPE: _LONG, _VALUE: value}
        else:
            properties[name] = value
    if extra:
        properties.update(extra)
    return ServiceBusMessage(
        message.body,
        application_properties=properties or None,
        content_type=content_type,
        message_id=message.dedupe_id,
        session_id=session_for(message),
    )


def _canonical_time(value: datetime) -> str:
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _text(value: Any) -> Any:
    if isinstance(value, bytes | bytearray | memoryview):
        raw = bytes(value)
        try:
            return raw.decode("utf-8")
        except UnicodeDecodeError:
            return raw
    return value


def body_of(received: ServiceBusReceivedMessage) -> bytes:
    body = received.body
    if body is None:  # no body section: an event without data
        return b""
    if isinstance(body, bytes | bytearray):
        return bytes(body)
    if isinstance(body, str):
        return body.encode()
    try:
        return b"".join(bytes(part) for part in body)
    except TypeError:
        return str(body).encode()


def from_received(received: ServiceBusReceivedMessage) -> tuple[Message, int]:
    """The message, and the attempts it had before this copy (scheduled redelivery)."""
    headers: dict[str, HeaderValue] = {}
    earlier = 0
    for raw_name, value in (received.application_properties or {}).items():
        name = raw_name.decode("utf-8", "replace") if isinstance(raw_name, bytes) else str(raw_name)
        if name == ATTEMPTS_PROPERTY:
            earlier = int(value) if isinstance(value, int) else 0
            continue
        headers[name] = _text(value)
    if received.content_type:
        headers["content-type"] = received.content_type
    key = received.session_id
    if key == UNKEYED_SESSION:
        key = None
    message = Message(
        headers=headers, body=body_of(received), key=key, dedupe_id=received.message_id
    )
    return message, earlier
