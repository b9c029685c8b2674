"""Request-reply on the memory broker: a reply inbox per requester, replies handed over at once.

A reply address is ``memory-reply:<inbox>.<token>``. A request published to a channel no
queue receives is answered "no responders" at once (a durable group queue with no consumer
still counts as a receiver: it keeps the request).
"""

from __future__ import annotations

import secrets
from collections.abc import Callable

from eventbus._errors import ConfigurationError
from eventbus._memory._broker import MemoryBroker
from eventbus._wire._message import Message

__all__ = ["PREFIX", "MemoryReplies", "deliver_reply", "has_receivers"]

PREFIX = "memory-reply:"


class MemoryReplies:
    """One requester's inbox on ``broker``."""

    def __init__(self, broker: MemoryBroker, on_reply: Callable[[Message], None]) -> None:
        self._broker = broker
        self._inbox = secrets.token_hex(8)
        broker.inboxes[self._inbox] = on_reply

    def reply_to(self, token: str) -> str:
        return f"{PREFIX}{self._inbox}.{token}"

    async def close(self) -> None:
        self._broker.inboxes.pop(self._inbox, None)


def has_receivers(broker: MemoryBroker, channel: str) -> bool:
    return bool(broker.routes(channel))


def deliver_reply(broker: MemoryBroker, reply_to: str, message: Message) -> None:
    """Hand ``message`` to the inbox ``reply_to`` names (dropped if it is gone)."""
    if not reply_to.startswith(PREFIX) or "." not in reply_to:
        raise ConfigurationError(
            f"{reply_to!r} is not a memory reply address ({PREFIX}<inbox>.<token>)"
        )
    inbox = reply_to[len(PREFIX) :].split(".", 1)[0]
    on_reply = broker.inboxes.get(inbox)
    if on_reply is not None:
        on_reply(message)
