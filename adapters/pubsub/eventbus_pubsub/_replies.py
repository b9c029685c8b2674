"""Request-reply on Pub/Sub: a reply topic, one filtered subscription per requester.

Pub/Sub has no reply-to. A requester (one bus) picks an id of its own (``eb-<hex>``) and, before
its first request is sent, creates a subscription of its own on the reply topic
(``reply_topic``, default ``eventbus-replies``) with the subscription filter
``attributes.replyto = "<reply topic>/<requester id>"``. Requests carry that address in the
``replyto`` CloudEvents attribute (``ce-replyto``); a responder publishes the reply to the topic
before the ``/`` with the Pub/Sub attribute ``replyto`` = that address, so only the requester's
subscription keeps it (Pub/Sub acknowledges filtered-out messages itself). The subscription is
deleted when the listener closes (and expires after a day without a reader if its process died,
like a fan-out subscription). Pub/Sub cannot tell at once that nobody receives a request: the
requester times out.
"""

from __future__ import annotations

from eventbus.adapter import ConfigurationError, Message
from eventbus_pubsub._subscription import PubSubSubscription

__all__ = ["REPLY_ATTRIBUTE", "PubSubReplies", "reply_filter", "reply_message", "split_reply_to"]

#: The Pub/Sub attribute a reply carries: the requester's address, which its filter matches.
REPLY_ATTRIBUTE = "replyto"
_SAFE = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.~+%/")


def split_reply_to(reply_to: str) -> str:
    """The reply topic of ``<reply topic>/<requester id>``; ConfigurationError if malformed."""
    topic, sep, requester = reply_to.partition("/")
    if not sep or not topic or not requester or not set(reply_to) <= _SAFE:
        raise ConfigurationError(
            f"{reply_to[:80]!r} is not a Pub/Sub reply address (<reply topic>/<requester id>)"
        )
    return topic


def reply_filter(address: str) -> str:
    """The subscription filter that keeps the replies sent to ``address`` only."""
    split_reply_to(address)  # no quote or backslash can reach the filter
    return f'attributes.{REPLY_ATTRIBUTE} = "{address}"'


def reply_message(reply_to: str, message: Message) -> Message:
    """``message`` with the attribute the requester's subscription filter matches."""
    return Message(
        headers={**message.headers, REPLY_ATTRIBUTE: reply_to},
        body=message.body,
        key=message.key,
        dedupe_id=message.dedupe_id,
    )


class PubSubReplies:
    """The requester's filtered subscription on the reply topic (``ReplyListener``)."""

    def __init__(self, address: str, subscription: PubSubSubscription) -> None:
        self._address = address
        self.subscription = subscription

    def reply_to(self, token: str) -> str:
        return self._address

    async def close(self) -> None:
        """Stop pulling and delete the subscription."""
        await self.subscription.close()
