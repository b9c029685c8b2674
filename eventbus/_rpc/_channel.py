"""Emulated reply address for adapters without ``ReplyingAdapter``: a reply channel per
requester, listened to with a fan-out subscription (removed on close)."""

from __future__ import annotations

import secrets
from collections.abc import Callable

from eventbus._adapter._contract import Adapter, AdapterSubscription, Delivery, SubscriptionSpec
from eventbus._wire._message import Message

__all__ = ["ChannelReplies", "reply_channel"]

#: Replies taken at once (each is only handed to its waiting request, in any order).
_IN_FLIGHT = 256


def reply_channel() -> str:
    """A fresh reply channel name (letters and digits: valid on every adapter)."""
    return f"eventbus-replies-{secrets.token_hex(8)}"


class ChannelReplies:
    """The requester's reply channel: every request of this requester names it."""

    def __init__(self, channel: str, subscription: AdapterSubscription) -> None:
        self._channel = channel
        self._subscription = subscription

    @classmethod
    async def open(cls, adapter: Adapter, on_reply: Callable[[Message], None]) -> ChannelReplies:
        channel = reply_channel()

        async def deliver(delivery: Delivery) -> None:
            on_reply(delivery.message)
            await delivery.ack()

        spec = SubscriptionSpec(channel=channel, max_in_flight=_IN_FLIGHT)
        return cls(channel, await adapter.subscribe(spec, deliver))

    def reply_to(self, token: str) -> str:
        return self._channel

    async def close(self) -> None:
        await self._subscription.close()
