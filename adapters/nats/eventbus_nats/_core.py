"""A core NATS subscription: a plain subscription (a queue group for ``group``), at most once.

nats-py buffers up to ``core_pending_limit`` messages behind a slow handler and drops the rest
(a slow consumer). Each drop is counted (``dropped``, and the bus's ``stats.dropped`` through
``SubscriptionSpec.on_dropped``) and logged as an error: the first one at once, then at most one
line every few seconds with the count, and a last line when the subscription stops.
"""

from __future__ import annotations

import logging
import time

from nats.aio.client import Client
from nats.aio.msg import Msg
from nats.aio.subscription import Subscription

from eventbus.adapter import Deliver, Message, Scrubber, SubscriptionSpec
from eventbus_nats._delivery import CoreDelivery
from eventbus_nats._errors import translated

__all__ = ["CoreSubscription"]

log = logging.getLogger("eventbus.nats")
_NO_HEADERS: dict[str, str] = {}
_DROP_LOG_EVERY = 5.0  # seconds between two error lines about drops


class CoreSubscription:
    """Hands each message to ``deliver`` and awaits it: nats-py buffers up to
    ``pending_limit`` messages behind a slow handler, then drops (counted and logged)."""

    def __init__(
        self, nc: Client, spec: SubscriptionSpec, deliver: Deliver, scrub: Scrubber
    ) -> None:
        self.spec = spec
        self._nc = nc
        self._deliver = deliver
        self._scrub = scrub
        self._sub: Subscription | None = None
        self._stopped = False
        self.dropped_total = 0
        self._pending_limit = 0
        self._unreported = 0
        self._reported_at = -_DROP_LOG_EVERY

    def __repr__(self) -> str:
        state = "stopped" if self._stopped else "open"
        return f"<CoreSubscription {self.spec.channel!r} group={self.spec.group!r} {state}>"

    async def start(self, pending_limit: int) -> None:
        self._pending_limit = pending_limit
        with translated(f"subscribing to {self.spec.channel!r}", self._scrub):
            self._sub = await self._nc.subscribe(
                self.spec.channel,
                queue=self.spec.group or "",
                cb=self._arrive,
                pending_msgs_limit=pending_limit,
            )
            # The server has the subscription before we return. nats-py writes a flush's PING
            # straight to the socket, possibly ahead of the buffered SUB: the first round trip
            # gets the SUB written, the second one confirms the server processed it.
            await self._nc.flush()
            await self._nc.flush()

    def owns(self, nats_sub: object) -> bool:
        return nats_sub is not None and nats_sub is self._sub

    def dropped(self, count: int) -> None:
        """nats-py dropped ``count`` messages of this subscription: count, tell the bus, log."""
        self.dropped_total += count
        self._unreported += count
        if self.spec.on_dropped is not None:
            self.spec.on_dropped(count)
        if time.monotonic() - self._reported_at >= _DROP_LOG_EVERY:
            self._report()

    def _report(self) -> None:
        if not self._unreported:
            return
        self._reported_at = time.monotonic()
        log.error(
            "nats: %d message(s) dropped on %r (%d so far): the handler is slower than the "
            "messages arrive and core NATS keeps nothing (raise core_pending_limit, now %d, "
            "or use JetStream)",
            self._unreported,
            self.spec.channel,
            self.dropped_total,
            self._pending_limit,
        )
        self._unreported = 0

    async def _arrive(self, msg: Msg) -> None:
        if self._stopped:
            return
        message = Message(msg.headers or _NO_HEADERS, msg.data)
        try:
            await self._deliver(CoreDelivery(message))
        except Exception:
            log.exception("nats: deliver failed on %r; the message is lost (core NATS)", self)

    async def stop(self) -> None:
        """Unsubscribe: nothing more arrives (core NATS keeps nothing for later)."""
        if self._stopped:
            return
        self._stopped = True
        self._report()  # drops not logged yet
        sub, self._sub = self._sub, None
        if sub is not None and not self._nc.is_closed:
            try:
                with translated(f"unsubscribing from {self.spec.channel!r}", self._scrub):
                    await sub.unsubscribe()
            except Exception as exc:
                log.debug("nats: %s", exc)

    async def close(self) -> None:
        await self.stop()
