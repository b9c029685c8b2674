"""The adapter contract: everything an adapter plugin implements, and nothing else.

An adapter moves :class:`~eventbus.Message` objects between channels and subscriptions on one
broker. It never sees an ``Event``, never imports the bus, and translates its SDK's exceptions to
:class:`~eventbus.AdapterError` subclasses at its boundary.

Flow control: the adapter awaits ``deliver(delivery)`` for each received message. The bus returns
from ``deliver`` once it has taken the message (it blocks while ``max_in_flight`` handlers run),
so an adapter that awaits ``deliver`` before pulling the next message gets backpressure for free.
``deliver`` returns an awaitable, not necessarily a coroutine: await it, never wrap it in a task.

Batches (optional): an adapter that can hand over several messages at once implements
:class:`BatchingAdapter`; the bus then subscribes with ``subscribe_batches`` and a
``deliver_many`` that takes a list with one call, and settles successes with one
``ack_many`` call per batch. Every other adapter keeps the one-message contract above.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

from eventbus._wire._message import Message

__all__ = [
    "DEAD_LETTER_GROUP",
    "Adapter",
    "AdapterInfo",
    "AdapterSubscription",
    "BatchSubscription",
    "BatchingAdapter",
    "Browsed",
    "BrowsingAdapter",
    "Capabilities",
    "DeadLetter",
    "Deliver",
    "DeliverMany",
    "Delivery",
    "GroupAdminAdapter",
    "GroupInfo",
    "Limits",
    "RemovingAdapter",
    "ReplyListener",
    "ReplyingAdapter",
    "Semantic",
    "SubscriptionSpec",
    "Support",
]

#: Durable consumer group that keeps dead letters until someone reads or replays them.
DEAD_LETTER_GROUP = "dlq"
"""The durable consumer group that keeps the dead letters on every ``<channel>.dlq``."""


class Support(enum.Enum):
    """How an adapter provides a semantic.

    NATIVE: the broker does it. EMULATED: the adapter builds it on top of the broker (the bus
    uses it the same way). UNSUPPORTED: the adapter cannot; the bus emulates what it safely can
    (retry in process, dead-letter by publishing) and refuses the rest at subscribe time.
    """

    NATIVE = "native"
    EMULATED = "emulated"
    UNSUPPORTED = "unsupported"


class Semantic(enum.Enum):
    """Delivery semantics an adapter may provide."""

    AT_LEAST_ONCE = "at-least-once"  # unacked messages are redelivered
    ATTEMPT_COUNT = "attempt-count"  # the broker counts deliveries
    CONSUMER_GROUPS = "consumer-groups"  # competing consumers
    DEAD_LETTER = "dead-letter"
    DELAYED_REDELIVERY = "delayed-redelivery"  # nack with a delay
    ORDERING_KEY = "ordering-key"  # order kept per partition key
    PUBLISHER_DEDUPE = "publisher-dedupe"  # the broker drops re-sent message ids
    TTL = "ttl"
    BATCH_PUBLISH = "batch-publish"
    REQUEST_REPLY = "request-reply"
    WILDCARD_SUBSCRIBE = "wildcard-subscribe"  # channel patterns (`*` one token, `>` the rest)
    LOCK_RENEWAL = "lock-renewal"  # a long handler can keep its message from being redelivered
    BROWSE = "browse"  # read what waits for a group without taking it (BrowsingAdapter)
    GROUP_ADMIN = "group-admin"  # list and delete consumer groups (GroupAdminAdapter)


@dataclass(frozen=True, slots=True)
class Limits:
    """What the broker accepts. None means no limit the bus needs to enforce."""

    max_message_bytes: int | None = None
    max_header_count: int | None = None
    max_header_bytes: int | None = None  # one header's name + value
    channel_pattern: str = r"[A-Za-z0-9][A-Za-z0-9._\-]*"
    channel_rule: str = "letters, digits, '.', '_' and '-', starting with a letter or digit"
    max_channel_length: int = 255

    def pattern_problem(self, pattern: str) -> str | None:
        """Why ``pattern`` is not a channel name or a wildcard pattern (``*`` stands for one
        token, ``>`` as the last token for the rest), or None. Wildcards stand for one ordinary
        token; every other token follows the channel name rules."""
        tokens = pattern.split(".")
        if ">" in tokens[:-1]:
            return "'>' may only be the last token"
        wildcard = any(t in ("*", ">") for t in tokens)
        problem = self.channel_problem(".".join("x" if t in ("*", ">") else t for t in tokens))
        if problem is not None and wildcard:
            problem += " (a pattern's tokens may be '*', and the last one '>')"
        return problem

    def channel_problem(self, name: str) -> str | None:
        if not name:
            return "must not be empty"
        if len(name) > self.max_channel_length:
            return f"longer than {self.max_channel_length} characters"
        if not re.fullmatch(self.channel_pattern, name):
            return self.channel_rule
        return None


@dataclass(frozen=True, slots=True)
class Capabilities:
    """Per semantic, NATIVE / EMULATED / UNSUPPORTED; plus limits and the wire binding to use.

    ``binding`` names the CloudEvents binding the bus encodes with: ``"ce-headers"`` (NATS,
    memory), ``"pubsub"`` (ce- attributes, Pub/Sub content-type rules), ``"sqs"`` or ``"amqp"``.
    ``content_mode`` (``"binary"`` or ``"structured"``) is the mode a bus encodes with when its
    user does not choose one: the form every official CloudEvents SDK reads on this broker
    (NATS: structured, as sdk-go's core NATS module reads nothing else; SQS: structured, as its
    10 message attributes are too few).
    """

    semantics: Mapping[Semantic, Support]
    limits: Limits = field(default_factory=Limits)
    binding: str = "ce-headers"
    content_mode: str = "binary"

    def support(self, semantic: Semantic) -> Support:
        return self.semantics.get(semantic, Support.UNSUPPORTED)

    def has(self, semantic: Semantic) -> bool:
        return self.support(semantic) is not Support.UNSUPPORTED


@dataclass(frozen=True, slots=True)
class SubscriptionSpec:
    """What the bus asks an adapter to subscribe to.

    ``channel`` may be a pattern when the adapter has WILDCARD_SUBSCRIBE. ``group`` None means
    fan-out (this subscriber gets every message); a name means competing consumers sharing the
    work, durable across subscribers. ``dead_letter_channel``: the adapter must keep messages
    sent there (for example in the durable group ``DEAD_LETTER_GROUP``). ``max_attempts``: where
    the broker counts deliveries natively it may dead-letter on its own past this count.
    ``ordered``: the subscriber asked for order per partition key (adapters that must enable
    ordering per subscription, such as Pub/Sub, can do it only where asked). ``on_dropped``: an
    adapter whose client can drop messages of this subscription before delivering them (core
    NATS with a full pending buffer, at most once) calls it with how many it dropped; the bus
    counts them in the subscription's stats (``dropped``) and metrics. The adapter logs them.
    """

    channel: str
    group: str | None = None
    max_in_flight: int = 64
    dead_letter_channel: str | None = None
    max_attempts: int | None = None
    ack_wait: float = 30.0
    ordered: bool = False  # the subscriber asked for per-partition-key order
    on_dropped: Callable[[int], None] | None = field(default=None, compare=False, repr=False)


@dataclass(frozen=True, slots=True)
class DeadLetter:
    """A message to move to the dead-letter channel, already annotated with the failure."""

    message: Message
    channel: str
    reason: str
    description: str


class Delivery(Protocol):
    """One received message handed to the bus. Settle it exactly once."""

    @property
    def message(self) -> Message: ...

    @property
    def attempt(self) -> int:
        """1 for the first delivery; counted by the broker where it counts (ATTEMPT_COUNT)."""
        ...

    async def ack(self) -> None: ...

    async def nack(self, delay: float | None = None) -> None:
        """Give the message back for redelivery, after ``delay`` seconds where supported."""
        ...

    async def dead_letter(self, dead: DeadLetter) -> None:
        """Move the message to its dead-letter channel and settle it (called when the adapter
        declares DEAD_LETTER NATIVE or EMULATED)."""
        ...

    async def extend(self) -> None:
        """The handler is still working: push the redelivery deadline back by the ack wait
        (NATS in-progress, Service Bus lock renewal, Pub/Sub ack-deadline extension). Adapters
        without LOCK_RENEWAL make it a no-op."""
        ...


Deliver = Callable[[Delivery], Awaitable[None]]
"""What an adapter calls with each message of a subscription (the bus's consume pipeline)."""


@runtime_checkable
class AdapterSubscription(Protocol):
    """One broker subscription, as :meth:`Adapter.subscribe` returns it: the bus stops intake
    with :meth:`stop` (in-flight deliveries can still be settled), then releases it with
    :meth:`close`."""

    async def stop(self) -> None:
        """Stop taking new messages; deliveries already handed over can still be settled."""
        ...

    async def close(self) -> None:
        """Stop receiving. Unsettled messages go back to the broker for redelivery."""
        ...


DeliverMany = Callable[[Sequence[Delivery]], Awaitable[int]]
"""What a :class:`BatchingAdapter` calls with a list of a subscription's messages, in order.

The bus takes every delivery of the list (waiting while it is paused or has no room, like
``deliver``); the awaitable's result is how many more it can take at once (at least 1): hand
at most that many next time, and at most ``spec.max_in_flight`` the first time, so no message
waits leased while the bus has no room for it. Await it, never wrap it in a task."""


@runtime_checkable
class BatchSubscription(AdapterSubscription, Protocol):
    """What :meth:`BatchingAdapter.subscribe_batches` returns: a subscription that also
    settles several of its deliveries with one call."""

    def ack_many(self, deliveries: Sequence[Delivery]) -> None:
        """Ack each of ``deliveries`` (handed over by this subscription, handled, not settled
        otherwise), as their ``ack`` would, without waiting: an adapter whose acks are I/O
        queues them. Deliveries already expired or returned are skipped, as by ``ack``."""
        ...


@runtime_checkable
class Adapter(Protocol):
    """A broker behind one small async API."""

    @property
    def name(self) -> str: ...

    @property
    def capabilities(self) -> Capabilities: ...

    async def connect(self) -> None: ...

    async def close(self) -> None: ...

    async def publish(self, channel: str, messages: Sequence[Message]) -> None:
        """Store ``messages`` on ``channel`` in order; return once the broker has them (an
        at-most-once adapter, such as core NATS, returns once its client has them and flushes on
        close)."""
        ...

    async def subscribe(self, spec: SubscriptionSpec, deliver: Deliver) -> AdapterSubscription: ...


@runtime_checkable
class BatchingAdapter(Protocol):
    """Optional: deliver a subscription's messages in lists (see :data:`DeliverMany`).

    The bus calls ``subscribe_batches`` instead of :meth:`Adapter.subscribe` when the adapter
    has it; ``subscribe`` must keep working for other callers. Per message nothing changes:
    each delivery is still settled once (``ack`` / ``nack`` / ``dead_letter``, or through
    ``ack_many``), ordering keys and ``max_in_flight`` hold, and deliveries the bus has not
    taken when the subscription stops go back to the broker as with ``deliver``.
    """

    async def subscribe_batches(
        self, spec: SubscriptionSpec, deliver_many: DeliverMany
    ) -> BatchSubscription: ...


@dataclass(frozen=True, slots=True)
class Browsed:
    """A message read by :meth:`BrowsingAdapter.browse`: not taken, not locked, its delivery
    count unchanged. ``ref`` is the adapter's handle on it (a stream sequence number...), what
    :meth:`RemovingAdapter.remove` takes back."""

    message: Message
    ref: Any = None


@dataclass(frozen=True, slots=True)
class GroupInfo:
    """One durable consumer group as the broker holds it.

    ``pending``: messages kept for the group and not yet settled, where the broker tells
    (None otherwise). ``resource``: the broker's own name for it (JetStream consumer, Pub/Sub
    subscription, Service Bus subscription...).
    """

    channel: str
    group: str
    pending: int | None = None
    resource: str = ""


@runtime_checkable
class BrowsingAdapter(Protocol):
    """Optional (Semantic.BROWSE): read the messages waiting for a group without taking them.

    A read leaves no trace: no consumer, lock, lease or delivery count is created or changed,
    so any number of browses return the same messages. Nothing is provisioned either: a
    channel or group that does not exist raises :class:`~eventbus.ConfigurationError` naming
    what is missing.
    """

    async def browse(self, channel: str, group: str, *, limit: int) -> Sequence[Browsed]:
        """Up to ``limit`` messages kept for ``group`` on ``channel``, oldest first."""
        ...


@runtime_checkable
class RemovingAdapter(Protocol):
    """Optional: settle browsed messages for good without receiving them (a JetStream message
    delete, a memory queue removal). Adapters without it are settled by receiving."""

    async def remove(self, channel: str, group: str, refs: Sequence[Any]) -> None:
        """Remove the browsed messages ``refs`` from what ``group`` keeps on ``channel``
        (those already gone are ignored)."""
        ...


@runtime_checkable
class GroupAdminAdapter(Protocol):
    """Optional (Semantic.GROUP_ADMIN): see and remove durable consumer groups, and tell
    whether a channel keeps what is published to it. Provisions nothing."""

    async def list_groups(self, channel: str | None = None) -> Sequence[GroupInfo]:
        """The durable consumer groups (of ``channel``, or of every channel)."""
        ...

    async def delete_group(self, channel: str, group: str) -> None:
        """Delete ``group`` on ``channel`` and what it keeps; ConfigurationError if missing."""
        ...

    async def retention_problem(self, channel: str) -> str | None:
        """Why a message published to ``channel`` now would not be kept for a durable
        consumer group (so publishing it could lose it), or None when it would be."""
        ...


@runtime_checkable
class ReplyListener(Protocol):
    """A requester's reply address on the broker, open until :meth:`close`."""

    def reply_to(self, token: str) -> str:
        """The reply address of the request ``token`` (a short ``[0-9a-z]`` string)."""
        ...

    async def close(self) -> None:
        """Stop listening and remove what the listener holds on the broker."""
        ...


@runtime_checkable
class ReplyingAdapter(Protocol):
    """Optional (Semantic.REQUEST_REPLY): requests and replies through the broker's own means.

    Adapters without it get request-reply emulated by the bus (a reply channel per requester,
    see docs/request-reply.md). The reply address travels in the request's ``replyto``
    CloudEvents attribute on every adapter; ``publish_request`` also gets it so a broker with a
    native reply field (the NATS reply subject) can set it.
    """

    async def listen_replies(
        self, on_reply: Callable[[Message], None], on_no_responders: Callable[[str], None]
    ) -> ReplyListener:
        """Listen for replies before any request is sent. ``on_reply`` gets each reply;
        ``on_no_responders`` gets the token of a request the broker says nobody receives
        (where it can tell at once)."""
        ...

    async def publish_request(self, channel: str, message: Message, reply_to: str) -> None:
        """Publish a request (as :meth:`Adapter.publish`) naming ``reply_to``."""
        ...

    async def publish_reply(self, reply_to: str, message: Message) -> None:
        """Send a reply to the address a request named (dropped if nobody listens there)."""
        ...


AdapterFactory = Callable[[str], Adapter]
"""Makes an adapter from a URL (an entry point's ``AdapterInfo.factory``, e.g. ``from_url``)."""


@dataclass(frozen=True, slots=True)
class AdapterInfo:
    """What a plugin tells about the adapter it provides."""

    scheme: str
    distribution: str
    description: str
    factory: AdapterFactory
    capabilities: Capabilities
