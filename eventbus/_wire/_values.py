"""Helpers shared by the JSON format and the bindings: values, time, data, fast event building.

Everything here is pure and raises only :class:`DecodeError` / :class:`DataDecodeError` on
malformed input.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any, Final

import msgspec

from eventbus._errors import DataDecodeError, DecodeError, EncodeError, InvalidEventError
from eventbus._wire._data import (
    _data_error,
    _unsupported,
    convert_data,
    decode_data,
    encode_data,
)
from eventbus._wire._event import JSON_CONTENT_TYPE, OCTET_STREAM, Event
from eventbus._wire._pydantic import enc_hook, is_model_class
from eventbus._wire._types import ExtensionValue, parse_time, to_canonical

json_encode: Final = msgspec.json.Encoder(enc_hook=enc_hook).encode
json_decode: Final = msgspec.json.Decoder().decode

# -- attribute values --------------------------------------------------------------------------


def parse_time_text(text: str, where: str) -> datetime:
    """Parse an RFC 3339 timestamp (fast path for ``...Z`` forms) or raise ``DecodeError``."""
    if len(text) <= 27 and text[-1:] in ("Z", "z"):  # at most 6 fraction digits: no rounding
        try:
            return msgspec.convert(text, datetime)
        except msgspec.ValidationError:
            pass  # let parse_time explain
    try:
        return parse_time(text)
    except ValueError as exc:
        raise DecodeError(str(exc), where=where) from None


def json_value(value: ExtensionValue) -> bool | int | str:
    """An attribute value as the JSON format writes it (bool/int native, the rest strings)."""
    return value if isinstance(value, str | int) else to_canonical(value)


def text(value: object, where: str) -> str:
    """A received header value as text: str as-is, bytes as UTF-8."""
    if isinstance(value, str):
        return value
    if isinstance(value, bytes | bytearray):
        try:
            return bytes(value).decode("utf-8")
        except UnicodeDecodeError:
            raise DecodeError("is not valid UTF-8", where=where) from None
    if isinstance(value, list | tuple):  # a transport that keeps repeated headers (NATS)
        raise DecodeError(f"appears {len(value)} times; it must appear once", where=where)
    raise DecodeError(f"must be a string, not {type(value).__name__}", where=where)


def shown(name: str) -> str:
    """A received name fit for error text: non-printable characters (a lone surrogate, a
    control character) escaped, so the text can be logged, printed and encoded anywhere."""
    if name.isprintable():
        return name
    return name.encode("ascii", "backslashreplace").decode("ascii")


def unreadable(exc: Exception) -> DecodeError:
    """The DecodeError for an unexpected failure while reading a message (a safety net)."""
    return DecodeError(f"cannot be read: {type(exc).__name__}: {shown(str(exc))}", where="message")


def key_text(key: object) -> str | None:
    """A received header name as text (bytes as UTF-8); None when it is neither."""
    if isinstance(key, str):
        return key
    if isinstance(key, bytes):
        try:
            return key.decode("utf-8")
        except UnicodeDecodeError:
            return None
    return None


# -- mode detection ----------------------------------------------------------------------------


def is_cloudevents_type(ctype: str | None) -> bool:
    """A content type naming a CloudEvents format (``application/cloudevents...``, any case)."""
    return ctype is not None and ctype[:23].lower() == "application/cloudevents"


def looks_structured(body: bytes) -> bool:
    return body.lstrip()[:1] == b"{"


def no_values(attributes: Mapping[str, Any]) -> bool:
    return all(value is None for value in attributes.values())


# -- data --------------------------------------------------------------------------------------


def binary_data(body: bytes, ctype: str | None, data_type: Any) -> Any:
    """Decode a binary-mode body; an empty body is no data; no content type: JSON, else bytes."""
    if not body:
        return b"" if data_type is bytes else None
    try:
        if data_type is None or data_type is Any:
            if ctype is None:
                try:
                    return json_decode(body)
                except (msgspec.DecodeError, RecursionError):
                    return bytes(body)
            if ctype == JSON_CONTENT_TYPE:
                return json_decode(body)
        return decode_data(body, ctype, data_type)
    except RecursionError:
        raise DataDecodeError("data nests too deeply", where="data") from None
    except msgspec.DecodeError as exc:
        raise _data_error(exc) from None


def coerce_data(value: Any, ctype: str | None, data_type: Any) -> Any:
    """Convert decoded structured-mode data (JSON value, str or bytes) into ``data_type``."""
    if data_type is None or data_type is Any or value is None:
        return value
    if isinstance(value, bytes):
        return binary_data(value, ctype, data_type)
    if data_type is bytes:
        try:
            return encode_data(value, ctype)
        except EncodeError as exc:
            raise DataDecodeError(str(exc), where="data") from None
    try:
        if isinstance(data_type, type) and isinstance(value, data_type):
            return value
    except TypeError:
        pass
    if is_model_class(data_type):
        return convert_data(value, data_type)
    try:
        return msgspec.convert(value, data_type)
    except msgspec.ValidationError as exc:
        raise _data_error(exc) from None
    except TypeError as exc:  # a type msgspec cannot convert into
        raise _unsupported(data_type, exc) from None


# -- building events ---------------------------------------------------------------------------

_set: Final = msgspec.structs.force_setattr


def build_event(
    where: Callable[[str], str],
    specversion: Any,
    id: Any,
    source: Any,
    type: Any,
    subject: Any,
    dataschema: Any,
    datacontenttype: Any,
    time: Any,
    extensions: dict[str, Any],
    data: Any,
) -> Event[Any]:
    """An :class:`Event` from decoded attributes (``extensions`` is taken over, not copied).

    Errors are :class:`DecodeError` naming the wire field through ``where`` (``Event``'s own
    validation, which has a fast path for the usual printable-ASCII event, finds them).
    """
    try:
        return Event(
            specversion=specversion,
            id=id,
            source=source,
            type=type,
            subject=subject,
            dataschema=dataschema,
            datacontenttype=datacontenttype,
            time=time,
            extensions=extensions,
            data=data,
        )
    except InvalidEventError as exc:
        wheres = [shown(where(p.where.removeprefix("extensions."))) for p in exc.problems]
        lines = "; ".join(f"{w}: {p.message}" for w, p in zip(wheres, exc.problems, strict=True))
        raise DecodeError(
            f"not a valid CloudEvent ({len(wheres)} problem(s)): {lines}",
            where=wheres[0] if wheres else None,
        ) from exc


def set_data(event: Event[Any], data: Any, defaulted_type: bool) -> Event[Any]:
    """Put decoded ``data`` into a just-built ``event`` (built with ``data=None``).

    Data is decoded only after the attributes proved valid, so attribute errors win.
    ``defaulted_type``: ``datacontenttype`` was absent, so data gets the default ``Event``
    gives (``application/octet-stream`` for bytes, else ``application/json``); an event
    without data keeps none.
    """
    if data is not None:
        _set(event, "data", data)
        if defaulted_type:
            _set(
                event,
                "datacontenttype",
                OCTET_STREAM if isinstance(data, bytes) else JSON_CONTENT_TYPE,
            )
    return event
