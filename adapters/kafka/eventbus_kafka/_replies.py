"""Request-reply on Kafka: one shared reply topic, each requester filtering its own replies.

Kafka has no reply-to and no broker-side filter. A requester (one bus) picks an id of its own
(``eb-<hex>``) and, before its first request is sent, starts a fan-out reader of the reply topic
(``reply_topic``, default ``eventbus-replies``) from its end offsets, taken before this returns:
every reply published from then on reaches it. Requests carry the address
``<reply topic>/<requester id>`` in ``replyto`` (``ce_replyto``); a responder publishes the reply
to the topic before the ``/`` with the record header ``replyto`` = that address, and each
requester hands over only the records whose header names it (others are skipped before they
are decoded). Closing stops the reader; its consumer group (``eventbus-fanout-<hex>``) commits
nothing, so nothing stays but the shared topic (and its retry topics). Kafka cannot tell at once
that nobody receives a request: the requester times out.
"""

from __future__ import annotations

from collections.abc import Callable

from eventbus.adapter import ConfigurationError, Deliver, Delivery, Message
from eventbus_kafka._subscription import KafkaSubscription

__all__ = ["REPLY_HEADER", "KafkaReplies", "filtered", "reply_message", "split_reply_to"]

#: The record header a reply carries: the address of the requester it is for.
REPLY_HEADER = "replyto"


def split_reply_to(reply_to: str) -> str:
    """The reply topic of ``<reply topic>/<requester id>``; ConfigurationError if malformed."""
    topic, sep, requester = reply_to.partition("/")
    if not sep or not topic or not requester or "/" in requester:
        raise ConfigurationError(
            f"{reply_to[:80]!r} is not a Kafka reply address (<reply topic>/<requester id>)"
        )
    return topic


def reply_message(reply_to: str, message: Message) -> Message:
    """``message`` with the header its requester's reader looks for."""
    return Message(
        headers={**message.headers, REPLY_HEADER: reply_to},
        body=message.body,
        key=message.key,
        dedupe_id=message.dedupe_id,
    )


def filtered(address: str, on_reply: Callable[[Message], None]) -> Deliver:
    """The reader's ``deliver``: this requester's replies to ``on_reply``, every record acked."""

    wanted = (address, address.encode())  # record headers arrive as bytes

    async def deliver(delivery: Delivery) -> None:
        message = delivery.message
        if message.headers.get(REPLY_HEADER) in wanted:
            on_reply(message)
        await delivery.ack()

    return deliver


class KafkaReplies:
    """The requester's reader of the reply topic (``ReplyListener``)."""

    def __init__(self, address: str, subscription: KafkaSubscription) -> None:
        self._address = address
        self.subscription = subscription

    def reply_to(self, token: str) -> str:
        return self._address

    async def close(self) -> None:
        await self.subscription.close()
