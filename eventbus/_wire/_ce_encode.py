"""Events to ce- header messages: the binary encoders (pure functions, see ``_bindings``).

``encode_ce_binary`` is the hot path of every publish on the ``"ce-headers"``, ``"pubsub"``
and ``"sqs"`` bindings: one function that reads each field once, with the JSON data, the UTC
time and the broker dedupe id done inline. tests/wire/test_wire_fast_paths.py holds it to the
general code (``message_of``, ``to_canonical``, ``broker_dedupe_id``).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC
from typing import Any, Final

import msgspec

from eventbus._wire._data import encode_data
from eventbus._wire._dedupe import _SHORT_ID, _source_digest
from eventbus._wire._dedupe import broker_dedupe_id as dedupe_id
from eventbus._wire._event import JSON_CONTENT_TYPE, Event
from eventbus._wire._kafka import from_ce_form
from eventbus._wire._message import HeaderValue, Message
from eventbus._wire._pydantic import enc_hook
from eventbus._wire._types import format_time, to_canonical

__all__ = [
    "ce_attributes",
    "data_bytes",
    "encode_ce_binary",
    "kafka_binary",
    "message_of",
    "partition_key",
]

_json_encode: Final = msgspec.json.Encoder(enc_hook=enc_hook).encode
_JSON_ERRORS: Final = (TypeError, ValueError, msgspec.EncodeError)


def ce_attributes(event: Event[Any]) -> dict[str, str]:
    """Every attribute as ``ce-<name>`` -> canonical string."""
    dct, schema, subject, time = event.datacontenttype, event.dataschema, event.subject, event.time
    if dct is not None and schema is None and time is not None:  # the usual event: one literal
        # format_time's UTC branch, inline (msgspec writes RFC 3339 with "Z")
        stamp = _json_encode(time)[1:-1].decode() if time.tzinfo is UTC else format_time(time)
        if subject is None:
            out = {
                "ce-specversion": event.specversion,
                "ce-id": event.id,
                "ce-source": event.source,
                "ce-type": event.type,
                "ce-datacontenttype": dct,
                "ce-time": stamp,
            }
        else:
            out = {
                "ce-specversion": event.specversion,
                "ce-id": event.id,
                "ce-source": event.source,
                "ce-type": event.type,
                "ce-datacontenttype": dct,
                "ce-subject": subject,
                "ce-time": stamp,
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


def kafka_binary(event: Event[Any]) -> dict[str, HeaderValue]:
    return from_ce_form(ce_attributes(event))


def data_bytes(data: Any, ctype: str | None) -> bytes:
    """``encode_data`` with a fast path for JSON data (dict, list, Struct...) as application/json."""
    if ctype == JSON_CONTENT_TYPE and data is not None and not isinstance(data, bytes):
        try:
            return _json_encode(data)
        except _JSON_ERRORS:
            pass  # let encode_data raise its EncodeError
    return encode_data(data, ctype)


def partition_key(event: Event[Any]) -> str | None:
    key = event.extensions.get("partitionkey") if event.extensions else None
    return key if type(key) is str else None


def encode_ce_binary(event: Event[Any]) -> Message:
    """``event`` in binary mode with ``ce-<name>`` headers: ``message_of(event, ce_attributes)``
    in one function."""
    data, ctype, ext = event.data, event.datacontenttype, event.extensions
    if ctype == JSON_CONTENT_TYPE and data is not None and not isinstance(data, bytes):
        try:  # data_bytes's fast path, inline
            body = _json_encode(data)
        except _JSON_ERRORS:
            body = encode_data(data, ctype)  # raises its EncodeError
    else:
        body = encode_data(data, ctype)
    key = ext.get("partitionkey") if ext else None  # partition_key, inline
    id_ = event.id
    return Message(
        ce_attributes(event),
        body,
        key if type(key) is str else None,
        # broker_dedupe_id's short-id branch, inline
        f"{id_}@{_source_digest(event.source)}"
        if len(id_) <= _SHORT_ID
        else dedupe_id(event.source, id_),
    )


def message_of(
    event: Event[Any], headers: Callable[[Event[Any]], dict[str, HeaderValue]]
) -> Message:
    """``event`` in binary mode with the attribute headers ``headers(event)`` (the reference
    ``encode_ce_binary`` must agree with)."""
    body = data_bytes(event.data, event.datacontenttype)
    return Message(headers(event), body, partition_key(event), dedupe_id(event.source, event.id))
