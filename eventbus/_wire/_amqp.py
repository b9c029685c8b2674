"""The AMQP 1.0 binding (Azure Service Bus): binary mode to and from application properties.

Attributes are application properties ``cloudEvents:<name>`` with native values (bool, int,
str, bytes; the adapter sends ints as AMQP ``long``, as the binding asks), except timestamps:
they go as canonical RFC 3339 strings, which receivers must accept, because an AMQP timestamp
holds milliseconds only and Java's ``cloudevents-amqp-proton`` cannot read one. The prefix is
``cloudEvents:`` by default, the one prefix every official SDK reads (sdk-go's
``protocol/amqp/v2`` and Java's ``cloudevents-amqp-proton`` read no other; the Python SDK reads
both); ``cloudEvents_`` (the binding's preferred form since 1.0.3, needed by JMS selectors) is
the ``amqp_prefix`` switch. ``datacontenttype`` is the header ``content-type``: the AMQP
``properties.content-type``, which the adapter maps. Receivers read both prefixes,
canonical strings, bytes names and bytes values of string attributes (the Azure SDK hands
those over as bytes; bytes extension values stay Binary), and an int ``time`` as AMQP
milliseconds since the epoch (the official Python SDK writes that). The Azure SDK also hands
over AMQP timestamps of extensions as plain milliseconds: an int extension outside the
CloudEvents Integer range (32 bits) is read as such a timestamp.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any, Final

from eventbus._errors import ConfigurationError, DecodeError
from eventbus._wire._event import Event
from eventbus._wire._format import from_json, read_structured
from eventbus._wire._message import HeaderValue
from eventbus._wire._types import ExtensionValue, format_time
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
#: What the binding writes unless told otherwise (docs/architecture.md, "AMQP prefix").
DEFAULT_PREFIX: Final = COLON_PREFIX
AMQP_PREFIXES: Final = (COLON_PREFIX, PREFIX)
_EPOCH: Final = datetime(1970, 1, 1, tzinfo=UTC)
_INT_MIN: Final = -(2**31)
_INT_MAX: Final = 2**31 - 1
_STRING_ATTRIBUTES: Final = ("specversion", "id", "source", "type", "subject", "dataschema")


def check_amqp_prefix(prefix: str) -> str:
    """``prefix`` if it is one of the binding's two prefixes, else ConfigurationError."""
    if prefix not in AMQP_PREFIXES:
        raise ConfigurationError(
            f"unknown AMQP prefix {prefix!r}; expected 'cloudEvents:' or 'cloudEvents_'"
        )
    return prefix


def encode_amqp(event: Event[Any], prefix: str = DEFAULT_PREFIX) -> dict[str, HeaderValue]:
    """Binary-mode headers of ``event``, application properties named ``prefix + name``."""
    out: dict[str, HeaderValue] = {
        prefix + "specversion": event.specversion,
        prefix + "id": event.id,
        prefix + "source": event.source,
        prefix + "type": event.type,
    }
    if event.datacontenttype is not None:
        out["content-type"] = event.datacontenttype
    if event.dataschema is not None:
        out[prefix + "dataschema"] = event.dataschema
    if event.subject is not None:
        out[prefix + "subject"] = event.subject
    if event.time is not None:
        out[prefix + "time"] = format_time(event.time)
    for name, value in event.extensions.items():
        out[prefix + name] = format_time(value) if isinstance(value, datetime) else value
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
    if type(value) is int and not _INT_MIN <= value <= _INT_MAX:
        # Beyond a CloudEvents Integer: an AMQP timestamp (sdk-go writes time extensions as
        # timestamps) that the Azure SDK hands over as plain milliseconds.
        return _time(value, where)
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
    prefix = PREFIX if any(k.startswith(PREFIX) for k in keys) else COLON_PREFIX
    drop = {p + n for n in values for p in (PREFIX, COLON_PREFIX)}
    out = {k: v for k, v in headers.items() if key_text(k) not in drop}
    out.update({prefix + n: v for n, v in values.items()})
    return out
