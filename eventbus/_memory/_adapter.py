"""``MemoryAdapter``: the built-in adapter, an in-process broker behind the adapter contract."""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from typing import Any

from eventbus._adapter._contract import (
    DEAD_LETTER_GROUP,
    Browsed,
    Capabilities,
    Deliver,
    DeliverMany,
    GroupInfo,
    Limits,
    Semantic,
    SubscriptionSpec,
    Support,
)
from eventbus._adapter._toolkit import ChannelNames
from eventbus._errors import BrokerConnectionError, ConfigurationError
from eventbus._memory import _admin
from eventbus._memory._broker import DEFAULT_DEDUPE_WINDOW, MemoryBroker, named_broker
from eventbus._memory._faults import MemoryFaults
from eventbus._memory._names import ADAPTER_NAME, check_messages
from eventbus._memory._replies import MemoryReplies, deliver_reply, has_receivers
from eventbus._memory._subscription import MemorySubscription
from eventbus._memory._url import DEFAULT_MAX_MESSAGE_BYTES, check_broker_name, parse_memory_url
from eventbus._wire._message import Message

#: Messages one queue holds before publishers wait (bounded buffers everywhere).
DEFAULT_MAX_QUEUE = 10_000

__all__ = ["CAPABILITIES", "MemoryAdapter"]

_SEMANTICS = {
    Semantic.AT_LEAST_ONCE: Support.NATIVE,
    Semantic.ATTEMPT_COUNT: Support.NATIVE,
    Semantic.CONSUMER_GROUPS: Support.NATIVE,
    Semantic.DEAD_LETTER: Support.NATIVE,
    Semantic.DELAYED_REDELIVERY: Support.NATIVE,
    Semantic.ORDERING_KEY: Support.NATIVE,
    Semantic.PUBLISHER_DEDUPE: Support.NATIVE,
    Semantic.TTL: Support.UNSUPPORTED,
    Semantic.BATCH_PUBLISH: Support.NATIVE,
    Semantic.REQUEST_REPLY: Support.NATIVE,  # reply inboxes, no responders at once
    Semantic.WILDCARD_SUBSCRIBE: Support.NATIVE,
    Semantic.LOCK_RENEWAL: Support.NATIVE,
    Semantic.BROWSE: Support.NATIVE,
    Semantic.GROUP_ADMIN: Support.NATIVE,
}

#: What the in-memory adapter provides with its default limits.
CAPABILITIES = Capabilities(
    semantics=_SEMANTICS, limits=Limits(max_message_bytes=DEFAULT_MAX_MESSAGE_BYTES)
)


class MemoryAdapter:
    """An in-process broker with real semantics: groups, fan-out, acks, redelivery, dead letters.

    ``name`` selects a process-wide named broker (two adapters with the same name talk to each
    other); None gives a private one. ``faults`` injects seeded duplicates, reorders, lost acks
    and slow deliveries into this adapter's subscriptions. ``max_queue`` bounds each queue this
    adapter creates (default ``DEFAULT_MAX_QUEUE``): publish waits while one is full. Dead-letter
    queues are not bounded, so dead-lettering never stalls a consumer. ``dedupe_window``: seconds during which a
    re-published ``dedupe_id`` is dropped (0 disables it).
    """

    def __init__(
        self,
        name: str | None = None,
        faults: MemoryFaults | None = None,
        max_queue: int | None = None,
        *,
        max_message_bytes: int = DEFAULT_MAX_MESSAGE_BYTES,
        dedupe_window: float = DEFAULT_DEDUPE_WINDOW,
    ) -> None:
        if name is not None:
            check_broker_name(name)
        if max_queue is not None and (isinstance(max_queue, bool) or max_queue < 1):
            raise ConfigurationError(
                f"max_queue must be an integer >= 1 or None, got {max_queue!r}"
            )
        if max_message_bytes < 1:
            raise ConfigurationError(f"max_message_bytes must be >= 1, got {max_message_bytes!r}")
        if dedupe_window < 0:
            raise ConfigurationError(f"dedupe_window must be >= 0 seconds, got {dedupe_window!r}")
        self._broker = named_broker(name) if name is not None else MemoryBroker()
        self._faults = faults if faults is not None else MemoryFaults()
        self._max_queue = DEFAULT_MAX_QUEUE if max_queue is None else max_queue
        self._dedupe_window = float(dedupe_window)
        self._capabilities = (
            CAPABILITIES
            if max_message_bytes == DEFAULT_MAX_MESSAGE_BYTES
            else Capabilities(_SEMANTICS, Limits(max_message_bytes=max_message_bytes))
        )
        self._limits = self._capabilities.limits
        self._half_limit = max_message_bytes // 2  # see check_messages
        self._subscriptions: dict[MemorySubscription, None] = {}
        self._names = ChannelNames(self._limits, adapter=ADAPTER_NAME)
        self._subscribed = 0
        self._connected = False
        self._no_responders: Callable[[str], None] | None = None

    @classmethod
    def from_url(cls, url: str) -> MemoryAdapter:
        """Build an adapter from ``memory://[NAME][?seed=..&duplicate=..&max_queue=..]``."""
        options = parse_memory_url(url)
        return cls(
            options.name,
            options.faults,
            options.max_queue,
            max_message_bytes=options.max_message_bytes,
            dedupe_window=options.dedupe_window,
        )

    def __repr__(self) -> str:
        return f"MemoryAdapter({self._broker.name!r})"

    @property
    def name(self) -> str:
        return ADAPTER_NAME

    @property
    def capabilities(self) -> Capabilities:
        return self._capabilities

    @property
    def broker(self) -> MemoryBroker:
        return self._broker

    @property
    def faults(self) -> MemoryFaults:
        return self._faults

    async def connect(self) -> None:
        self._connected = True

    async def close(self) -> None:
        """Close this adapter's subscriptions (unsettled messages go back); queues stay."""
        self._connected = False
        for subscription in list(self._subscriptions):
            await subscription.close()

    async def publish(self, channel: str, messages: Sequence[Message]) -> None:
        if not self._connected:
            raise BrokerConnectionError("the memory adapter is not connected (call connect())")
        self._names.channel(channel)
        half = self._half_limit
        for message in messages:  # the exact check is only needed for large bodies
            if len(message.body) > half:
                check_messages(self._limits, messages)
                break
        if not self._broker.publish_nowait(channel, messages, self._dedupe_window):
            await self._broker.publish(channel, messages, self._dedupe_window)  # bounded queues

    async def subscribe(self, spec: SubscriptionSpec, deliver: Deliver) -> MemorySubscription:
        return self._subscribe(spec, deliver, None)

    async def subscribe_batches(
        self, spec: SubscriptionSpec, deliver_many: DeliverMany
    ) -> MemorySubscription:
        """``subscribe``, handing messages over in lists (``BatchingAdapter``)."""
        return self._subscribe(spec, None, deliver_many)

    def _subscribe(
        self, spec: SubscriptionSpec, deliver: Deliver | None, deliver_many: DeliverMany | None
    ) -> MemorySubscription:
        if not self._connected:
            raise BrokerConnectionError("the memory adapter is not connected (call connect())")
        self._names.pattern(spec.channel)
        if spec.group is not None and not spec.group:
            raise ConfigurationError("a consumer group name must not be empty (None means fan-out)")
        if not spec.ack_wait > 0:
            raise ConfigurationError(f"ack_wait must be > 0 seconds, got {spec.ack_wait!r}")
        broker = self._broker
        if spec.dead_letter_channel is not None:
            self._names.channel(spec.dead_letter_channel)
            broker.group_queue(spec.dead_letter_channel, DEAD_LETTER_GROUP, None)
        if spec.group is None:
            queue = broker.fanout_queue(spec.channel, self._max_queue)
        else:
            queue = broker.group_queue(spec.channel, spec.group, self._max_queue)
        self._subscribed += 1
        subscription = MemorySubscription(
            broker,
            queue,
            spec,
            deliver,
            deliver_many=deliver_many,
            faults=self._faults,
            rng=self._rng(spec),
            limits=self._limits,
            on_close=self._forget,
        )
        self._subscriptions[subscription] = None
        subscription.start()
        return subscription

    # -- request-reply (ReplyingAdapter) ----------------------------------------------------------

    async def listen_replies(
        self, on_reply: Callable[[Message], None], on_no_responders: Callable[[str], None]
    ) -> MemoryReplies:
        self._require_connected()
        replies = MemoryReplies(self._broker, on_reply)
        self._no_responders = on_no_responders
        return replies

    async def publish_request(self, channel: str, message: Message, reply_to: str) -> None:
        self._require_connected()
        self._names.channel(channel)
        if not has_receivers(self._broker, channel):
            token = reply_to.rsplit(".", 1)[-1]
            if self._no_responders is not None:
                self._no_responders(token)
            return
        await self.publish(channel, (message,))

    async def publish_reply(self, reply_to: str, message: Message) -> None:
        self._require_connected()
        check_messages(self._limits, (message,))
        deliver_reply(self._broker, reply_to, message)

    # -- browsing and groups (the optional protocols; nothing is created) -----------------------

    def _require_connected(self) -> None:
        if not self._connected:
            raise BrokerConnectionError("the memory adapter is not connected (call connect())")

    async def browse(self, channel: str, group: str, *, limit: int) -> list[Browsed]:
        self._require_connected()
        return _admin.browse(self._broker, channel, group, limit)

    async def remove(self, channel: str, group: str, refs: Sequence[Any]) -> None:
        self._require_connected()
        _admin.remove(self._broker, channel, group, refs)

    async def list_groups(self, channel: str | None = None) -> list[GroupInfo]:
        self._require_connected()
        return _admin.list_groups(self._broker, channel)

    async def delete_group(self, channel: str, group: str) -> None:
        self._require_connected()
        _admin.delete_group(self._broker, channel, group)

    async def retention_problem(self, channel: str) -> str | None:
        self._require_connected()
        self._names.channel(channel)
        return _admin.retention_problem(self._broker, channel)

    def _rng(self, spec: SubscriptionSpec) -> random.Random:
        seed = self._faults.seed
        if seed is None:
            return random.Random()
        # One stream per subscription: reproducible whatever the other subscriptions do.
        return random.Random(f"{seed}/{self._subscribed}/{spec.channel}/{spec.group}")

    def _forget(self, subscription: MemorySubscription) -> None:
        self._subscriptions.pop(subscription, None)
