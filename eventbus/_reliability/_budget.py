"""``RetryBudget``: cap the share of retries, so a failing dependency cannot cause a retry storm.

A consume middleware. Over a sliding ``window`` (seconds), retries may be at most ``ratio`` times
the first deliveries seen, plus ``min_per_second`` retries per second so a quiet subscription
can still retry. When a failed event would be retried beyond that, it is not retried: it is
dead-lettered at once with the reason ``retry-budget-exhausted`` (replay it later with
``eventbus dlq replay --reason retry-budget-exhausted``). Events whose attempts are used up
are dead-lettered as usual and spend nothing.
"""

from __future__ import annotations

import logging
import math
import time
from collections import deque
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from eventbus._bus._middleware import ConsumeContext, ConsumeNext, Middleware
from eventbus._errors import ConfigurationError, RejectedEventError
from eventbus._wire._event import Event

if TYPE_CHECKING:
    from eventbus._bus._consumer import Subscription

__all__ = ["RetryBudget"]

log = logging.getLogger("eventbus.budget")
BUDGET_EXHAUSTED = "retry-budget-exhausted"
_BUCKETS = 10


class RetryBudget(Middleware):
    """At most ``ratio`` retries per first delivery (plus ``min_per_second``), over ``window`` s.

    Give one instance to one subscription (``bus.subscribe(..., middleware=[RetryBudget()])``);
    shared by several, they share the budget.
    """

    def __init__(
        self,
        ratio: float = 0.2,
        *,
        min_per_second: float = 1.0,
        window: float = 10.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        problems = []
        if ratio < 0:
            problems.append(f"ratio must be >= 0, got {ratio!r}")
        if min_per_second < 0:
            problems.append(f"min_per_second must be >= 0, got {min_per_second!r}")
        if not window > 0:
            problems.append(f"window must be > 0 seconds, got {window!r}")
        if problems:
            raise ConfigurationError(f"invalid RetryBudget: {'; '.join(problems)}")
        self.ratio = ratio
        self.min_per_second = min_per_second
        self.window = window
        self._clock = clock
        self._width = window / _BUCKETS
        # (bucket number, first deliveries, retries) for the buckets inside the window
        self._buckets: deque[list[int]] = deque()
        self._max_attempts: dict[tuple[str, str | None], int] = {}
        self.exhausted = 0  # events dead-lettered because the budget was spent

    def __repr__(self) -> str:
        return f"RetryBudget(ratio={self.ratio}, window={self.window})"

    def on_subscribe(self, subscription: Subscription) -> None:
        key = (subscription.pattern, subscription.group)
        self._max_attempts[key] = subscription.retry.max_attempts

    def _bucket(self) -> list[int]:
        number = math.floor(self._clock() / self._width)
        buckets = self._buckets
        while buckets and buckets[0][0] <= number - _BUCKETS:
            buckets.popleft()
        if not buckets or buckets[-1][0] != number:
            buckets.append([number, 0, 0])
        return buckets[-1]

    def _allowed(self) -> bool:
        self._bucket()
        firsts = sum(b[1] for b in self._buckets)
        retries = sum(b[2] for b in self._buckets)
        return retries < self.ratio * firsts + self.min_per_second * self.window

    @property
    def available(self) -> float:
        """Retries that may still be spent in the current window."""
        self._bucket()
        firsts = sum(b[1] for b in self._buckets)
        retries = sum(b[2] for b in self._buckets)
        return max(0.0, self.ratio * firsts + self.min_per_second * self.window - retries)

    async def on_consume(
        self, event: Event[Any], context: ConsumeContext, call_next: ConsumeNext
    ) -> None:
        if context.attempt == 1:
            self._bucket()[1] += 1
        try:
            await call_next(event, context)
        except RejectedEventError:
            raise
        except Exception as exc:
            limit = self._max_attempts.get((context.pattern, context.group))
            if limit is not None and context.attempt >= limit:
                raise  # the bus dead-letters it anyway: no retry to pay for
            if self._allowed():
                self._bucket()[2] += 1
                raise
            self.exhausted += 1
            log.warning(
                "eventbus: retry budget spent on %r: dead-lettering event %s without a retry",
                context.channel,
                event.id,
                extra={"event_id": event.id, "event_source": event.source},
            )
            raise RejectedEventError(
                f"retry budget exhausted; last error: {type(exc).__name__}: {exc}",
                reason=BUDGET_EXHAUSTED,
            ) from exc
