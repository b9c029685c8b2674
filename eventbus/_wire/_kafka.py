"""The Kafka protocol binding (cloudevents/spec bindings/kafka-protocol-binding.md).

Binary mode: every attribute but ``datacontenttype`` is a header ``ce_<name>`` holding the
canonical string as UTF-8, *not* percent-encoded; ``datacontenttype`` is the ``content-type``
header. Structured mode: ``content-type: application/cloudevents+json; charset=utf-8``. The
record key is the ``partitionkey`` extension (the binding's Key Mapper; the attribute is kept),
which the adapter takes from ``Message.key``. An event without data has an empty body in binary
mode; the adapter sends that as a record with no value (the binding's 3.2.2).

Decoding maps the headers onto the ``ce-`` form the shared header decoder reads (``ce_x`` ->
``ce-x``, names in any case, bytes values as UTF-8; other headers are ignored) and words its
errors with the Kafka header names again.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from eventbus._errors import DataDecodeError, DecodeError
from eventbus._wire._message import HeaderValue
from eventbus._wire._values import is_cloudevents_type, key_text

__all__ = ["KAFKA_PREFIX", "from_ce_form", "kafka_name", "kafka_where", "to_ce_form"]

KAFKA_PREFIX: Final = "ce_"
_CONTENT_TYPE: Final = "content-type"


def from_ce_form(attributes: Mapping[str, str]) -> dict[str, HeaderValue]:
    """``ce-<name>`` -> canonical string (every attribute) as Kafka binary-mode headers."""
    out: dict[str, HeaderValue] = {}
    for name, value in attributes.items():
        if name == "ce-datacontenttype":
            out[_CONTENT_TYPE] = value
        else:
            out[KAFKA_PREFIX + name[3:]] = value
    return out


def to_ce_form(headers: Mapping[Any, Any]) -> dict[str, Any]:
    """Received Kafka headers as the ``ce-`` form: ``ce_<name>`` and ``content-type`` only,
    bytes values as text where they are UTF-8 (a value that is not stays bytes: the decoder
    names it).

    A ``content-type`` that does not name a CloudEvents format is ``datacontenttype``
    (``ce-datacontenttype``, so the decoder's fast path reads it); a CloudEvents one stays
    ``content-type`` (structured mode)."""
    out: dict[str, Any] = {}
    ctype: Any = None
    for key, value in headers.items():
        name = key if type(key) is str else key_text(key)
        if name is None:
            continue
        low = name.lower()
        if low[:3] == KAFKA_PREFIX:
            out["ce-" + low[3:]] = _utf8(value)
        elif low == _CONTENT_TYPE:
            ctype = _utf8(value)
    if ctype is not None:
        if isinstance(ctype, str) and is_cloudevents_type(ctype):
            out[_CONTENT_TYPE] = ctype
        else:
            out.setdefault("ce-datacontenttype", ctype)
    return out


def _utf8(value: Any) -> Any:
    if type(value) is bytes:
        try:
            return value.decode("utf-8")
        except UnicodeDecodeError:
            return value
    return value


def kafka_name(attribute: str) -> str:
    """The Kafka header that carries ``attribute``."""
    return _CONTENT_TYPE if attribute == "datacontenttype" else KAFKA_PREFIX + attribute


def kafka_where(exc: DecodeError) -> DecodeError:
    """``exc`` naming the Kafka header (``ce_id``) instead of the ``ce-`` form (``ce-id``)."""
    where = exc.where
    if where is None or not where.startswith("ce-"):
        return exc
    text = str(exc)
    prefix = f"{where}: "
    message = text[len(prefix) :] if text.startswith(prefix) else text
    kind = DataDecodeError if isinstance(exc, DataDecodeError) else DecodeError
    return kind(message, where=kafka_name(where[3:]))
