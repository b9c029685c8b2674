"""The CloudEvents HTTP protocol binding (1.0.2), as pure functions over headers and a body.

Binary mode
    Every attribute but ``datacontenttype`` is a header ``ce-<name>`` holding its canonical
    string, percent-encoded as the binding requires (space, ``"``, ``%`` and everything outside
    printable ASCII, as UTF-8 bytes ``%XY``); ``datacontenttype`` is the ``Content-Type`` header
    and ``ce-datacontenttype`` is not sent. Reading undoes one round of percent-encoding after
    unquoting a double-quoted value (older senders), accepts lower-case hex and values sent as
    raw UTF-8, and refuses a malformed escape or bytes that are not UTF-8 (overlong forms
    included), naming the header.
Structured mode
    ``Content-Type: application/cloudevents+json; charset=utf-8`` and the JSON event format.
Batched mode
    ``Content-Type: application/cloudevents-batch+json; charset=utf-8`` and a JSON array.

Header names match in any case. Header values may be given as ``str`` (text) or ``bytes`` (the
raw octets of the request). Decoders raise only :class:`DecodeError` (``where`` names the header
or member) and :class:`DataDecodeError`; encoders raise :class:`EncodeError`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any, Final, Literal

from eventbus._errors import DecodeError, EncodeError
from eventbus._wire._bindings import ContentMode, decoder, encoder
from eventbus._wire._event import Event
from eventbus._wire._format import from_json_batch, read_structured, to_json, to_json_batch
from eventbus._wire._message import Message
from eventbus._wire._values import is_cloudevents_type, shown, unreadable

__all__ = [
    "BATCH_CONTENT_TYPE",
    "STRUCTURED_CONTENT_TYPE",
    "HttpMode",
    "from_http",
    "from_http_batch",
    "http_mode",
    "to_http",
    "to_http_batch",
]

STRUCTURED_CONTENT_TYPE: Final = "application/cloudevents+json; charset=utf-8"
BATCH_CONTENT_TYPE: Final = "application/cloudevents-batch+json; charset=utf-8"
_BATCH_MEDIA: Final = "application/cloudevents-batch+json"

HttpMode = Literal["binary", "structured", "batch"]
HeaderInput = Mapping[str, str | bytes]

_encode_binary: Final = encoder("ce-headers", ContentMode.BINARY)
_decode_ce: Final = decoder("ce-headers")

# Characters sent as they are: printable ASCII but space, double-quote and percent.
_PLAIN: Final = frozenset(chr(c) for c in range(0x21, 0x7F)) - {'"', "%"}
_ESCAPE: Final = re.compile(rb"%([0-9A-Fa-f]{2})")
_BAD_ESCAPE: Final = re.compile(rb"%(?![0-9A-Fa-f]{2})")
_QUOTED_PAIR: Final = re.compile(rb"\\(.)", re.DOTALL)


# -- encoding ----------------------------------------------------------------------------------


def percent_encode(value: str) -> str:
    """``value`` as an HTTP header value of the binding (each character that needs it as
    ``%XY`` per UTF-8 byte, upper-case hex)."""
    if value.isascii() and value.isprintable() and not any(c in value for c in ' "%'):
        return value
    out: list[str] = []
    for char in value:
        if char in _PLAIN:
            out.append(char)
        else:
            out.extend(f"%{b:02X}" for b in char.encode("utf-8", "surrogatepass"))
    return "".join(out)


def to_http(
    event: Event[Any], mode: ContentMode | str = ContentMode.BINARY
) -> tuple[dict[str, str], bytes]:
    """``event`` as HTTP request (or response) headers and body, in ``mode``."""
    if ContentMode(mode) is ContentMode.STRUCTURED:
        return {"content-type": STRUCTURED_CONTENT_TYPE}, to_json(event)
    message = _encode_binary(event)
    headers: dict[str, str] = {}
    for name, value in message.headers.items():
        if name != "ce-datacontenttype":
            headers[name] = percent_encode(str(value))
    ctype = event.datacontenttype
    if ctype is not None:
        if not (ctype.isascii() and ctype.isprintable()):
            raise EncodeError(
                f"datacontenttype {ctype!r} cannot be an HTTP Content-Type header (printable "
                "ASCII only): send the event in structured mode"
            )
        headers["content-type"] = ctype
    return headers, message.body


def to_http_batch(events: Iterable[Event[Any]]) -> tuple[dict[str, str], bytes]:
    """``events`` in the batched content mode (a JSON array; may be empty)."""
    return {"content-type": BATCH_CONTENT_TYPE}, to_json_batch(events)


# -- decoding ----------------------------------------------------------------------------------


def _lowered(headers: HeaderInput) -> dict[str, str | bytes]:
    out: dict[str, str | bytes] = {}
    for name, value in headers.items():
        low = name.lower()
        if low in out:
            raise DecodeError("appears more than once; it must appear once", where=shown(low))
        out[low] = value
    return out


def _content_type(value: str | bytes | None) -> str | None:
    if value is None:
        return None
    if isinstance(value, bytes):
        try:
            value = value.decode("ascii")
        except UnicodeDecodeError:
            raise DecodeError("must be printable ASCII", where="content-type") from None
    return value.strip()


def percent_decode(value: str | bytes, where: str) -> str:
    """One header value of the binding as text: unquoted if double-quoted, then one round of
    percent-decoding, then strict UTF-8. Raises :class:`DecodeError` naming ``where``."""
    raw = value.encode("utf-8", "surrogatepass") if isinstance(value, str) else bytes(value)
    raw = raw.strip(b" \t")
    if len(raw) >= 2 and raw[:1] == b'"' and raw[-1:] == b'"':
        raw = _QUOTED_PAIR.sub(rb"\1", raw[1:-1])
    if b"%" in raw:
        bad = _BAD_ESCAPE.search(raw)
        if bad is not None:
            raise DecodeError(
                f"has a '%' at offset {bad.start()} not followed by two hex digits "
                "(the HTTP binding percent-encodes '%' as %25)",
                where=where,
            )
        raw = _ESCAPE.sub(lambda m: bytes((int(m[1], 16),)), raw)
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        raise DecodeError(
            "is not valid UTF-8 once percent-decoded (the binding rejects such bytes)",
            where=where,
        ) from None


def http_mode(headers: HeaderInput) -> HttpMode:
    """The content mode of a request: from ``Content-Type`` (the binding's rule)."""
    ctype = None
    for name, value in headers.items():
        if name.lower() == "content-type":
            ctype = _content_type(value)
    if is_cloudevents_type(ctype):
        assert ctype is not None
        if ctype.split(";", 1)[0].strip().lower() == _BATCH_MEDIA:
            return "batch"
        has_specversion = any(n.lower() == "ce-specversion" for n in headers)
        return "binary" if has_specversion and not _is_json_format(ctype) else "structured"
    return "binary"


def _is_json_format(ctype: str) -> bool:
    return ctype.split(";", 1)[0].strip().lower() == "application/cloudevents+json"


def from_http(headers: HeaderInput, body: bytes, data_type: Any = None) -> Event[Any]:
    """The event of a binary- or structured-mode HTTP message (the mode is detected).

    ``data`` is decoded into ``data_type`` when given. A batch is refused (read it with
    :func:`from_http_batch`); so is a message with neither ``ce-`` headers nor a CloudEvents
    ``Content-Type``.
    """
    try:
        return _from_http(_lowered(headers), bytes(body), data_type)
    except DecodeError:
        raise
    except Exception as exc:  # a safety net: callers see only DecodeError
        raise unreadable(exc) from exc


def _from_http(h: dict[str, str | bytes], body: bytes, data_type: Any) -> Event[Any]:
    ctype = _content_type(h.get("content-type"))
    if is_cloudevents_type(ctype):
        assert ctype is not None
        if ctype.split(";", 1)[0].strip().lower() == _BATCH_MEDIA:
            raise DecodeError(
                "is a batch (application/cloudevents-batch+json): read it with from_http_batch",
                where="content-type",
            )
        event = read_structured(body, ctype, data_type, "ce-specversion" in h)
        if event is not None:
            return event
    attributes: dict[str, str] = {}
    for name, value in h.items():
        if name[:3] == "ce-":
            attributes[name] = percent_decode(value, shown(name))
    if not attributes:
        what = f"is {ctype!r}, not a CloudEvents format," if ctype else "is missing"
        raise DecodeError(
            f"{what} and there are no ce- headers: not a CloudEvent", where="content-type"
        )
    given = attributes.get("ce-datacontenttype")
    if given is not None and ctype is not None and given != ctype:
        raise DecodeError(
            f"is {given!r} but Content-Type is {ctype!r}: in binary mode Content-Type carries "
            "datacontenttype and ce-datacontenttype must not be sent",
            where="ce-datacontenttype",
        )
    if ctype is not None and given is None:
        attributes["content-type"] = ctype
    return _decode_ce(Message(attributes, body), data_type)


def from_http_batch(headers: HeaderInput, body: bytes, data_type: Any = None) -> list[Event[Any]]:
    """The events of a batched-mode HTTP message (``application/cloudevents-batch+json``)."""
    ctype = _content_type(_lowered(headers).get("content-type"))
    if ctype is None or ctype.split(";", 1)[0].strip().lower() != _BATCH_MEDIA:
        raise DecodeError(
            f"is {ctype!r}; a batch is application/cloudevents-batch+json", where="content-type"
        )
    return from_json_batch(bytes(body), data_type)
