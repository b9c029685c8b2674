"""Request-reply on Service Bus: a session-enabled reply queue, one session per requester.

A requester (one bus) picks a session id of its own (``eb-<hex>``) and, before its first
request is sent, opens a receiver locked to that session on the reply queue (``reply_queue``,
default ``eventbus-replies``; session-enabled, created by ``provision=true`` or, on the test
broker, by that first session receiver). Each request carries the native ``ReplyTo`` (the
queue) and ``ReplyToSessionId`` (the session), and the ``replyto`` CloudEvents attribute
``<queue>/<session>`` that every adapter reads. A responder sends the reply to that queue with
``SessionId`` = the session, so only that requester receives it; replies live at most
:data:`REPLY_TTL` (one nobody takes, its requester gone, expires). Closing the listener closes
the session receiver, which releases the session: nothing is left but the shared queue.
Service Bus cannot tell at once that nobody receives a request: the requester times out.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from azure.servicebus.aio import ServiceBusReceiver

from eventbus.adapter import ConfigurationError, Message, Scrubber
from eventbus_servicebus._convert import from_received
from eventbus_servicebus._errors import describe, translated

__all__ = ["REPLY_TTL", "ServiceBusReplies", "keep_session", "split_reply_to"]

log = logging.getLogger("eventbus.servicebus")
#: How long a reply waits in the reply queue for its requester.
REPLY_TTL = timedelta(minutes=5)
_MAX_SESSION_ID = 128
_MAX_BATCH = 100
_BACKOFF = 0.5


def new_session_id() -> str:
    return f"eb-{secrets.token_hex(12)}"


def split_reply_to(reply_to: str) -> tuple[str, str]:
    """``<queue>/<session>`` -> (queue, session); ConfigurationError naming what is wrong."""
    queue, sep, session = reply_to.rpartition("/")
    if not sep or not queue or not session or len(session) > _MAX_SESSION_ID:
        raise ConfigurationError(
            f"{reply_to[:80]!r} is not a Service Bus reply address "
            f"(<reply queue>/<session id>, the session id at most {_MAX_SESSION_ID} characters)"
        )
    return queue, session


async def keep_session(receiver: ServiceBusReceiver, scrub: Scrubber) -> None:
    """Renew ``receiver``'s session lock at half its remaining time, until cancelled (or a
    renewal fails: the session is lost then)."""
    while True:
        until = receiver.session.locked_until_utc
        left = (until - datetime.now(UTC)).total_seconds() if until is not None else 10.0
        await asyncio.sleep(max(0.05, left / 2))
        try:
            await receiver.session.renew_lock()
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            log.warning("eventbus: could not renew a session lock (%s)", scrub(describe(exc)))
            return


class ServiceBusReplies:
    """The requester's session receiver on the reply queue (the ``ReplyListener`` protocol)."""

    def __init__(
        self,
        receiver: ServiceBusReceiver,
        queue: str,
        session: str,
        on_reply: Callable[[Message], None],
        scrub: Scrubber,
        receive_wait: float,
    ) -> None:
        self._receiver = receiver
        self.queue = queue
        self.session = session
        self._address = f"{queue}/{session}"
        self._on_reply = on_reply
        self._scrub = scrub
        self._receive_wait = receive_wait
        self._tasks: list[asyncio.Task[None]] = []
        self._closing = False

    async def start(self) -> None:
        """Attach the session receiver (the session is locked to this requester once this
        returns), then start receiving."""
        with translated(
            f"could not listen for replies on queue {self.queue!r} (a session-enabled queue; "
            "provision=true creates it)",
            self._scrub,
        ):
            await self._receiver.__aenter__()
        loop = asyncio.get_running_loop()
        self._tasks = [
            loop.create_task(self._receive(), name="eventbus:servicebus-replies"),
            loop.create_task(keep_session(self._receiver, self._scrub)),
        ]

    def reply_to(self, token: str) -> str:
        return self._address

    async def _receive(self) -> None:
        while not self._closing:
            try:
                batch = await self._receiver.receive_messages(
                    max_message_count=_MAX_BATCH, max_wait_time=self._receive_wait
                )
            except Exception as exc:
                if self._closing:
                    return
                log.warning(
                    "eventbus: receiving replies failed (%s); retrying", self._scrub(describe(exc))
                )
                await asyncio.sleep(_BACKOFF)
                continue
            for raw in batch:
                message, _ = from_received(raw)
                self._on_reply(message)

    async def close(self) -> None:
        """Stop receiving and close the session receiver (the session is released)."""
        self._closing = True
        tasks, self._tasks = self._tasks, []
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        try:
            await self._receiver.close()
        except Exception as exc:
            log.debug("eventbus: closing the reply receiver: %s", self._scrub(describe(exc)))
