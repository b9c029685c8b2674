"""The AMQP 1.0 binding (Azure Service Bus): binary mode to and from application properties.

Attributes are application properties ``cloudEvents_<name>`` with native values (bool, int,
str, bytes, datetime). ``datacontenttype`` is the header ``content-type``: the AMQP
``properties.content-type``, which the adapter maps. Receivers also read ``cloudEvents:``,
canonical strings, bytes names and bytes values of string attributes (the Azure SDK hands
those over as bytes; bytes extension values stay Binary), and an int ``time`` as AMQP
milliseconds since the epoch (the official Python SDK writes that).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any, Final

from eventbus._errors import DecodeError
from eventbus._wire._event import Event
from eventbus._wire._format import from_json, read_structured
from eventbus._wire._message import HeaderValue
from eventbus._wire._types import ExtensionValue
from eventbus._wire._values import (
    binary_data,
    build_event,
    is_cloudevents_type,
    key_text,
    looks_structured,
    no_values,
    parse_time_text,
    set_data,
    text,
)

PREFIX: Final = "cloudEvents_"
COLON_PREFIX: Final = "cloudEvents:"
_EPOCH: Final = datetime(1970, 1, 1, tzinfo=UTC)
_STRING_ATTRIBUTES: Final = ("specversion", "id", "source", "type", "subject", "dataschema")


def encode_amqp(event: Event[Any]) -> dict[str, HeaderValue]:
    """Binary-mode headers of ``event``."""
    out: dict[str, HeaderValue] = {
        "cloudEvents_specversion": event.specversion,
        "cloudEvents_id": event.id,
        "cloudEvents_source": event.source,
        "cloudEvents_type": event.type,
    }
    if event.datacontenttype is not None:
        out["content-type"] = event.datacontenttype
    if event.dataschema is not None:
        out["cloudEvents_dataschema"] = event.dataschema
    if event.subject is not None:
        out["cloudEvents_subject"] = event.subject
    if event.time is not None:
        out["cloudEvents_time"] = event.time
    for name, value in event.extensions.items():
        out[PREFIX + name] = value
    return out


def _time(value: object, where: str) -> datetime:
    if isinstance(value, datetime):
        return value if value.tzinfo is not None else value.replace(tzinfo=UTC)
    if isinstance(value, int) and not isinstance(value, bool):
        try:
            return _EPOCH + timedelta(milliseconds=value)  # exact, unlike value / 1000
        except OverflowError:
            raise DecodeError("timestamp is out of range", where=where) from None
    return parse_time_text(text(value, where), where)


def _extension(value: object, where: str) -> ExtensionValue:
    if isinstance(value, str | int | bytes):  # bool is an int
        return value
    if isinstance(value, datetime):
        return value if value.tzinfo is not None else value.replace(tzinfo=UTC)
    raise DecodeError(f"unsupported value type {type(value).__name__}", where=where)


def _where(name: str) -> str:
    return "content-type" if name == "datacontenttype" else PREFIX + name


def decode_amqp(headers: Mapping[Any, Any], body: bytes, data_type: Any) -> Event[Any]:
    """The event in an AMQP message (either mode)."""
    attrs: dict[str, Any] = {}
    ctype: Any = None
    for key, value in headers.items():
        if type(key) is not str and (key := key_text(key)) is None:
            continue
        if key[:12] == PREFIX:
            attrs[key[12:]] = value
        elif key[:12] == COLON_PREFIX:
            attrs.setdefault(key[12:], value)  # "cloudEvents_" wins if both are present
        elif key.lower() == "content-type":
            ctype = value
    if ctype is not None:
        ctype = text(ctype, "content-type")
        if is_cloudevents_type(ctype):
            binary = attrs.get("specversion") is not None
            event = read_structured(body, ctype, data_type, binary)
            if event is not None:
                return event
    if no_values(attrs) and looks_structured(body):
        return from_json(body, data_type)
    specversion, id_, source, type_, subject, dataschema = (
        None if (value := attrs.pop(name, None)) is None else text(value, PREFIX + name)
        for name in _STRING_ATTRIBUTES
    )
    time = attrs.pop("time", None)
    if time is not None:
        time = _time(time, "cloudEvents_time")
    extensions = {
        name: _extension(value, PREFIX + name) for name, value in attrs.items() if value is not None
    }
    event = build_event(
        _where, specversion, id_, source, type_, subject, dataschema, ctype, time, extensions, None
    )
    return set_data(event, binary_data(body, ctype, data_type), ctype is None)


def annotate_amqp(
    headers: Mapping[Any, Any], values: Mapping[str, ExtensionValue]
) -> dict[Any, Any]:
    """``headers`` with extension ``values`` set, in the prefix the message already uses."""
    keys = [key_text(k) or "" for k in headers]
    colon = any(k.startswith(COLON_PREFIX) for k in keys) and not any(
        k.startswith(PREFIX) for k in keys
    )
    prefix = COLON_PREFIX if colon else PREFIX
    drop = {p + n for n in values for p in (PREFIX, COLON_PREFIX)}
    out = {k: v for k, v in headers.items() if key_text(k) not in drop}
    out.update({prefix + n: v for n, v in values.items()})
    return out
