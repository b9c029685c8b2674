"""Fault injection settings and the broker's counters.

Faults are drawn from a seeded :class:`random.Random` per subscription, so a test run with the
same seed, the same program and the same inputs sees the same faults.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, fields

from eventbus._errors import ConfigurationError

__all__ = ["MemoryFaults", "MemoryStats"]

_PROBABILITIES = ("duplicate", "reorder", "crash_before_ack", "slow")


@dataclass(frozen=True, slots=True)
class MemoryFaults:
    """What the in-memory broker does wrong on purpose, and how often.

    ``duplicate``: probability that a delivered message is delivered a second time (a separate
    delivery, same attempt). ``reorder``: probability that the next ready message swaps places
    with the one after it when their keys differ (per-key order always holds, and messages
    without a key keep their order among themselves).
    ``crash_before_ack``: probability that an ack is lost; the message comes back with
    attempt + 1, as after a consumer crash. ``slow``: probability that a delivery is held for
    ``slow_delay`` seconds before it is handed over. ``seed`` makes the draws reproducible.
    """

    seed: int | None = None
    duplicate: float = 0.0
    reorder: float = 0.0
    crash_before_ack: float = 0.0
    slow: float = 0.0
    slow_delay: float = 0.05

    def __post_init__(self) -> None:
        for name in _PROBABILITIES:
            value = getattr(self, name)
            if not _is_number(value) or not 0.0 <= value <= 1.0:
                raise ConfigurationError(
                    f"memory fault {name!r} must be a probability between 0 and 1, got {value!r}"
                )
        if not _is_number(self.slow_delay) or self.slow_delay < 0:
            raise ConfigurationError(
                f"memory fault 'slow_delay' must be a number of seconds >= 0, "
                f"got {self.slow_delay!r}"
            )
        if self.seed is not None and (
            isinstance(self.seed, bool) or not isinstance(self.seed, int)
        ):
            raise ConfigurationError(f"memory fault 'seed' must be an integer, got {self.seed!r}")

    @property
    def enabled(self) -> bool:
        """True when at least one fault has a non-zero probability."""
        return any(getattr(self, name) > 0 for name in _PROBABILITIES)


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


@dataclass(slots=True)
class MemoryStats:
    """Counters of one broker, shared by every adapter using it. Read them in tests.

    ``published`` counts messages accepted by ``publish`` (after dedupe), ``unrouted`` those of
    them no queue matched (dropped), ``deduplicated`` those dropped as publisher duplicates.
    ``delivered`` counts every hand-over to a consumer, ``redelivered`` the hand-overs with
    attempt > 1. ``expired`` counts deliveries whose ack_wait elapsed, ``returned`` unsettled
    deliveries given back when a subscription closed.
    """

    published: int = 0
    unrouted: int = 0
    deduplicated: int = 0
    delivered: int = 0
    acked: int = 0
    nacked: int = 0
    redelivered: int = 0
    expired: int = 0
    returned: int = 0
    dead_lettered: int = 0
    duplicates_injected: int = 0
    acks_dropped: int = 0
    reorders_injected: int = 0
    slow_injected: int = 0

    def as_dict(self) -> dict[str, int]:
        return {f.name: getattr(self, f.name) for f in fields(self)}

    def reset(self) -> None:
        for f in fields(self):
            setattr(self, f.name, 0)
