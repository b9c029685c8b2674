"""``RateLimitedLog``: the consume pipeline's throttle for repeated retry and dead-letter lines."""

from __future__ import annotations

import logging
import time
from typing import Any

__all__ = ["RateLimitedLog"]


class RateLimitedLog:
    """At most ``burst`` records per ``window`` seconds on ``logger``; the rest are counted.

    When a new window starts (or :meth:`flush` is called, as a subscription does when it
    closes), one line says how many similar records were suppressed, at the highest level
    among them, so a flood of failures costs a few lines instead of one per event.
    """

    def __init__(
        self,
        logger: logging.Logger,
        what: str,
        *,
        burst: int = 10,
        window: float = 60.0,
        clock: Any = time.monotonic,
    ) -> None:
        self.logger = logger
        self.what = what
        self.burst = burst
        self.window = window
        self._clock = clock
        self._start = clock()
        self._shown = 0
        self._suppressed = 0
        self._level = logging.NOTSET

    @property
    def suppressed(self) -> int:
        """Records counted but not shown since the last summary."""
        return self._suppressed

    def log(
        self,
        level: int,
        msg: str,
        *args: object,
        exc_info: BaseException | None = None,
        extra: dict[str, Any] | None = None,
    ) -> None:
        if not self.logger.isEnabledFor(level):
            return
        now = self._clock()
        if now - self._start >= self.window:
            self.flush()
            self._start, self._shown = now, 0
        if self._shown < self.burst:
            self._shown += 1
            self.logger.log(level, msg, *args, exc_info=exc_info, extra=extra, stacklevel=2)
            return
        self._suppressed += 1
        self._level = max(self._level, level)

    def flush(self) -> None:
        """Log the count of suppressed records, if any."""
        if self._suppressed:
            self.logger.log(
                self._level,
                "eventbus: %d more %s suppressed in the last %.0f s",
                self._suppressed,
                self.what,
                self._clock() - self._start,
                extra={"suppressed": self._suppressed},
            )
            self._suppressed, self._level = 0, logging.NOTSET
