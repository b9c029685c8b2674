"""``memory://[NAME][?param=value&...]`` URLs.

``NAME`` picks a process-wide named broker (adapters with the same name share it); no name means
a private broker. Parameters: the :class:`MemoryFaults` fields (``seed``, ``duplicate``,
``reorder``, ``crash_before_ack``, ``slow``, ``slow_delay``), ``max_queue``,
``max_message_bytes`` and ``dedupe_window``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from eventbus._adapter._toolkit import Param, parse_params, split_url
from eventbus._errors import ConfigurationError
from eventbus._memory._broker import DEFAULT_DEDUPE_WINDOW
from eventbus._memory._faults import MemoryFaults

__all__ = ["DEFAULT_MAX_MESSAGE_BYTES", "MemoryOptions", "check_broker_name", "parse_memory_url"]

DEFAULT_MAX_MESSAGE_BYTES = 1024 * 1024
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._\-]*")
_PROBABILITY = ("duplicate", "reorder", "crash_before_ack", "slow")


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


_READERS = {
    "seed": Param.integer(),
    **{key: Param.number(0.0, 1.0) for key in _PROBABILITY},
    "slow_delay": Param.seconds,
    "dedupe_window": Param.seconds,
    "max_queue": Param.integer(minimum=1),
    "max_message_bytes": Param.integer(minimum=1),
}


def parse_memory_url(url: str) -> MemoryOptions:
    """Read a ``memory://`` URL; raise ConfigurationError naming what is wrong."""
    parts, shown = split_url(url, "memory", what="memory URL")
    if parts.path not in ("", "/") or parts.fragment:
        raise ConfigurationError(
            f"a memory URL is memory://[NAME][?param=value...], got {shown}: "
            "unexpected path or fragment"
        )
    if "@" in parts.netloc or ":" in parts.netloc:
        raise ConfigurationError(f"a memory URL takes no user, password or port: {shown}")
    name = parts.netloc or None
    if name is not None:
        check_broker_name(name)
    values = parse_params(parts.query, _READERS, what="memory URL", shown=shown)
    seed = values.get("seed")
    fault_values = {k: values[k] for k in (*_PROBABILITY, "slow_delay") if k in values}
    faults = MemoryFaults(seed=seed, **fault_values) if seed is not None or fault_values else None
    return MemoryOptions(
        name=name,
        faults=faults,
        max_queue=values.get("max_queue"),
        max_message_bytes=values.get("max_message_bytes", DEFAULT_MAX_MESSAGE_BYTES),
        dedupe_window=values.get("dedupe_window", DEFAULT_DEDUPE_WINDOW),
    )
