"""CloudEvents protocol bindings: events to and from :class:`Message`, as pure functions.

``"ce-headers"`` (NATS binary mode of the 1.0.3-wip NATS binding; the in-memory bus)
    Every attribute, ``datacontenttype`` and extensions included, is a header ``ce-<name>``
    holding the canonical string *as-is* (UTF-8), as sdk-go's ``protocol/nats_jetstream/v2``
    writes and reads them and as the JavaScript and Java SDKs' HTTP bindings do: the binding's
    percent-encoding is read by no official NATS implementation, and decoding escapes would
    corrupt values with a ``%`` that those SDKs send raw (docs/architecture.md, "ce- header
    values"). Decoding matches header names in any case and reads a plain ``content-type``
    header as ``datacontenttype`` when ``ce-datacontenttype`` is absent (as sdk-go does).
    Structured: ``Content-Type: application/cloudevents+json; charset=utf-8``.

``"pubsub"`` (Google Cloud Pub/Sub attributes)
    ``ce-<name>`` attributes holding canonical strings *as-is*: the Pub/Sub binding asks for the
    canonical string and sdk-go writes and reads values unescaped, so percent-encoding would
    leak ``%20`` into other SDKs (attribute values are arbitrary UTF-8). ``datacontenttype`` is
    written as ``ce-datacontenttype`` (the binding's example; sdk-go reads it through its ``ce-``
    prefix); decoding also accepts ``content-type`` / ``Content-Type`` (names match in any case).
    Structured: both ``Content-Type`` (the binding's text, sdk-go's key) and ``content-type``
    (other SDKs' key) set to ``application/cloudevents+json; charset=UTF-8``: Pub/Sub keys are
    case-sensitive and readers disagree.

``"kafka"`` (Kafka record headers, see ``_kafka``)
    ``ce_<name>`` headers holding canonical strings as-is (UTF-8, no percent-encoding);
    ``datacontenttype`` in the ``content-type`` header. Structured:
    ``content-type: application/cloudevents+json; charset=utf-8``.

``"sqs"`` (AWS SQS / SNS message attributes; no official binding exists)
    Binary: the ``"pubsub"`` attribute rules (``ce-<name>`` holding canonical strings as-is;
    SQS String attributes are Unicode text), within SQS's 10 message attributes. Structured
    (the SQS adapter's default, as Dapr and EventBridge put events in the body): one attribute
    ``content-type: application/cloudevents+json; charset=utf-8``. Decoding is the ``"pubsub"``
    decoder: ``content-type`` in any case, and a body-only JSON object read as structured.

``"amqp"`` (AMQP 1.0 / Azure Service Bus application properties)
    ``cloudEvents:<name>`` (or ``cloudEvents_<name>``: ``amqp_prefix``) with native values
    (bool, int as AMQP long, str, bytes; timestamps as canonical strings); decoding reads both
    prefixes, canonical strings, bytes keys and bytes values of string attributes,
    and an int ``time`` as AMQP milliseconds since the epoch. ``datacontenttype`` travels in the
    header ``content-type`` (the AMQP ``properties.content-type``; the adapter maps it).
    Structured: ``content-type: application/cloudevents+json; charset=utf-8``.

A ``content-type`` starting with ``application/cloudevents`` (any case) means structured mode,
unless it names a format other than JSON and a ``specversion`` attribute is present: then the
message is binary (the Pub/Sub binding allows this; it also covers data whose own media type
starts with ``application/cloudevents``). Otherwise the message is binary, except that one with
no CloudEvents attributes at all and a JSON-object body is read as structured (sdk-go's
Pub/Sub writer sets no content-type). In binary mode an empty body means "no data". Decoders
raise only :class:`DecodeError` (``where`` names the header) and its subclass
:class:`DataDecodeError`.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any, Final, cast

import msgspec

from eventbus._errors import ConfigurationError, DecodeError, InvalidEventError, Problem
from eventbus._wire._amqp import (
    COLON_PREFIX,
    DEFAULT_PREFIX,
    PREFIX,
    annotate_amqp,
    check_amqp_prefix,
    decode_amqp,
    encode_amqp,
)
from eventbus._wire._data import _decoder_for, encode_data
from eventbus._wire._dedupe import broker_dedupe_id as dedupe_id
from eventbus._wire._event import JSON_CONTENT_TYPE, OCTET_STREAM, Event, _extension_names_ok
from eventbus._wire._format import from_json, read_structured, to_json
from eventbus._wire._kafka import KAFKA_PREFIX, from_ce_form, kafka_name, kafka_where, to_ce_form
from eventbus._wire._message import HeaderValue, Message
from eventbus._wire._pydantic import enc_hook
from eventbus._wire._types import (
    _BAD_CHARS_RE,
    ExtensionValue,
    attribute_name_problem,
    format_time,
    is_absolute_uri,
    to_canonical,
    value_problem,
)
from eventbus._wire._values import (
    binary_data,
    build_event,
    is_cloudevents_type,
    json_encode,
    json_value,
    key_text,
    looks_structured,
    no_values,
    parse_time_text,
    set_data,
    text,
    unreadable,
)

__all__ = [
    "BINDINGS",
    "ContentMode",
    "annotate",
    "content_mode",
    "decode",
    "decoder",
    "encode",
    "encoder",
]

BINDINGS: Final = ("ce-headers", "pubsub", "sqs", "amqp", "kafka")


class ContentMode(enum.Enum):
    """How an event is laid out in a message: attributes in headers, or one JSON document."""

    BINARY = "binary"
    STRUCTURED = "structured"


_BINARY: Final = ContentMode.BINARY
_STRUCTURED: Final = ContentMode.STRUCTURED


_STRUCTURED_CT: Final = "application/cloudevents+json; charset=utf-8"
_PUBSUB_STRUCTURED_CT: Final = "application/cloudevents+json; charset=UTF-8"
_STRUCTURED_HEADERS: Final[Mapping[str, Mapping[str, str]]] = {
    "ce-headers": {"Content-Type": _STRUCTURED_CT},
    "pubsub": {"Content-Type": _PUBSUB_STRUCTURED_CT, "content-type": _PUBSUB_STRUCTURED_CT},
    "sqs": {"content-type": _STRUCTURED_CT},
    "amqp": {"content-type": _STRUCTURED_CT},
    "kafka": {"content-type": _STRUCTURED_CT},
}
_CE_FIELD_KEYS: Final = (
    "ce-specversion",
    "ce-id",
    "ce-source",
    "ce-type",
    "ce-subject",
    "ce-dataschema",
    "ce-datacontenttype",
    "ce-time",
)
_CE_KNOWN: Final = frozenset({*_CE_FIELD_KEYS, "content-type"})

_raw_object = msgspec.json.Decoder(dict[str, msgspec.Raw]).decode
_json_encode: Final = msgspec.json.Encoder(enc_hook=enc_hook).encode


def _unknown(binding: str) -> ConfigurationError:
    return ConfigurationError(
        f"unknown binding {binding!r}; expected one of: {', '.join(BINDINGS)}"
    )


# -- encoding ----------------------------------------------------------------------------------


def _ce_attributes(event: Event[Any]) -> dict[str, str]:
    """Every attribute as ``ce-<name>`` -> canonical string."""
    dct, schema, subject, time = event.datacontenttype, event.dataschema, event.subject, event.time
    if dct is not None and schema is None and time is not None:  # the usual event: one literal
        if subject is None:
            out = {
                "ce-specversion": event.specversion,
                "ce-id": event.id,
                "ce-source": event.source,
                "ce-type": event.type,
                "ce-datacontenttype": dct,
                "ce-time": format_time(time),
            }
        else:
            out = {
                "ce-specversion": event.specversion,
                "ce-id": event.id,
                "ce-source": event.source,
                "ce-type": event.type,
                "ce-datacontenttype": dct,
                "ce-subject": subject,
                "ce-time": format_time(time),
            }
    else:
        out = {
            "ce-specversion": event.specversion,
            "ce-id": event.id,
            "ce-source": event.source,
            "ce-type": event.type,
        }
        if dct is not None:
            out["ce-datacontenttype"] = dct
        if schema is not None:
            out["ce-dataschema"] = schema
        if subject is not None:
            out["ce-subject"] = subject
        if time is not None:
            out["ce-time"] = format_time(time)
    ext = event.extensions
    if ext:
        for name, value in ext.items():
            out["ce-" + name] = value if type(value) is str else to_canonical(value)
    return out


_ce_binary: Final = cast("Callable[[Event[Any]], dict[str, HeaderValue]]", _ce_attributes)


def _kafka_binary(event: Event[Any]) -> dict[str, HeaderValue]:
    return from_ce_form(_ce_attributes(event))


_BINARY_ENCODERS: Final[Mapping[str, Callable[[Event[Any]], dict[str, HeaderValue]]]] = {
    "ce-headers": _ce_binary,
    "pubsub": _ce_binary,
    "sqs": _ce_binary,
    "kafka": _kafka_binary,
}


def _data_bytes(data: Any, ctype: str | None) -> bytes:
    """``encode_data`` with a fast path for JSON data (dict, list, Struct...) as application/json."""
    if ctype == JSON_CONTENT_TYPE and data is not None and not isinstance(data, bytes):
        try:
            return _json_encode(data)
        except (TypeError, ValueError, msgspec.EncodeError):
            pass  # let encode_data raise its EncodeError
    return encode_data(data, ctype)


def _key(event: Event[Any]) -> str | None:
    key = event.extensions.get("partitionkey") if event.extensions else None
    return key if type(key) is str else None


def content_mode(mode: ContentMode | str) -> ContentMode:
    """``mode`` as a :class:`ContentMode` ("binary" / "structured" accepted)."""
    if isinstance(mode, ContentMode):
        return mode
    try:
        return ContentMode(mode)
    except ValueError:
        raise ConfigurationError(
            f"unknown content mode {mode!r}; expected 'binary' or 'structured'"
        ) from None


def _binary_encoder(
    binding: str, amqp_prefix: str
) -> Callable[[Event[Any]], dict[str, HeaderValue]]:
    if binding == "amqp":
        prefix = check_amqp_prefix(amqp_prefix)
        return lambda event: encode_amqp(event, prefix)
    binary = _BINARY_ENCODERS.get(binding)
    if binary is None:
        raise _unknown(binding)
    return binary


def encoder(
    binding: str,
    mode: ContentMode | str = ContentMode.BINARY,
    *,
    amqp_prefix: str = DEFAULT_PREFIX,
) -> Callable[[Event[Any]], Message]:
    """The encode function for one binding and mode (``"binary"`` / ``"structured"`` also do).

    ``amqp_prefix``: the application-property prefix of the ``"amqp"`` binding,
    ``"cloudEvents:"`` (default) or ``"cloudEvents_"``.
    """
    mode = content_mode(mode)
    if mode is _BINARY:
        binary = _binary_encoder(binding, amqp_prefix)

        def encode_binary(event: Event[Any]) -> Message:
            data, ctype, ext = event.data, event.datacontenttype, event.extensions
            if ctype == JSON_CONTENT_TYPE and data is not None and not isinstance(data, bytes):
                try:  # _data_bytes's fast path, inline
                    body = _json_encode(data)
                except (TypeError, ValueError, msgspec.EncodeError):
                    body = encode_data(data, ctype)  # raises its EncodeError
            else:
                body = _data_bytes(data, ctype)
            key = ext.get("partitionkey") if ext else None  # _key, inline
            return Message(
                binary(event),
                body,
                key if type(key) is str else None,
                dedupe_id(event.source, event.id),
            )

        return encode_binary
    fixed = _STRUCTURED_HEADERS.get(binding)
    if fixed is None:
        raise _unknown(binding)

    def encode_structured(event: Event[Any]) -> Message:
        return Message(dict(fixed), to_json(event), _key(event), dedupe_id(event.source, event.id))

    return encode_structured


_ENCODERS: Final = {(b, m): encoder(b, m) for b in BINDINGS for m in ContentMode}


def encode(
    event: Event[Any],
    binding: str,
    mode: ContentMode = ContentMode.BINARY,
    *,
    amqp_prefix: str = DEFAULT_PREFIX,
) -> Message:
    """``event`` as a :class:`Message` for ``binding`` (see :data:`BINDINGS`) in ``mode``.

    ``key`` is the ``partitionkey`` extension (when a string), ``dedupe_id`` the broker dedupe
    id of the event's source and id (:func:`eventbus.adapter.broker_dedupe_id`).
    ``amqp_prefix`` as for :func:`encoder`. Raises :class:`EncodeError` when data does not fit
    its ``datacontenttype``.
    """
    fn = _ENCODERS.get((binding, mode)) if amqp_prefix == DEFAULT_PREFIX else None
    return (fn or encoder(binding, mode, amqp_prefix=amqp_prefix))(event)


# -- decoding ----------------------------------------------------------------------------------


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
    ext = tuple((k, k[3:]) for k in names if k[:3] == "ce-" and k not in _CE_KNOWN)
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
    extra = h.keys() - _CE_KNOWN
    if len(extra) > 1:  # keep the headers' order (a set's order varies between processes)
        ext = {k[3:]: v for k, v in h.items() if k[:3] == "ce-" and k not in _CE_KNOWN}
    else:
        ext = {k[3:]: h[k] for k in extra if k[:3] == "ce-"}
    if fields.count(None) == 8 and no_values(ext) and looks_structured(body):
        return from_json(body, data_type)
    try:
        "".join(h.values())
    except TypeError:  # a value that is not a str
        fields = tuple(
            None if v is None else _clean(v, key)
            for v, key in zip(fields, _CE_FIELD_KEYS, strict=True)
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


# Each decoder turns any exception other than a DecodeError into one (safety net: whatever a
# broker hands over, the caller sees only DecodeError / DataDecodeError).


_OWN_STRUCTURED: Final = (_STRUCTURED_CT, _PUBSUB_STRUCTURED_CT)
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


def _decode_ce(message: Message, data_type: Any = None) -> Event[Any]:
    headers, body = message.headers, message.body
    try:
        if len(headers) <= 2 and _own_structured(headers):
            return from_json(body, data_type)
        fast = _decode_ce_fast(headers, body, data_type)
        return fast if fast is not None else _decode_ce_slow(headers, body, data_type)
    except DecodeError:
        raise
    except Exception as exc:
        raise unreadable(exc) from exc


def _decode_amqp(message: Message, data_type: Any = None) -> Event[Any]:
    try:
        return decode_amqp(message.headers, message.body, data_type)
    except DecodeError:
        raise
    except Exception as exc:
        raise unreadable(exc) from exc


def _decode_kafka(message: Message, data_type: Any = None) -> Event[Any]:
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


_DECODERS: Final[Mapping[str, Callable[[Message, Any], Event[Any]]]] = {
    "ce-headers": _decode_ce,
    "pubsub": _decode_ce,
    "sqs": _decode_ce,
    "amqp": _decode_amqp,
    "kafka": _decode_kafka,
}


def decoder(binding: str) -> Callable[[Message, Any], Event[Any]]:
    """The decode function for one binding (what ``decode`` dispatches to)."""
    fn = _DECODERS.get(binding)
    if fn is None:
        raise _unknown(binding)
    return fn


def decode(message: Message, binding: str, data_type: Any = None) -> Event[Any]:
    """Read the event in ``message`` (binary or structured, detected) for ``binding``.

    ``data`` is decoded into ``data_type`` when given (a Struct, dataclass, dict, str, bytes...).
    Raises :class:`DecodeError` naming the offending header or member, or
    :class:`DataDecodeError` when data does not fit ``data_type``.
    """
    return decoder(binding)(message, data_type)


# -- annotating --------------------------------------------------------------------------------


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
        raise _unknown(binding)
    values = _checked(attributes)
    headers = message.headers
    if not in_headers and _is_structured(message, binding):
        body = _annotate_json(message.body, values)
        if body is not None:
            plain = _annotate_headers(headers, binding, {})
            return msgspec.structs.replace(message, headers=plain, body=body)
    return msgspec.structs.replace(message, headers=_annotate_headers(headers, binding, values))
