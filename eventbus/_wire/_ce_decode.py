"""ce- header messages (and AMQP / Kafka ones) to events: the decoders behind ``decode``.

``_decode_ce_fast`` reads the usual binary message with msgspec doing the attribute work and
returns None for anything else; ``_decode_ce_slow`` decides every case and words every error,
and is the reference the fast path must agree with (tests/wire/test_wire_fast_paths.py).
Each decoder turns any exception other than a DecodeError into one (safety net: whatever a
broker hands over, the caller sees only DecodeError / DataDecodeError).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any, Final

import msgspec

from eventbus._errors import DecodeError
from eventbus._wire._amqp import decode_amqp
from eventbus._wire._binding_names import (
    CE_FIELD_KEYS,
    CE_KNOWN,
    PUBSUB_STRUCTURED_CT,
    STRUCTURED_CT,
)
from eventbus._wire._data import _decoder_for
from eventbus._wire._event import JSON_CONTENT_TYPE, OCTET_STREAM, Event, _extension_names_ok
from eventbus._wire._format import from_json, read_structured
from eventbus._wire._kafka import kafka_name, kafka_where, to_ce_form
from eventbus._wire._message import Message
from eventbus._wire._types import is_absolute_uri
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
    unreadable,
)

__all__ = ["decode_amqp_message", "decode_ce", "decode_kafka"]


def _lower_keys(headers: Mapping[Any, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in headers.items():
        name = key_text(key)
        if name is not None:
            out[name.lower()] = value
    return out


def _clean(value: object, where: str) -> str:
    """A received ce- header value as text (bytes as UTF-8)."""
    return text(value, where)


class _CeFields(
    msgspec.Struct,
    rename={
        "specversion": "ce-specversion",
        "id": "ce-id",
        "source": "ce-source",
        "type": "ce-type",
        "subject": "ce-subject",
        "dataschema": "ce-dataschema",
        "datacontenttype": "ce-datacontenttype",
        "time": "ce-time",
    },
):
    """The context attributes of ce- headers, read in one msgspec.convert call (fast path)."""

    specversion: str
    id: str
    source: str
    type: str
    subject: str | None = None
    dataschema: str | None = None
    datacontenttype: str | None = None
    time: datetime | None = None


_Shape = tuple[tuple[str, str], ...]  # (header, extension name) of each extension header
_SHAPES: Final[dict[tuple[Any, ...], _Shape | None]] = {}
_MAX_SHAPES: Final = 512
_MAX_SHAPE_CHARS: Final = 1024  # the total length of a set's names


def _shape_of(names: tuple[Any, ...]) -> _Shape | None:
    """What the fast path needs to know about one set of header names (None: not for it).

    Producers send the same names message after message, so this runs once per set: names
    that are all lower-case ASCII str, no ``content-type``, valid extension names."""
    if "content-type" in names:
        return None
    try:
        keys = "".join(names)
    except TypeError:
        return None
    if not keys.isascii() or keys.lower() != keys:  # msgspec would choke on a lone surrogate
        return None
    ext = tuple((k, k[3:]) for k in names if k[:3] == "ce-" and k not in CE_KNOWN)
    if ext and not _extension_names_ok(tuple(name for _, name in ext)):
        return None
    return ext


def _decode_ce_fast(headers: Mapping[Any, Any], body: bytes, data_type: Any) -> Event[Any] | None:
    """The usual binary message (lower-case keys, plain str values, RFC 3339 time with at most
    microseconds) decoded with msgspec doing the attribute work; None means "take the slow path",
    which decides every other case and words every error."""
    names = tuple(headers)
    try:
        shape = _SHAPES[names]
    except KeyError:
        shape = _shape_of(names)
        if len(_SHAPES) >= _MAX_SHAPES:
            _SHAPES.clear()
        if shape is not None and sum(map(len, names)) <= _MAX_SHAPE_CHARS:
            _SHAPES[names] = shape  # short names only: made-up names cannot make it hold much
    except TypeError:  # an unhashable name
        return None
    if shape is None:
        return None
    try:
        values = "".join(headers.values())
    except TypeError:
        return None
    try:
        f = _to_fields(headers, _CeFields)
    except msgspec.ValidationError:
        return None
    time = f.time
    if time is not None:
        raw = headers["ce-time"]
        if time.tzinfo is None or len(raw) > (27 if raw[-1] in "Zz" else 32):
            return None  # no offset, or sub-microsecond digits: parse_time_text decides
    if not shape:
        ext: dict[str, Any] = {}
    elif len(shape) == 1:
        ((key, name),) = shape
        ext = {name: headers[key]}
    else:  # the headers' order
        ext = {name: headers[key] for key, name in shape}
    dct, subject, schema = f.datacontenttype, f.subject, f.dataschema
    if not (
        f.id
        and f.source
        and f.type
        and f.specversion == "1.0"
        and subject != ""
        and (dct is None or (dct and "/" in dct))
        and (schema is None or is_absolute_uri(schema))
        and values.isascii()
        and values.isprintable()
    ):
        return None  # the slow path (Event's full validation) words the problems
    if not body:
        data = b"" if data_type is bytes else None
    elif (
        data_type is not None
        and data_type is not Any
        and data_type is not bytes
        and (dct is None or dct == JSON_CONTENT_TYPE)
    ):
        try:
            data = _decoder_for(data_type).decode(body)
        except (msgspec.ValidationError, msgspec.DecodeError, TypeError):
            return None  # the slow path words the error (attribute errors first)
    else:
        try:
            data = binary_data(body, dct, data_type)
        except DecodeError:
            return None
    # Every rule of Event.__post_init__ was checked above: fill a copy of a valid event.
    event = _copy_event(_TEMPLATE)
    _set(event, "id", f.id)
    _set(event, "source", f.source)
    _set(event, "type", f.type)
    if subject is not None:  # the template's are None
        _set(event, "subject", subject)
    if schema is not None:
        _set(event, "dataschema", schema)
    if dct is None and data is not None:
        dct = OCTET_STREAM if type(data) is bytes else JSON_CONTENT_TYPE
    _set(event, "datacontenttype", dct)
    _set(event, "time", time)
    _set(event, "extensions", ext)
    _set(event, "data", data)
    return event


_TEMPLATE: Final[Event[Any]] = Event(type="t", source="s", id="i", time=None)
_copy_event: Final[Callable[[Event[Any]], Event[Any]]] = Event.__copy__  # type: ignore[attr-defined]
_set: Final = msgspec.structs.force_setattr
_to_fields: Final = msgspec.convert


def _decode_ce_slow(
    headers: Mapping[Any, Any],
    body: bytes,
    data_type: Any,
    names: Callable[[str], str] | None = None,
) -> Event[Any]:
    """Every case, every error worded; the reference ``_decode_ce_fast`` must agree with."""
    try:
        keys = "".join(headers)
        h = headers if keys.lower() == keys else _lower_keys(headers)
    except TypeError:  # a key that is not a str
        h = _lower_keys(headers)
    get = h.get
    ctype = get("content-type")
    if ctype is not None:
        ctype = text(ctype, "content-type")
        if is_cloudevents_type(ctype):
            event = read_structured(body, ctype, data_type, h.get("ce-specversion") is not None)
            if event is not None:
                return event
    fields: tuple[Any, ...] = (
        get("ce-specversion"),
        get("ce-id"),
        get("ce-source"),
        get("ce-type"),
        get("ce-subject"),
        get("ce-dataschema"),
        get("ce-datacontenttype"),
        get("ce-time"),
    )
    extra = h.keys() - CE_KNOWN
    if len(extra) > 1:  # keep the headers' order (a set's order varies between processes)
        ext = {k[3:]: v for k, v in h.items() if k[:3] == "ce-" and k not in CE_KNOWN}
    else:
        ext = {k[3:]: h[k] for k in extra if k[:3] == "ce-"}
    if fields.count(None) == 8 and no_values(ext) and looks_structured(body):
        return from_json(body, data_type)
    try:
        "".join(h.values())
    except TypeError:  # a value that is not a str
        fields = tuple(
            None if v is None else _clean(v, key)
            for v, key in zip(fields, CE_FIELD_KEYS, strict=True)
        )
        ext = {n: _clean(v, "ce-" + n) for n, v in ext.items()}
    specversion, id_, source, type_, subject, dataschema, dct, time = fields
    if time is not None:
        time = parse_time_text(time, "ce-time")
    where: Callable[[str], str] = _ce_where
    if dct is None and ctype is not None:
        dct = ctype
        where = _ce_where_ct
    if names is not None:  # the binding names its headers differently (Kafka's ce_)
        where = names
    event = build_event(
        where, specversion, id_, source, type_, subject, dataschema, dct, time, ext, None
    )
    return set_data(event, binary_data(body, dct, data_type), dct is None)


def _ce_where(name: str) -> str:
    return "ce-" + name


def _ce_where_ct(name: str) -> str:
    return "content-type" if name == "datacontenttype" else "ce-" + name


_OWN_STRUCTURED: Final = (STRUCTURED_CT, PUBSUB_STRUCTURED_CT)
_CT_NAMES: Final = ("Content-Type", "content-type")


def _own_structured(headers: Mapping[Any, Any]) -> bool:
    """Whether ``headers`` are exactly what a structured-mode ce- encoder writes (a JSON event
    format content type and nothing else): the slow path would read the body with from_json."""
    if not headers or len(headers) > 2:
        return False
    for key, value in headers.items():
        if key not in _CT_NAMES or value not in _OWN_STRUCTURED:
            return False
    return True


def _own_structured_and_other(headers: Mapping[Any, Any]) -> bool:
    """Whether ``headers`` (two of them) are a JSON event format content type and one header
    that is not a content type in any case (a broker's own, like JetStream's ``Nats-Msg-Id``):
    the slow path reads the body with from_json whatever that header says."""
    for name in _CT_NAMES:
        if headers.get(name) in _OWN_STRUCTURED:
            for key in headers:
                if key != name:
                    return type(key) is str and key.lower() != "content-type"
    return False


def decode_ce(message: Message, data_type: Any = None) -> Event[Any]:
    headers, body = message.headers, message.body
    try:
        n = len(headers)
        if n == 1:  # _own_structured for one header, inline
            if headers.get("Content-Type") in _OWN_STRUCTURED or (
                headers.get("content-type") in _OWN_STRUCTURED
            ):
                return from_json(body, data_type)
        elif n == 2 and (_own_structured(headers) or _own_structured_and_other(headers)):
            return from_json(body, data_type)
        fast = _decode_ce_fast(headers, body, data_type)
        return fast if fast is not None else _decode_ce_slow(headers, body, data_type)
    except DecodeError:
        raise
    except Exception as exc:
        raise unreadable(exc) from exc


def decode_amqp_message(message: Message, data_type: Any = None) -> Event[Any]:
    try:
        return decode_amqp(message.headers, message.body, data_type)
    except DecodeError:
        raise
    except Exception as exc:
        raise unreadable(exc) from exc


def decode_kafka(message: Message, data_type: Any = None) -> Event[Any]:
    try:
        headers, body = to_ce_form(message.headers), message.body
        fast = _decode_ce_fast(headers, body, data_type)
        if fast is not None:
            return fast
        return _decode_ce_slow(headers, body, data_type, kafka_name)
    except DecodeError as exc:
        raise kafka_where(exc) from None
    except Exception as exc:
        raise unreadable(exc) from exc
