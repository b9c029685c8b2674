"""``PubSubAdapter``: Google Cloud Pub/Sub behind the adapter contract (``pubsub://PROJECT``)."""

from __future__ import annotations

import math
import secrets
from collections.abc import Callable, Sequence

from eventbus.adapter import (
    DEAD_LETTER_GROUP,
    BrokerConnectionError,
    Browsed,
    Capabilities,
    ChannelNames,
    ConfigurationError,
    DeadLetter,
    Deliver,
    Delivery,
    GroupInfo,
    Message,
    SubscriptionSpec,
)
from eventbus_pubsub._admin import Admin, SubscriptionPlan
from eventbus_pubsub._capabilities import capabilities_for
from eventbus_pubsub._client import Clients, describe_endpoint, open_clients
from eventbus_pubsub._config import PubSubConfig
from eventbus_pubsub._delivery import MAX_ACK_DEADLINE
from eventbus_pubsub._errors import translated
from eventbus_pubsub._groups import PubSubGroups
from eventbus_pubsub._names import (
    ADAPTER_NAME,
    fanout_subscription_id,
    group_subscription_id,
    reply_subscription_id,
)
from eventbus_pubsub._publish import Publisher
from eventbus_pubsub._replies import PubSubReplies, reply_filter, reply_message, split_reply_to
from eventbus_pubsub._subscription import PubSubSubscription, Settings
from eventbus_pubsub._url import parse_pubsub_url

__all__ = ["PubSubAdapter"]

_MIN_ACK_DEADLINE = 10
_MIN_DELIVERY_ATTEMPTS, _MAX_DELIVERY_ATTEMPTS = 5, 100
_REPLIES_IN_FLIGHT = 1000


def max_delivery_attempts(max_attempts: int | None) -> int:
    """The dead-letter policy's attempts: the bus's count, within Pub/Sub's 5..100."""
    wanted = _MIN_DELIVERY_ATTEMPTS if max_attempts is None else max_attempts
    return max(_MIN_DELIVERY_ATTEMPTS, min(_MAX_DELIVERY_ATTEMPTS, wanted))


def ack_deadline(ack_wait: float) -> int:
    """The subscription's ack deadline: the ack wait in whole seconds, within 10..600."""
    return max(_MIN_ACK_DEADLINE, min(MAX_ACK_DEADLINE, math.ceil(ack_wait)))


class PubSubAdapter:
    """Publish to topics and pull from subscriptions of one Google Cloud project.

    Build it from a :class:`PubSubConfig` or a URL (:meth:`from_url`). ``connect()`` creates the
    clients (grpc.aio, on the running loop); nothing is sent until the first publish or
    subscribe, which also creates (or checks) the topics and subscriptions they need.
    """

    def __init__(self, config: PubSubConfig) -> None:
        self._config = config
        self._capabilities = capabilities_for(config.message_ordering, config.max_request_bytes)
        self._where = describe_endpoint(config)
        self._clients: Clients | None = None
        self._admin: Admin | None = None
        self._publisher: Publisher | None = None
        self._groups: PubSubGroups | None = None
        self._subscriptions: dict[PubSubSubscription, None] = {}
        self._names = ChannelNames(self._capabilities.limits, adapter=ADAPTER_NAME)

    @classmethod
    def from_url(cls, url: str) -> PubSubAdapter:
        """``pubsub://PROJECT[?emulator_host=HOST:PORT&provision=false&...]``."""
        return cls(parse_pubsub_url(url))

    def __repr__(self) -> str:
        return f"PubSubAdapter({self._where})"

    @property
    def name(self) -> str:
        return ADAPTER_NAME

    @property
    def config(self) -> PubSubConfig:
        return self._config

    @property
    def capabilities(self) -> Capabilities:
        return self._capabilities

    @property
    def subscriptions(self) -> tuple[PubSubSubscription, ...]:
        """The open subscriptions (each with its ``ack_stats``)."""
        return tuple(self._subscriptions)

    @property
    def clients(self) -> Clients:
        """The google-cloud-pubsub async clients (for what the adapter does not cover)."""
        if self._clients is None:
            raise BrokerConnectionError("the Pub/Sub adapter is not connected (call connect())")
        return self._clients

    async def connect(self) -> None:
        if self._clients is not None:
            return
        with translated("connecting", self._where):
            clients = await open_clients(self._config)
        self._clients = clients
        self._admin = Admin(clients, self._config, self._where)
        self._publisher = Publisher(clients, self._admin, self._config, self._where)
        self._groups = PubSubGroups(clients, self._config, self._where)

    async def close(self) -> None:
        """Close the subscriptions (unsettled messages go back), then the clients."""
        for subscription in list(self._subscriptions):
            await subscription.close()
        clients, self._clients = self._clients, None
        if self._publisher is not None:
            await self._publisher.close()
        self._admin = self._publisher = None
        self._groups = None
        if clients is not None:
            await clients.close()

    def _parts(self) -> tuple[Admin, Publisher, Clients]:
        if self._admin is None or self._publisher is None or self._clients is None:
            raise BrokerConnectionError("the Pub/Sub adapter is not connected (call connect())")
        return self._admin, self._publisher, self._clients

    # -- browsing and groups (the optional protocols; nothing is created) -----------------------

    def _group_admin(self) -> PubSubGroups:
        if self._groups is None:
            raise BrokerConnectionError("the Pub/Sub adapter is not connected (call connect())")
        return self._groups

    async def browse(self, channel: str, group: str, *, limit: int) -> list[Browsed]:
        groups = self._group_admin()
        self._names.channel(channel)
        return await groups.browse(channel, group, limit)

    async def list_groups(self, channel: str | None = None) -> list[GroupInfo]:
        groups = self._group_admin()
        if channel is not None:
            self._names.channel(channel)
        return await groups.list_groups(channel)

    async def delete_group(self, channel: str, group: str) -> None:
        groups = self._group_admin()
        self._names.channel(channel)
        await groups.delete_group(channel, group)

    async def retention_problem(self, channel: str) -> str | None:
        groups = self._group_admin()
        self._names.channel(channel)
        return await groups.retention_problem(channel)

    async def publish(self, channel: str, messages: Sequence[Message]) -> None:
        """Send ``messages`` to the topic ``channel`` in order; return once Pub/Sub has them."""
        _, publisher, _ = self._parts()
        self._names.channel(channel)
        await publisher.publish(channel, messages)

    async def _closed(self, subscription: PubSubSubscription) -> None:
        self._subscriptions.pop(subscription, None)
        if subscription.spec.group is None and self._admin is not None:
            await self._admin.delete_subscription(subscription.state.path)

    # -- request-reply (ReplyingAdapter; see _replies) --------------------------------------------

    async def listen_replies(
        self, on_reply: Callable[[Message], None], on_no_responders: Callable[[str], None]
    ) -> PubSubReplies:
        """A filtered subscription of this requester's own on the reply topic, created before
        this returns (so it keeps every reply sent from then on)."""
        admin, _, clients = self._parts()
        config = self._config
        topic = await admin.ensure_topic(config.reply_topic)
        requester = f"eb-{secrets.token_hex(8)}"
        address = f"{config.reply_topic}/{requester}"
        state = await admin.ensure_subscription(
            SubscriptionPlan(
                reply_subscription_id(config.reply_topic, requester),
                topic,
                _MIN_ACK_DEADLINE,
                ephemeral=True,
                ordering=False,
                filter=reply_filter(address),
            )
        )

        async def deliver(delivery: Delivery) -> None:
            on_reply(delivery.message)
            await delivery.ack()

        async def no_dead_letters(dead: DeadLetter) -> None:
            return None  # a reply is acknowledged as soon as it arrives

        spec = SubscriptionSpec(config.reply_topic, max_in_flight=_REPLIES_IN_FLIGHT)
        settings = Settings(
            _REPLIES_IN_FLIGHT, config.flow_control.max_bytes, config.timeout, config.pull_timeout
        )
        subscription = PubSubSubscription(
            clients,
            state,
            spec,
            deliver,
            settings,
            dead_letter=no_dead_letters,
            on_close=self._closed,
        )
        self._subscriptions[subscription] = None
        subscription.start()
        return PubSubReplies(address, subscription)

    async def publish_request(self, channel: str, message: Message, reply_to: str) -> None:
        split_reply_to(reply_to)
        await self.publish(channel, (message,))  # the address travels in ce-replyto

    async def publish_reply(self, reply_to: str, message: Message) -> None:
        topic = split_reply_to(reply_to)
        await self.publish(topic, (reply_message(reply_to, message),))

    async def subscribe(self, spec: SubscriptionSpec, deliver: Deliver) -> PubSubSubscription:
        admin, publisher, clients = self._parts()
        config = self._config
        self._names.channel(spec.channel)
        if spec.group is not None and not spec.group:
            raise ConfigurationError("a consumer group name must not be empty (None means fan-out)")
        if not spec.ack_wait > 0 or spec.max_in_flight < 1:
            raise ConfigurationError(
                f"ack_wait must be > 0 s and max_in_flight >= 1, got {spec.ack_wait!r} and "
                f"{spec.max_in_flight!r}"
            )
        topic = await admin.ensure_topic(spec.channel)
        dead_letter_topic = None
        if spec.dead_letter_channel is not None:
            dlq = spec.dead_letter_channel
            self._names.channel(dlq)
            if dlq == spec.channel:
                raise ConfigurationError(f"the dead-letter channel of {dlq!r} cannot be itself")
            dead_letter_topic = await admin.ensure_topic(dlq)
            await admin.ensure_subscription(  # dead letters are kept from now on
                SubscriptionPlan(
                    group_subscription_id(dlq, DEAD_LETTER_GROUP),
                    dead_letter_topic,
                    ack_deadline(spec.ack_wait),
                    ordering=config.message_ordering,
                )
            )
        subscription_id = (
            fanout_subscription_id(spec.channel)
            if spec.group is None
            else group_subscription_id(spec.channel, spec.group)
        )
        state = await admin.ensure_subscription(
            SubscriptionPlan(
                subscription_id,
                topic,
                ack_deadline(spec.ack_wait),
                ephemeral=spec.group is None,
                dead_letter_topic=dead_letter_topic,
                max_delivery_attempts=max_delivery_attempts(spec.max_attempts),
                ordering=config.message_ordering,
                exactly_once=config.exactly_once,
                backoff=config.retry_backoff,
            )
        )
        flow = config.flow_control
        capacity = (
            spec.max_in_flight if spec.group else max(spec.max_in_flight, flow.fanout_messages)
        )
        settings = Settings(capacity, flow.max_bytes, config.timeout, config.pull_timeout)

        async def dead_letter(dead: DeadLetter) -> None:
            await publisher.publish(dead.channel, [dead.message])

        subscription = PubSubSubscription(
            clients, state, spec, deliver, settings, dead_letter=dead_letter, on_close=self._closed
        )
        self._subscriptions[subscription] = None
        subscription.start()
        return subscription
