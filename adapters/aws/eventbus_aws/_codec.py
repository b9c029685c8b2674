"""``Message`` <-> SNS/SQS message: a text body plus typed message attributes.

SQS bodies (and SNS messages) are text: Unicode limited to ``#x9 #xA #xD #x20-#xD7FF
#xE000-#xFFFD #x10000-#x10FFFF`` (SQS ``SendMessage`` reference), and SNS refuses an empty message.
A body that is such text travels as it is (structured-mode JSON always is). Any other body
(binary-mode data that is not UTF-8 text, such as protobuf, or an empty body) is sent as base64
with the attribute ``eventbus-body`` saying so (``base64`` or ``empty``), the way kombu's SQS
transport base64-encodes bodies; receivers undo it. That attribute counts against SQS's 10: a
message with a non-text body may carry 9 headers (LimitExceededError otherwise).

Header values: ``str`` travels as a ``String`` attribute, ``bytes`` as ``Binary``, ``int`` as
``Number`` (read back as its string), ``bool`` as the ``String`` ``true`` / ``false``. SQS refuses
empty attribute values, so an empty string travels as the custom type ``String.empty`` with the
value ``-`` (SQS allows ``String.<label>`` types).
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Mapping
from typing import Any

from eventbus.adapter import ConfigurationError, HeaderValue, LimitExceededError, Message
from eventbus_aws._names import ADAPTER_NAME, MAX_ATTRIBUTES, MAX_MESSAGE_BYTES

__all__ = ["BODY_ATTRIBUTE", "Outgoing", "from_sqs", "to_aws"]

BODY_ATTRIBUTE = "eventbus-body"
_BASE64, _EMPTY = "base64", "empty"
_EMPTY_STRING = {"DataType": "String.empty", "StringValue": "-"}
_NOT_TEXT = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
_ATTRIBUTE_NAME = re.compile(r"(?!(?:aws|amazon)\.)(?!\.)(?!.*\.\.)[A-Za-z0-9_.\-]{1,256}(?<!\.)")


class Outgoing:
    """One message as SNS/SQS want it: ``body`` text and ``attributes`` (API shape)."""

    __slots__ = ("attributes", "body", "size")

    def __init__(self, body: str, attributes: dict[str, dict[str, Any]], size: int) -> None:
        self.body = body
        self.attributes = attributes
        self.size = size


def _attribute(name: str, value: HeaderValue) -> tuple[dict[str, Any], int]:
    if not _ATTRIBUTE_NAME.fullmatch(name) or name.lower().startswith(("aws.", "amazon.")):
        raise ConfigurationError(
            f"header {name!r} cannot be an SQS message attribute name (letters, digits, '-', "
            "'_' and '.', at most 256, no leading/trailing or double '.', no 'AWS.'/'Amazon.')"
        )
    if isinstance(value, bytes):
        return {"DataType": "Binary", "BinaryValue": value}, len(name) + 6 + len(value)
    if isinstance(value, bool):
        text = "true" if value else "false"
    elif isinstance(value, int):
        return {"DataType": "Number", "StringValue": str(value)}, len(name) + 6 + len(str(value))
    elif isinstance(value, str):
        text = value
    else:
        raise ConfigurationError(
            f"header {name!r} holds a {type(value).__name__}; SQS attributes carry text, "
            "numbers and bytes"
        )
    if not text:
        return dict(_EMPTY_STRING), len(name) + len(_EMPTY_STRING["DataType"]) + 1
    if _NOT_TEXT.search(text):
        raise ConfigurationError(
            f"header {name!r}: an SQS attribute value must be text without control characters"
        )
    return {"DataType": "String", "StringValue": text}, len(name) + 6 + len(text.encode())


def to_aws(message: Message) -> Outgoing:
    """``message`` as body text and attributes; LimitExceededError past 256 KiB."""
    attributes: dict[str, dict[str, Any]] = {}
    size = 0
    for name, value in message.headers.items():
        attributes[name], n = _attribute(name, value)
        size += n
    raw = message.body
    try:
        body = raw.decode()
        marker = None if body and not _NOT_TEXT.search(body) else (_BASE64 if body else _EMPTY)
    except UnicodeDecodeError:
        marker = _BASE64
    if marker == _BASE64:
        body = base64.b64encode(raw).decode()
    elif marker == _EMPTY:
        body = _EMPTY
    if len(attributes) + (marker is not None) > MAX_ATTRIBUTES:
        what = "message attribute count" + (f" (with {BODY_ATTRIBUTE})" if marker else "")
        actual = len(attributes) + (marker is not None)
        raise LimitExceededError(what, MAX_ATTRIBUTES, actual, adapter=ADAPTER_NAME)
    if marker is not None:
        attributes[BODY_ATTRIBUTE] = {"DataType": "String", "StringValue": marker}
        size += len(BODY_ATTRIBUTE) + 6 + len(marker)
    size += len(body) if marker else len(raw)
    if size > MAX_MESSAGE_BYTES:
        what = "message size in bytes" + (" (body as base64)" if marker == _BASE64 else "")
        raise LimitExceededError(what, MAX_MESSAGE_BYTES, size, adapter=ADAPTER_NAME)
    return Outgoing(body, attributes, size)


def _value(attribute: Mapping[str, Any]) -> HeaderValue:
    kind = attribute.get("DataType", "")
    if kind == _EMPTY_STRING["DataType"]:
        return ""
    if kind.startswith("Binary"):
        value = attribute.get("BinaryValue", b"")
        return value if isinstance(value, bytes) else str(value).encode()
    return str(attribute.get("StringValue", ""))


def from_sqs(
    body: str, attributes: Mapping[str, Mapping[str, Any]], key: str | None, dedupe_id: str | None
) -> Message:
    """A received SQS message as a :class:`Message` (the body marker undone)."""
    headers: dict[str, HeaderValue] = {}
    marker = None
    for name, attribute in attributes.items():
        if name == BODY_ATTRIBUTE:
            marker = attribute.get("StringValue")
        else:
            headers[name] = _value(attribute)
    if marker == _EMPTY:
        data = b""
    elif marker == _BASE64:
        try:
            data = base64.b64decode(body, validate=True)
        except (binascii.Error, ValueError):
            data = body.encode()  # not ours after all: hand it over as it came
    else:
        data = body.encode()
    return Message(headers, data, key, dedupe_id)
