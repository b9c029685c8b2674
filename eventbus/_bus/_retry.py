"""Retry policy: exponential backoff with jitter and a maximum attempt count."""

from __future__ import annotations

import random
from dataclasses import dataclass

from eventbus._errors import ConfigurationError

__all__ = ["RetryPolicy"]


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """How a failing handler is retried before its event goes to the dead-letter channel.

    Attempt ``n`` (1-based) that fails waits ``initial_delay * multiplier**(n-1)``, capped at
    ``max_delay``, then scaled by a random factor in ``[1 - jitter, 1 + jitter]``. After
    ``max_attempts`` failed attempts the event is dead-lettered.
    """

    max_attempts: int = 5
    """Attempts in all, the first included (>= 1; default 5). 1 means no retry."""
    initial_delay: float = 0.1
    """Seconds to wait after the first failed attempt (>= 0; default 0.1)."""
    max_delay: float = 30.0
    """The longest wait between attempts, in seconds (>= 0; default 30)."""
    multiplier: float = 2.0
    """Each further wait is this many times the previous one (>= 1; default 2)."""
    jitter: float = 0.2
    """Each wait is scaled by a random factor within ``1 +- jitter`` (0..1; default 0.2), so
    consumers failing together do not retry together."""

    def __post_init__(self) -> None:
        problems = []
        if self.max_attempts < 1:
            problems.append("max_attempts must be >= 1")
        if self.initial_delay < 0 or self.max_delay < 0:
            problems.append("delays must be >= 0")
        if self.multiplier < 1:
            problems.append("multiplier must be >= 1")
        if not 0 <= self.jitter <= 1:
            problems.append("jitter must be within [0, 1]")
        if problems:
            raise ConfigurationError("invalid RetryPolicy: " + "; ".join(problems))

    @classmethod
    def never(cls) -> RetryPolicy:
        """One attempt: a failure goes straight to the dead-letter channel."""
        return cls(max_attempts=1)

    def delay(self, attempt: int, rng: random.Random | None = None) -> float:
        """Seconds to wait after failed attempt ``attempt`` (1-based)."""
        base = min(self.max_delay, self.initial_delay * self.multiplier ** max(0, attempt - 1))
        if self.jitter:
            base *= 1 + self.jitter * (2 * (rng or random).random() - 1)
        return max(0.0, base)

    def exhausted(self, attempt: int) -> bool:
        """True when failed attempt ``attempt`` (1-based) was the last one."""
        return attempt >= self.max_attempts
