"""Request-reply on NATS: one reply inbox per requester, ``<inbox>.<token>`` per request.

Core NATS: the request's reply subject is set, so the server answers "no responders" (status
503) at once when no subscriber listens. JetStream does not store a message's reply subject:
the reply address travels in the request's ``ce-replyto`` header (as on every adapter) and the
responder publishes the reply on core NATS to it; a stream keeps a request until a consumer
takes it, so "no responders" cannot be told there and the requester times out (the same holds
for a core NATS request to a subject a stream captures: the stream acknowledges it to the
reply subject, and that acknowledgement is not a reply).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable

from nats.aio.client import Client
from nats.aio.msg import Msg
from nats.aio.subscription import Subscription

from eventbus.adapter import ConfigurationError, Message, Scrubber
from eventbus_nats._errors import translated

__all__ = ["NatsReplies", "check_reply_subject"]

log = logging.getLogger("eventbus.nats")
_STATUS = "Status"
_NO_RESPONDERS = "503"
_NO_HEADERS: dict[str, str] = {}
_SUBJECT = re.compile(r"[^\s*>.]+(\.[^\s*>.]+)*")


def check_reply_subject(reply_to: str) -> None:
    """A reply goes to one plain subject: no wildcard, no whitespace, no empty token."""
    if not _SUBJECT.fullmatch(reply_to) or len(reply_to) > 1024:
        raise ConfigurationError(f"{reply_to[:80]!r} is not a NATS subject a reply can go to")


class NatsReplies:
    """The requester's inbox subscription (``<inbox>.*``), made before any request is sent."""

    def __init__(
        self,
        nc: Client,
        on_reply: Callable[[Message], None],
        on_no_responders: Callable[[str], None],
        scrub: Scrubber,
    ) -> None:
        self._nc = nc
        self._prefix = nc.new_inbox() + "."
        self._on_reply = on_reply
        self._on_no_responders = on_no_responders
        self._scrub = scrub
        self._sub: Subscription | None = None

    async def start(self, pending_limit: int) -> None:
        with translated("subscribing to the reply inbox", self._scrub):
            self._sub = await self._nc.subscribe(
                self._prefix + "*", cb=self._arrive, pending_msgs_limit=pending_limit
            )
            await self._nc.flush()  # see CoreSubscription.start: the server has the SUB after
            await self._nc.flush()

    def reply_to(self, token: str) -> str:
        return self._prefix + token

    async def _arrive(self, msg: Msg) -> None:
        headers = msg.headers
        if headers and headers.get(_STATUS) == _NO_RESPONDERS and not msg.data:
            self._on_no_responders(msg.subject[len(self._prefix) :])
            return
        if not headers and msg.data.startswith(b'{"stream"'):
            # Core NATS on a subject a JetStream stream captures: the stream stored the request
            # and acknowledged it to the reply subject. A consumer of the stream may answer.
            log.debug("nats: a JetStream stream stored a request sent to %r", msg.subject)
            return
        self._on_reply(Message(headers or _NO_HEADERS, msg.data))

    async def close(self) -> None:
        """Unsubscribe; once this returns the server has dropped the inbox subscription (the
        flush's PONG comes after the UNSUB), so a reply sent from then on finds no one."""
        sub, self._sub = self._sub, None
        if sub is not None and not self._nc.is_closed:
            try:
                with translated("unsubscribing from the reply inbox", self._scrub):
                    await sub.unsubscribe()
                    await self._nc.flush()
            except Exception as exc:
                log.debug("nats: %s", exc)
