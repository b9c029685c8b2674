"""``SqsAdapter``: SNS topics and SQS queues behind the adapter contract (``sqs://REGION``)."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence

from eventbus.adapter import (
    DEAD_LETTER_GROUP,
    BrokerConnectionError,
    Browsed,
    Capabilities,
    ConfigurationError,
    DeadLetter,
    Deliver,
    GroupInfo,
    Message,
    PublishError,
    SubscriptionSpec,
)
from eventbus_aws._admin import Admin, QueuePlan, QueueRef
from eventbus_aws._capabilities import CAPABILITIES
from eventbus_aws._client import Clients, describe_endpoint, open_clients
from eventbus_aws._config import AwsConfig
from eventbus_aws._errors import error_code, translated
from eventbus_aws._groups import SqsGroups
from eventbus_aws._names import (
    ADAPTER_NAME,
    channel_names,
    check_group,
    fanout_queue_name,
    group_queue_name,
)
from eventbus_aws._publish import Publisher
from eventbus_aws._replies import REPLIES_IN_FLIGHT, SqsReplies, reply_channel, reply_deliver
from eventbus_aws._subscription import SqsSubscription
from eventbus_aws._url import parse_sqs_url

__all__ = ["SqsAdapter"]

log = logging.getLogger("eventbus.aws")


class SqsAdapter:
    """Publish to SNS topics and receive from SQS queues subscribed to them.

    Build it from an :class:`AwsConfig` or a URL (:meth:`from_url`). ``connect()`` opens the
    aiobotocore clients; nothing is sent until the first publish or subscribe, which also
    creates (or checks) the topics, queues and subscriptions they need.
    """

    def __init__(self, config: AwsConfig) -> None:
        self._config = config
        self._where = describe_endpoint(config)
        self._clients: Clients | None = None
        self._admin: Admin | None = None
        self._publisher: Publisher | None = None
        self._groups: SqsGroups | None = None
        self._subscriptions: dict[SqsSubscription, None] = {}
        self._replies: dict[SqsReplies, None] = {}
        self._names = channel_names()

    @classmethod
    def from_url(cls, url: str) -> SqsAdapter:
        """``sqs://REGION[?endpoint=http://HOST:PORT&provision=false&...]``."""
        return cls(parse_sqs_url(url))

    def __repr__(self) -> str:
        return f"SqsAdapter({self._where})"

    @property
    def name(self) -> str:
        return ADAPTER_NAME

    @property
    def config(self) -> AwsConfig:
        return self._config

    @property
    def capabilities(self) -> Capabilities:
        return CAPABILITIES

    @property
    def clients(self) -> Clients:
        """The aiobotocore SNS/SQS clients (for what the adapter does not cover)."""
        return self._parts()[2]

    async def connect(self) -> None:
        if self._clients is not None:
            return
        with translated("connecting", self._where):
            clients = await open_clients(self._config)
        self._clients = clients
        self._admin = Admin(clients, self._config, self._where)
        self._publisher = Publisher(clients, self._admin, self._where)
        self._groups = SqsGroups(clients, self._config, self._where)

    async def close(self) -> None:
        """Close the reply listeners (removing their topics) and the subscriptions (unsettled
        messages go back), then the clients."""
        for replies in list(self._replies):
            try:
                await replies.close()
            except Exception as exc:  # the rest is still closed
                log.warning(
                    "eventbus: removing the reply topic %r failed: %r", replies.channel, exc
                )
        for subscription in list(self._subscriptions):
            await subscription.close()
        clients, self._clients = self._clients, None
        self._admin = self._publisher = None
        self._groups = None
        if clients is not None:
            await clients.close()

    def _parts(self) -> tuple[Admin, Publisher, Clients]:
        if self._admin is None or self._publisher is None or self._clients is None:
            raise BrokerConnectionError("the SQS adapter is not connected (call connect())")
        return self._admin, self._publisher, self._clients

    def _check_channel(self, channel: str) -> None:
        self._names.channel(channel)

    async def publish(self, channel: str, messages: Sequence[Message]) -> None:
        """Send ``messages`` to the topic of ``channel`` in order; return once SNS has them."""
        _, publisher, _ = self._parts()
        self._check_channel(channel)
        await publisher.publish(channel, messages)

    # -- browsing and groups (the optional protocols; nothing is created) -----------------------

    def _group_admin(self) -> SqsGroups:
        if self._groups is None:
            raise BrokerConnectionError("the SQS adapter is not connected (call connect())")
        return self._groups

    async def browse(self, channel: str, group: str, *, limit: int) -> list[Browsed]:
        groups = self._group_admin()
        self._check_channel(channel)
        return await groups.browse(channel, group, limit)

    async def list_groups(self, channel: str | None = None) -> list[GroupInfo]:
        groups = self._group_admin()
        if channel is not None:
            self._check_channel(channel)
        return await groups.list_groups(channel)

    async def delete_group(self, channel: str, group: str) -> None:
        groups = self._group_admin()
        self._check_channel(channel)
        await groups.delete_group(channel, group)

    async def retention_problem(self, channel: str) -> str | None:
        groups = self._group_admin()
        self._check_channel(channel)
        return await groups.retention_problem(channel)

    async def subscribe(self, spec: SubscriptionSpec, deliver: Deliver) -> SqsSubscription:
        admin, publisher, clients = self._parts()
        self._check_channel(spec.channel)
        if spec.group is not None:
            check_group(spec.group)
        if not spec.ack_wait > 0 or spec.max_in_flight < 1:
            raise ConfigurationError(
                f"ack_wait must be > 0 s and max_in_flight >= 1, got {spec.ack_wait!r} and "
                f"{spec.max_in_flight!r}"
            )
        topic = await admin.topic(spec.channel, fifo=spec.ordered)
        dead_queue: QueueRef | None = None
        if spec.dead_letter_channel is not None:
            dlq = spec.dead_letter_channel
            self._check_channel(dlq)
            if dlq == spec.channel:
                raise ConfigurationError(f"the dead-letter channel of {dlq!r} cannot be itself")
            # SQS moves messages only between queues of one kind: a FIFO channel's dead
            # letters go to a FIFO dead-letter channel
            dead_topic = await admin.topic(dlq, fifo=topic.fifo)
            if dead_topic.fifo != topic.fifo:
                raise ConfigurationError(
                    f"channel {spec.channel!r} and its dead-letter channel {dlq!r} must both be "
                    "FIFO or both standard (SQS redrives only between queues of one kind)"
                )
            dead_queue = await admin.dead_letter_queue(  # dead letters are kept from now on
                dead_topic, group_queue_name(dlq, DEAD_LETTER_GROUP, fifo=topic.fifo)
            )
        name = (
            fanout_queue_name(spec.channel, fifo=topic.fifo)
            if spec.group is None
            else group_queue_name(spec.channel, spec.group, fifo=topic.fifo)
        )
        queue = await admin.queue(QueuePlan(name, topic, spec.group, dead_queue, spec.max_attempts))

        async def dead_letter(dead: DeadLetter) -> None:
            await publisher.publish(dead.channel, [dead.message])

        async def closed(subscription: SqsSubscription) -> None:
            self._subscriptions.pop(subscription, None)
            if subscription.spec.group is None:
                await admin.delete(subscription.queue)

        subscription = SqsSubscription(
            clients,
            queue,
            spec,
            deliver,
            self._config,
            self._where,
            dead_letter=dead_letter,
            on_close=closed,
        )
        self._subscriptions[subscription] = None
        subscription.start()
        return subscription

    # -- request-reply (ReplyingAdapter; see _replies) ------------------------------------------

    async def listen_replies(
        self, on_reply: Callable[[Message], None], on_no_responders: Callable[[str], None]
    ) -> SqsReplies:
        """A reply topic and queue of this requester's own, subscribed before this returns;
        closing the listener deletes them."""
        admin, _, _ = self._parts()
        channel = reply_channel()
        topic = await admin.topic(channel)
        try:
            spec = SubscriptionSpec(channel, max_in_flight=REPLIES_IN_FLIGHT)
            subscription = await self.subscribe(spec, reply_deliver(on_reply))
        except BaseException:
            await admin.delete_topic(topic)
            raise
        replies = SqsReplies(admin, topic, subscription, on_close=self._forget_replies)
        self._replies[replies] = None
        return replies

    def _forget_replies(self, replies: SqsReplies) -> None:
        self._replies.pop(replies, None)

    async def publish_request(self, channel: str, message: Message, reply_to: str) -> None:
        self._check_channel(reply_to)
        await self.publish(channel, (message,))  # the address travels in ce-replyto

    async def publish_reply(self, reply_to: str, message: Message) -> None:
        """Publish to the requester's reply topic if it still exists (never created here)."""
        admin, publisher, _ = self._parts()
        self._check_channel(reply_to)
        topic = await admin.existing_topic(reply_to)
        if topic is None:
            log.info("eventbus: dropped a reply to %r: its requester has closed", reply_to)
            return
        try:
            await publisher.publish_to(topic, (message,))
        except PublishError as exc:
            if not isinstance(exc.__cause__, Exception) or error_code(exc.__cause__) != "NotFound":
                raise
            admin.forget(reply_to)
            log.info("eventbus: dropped a reply to %r: its requester has closed", reply_to)
