"""pydantic v2 models as event data (``pip install "eventbus[pydantic]"``).

pydantic is never imported here: a model class or instance can only exist once the user
imported pydantic, so models are recognised by pydantic v2's own class attributes. Validation
errors are raised as ``msgspec.ValidationError`` worded like msgspec's (``... - at `$.field```),
so every decoding path turns them into the same :class:`~eventbus.DataDecodeError` (and a
``data-error`` dead letter) that names the field.
"""

from __future__ import annotations

import sys
from typing import Any

import msgspec

__all__ = ["enc_hook", "is_model_class", "model_decoder", "validate_model"]


def is_model_class(kind: Any) -> bool:
    """True for a pydantic v2 ``BaseModel`` subclass (pydantic imported by the user)."""
    if not isinstance(kind, type) or "pydantic" not in sys.modules:
        return False
    base = getattr(sys.modules["pydantic"], "BaseModel", None)
    return base is not None and issubclass(kind, base)


def enc_hook(obj: Any) -> Any:
    """msgspec's hook for types it does not know: a pydantic model becomes its JSON dict."""
    if is_model_class(type(obj)):
        return obj.model_dump(mode="json")
    raise TypeError(f"Encoding objects of type {type(obj).__name__} is unsupported")


def _path(loc: tuple[Any, ...]) -> str:
    path = "$"
    for part in loc:
        path += f"[{part}]" if isinstance(part, int) else f".{part}"
    return path


def _translate(exc: Exception) -> Exception:
    errors = getattr(exc, "errors", None)
    if not callable(errors):
        return exc
    found = errors(include_url=False)
    if not found:
        return msgspec.ValidationError(str(exc))
    first = found[0]
    more = f" (and {len(found) - 1} more problems)" if len(found) > 1 else ""
    return msgspec.ValidationError(f"{first['msg']}{more} - at `{_path(tuple(first['loc']))}`")


class _ModelDecoder:
    """Quacks like ``msgspec.json.Decoder(kind)`` for a pydantic model class."""

    def __init__(self, kind: Any) -> None:
        self.kind = kind

    def decode(self, body: bytes) -> Any:
        try:
            return self.kind.model_validate_json(body)
        except ValueError as exc:  # pydantic's ValidationError derives from ValueError
            raise _translate(exc) from None


def model_decoder(kind: Any) -> _ModelDecoder:
    return _ModelDecoder(kind)


def validate_model(value: Any, kind: Any) -> Any:
    """An already-decoded JSON value (structured mode) validated into the model ``kind``."""
    if isinstance(value, kind):
        return value
    try:
        return kind.model_validate(value)
    except ValueError as exc:
        raise _translate(exc) from None
