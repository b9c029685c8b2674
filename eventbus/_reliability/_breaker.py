"""``CircuitBreaker``: stop consuming while a dependency fails, then probe it.

A consume middleware. Closed: every event passes and outcomes are counted. After
``failure_threshold`` failures in a row (or a ``failure_ratio`` of the last ``window`` outcomes)
it opens: every subscription it serves is paused (``Subscription.pause()``: the broker keeps the
messages) and events already taken wait at the gate instead of failing. After ``cool_down``
seconds it half-opens: intake resumes but only ``probes`` events at a time pass the gate; one
success closes it (everything flows again), a failure opens it again for twice the cool-down
(up to ``max_cool_down``).

Only failures of the dependency count: by default every exception except
:class:`~eventbus.RejectedEventError` (a poison or invalid event says nothing about the
dependency). Pass ``is_failure`` to choose.
"""

from __future__ import annotations

import asyncio
import enum
import logging
from collections import deque
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from eventbus._bus._middleware import ConsumeContext, ConsumeNext, Middleware
from eventbus._errors import ConfigurationError, RejectedEventError
from eventbus._wire._event import Event

if TYPE_CHECKING:
    from eventbus._bus._consumer import Subscription

__all__ = ["BreakerState", "CircuitBreaker"]

log = logging.getLogger("eventbus.breaker")


class BreakerState(enum.Enum):
    """Where a :class:`CircuitBreaker` is: every event passes, intake is paused, or a few
    probes pass."""

    CLOSED = "closed"
    """Every event passes; outcomes are counted."""
    OPEN = "open"
    """The subscriptions are paused; events already taken wait at the gate."""
    HALF_OPEN = "half-open"
    """Intake resumes, ``probes`` events at a time: a success closes, a failure opens again."""


def _default_is_failure(exc: BaseException) -> bool:
    return not isinstance(exc, RejectedEventError)


StateListener = Callable[[BreakerState, BreakerState], None]


class CircuitBreaker(Middleware):
    """Pause the subscriptions it serves while their dependency fails.

    One breaker per dependency: give the same instance to every subscription that calls it
    (``bus.subscribe(..., middleware=[breaker])``) and they pause and resume together.
    ``on_state_change(old, new)`` is called on every transition (metrics, alerts).
    """

    def __init__(
        self,
        *,
        failure_threshold: int = 5,
        failure_ratio: float | None = None,
        window: int = 20,
        cool_down: float = 30.0,
        max_cool_down: float = 300.0,
        probes: int = 1,
        is_failure: Callable[[BaseException], bool] | None = None,
        on_state_change: StateListener | None = None,
        name: str = "circuit breaker",
    ) -> None:
        problems = []
        if failure_threshold < 1:
            problems.append(f"failure_threshold must be >= 1, got {failure_threshold!r}")
        if failure_ratio is not None and not 0 < failure_ratio <= 1:
            problems.append(f"failure_ratio must be within (0, 1], got {failure_ratio!r}")
        if window < 1:
            problems.append(f"window must be >= 1, got {window!r}")
        if not cool_down > 0 or max_cool_down < cool_down:
            problems.append(
                f"cool_down must be > 0 and <= max_cool_down, got {cool_down!r} and "
                f"{max_cool_down!r}"
            )
        if probes < 1:
            problems.append(f"probes must be >= 1, got {probes!r}")
        if problems:
            raise ConfigurationError(f"invalid CircuitBreaker: {'; '.join(problems)}")
        self.name = name
        self.failure_threshold = failure_threshold
        self.failure_ratio = failure_ratio
        self.cool_down = cool_down
        self.max_cool_down = max_cool_down
        self.probes = probes
        self._is_failure = is_failure or _default_is_failure
        self._listeners: list[StateListener] = [on_state_change] if on_state_change else []
        self._state = BreakerState.CLOSED
        self._streak = 0
        self._outcomes: deque[bool] = deque(maxlen=window)  # True = failure
        self._current_cool_down = cool_down
        self._probing = 0
        self._changed: asyncio.Event | None = None
        self._timer: asyncio.TimerHandle | None = None
        self._subscriptions: list[Subscription] = []
        self.opened = 0  # how many times it opened

    def __repr__(self) -> str:
        return f"CircuitBreaker({self.name!r}, state={self._state.value})"

    @property
    def state(self) -> BreakerState:
        return self._state

    def add_listener(self, listener: StateListener) -> None:
        self._listeners.append(listener)

    def on_subscribe(self, subscription: Subscription) -> None:
        self._subscriptions.append(subscription)

    # -- the gate -------------------------------------------------------------------------------

    async def on_consume(
        self, event: Event[Any], context: ConsumeContext, call_next: ConsumeNext
    ) -> None:
        probe = False
        while self._state is not BreakerState.CLOSED:
            if self._state is BreakerState.HALF_OPEN and self._probing < self.probes:
                self._probing += 1
                probe = True
                break
            await self._wait_change()
        try:
            await call_next(event, context)
        except BaseException as exc:
            if isinstance(exc, Exception) and self._is_failure(exc):
                self._record(failed=True, probe=probe)
            elif probe:
                self._probing -= 1  # inconclusive (a rejected event): let another probe go
                self._notify()
            raise
        self._record(failed=False, probe=probe)

    async def _wait_change(self) -> None:
        if self._changed is None:
            self._changed = asyncio.Event()
        await self._changed.wait()

    def _notify(self) -> None:
        changed, self._changed = self._changed, None
        if changed is not None:
            changed.set()

    # -- transitions ----------------------------------------------------------------------------

    def _record(self, *, failed: bool, probe: bool) -> None:
        if probe:
            self._probing -= 1
            if self._state is BreakerState.HALF_OPEN:
                if failed:
                    self._current_cool_down = min(self._current_cool_down * 2, self.max_cool_down)
                    self._open()
                else:
                    self._close()
            return
        if self._state is not BreakerState.CLOSED:
            return  # admitted before it opened: stale news
        self._outcomes.append(failed)
        self._streak = self._streak + 1 if failed else 0
        if failed and self._tripped():
            self._open()

    def _tripped(self) -> bool:
        if self._streak >= self.failure_threshold:
            return True
        outcomes = self._outcomes
        ratio = self.failure_ratio
        return (
            ratio is not None
            and len(outcomes) == outcomes.maxlen
            and sum(outcomes) >= ratio * len(outcomes)
        )

    def _set(self, state: BreakerState) -> None:
        old, self._state = self._state, state
        log.warning("eventbus: %s %s -> %s", self.name, old.value, state.value)
        for listener in self._listeners:
            try:
                listener(old, state)
            except Exception:
                log.exception("eventbus: a circuit breaker listener failed")
        self._notify()

    def _open(self) -> None:
        self.opened += 1
        for sub in self._subscriptions:
            sub.pause()
        if self._timer is not None:
            self._timer.cancel()
        self._timer = asyncio.get_running_loop().call_later(
            self._current_cool_down, self._half_open
        )
        self._set(BreakerState.OPEN)

    def _half_open(self) -> None:
        self._timer = None
        self._probing = 0
        self._set(BreakerState.HALF_OPEN)
        for sub in self._subscriptions:
            sub.resume()  # let messages in: only ``probes`` of them pass the gate

    def _close(self) -> None:
        self._streak = 0
        self._outcomes.clear()
        self._current_cool_down = self.cool_down
        self._set(BreakerState.CLOSED)
        for sub in self._subscriptions:
            sub.resume()

    def reset(self) -> None:
        """Close the breaker now (an operator knows the dependency is back)."""
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if self._state is not BreakerState.CLOSED:
            self._close()
