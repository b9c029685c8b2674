"""Adding extension attributes to an encoded message without decoding it (``annotate``)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import msgspec

from eventbus._errors import InvalidEventError, Problem
from eventbus._wire._amqp import COLON_PREFIX, PREFIX, annotate_amqp
from eventbus._wire._binding_names import BINDINGS, unknown_binding
from eventbus._wire._kafka import KAFKA_PREFIX
from eventbus._wire._message import Message
from eventbus._wire._types import (
    _BAD_CHARS_RE,
    ExtensionValue,
    attribute_name_problem,
    to_canonical,
    value_problem,
)
from eventbus._wire._values import (
    is_cloudevents_type,
    json_encode,
    json_value,
    key_text,
    looks_structured,
)

__all__ = ["annotate"]

_raw_object = msgspec.json.Decoder(dict[str, msgspec.Raw]).decode


def _checked(attributes: Mapping[str, ExtensionValue]) -> dict[str, ExtensionValue]:
    """Validated annotation values; characters CloudEvents Strings exclude become spaces."""
    out: dict[str, ExtensionValue] = {}
    problems: list[Problem] = []
    for name, value in attributes.items():
        why = attribute_name_problem(name)
        if why is None and isinstance(value, str):
            value = _BAD_CHARS_RE.sub(" ", value)
        elif why is None:
            why = value_problem(value)
        if why is not None:
            problems.append(Problem(f"extensions.{name}", why))
        out[name] = value
    if problems:
        raise InvalidEventError(problems)
    return out


def _is_structured(message: Message, binding: str) -> bool:
    """The mode ``decode`` detects, worked out without raising on any input."""
    amqp = binding == "amqp"
    prefix = KAFKA_PREFIX if binding == "kafka" else "ce-"
    ctype: object = None
    has_attributes = has_specversion = False
    for key, value in message.headers.items():
        name = key_text(key)
        if name is None:
            continue
        low = name.lower()
        if low == "content-type":
            ctype = value
            continue
        if amqp:
            attribute = name[12:] if name[:12] in (PREFIX, COLON_PREFIX) else None
        else:
            attribute = low[3:] if low[:3] == prefix else None
        if attribute is not None and value is not None:
            has_attributes = True
            has_specversion = has_specversion or attribute == "specversion"
    if isinstance(ctype, bytes):
        ctype = ctype.decode("utf-8", "replace")
    if isinstance(ctype, str) and is_cloudevents_type(ctype):
        media = ctype.split(";", 1)[0].strip().lower()
        return media == "application/cloudevents+json" or not has_specversion
    return not has_attributes and looks_structured(message.body)


def _annotate_json(body: bytes, values: Mapping[str, ExtensionValue]) -> bytes | None:
    try:
        members = _raw_object(body)
    except (msgspec.DecodeError, RecursionError, TypeError):
        return None
    for name, value in values.items():
        members[name] = msgspec.Raw(json_encode(json_value(value)))
    return json_encode(members)


def _sendable(value: Any) -> Any:
    """A received header value as a string a ce- transport can send again: invalid UTF-8
    replaced, a repeated header's values joined."""
    if isinstance(value, bytes | bytearray):
        return bytes(value).decode("utf-8", "replace")
    if isinstance(value, list | tuple):
        return ", ".join(str(_sendable(v)) for v in value)
    return value


def _annotate_headers(
    headers: Mapping[Any, Any], binding: str, values: Mapping[str, ExtensionValue]
) -> dict[Any, Any]:
    if binding == "amqp":
        return annotate_amqp(headers, values)
    prefix = KAFKA_PREFIX if binding == "kafka" else "ce-"
    drop = {prefix + n for n in values}
    text_only = binding != "kafka"  # Kafka header values are bytes anyway
    out = {
        k: v if type(v) is str or not text_only else _sendable(v)
        for k, v in headers.items()
        if (key_text(k) or "").lower() not in drop
    }
    for name, value in values.items():
        out[prefix + name] = to_canonical(value)
    return out


def annotate(
    message: Message,
    binding: str,
    attributes: Mapping[str, ExtensionValue],
    *,
    in_headers: bool = False,
) -> Message:
    """A copy of ``message`` with extension ``attributes`` added or replaced; data untouched.

    Binary mode (or ``in_headers``): headers. Structured mode: members of the JSON body, or
    headers when the body is not a JSON object. Received header values a transport could not
    send again (bytes that are not UTF-8, a repeated header) are made sendable. Never fails on
    a malformed message; raises :class:`InvalidEventError` only for invalid attribute names or
    value types.
    """
    if binding not in BINDINGS:
        raise unknown_binding(binding)
    values = _checked(attributes)
    headers = message.headers
    if not in_headers and _is_structured(message, binding):
        body = _annotate_json(message.body, values)
        if body is not None:
            plain = _annotate_headers(headers, binding, {})
            return msgspec.structs.replace(message, headers=plain, body=body)
    return msgspec.structs.replace(message, headers=_annotate_headers(headers, binding, values))
