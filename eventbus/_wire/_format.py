"""The CloudEvents JSON event format (structured mode) and its batch format.

``application/cloudevents+json``: one JSON object per event. Booleans and Integers are JSON
booleans and numbers, every other attribute a string. Bytes data goes to ``data_base64``; data
with a JSON media type (or none) is the JSON value itself; other data is a string. ``null``
members are unset. ``application/cloudevents-batch+json``: a JSON array of such objects.

Decoders raise only :class:`DecodeError` (``where`` names the member) or, for data that does not
fit the requested type, :class:`DataDecodeError`.
"""

from __future__ import annotations

import base64
from collections.abc import Callable, Iterable
from typing import Any, Final

import msgspec

from eventbus._errors import DecodeError, EncodeError
from eventbus._wire._data import is_json_type
from eventbus._wire._event import Event
from eventbus._wire._types import decode_base64, format_time
from eventbus._wire._values import (
    build_event,
    coerce_data,
    json_decode,
    json_encode,
    json_value,
    parse_time_text,
    unreadable,
)

__all__ = ["from_json", "from_json_batch", "read_structured", "to_json", "to_json_batch"]

JSON_FORMAT: Final = "application/cloudevents+json"
JSON_BATCH_FORMAT: Final = "application/cloudevents-batch+json"

_set: Final = msgspec.structs.force_setattr
_BYTES_LIKE: Final = (bytes, bytearray, memoryview)
_STRING_MEMBERS: Final = (
    "specversion",
    "id",
    "source",
    "type",
    "datacontenttype",
    "dataschema",
    "subject",
)


# -- encoding ----------------------------------------------------------------------------------


def _members(event: Event[Any]) -> dict[str, Any]:
    """The JSON object of ``event`` (values msgspec can encode as the format requires)."""
    out: dict[str, Any] = {
        "specversion": event.specversion,
        "id": event.id,
        "source": event.source,
        "type": event.type,
    }
    ctype = event.datacontenttype
    if ctype is not None:
        out["datacontenttype"] = ctype
    if event.dataschema is not None:
        out["dataschema"] = event.dataschema
    if event.subject is not None:
        out["subject"] = event.subject
    if event.time is not None:
        out["time"] = format_time(event.time)
    for name, value in event.extensions.items():
        out[name] = json_value(value)
    data = event.data
    if data is None:
        return out
    if isinstance(data, _BYTES_LIKE):
        out["data_base64"] = base64.b64encode(data).decode("ascii")
    elif isinstance(data, str) or is_json_type(ctype):
        out["data"] = data
    else:
        raise EncodeError(
            f"data of type {type(data).__name__} cannot be encoded as {ctype!r}: "
            "pass str or bytes for non-JSON content types"
        )
    return out


def _encode_json(value: Any) -> bytes:
    try:
        return json_encode(value)
    except (TypeError, ValueError, OverflowError, msgspec.EncodeError) as exc:
        raise EncodeError(f"data is not JSON-encodable: {exc}") from exc


def to_json(event: Event[Any]) -> bytes:
    """``event`` in the JSON event format."""
    return _encode_json(_members(event))


def to_json_batch(events: Iterable[Event[Any]]) -> bytes:
    """``events`` in the JSON batch format (a JSON array; may be empty)."""
    return _encode_json([_members(e) for e in events])


# -- decoding ----------------------------------------------------------------------------------


def _parse(body: bytes) -> Any:
    try:
        return json_decode(body)
    except (msgspec.DecodeError, RecursionError, TypeError) as exc:
        raise DecodeError(f"not valid JSON: {exc}", where="body") from None


def from_json(body: bytes, data_type: Any = None) -> Event[Any]:
    """Decode one event in the JSON event format, converting ``data`` to ``data_type`` if given."""
    try:  # _parse, inline
        members = json_decode(body)
    except (msgspec.DecodeError, RecursionError, TypeError) as exc:
        raise DecodeError(f"not valid JSON: {exc}", where="body") from None
    if not isinstance(members, dict):
        raise DecodeError("a CloudEvent must be a JSON object", where="body")
    try:
        return event_from_members(members, data_type, _same)
    except DecodeError:
        raise
    except Exception as exc:  # a safety net: callers see only DecodeError
        raise unreadable(exc) from exc


def from_json_batch(body: bytes, data_type: Any = None) -> list[Event[Any]]:
    """Decode a JSON batch (a JSON array of events)."""
    items = _parse(body)
    if not isinstance(items, list):
        raise DecodeError("a CloudEvents batch must be a JSON array", where="body")
    events: list[Event[Any]] = []
    for i, members in enumerate(items):
        if not isinstance(members, dict):
            raise DecodeError("a CloudEvent must be a JSON object", where=f"[{i}]")
        try:
            events.append(event_from_members(members, data_type, _item_where(i)))
        except DecodeError:
            raise
        except Exception as exc:  # a safety net: callers see only DecodeError
            raise unreadable(exc) from exc
    return events


def _item_where(index: int) -> Callable[[str], str]:
    return lambda name: f"[{index}].{name}"


def _same(name: str) -> str:
    return name


def event_from_members(
    members: dict[str, Any], data_type: Any, where: Callable[[str], str]
) -> Event[Any]:
    """Build an event from a decoded JSON object (consumed). ``where`` names members in errors."""
    pop = members.pop
    for name in _STRING_MEMBERS:
        value = members.get(name)
        if value is not None and type(value) is not str:
            raise DecodeError("must be a string", where=where(name))
    time = pop("time", None)
    if time is not None:
        if type(time) is not str:
            raise DecodeError("must be an RFC 3339 timestamp string", where=where("time"))
        time = parse_time_text(time, where("time"))
    ctype = pop("datacontenttype", None)
    data = pop("data", None)
    data_b64 = pop("data_base64", None)
    if data_b64 is not None:
        if data is not None:
            raise DecodeError(
                "'data' and 'data_base64' are mutually exclusive", where=where("data_base64")
            )
        if type(data_b64) is not str:
            raise DecodeError("must be a base64 string", where=where("data_base64"))
        try:
            data = decode_base64(data_b64)
        except ValueError as exc:
            raise DecodeError(str(exc), where=where("data_base64")) from None
    specversion = pop("specversion", None)
    id = pop("id", None)
    source = pop("source", None)
    type_ = pop("type", None)
    subject = pop("subject", None)
    dataschema = pop("dataschema", None)
    extensions: dict[str, Any] = {}
    for name, value in members.items():
        if value is None:
            continue
        if not isinstance(value, (str, int)):  # bool is an int
            raise DecodeError("must be a string, boolean or integer", where=where(name))
        extensions[name] = value
    event = build_event(
        where, specversion, id, source, type_, subject, dataschema, ctype, time, extensions, data
    )
    if data is not None and data_type is not None:  # only once the attributes are valid
        _set(event, "data", coerce_data(data, ctype, data_type))
    return event


def read_structured(body: bytes, ctype: str, data_type: Any, binary: bool) -> Event[Any] | None:
    """Decode a structured-mode message with CloudEvents media type ``ctype``.

    Returns None when the bindings should read the message as binary instead: a format other
    than JSON on a message that also carries a ``specversion`` attribute (the Pub/Sub binding
    allows it; it also covers data whose own media type starts with ``application/cloudevents``).
    """
    media = ctype.split(";", 1)[0].strip().lower()
    if media == JSON_FORMAT:
        return from_json(body, data_type)
    if binary:
        return None
    if media == JSON_BATCH_FORMAT:
        raise DecodeError("batch mode is not supported by protocol bindings", where="content-type")
    raise DecodeError(f"unsupported event format {media!r}", where="content-type")
