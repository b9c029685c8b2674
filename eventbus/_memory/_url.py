"""``memory://[NAME][?param=value&...]`` URLs.

``NAME`` picks a process-wide named broker (adapters with the same name share it); no name means
a private broker. Parameters: the :class:`MemoryFaults` fields (``seed``, ``duplicate``,
``reorder``, ``crash_before_ack``, ``slow``, ``slow_delay``), ``max_queue``,
``max_message_bytes`` and ``dedupe_window``.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from urllib.parse import parse_qsl, urlsplit

from eventbus._errors import ConfigurationError, redact_url
from eventbus._memory._broker import DEFAULT_DEDUPE_WINDOW
from eventbus._memory._faults import MemoryFaults

__all__ = ["DEFAULT_MAX_MESSAGE_BYTES", "MemoryOptions", "check_broker_name", "parse_memory_url"]

DEFAULT_MAX_MESSAGE_BYTES = 1024 * 1024
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._\-]*")
_PROBABILITY = ("duplicate", "reorder", "crash_before_ack", "slow")
_SECONDS = ("slow_delay", "dedupe_window")
_POSITIVE_INT = ("max_queue", "max_message_bytes")
_KNOWN = ("seed", *_PROBABILITY, *_SECONDS, *_POSITIVE_INT)


@dataclass(frozen=True, slots=True)
class MemoryOptions:
    """Everything a ``memory://`` URL can say, as MemoryAdapter's constructor arguments."""

    name: str | None = None
    faults: MemoryFaults | None = None
    max_queue: int | None = None
    max_message_bytes: int = DEFAULT_MAX_MESSAGE_BYTES
    dedupe_window: float = DEFAULT_DEDUPE_WINDOW


def check_broker_name(name: str) -> None:
    if not _NAME.fullmatch(name):
        raise ConfigurationError(
            f"memory broker name {name!r} is not valid: use letters, digits, '.', '_' and '-', "
            "starting with a letter or digit"
        )


def parse_memory_url(url: str) -> MemoryOptions:
    """Read a ``memory://`` URL; raise ConfigurationError naming what is wrong."""
    shown = redact_url(url)
    try:
        parts = urlsplit(url)
    except ValueError as exc:
        raise ConfigurationError(f"not a valid memory URL: {shown}: {exc}") from exc
    if parts.scheme != "memory":
        raise ConfigurationError(f"not a memory:// URL: {shown}")
    if not url.lower().startswith("memory://"):
        raise ConfigurationError(f"a memory URL starts with 'memory://', got {shown}")
    if parts.path not in ("", "/") or parts.fragment:
        raise ConfigurationError(
            f"a memory URL is memory://[NAME][?param=value...], got {shown}: "
            "unexpected path or fragment"
        )
    if "@" in parts.netloc:
        raise ConfigurationError(f"a memory URL takes no user or password: {shown}")
    name = parts.netloc or None
    if name is not None:
        check_broker_name(name)
    values: dict[str, str] = {}
    for key, value in parse_qsl(parts.query, keep_blank_values=True):
        if key not in _KNOWN:
            raise ConfigurationError(
                f"unknown memory URL parameter {key!r} in {shown} (known: {', '.join(_KNOWN)})"
            )
        if key in values:
            raise ConfigurationError(f"memory URL parameter {key!r} is given twice in {shown}")
        values[key] = value
    if parts.query and not values:
        raise ConfigurationError(f"cannot read the query of the memory URL {shown}")

    seed = _integer(values, "seed", minimum=None)
    fault_values = {k: _number(values, k, 0.0, 1.0) for k in _PROBABILITY if k in values}
    if "slow_delay" in values:
        fault_values["slow_delay"] = _number(values, "slow_delay", 0.0, None)
    faults = MemoryFaults(seed=seed, **fault_values) if seed is not None or fault_values else None
    dedupe_window = DEFAULT_DEDUPE_WINDOW
    if "dedupe_window" in values:
        dedupe_window = _number(values, "dedupe_window", 0.0, None)
    return MemoryOptions(
        name=name,
        faults=faults,
        max_queue=_integer(values, "max_queue", minimum=1),
        max_message_bytes=_integer(values, "max_message_bytes", minimum=1)
        or DEFAULT_MAX_MESSAGE_BYTES,
        dedupe_window=dedupe_window,
    )


def _integer(values: dict[str, str], key: str, *, minimum: int | None) -> int | None:
    raw = values.get(key)
    if raw is None:
        return None
    try:
        value = int(raw)
    except ValueError:
        value = None
    if value is None or (minimum is not None and value < minimum):
        wanted = "an integer" if minimum is None else f"an integer >= {minimum}"
        raise ConfigurationError(f"memory URL parameter {key!r} must be {wanted}, got {raw!r}")
    return value


def _number(values: dict[str, str], key: str, low: float, high: float | None) -> float:
    raw = values[key]
    try:
        value = float(raw)
    except ValueError:
        value = math.nan
    if not math.isfinite(value) or value < low or (high is not None and value > high):
        wanted = (
            f"a number between {low:g} and {high:g}"
            if high is not None
            else (f"a number >= {low:g}")
        )
        raise ConfigurationError(f"memory URL parameter {key!r} must be {wanted}, got {raw!r}")
    return value
