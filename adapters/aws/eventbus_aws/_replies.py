"""Request-reply on SNS/SQS: a reply topic of the requester's own, removed when it closes.

SNS has no reply-to. Before its first request a requester (one bus) creates an SNS topic of its
own (channel ``eventbus-replies-<hex>``) and a fan-out queue subscribed to it; every request
carries that channel in the ``replyto`` CloudEvents attribute (``ce-replyto``), and a responder
publishes the reply to its topic. Closing the listener removes all three: the SNS subscription,
the queue and the topic. A reply to a topic that is gone (its requester closed) is dropped: it
is never created again. SNS cannot tell that nobody receives a request: the requester times out.
A requester whose process dies leaves its topic and queue (prune ``eventbus-replies-*``).
"""

from __future__ import annotations

import secrets
from collections.abc import Awaitable, Callable

from eventbus.adapter import Delivery, Message
from eventbus_aws._admin import Admin, TopicRef
from eventbus_aws._subscription import SqsSubscription

__all__ = ["REPLIES_IN_FLIGHT", "SqsReplies", "reply_channel"]

#: Replies taken at once (each is only handed to its waiting request, in any order).
REPLIES_IN_FLIGHT = 256


def reply_channel() -> str:
    """A fresh reply channel for one requester."""
    return f"eventbus-replies-{secrets.token_hex(8)}"


def reply_deliver(on_reply: Callable[[Message], None]) -> Callable[[Delivery], Awaitable[None]]:
    async def deliver(delivery: Delivery) -> None:
        on_reply(delivery.message)
        await delivery.ack()  # a reply is taken once: its request has it (or gave up)

    return deliver


class SqsReplies:
    """The requester's reply topic and fan-out queue (``ReplyListener``)."""

    def __init__(
        self,
        admin: Admin,
        topic: TopicRef,
        subscription: SqsSubscription,
        on_close: Callable[[SqsReplies], None],
    ) -> None:
        self._admin = admin
        self._on_close = on_close
        self._closed = False
        self._topic = topic
        self.subscription = subscription

    @property
    def channel(self) -> str:
        return self._topic.channel

    def reply_to(self, token: str) -> str:
        return self._topic.channel

    async def close(self) -> None:
        """Stop receiving, delete the queue and its SNS subscription, then the topic."""
        if self._closed:
            return
        self._closed = True
        self._on_close(self)
        try:
            await self.subscription.close()
        finally:
            await self._admin.delete_topic(self._topic)
