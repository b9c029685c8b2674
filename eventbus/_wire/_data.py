"""Event data: encoding per ``datacontenttype`` and decoding into the handler's declared type."""

from __future__ import annotations

from functools import lru_cache
from typing import Any, TypeVar, cast

import msgspec

from eventbus._errors import DataDecodeError, EncodeError
from eventbus._wire._pydantic import enc_hook, is_model_class, model_decoder, validate_model

__all__ = [
    "convert_data",
    "data_type_problem",
    "decode_data",
    "encode_data",
    "is_json_type",
    "is_text_type",
]

T = TypeVar("T")

_json_encode = msgspec.json.Encoder(enc_hook=enc_hook).encode
_generic_decode = msgspec.json.Decoder().decode


@lru_cache(maxsize=256)
def is_json_type(content_type: str | None) -> bool:
    """``application/json``, ``*/json`` or ``*/*+json`` (parameters stripped, any case), or absent."""
    if content_type is None:
        return True
    media = content_type.split(";", 1)[0].strip().lower()
    return media.endswith("/json") or media.endswith("+json")


@lru_cache(maxsize=256)
def is_text_type(content_type: str | None) -> bool:
    if content_type is None:
        return False
    media = content_type.split(";", 1)[0].strip().lower()
    return media.startswith("text/") or "charset=" in content_type.lower()


def encode_data(data: Any, content_type: str | None) -> bytes:
    """The bytes a binary-mode message carries for ``data`` (empty for None)."""
    if data is None:
        return b""
    if isinstance(data, bytes | bytearray | memoryview):
        return bytes(data)
    if is_json_type(content_type):
        try:
            return _json_encode(data)
        except (TypeError, msgspec.EncodeError) as exc:
            raise EncodeError(
                f"data of type {type(data).__name__} is not JSON-encodable: {exc}"
            ) from exc
    if isinstance(data, str):
        return data.encode("utf-8")
    raise EncodeError(
        f"data of type {type(data).__name__} cannot be encoded as {content_type!r}: "
        "pass str or bytes for non-JSON content types"
    )


@lru_cache(maxsize=512)
def _decoder_for(kind: Any) -> msgspec.json.Decoder[Any]:
    if is_model_class(kind):
        return model_decoder(kind)  # type: ignore[return-value]  # the same decode()
    return msgspec.json.Decoder(kind)


def type_name(kind: Any) -> str:
    return getattr(kind, "__qualname__", None) or repr(kind)


def data_type_problem(kind: Any) -> str | None:
    """Why event data cannot be decoded into ``kind`` (msgspec does not support it), or None."""
    if kind is None or kind is Any or is_model_class(kind):
        return None
    try:
        msgspec.json.Decoder(kind)
    except TypeError as exc:
        return str(exc)
    return None


def _unsupported(kind: Any, exc: TypeError) -> DataDecodeError:
    return DataDecodeError(f"cannot decode data into {type_name(kind)}: {exc}", where="data")


def _data_error(exc: Exception) -> DataDecodeError:
    text = str(exc)
    where = "$"
    marker = " - at `"
    if marker in text:
        text, _, rest = text.partition(marker)
        where = rest.rstrip("`")
    return DataDecodeError(text, where=f"data {where}")


def decode_data(body: bytes, content_type: str | None, kind: Any = None) -> Any:
    """Decode a binary-mode body into ``kind`` (None/Any: JSON value, str or bytes by media type)."""
    if kind is bytes:
        return body
    if is_json_type(content_type):
        if not body:
            return None
        try:
            if kind is None or kind is Any:
                return _generic_decode(body)
            return _decoder_for(kind).decode(body)
        except (msgspec.ValidationError, msgspec.DecodeError) as exc:
            raise _data_error(exc) from None
        except TypeError:  # an unhashable annotation: fall back to a generic decode + convert
            try:
                value = _generic_decode(body)
            except msgspec.DecodeError as exc:
                raise _data_error(exc) from None
            return convert_data(value, kind)
    if not body:
        return None
    if kind is str or (kind in (None, Any) and is_text_type(content_type)):
        try:
            return body.decode("utf-8")
        except UnicodeDecodeError as exc:
            if kind is str:
                raise DataDecodeError(f"data is not UTF-8: {exc}", where="data") from None
            return body
    if kind is None or kind is Any:
        return body
    raise DataDecodeError(
        f"cannot decode {content_type!r} data into {type_name(kind)}",
        where="data",
    )


def convert_data(value: Any, kind: type[T]) -> T:
    """Convert an already-decoded value (dict, list...) into ``kind``, validating it."""
    if kind is Any or kind is None:
        return cast(T, value)
    try:
        if isinstance(kind, type) and isinstance(value, kind):
            return value
    except TypeError:
        pass
    try:
        if is_model_class(kind):
            return cast(T, validate_model(value, kind))
        return msgspec.convert(value, kind, strict=False)
    except msgspec.ValidationError as exc:
        raise _data_error(exc) from None
    except TypeError as exc:  # a type msgspec cannot convert into
        raise _unsupported(kind, exc) from None
