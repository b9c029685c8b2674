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
from typing import Any, Final

from eventbus._errors import ConfigurationError
from eventbus._wire._amqp import DEFAULT_PREFIX, check_amqp_prefix, encode_amqp
from eventbus._wire._annotate import annotate
from eventbus._wire._binding_names import BINDINGS, STRUCTURED_HEADERS, unknown_binding
from eventbus._wire._ce_decode import decode_amqp_message, decode_ce, decode_kafka
from eventbus._wire._ce_encode import (
    encode_ce_binary,
    kafka_binary,
    message_of,
    partition_key,
)
from eventbus._wire._dedupe import broker_dedupe_id as dedupe_id
from eventbus._wire._event import Event
from eventbus._wire._format import to_json
from eventbus._wire._message import Message

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


class ContentMode(enum.Enum):
    """How an event is laid out in a message: attributes in headers, or one JSON document."""

    BINARY = "binary"
    STRUCTURED = "structured"


_BINARY: Final = ContentMode.BINARY
_STRUCTURED: Final = ContentMode.STRUCTURED


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


# -- encoding ----------------------------------------------------------------------------------


def _binary_encoder(binding: str, amqp_prefix: str) -> Callable[[Event[Any]], Message]:
    if binding in ("ce-headers", "pubsub", "sqs"):
        return encode_ce_binary
    if binding == "kafka":
        return lambda event: message_of(event, kafka_binary)
    if binding == "amqp":
        prefix = check_amqp_prefix(amqp_prefix)
        return lambda event: message_of(event, lambda e: encode_amqp(e, prefix))
    raise unknown_binding(binding)


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
        return _binary_encoder(binding, amqp_prefix)
    fixed = STRUCTURED_HEADERS.get(binding)
    if fixed is None:
        raise unknown_binding(binding)

    def encode_structured(event: Event[Any]) -> Message:
        return Message(
            dict(fixed), to_json(event), partition_key(event), dedupe_id(event.source, event.id)
        )

    return encode_structured


_BINARY_ENCODERS: Final = {b: encoder(b, _BINARY) for b in BINDINGS}
_STRUCTURED_ENCODERS: Final = {b: encoder(b, _STRUCTURED) for b in BINDINGS}


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
    # No (binding, mode) tuple key: hashing an enum member runs Python code (Enum.__hash__).
    fn = None
    if amqp_prefix == DEFAULT_PREFIX:
        if mode is _BINARY:
            fn = _BINARY_ENCODERS.get(binding)
        elif mode is _STRUCTURED:
            fn = _STRUCTURED_ENCODERS.get(binding)
    return (fn or encoder(binding, mode, amqp_prefix=amqp_prefix))(event)


# -- decoding ----------------------------------------------------------------------------------

_DECODERS: Final[Mapping[str, Callable[[Message, Any], Event[Any]]]] = {
    "ce-headers": decode_ce,
    "pubsub": decode_ce,
    "sqs": decode_ce,
    "amqp": decode_amqp_message,
    "kafka": decode_kafka,
}


def decoder(binding: str) -> Callable[[Message, Any], Event[Any]]:
    """The decode function for one binding (what ``decode`` dispatches to)."""
    fn = _DECODERS.get(binding)
    if fn is None:
        raise unknown_binding(binding)
    return fn


def decode(message: Message, binding: str, data_type: Any = None) -> Event[Any]:
    """Read the event in ``message`` (binary or structured, detected) for ``binding``.

    ``data`` is decoded into ``data_type`` when given (a Struct, dataclass, dict, str, bytes...).
    Raises :class:`DecodeError` naming the offending header or member, or
    :class:`DataDecodeError` when data does not fit ``data_type``.
    """
    fn = _DECODERS.get(binding)  # decoder(binding), inline
    if fn is None:
        raise unknown_binding(binding)
    return fn(message, data_type)
