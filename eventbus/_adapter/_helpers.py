"""Small helpers several adapters share (exported by :mod:`eventbus.adapter`).

- :func:`check_positive`: a configuration number is finite and > 0 (or >= 0), else a
  :class:`ConfigurationError` naming the setting;
- :func:`fit_name`: a derived broker name (topic, queue, subscription) cut to the broker's
  length limit, with a digest of the whole name so that two long names stay distinct;
- :func:`first_line`: the first line of an SDK's error text, bounded, for our error messages.
"""

from __future__ import annotations

import hashlib
import math

from eventbus._errors import ConfigurationError

__all__ = ["check_positive", "first_line", "fit_name"]

_DIGEST_CHARS = 12
_MAX_TEXT = 300


def check_positive(name: str, value: float, *, allow_zero: bool = False) -> None:
    """Raise :class:`ConfigurationError` naming ``name`` unless ``value`` is a finite number
    > 0 (>= 0 with ``allow_zero``); a bool is not a number here."""
    ok = not isinstance(value, bool) and math.isfinite(value)
    ok = ok and (value >= 0 if allow_zero else value > 0)
    if not ok:
        wanted = ">= 0" if allow_zero else "> 0"
        raise ConfigurationError(f"{name} must be a number {wanted}, got {value!r}")


def fit_name(name: str, limit: int) -> str:
    """``name`` itself when it has at most ``limit`` characters; otherwise its first
    ``limit - 13`` characters, ``-`` and 12 hex characters of its SHA-256 (``limit`` long)."""
    if len(name) <= limit:
        return name
    digest = hashlib.sha256(name.encode()).hexdigest()[:_DIGEST_CHARS]
    return f"{name[: limit - _DIGEST_CHARS - 1]}-{digest}"


def first_line(text: str, limit: int = _MAX_TEXT) -> str:
    """The first line of ``text`` without surrounding white space, at most ``limit``
    characters; ``""`` for a blank text."""
    text = text.strip()
    return text.splitlines()[0][:limit] if text else ""
