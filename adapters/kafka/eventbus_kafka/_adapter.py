"""``KafkaAdapter``: the adapter contract over Apache Kafka, through confluent-kafka."""

from __future__ import annotations

import logging
import secrets
from collections.abc import Callable, Sequence
from typing import Any

from eventbus.adapter import (
    DEAD_LETTER_GROUP,
    BrokerConnectionError,
    Browsed,
    Capabilities,
    ChannelNames,
    ConfigurationError,
    Deliver,
    GroupInfo,
    Message,
    Scrubber,
    SubscriptionSpec,
)
from eventbus_kafka._admin import Admin
from eventbus_kafka._capabilities import capabilities_for
from eventbus_kafka._config import KafkaConfig
from eventbus_kafka._groups import Groups
from eventbus_kafka._names import ADAPTER_NAME, DEFAULT_MAX_MESSAGE_BYTES, retry_topic
from eventbus_kafka._producer import KafkaProducer
from eventbus_kafka._replies import KafkaReplies, filtered, reply_message, split_reply_to
from eventbus_kafka._subscription import KafkaSubscription
from eventbus_kafka._url import parse_kafka_url

__all__ = ["KafkaAdapter"]

log = logging.getLogger("eventbus.kafka")
_REPLIES_IN_FLIGHT = 256


class KafkaAdapter:
    """Apache Kafka behind the adapter contract (see docs/adapters/kafka.md).

    Build it from a :class:`KafkaConfig` or with :meth:`from_url`. Channels are topics
    (created on first use unless ``provision=False``), groups are consumer groups, the
    ``partitionkey`` is the record key; retries and dead letters go through topics.
    """

    def __init__(self, config: KafkaConfig | None = None) -> None:
        self._config = config if config is not None else KafkaConfig()
        self._scrub = Scrubber(self._config.secrets())
        self._delays = self._config.topics.retry_delays
        self._capabilities = capabilities_for(DEFAULT_MAX_MESSAGE_BYTES, self._delays)
        self._admin: Admin | None = None
        self._groups: Groups | None = None
        self._producer: KafkaProducer | None = None
        self._subscriptions: dict[KafkaSubscription, None] = {}
        self._names = ChannelNames(self._capabilities.limits, adapter=ADAPTER_NAME)

    @classmethod
    def from_url(cls, url: str) -> KafkaAdapter:
        """``kafka://[user:password@]host[:port][,host:port...][?param=value...]``."""
        return cls(parse_kafka_url(url))

    def __repr__(self) -> str:
        return f"KafkaAdapter({','.join(self._config.servers)!r})"

    @property
    def name(self) -> str:
        return ADAPTER_NAME

    @property
    def capabilities(self) -> Capabilities:
        """After connect, the limit is the broker's real ``message.max.bytes``."""
        return self._capabilities

    @property
    def config(self) -> KafkaConfig:
        return self._config

    async def connect(self) -> None:
        if self._producer is not None:
            return
        admin = Admin(self._config, self._scrub)
        try:
            limit = await admin.broker_limit()
        except BaseException:
            admin.close()
            raise
        self._capabilities = capabilities_for(limit, self._delays)
        self._names = ChannelNames(self._capabilities.limits, adapter=ADAPTER_NAME)
        self._admin = admin
        retry_suffixes = tuple(retry_topic("", d) for d in self._delays)
        self._groups = Groups(
            admin, self._config, self._scrub, self.group_id, lambda t: t.endswith(retry_suffixes)
        )
        self._producer = KafkaProducer(self._config, self._scrub, limit)

    async def close(self) -> None:
        """Close the subscriptions (commit what settled), then deliver what is queued."""
        producer = self._producer
        if producer is None:
            return
        for subscription in list(self._subscriptions):
            try:
                await subscription.close()
            except Exception:
                log.warning("kafka: error closing %r", subscription, exc_info=True)
        self._subscriptions.clear()
        admin = self._admin
        self._producer, self._admin, self._groups = None, None, None
        if admin is not None:
            admin.close()
        await producer.close()

    def _connected(self) -> tuple[Admin, KafkaProducer]:
        admin, producer = self._admin, self._producer
        if admin is None or producer is None:
            raise BrokerConnectionError("the Kafka adapter is not connected (call connect())")
        return admin, producer

    async def publish(self, channel: str, messages: Sequence[Message]) -> None:
        admin, producer = self._connected()
        self._names.channel(channel)
        await admin.ensure_topics([channel])  # (remembered once created or seen)
        await producer.send(channel, messages)

    # -- request-reply (ReplyingAdapter; see _replies) --------------------------------------------

    async def listen_replies(
        self, on_reply: Callable[[Message], None], on_no_responders: Callable[[str], None]
    ) -> KafkaReplies:
        """A fan-out reader of the reply topic from its end offsets (taken before this
        returns), handing over the replies addressed to this requester."""
        topic = self._config.topics.reply_topic
        address = f"{topic}/eb-{secrets.token_hex(8)}"
        spec = SubscriptionSpec(topic, max_in_flight=_REPLIES_IN_FLIGHT)
        subscription = await self.subscribe(spec, filtered(address, on_reply))
        return KafkaReplies(address, subscription)

    async def publish_request(self, channel: str, message: Message, reply_to: str) -> None:
        split_reply_to(reply_to)
        await self.publish(channel, (message,))  # the address travels in ce_replyto

    async def publish_reply(self, reply_to: str, message: Message) -> None:
        topic = split_reply_to(reply_to)
        await self.publish(topic, (reply_message(reply_to, message),))

    def group_id(self, group: str, channel: str) -> str:
        """The Kafka consumer group of an eventbus ``group`` on ``channel``."""
        return self._config.consumer.group_id.format(group=group, channel=channel)

    async def subscribe(self, spec: SubscriptionSpec, deliver: Deliver) -> KafkaSubscription:
        admin, _ = self._connected()
        self._names.channel(spec.channel)
        if spec.group is not None and not spec.group:
            raise ConfigurationError("a consumer group name must not be empty (None means fan-out)")
        retries = {d: retry_topic(spec.channel, d) for d in self._delays}
        topics = [spec.channel, *retries.values()]
        dead = spec.dead_letter_channel
        if dead is not None:
            self._names.channel(dead)
            await admin.ensure_topics([*topics, dead])
            # dead letters are kept for the dlq group from now on
            await admin.start_group(self.group_id(DEAD_LETTER_GROUP, dead), [dead])
        else:
            await admin.ensure_topics(topics)
        consumer = self._config.consumer
        if spec.group is not None:
            group_id = self.group_id(spec.group, spec.channel)
            await admin.start_group(group_id, topics)
            start = None
        else:
            group_id = f"eventbus-fanout-{secrets.token_hex(8)}"
            start = await admin.end_offsets(topics)
        settings: dict[str, Any] = {
            **self._config.client_settings(),
            "group.id": group_id,
            "enable.auto.commit": False,
            "enable.auto.offset.store": False,
            "auto.offset.reset": "earliest",  # partitions added later: read them whole
            "session.timeout.ms": int(consumer.session_timeout * 1000),
            "max.poll.interval.ms": int(consumer.max_poll_interval * 1000),
            "queued.max.messages.kbytes": 8192,
        }
        subscription = KafkaSubscription(
            spec,
            deliver,
            settings=settings,
            group_id=group_id,
            fan_out=spec.group is None,
            retry_topics=retries,
            move=self._move,
            scrub=self._scrub,
            commit_interval=consumer.commit_interval,
            on_close=self._forget,
        )
        self._subscriptions[subscription] = None
        await subscription.start(start, consumer.session_timeout)
        return subscription

    # -- the optional protocols: BrowsingAdapter, GroupAdminAdapter ---------------------------

    def _group_admin(self) -> Groups:
        self._connected()
        assert self._groups is not None
        return self._groups

    async def browse(self, channel: str, group: str, *, limit: int) -> Sequence[Browsed]:
        """Records kept for ``group`` on ``channel`` (above its committed offsets), oldest
        first, read without joining the group or committing: nothing changes."""
        self._names.channel(channel)
        return await self._group_admin().browse(channel, group, limit=limit)

    async def list_groups(self, channel: str | None = None) -> Sequence[GroupInfo]:
        return await self._group_admin().list_groups(channel)

    async def delete_group(self, channel: str, group: str) -> None:
        self._names.channel(channel)
        await self._group_admin().delete_group(channel, group)

    async def retention_problem(self, channel: str) -> str | None:
        self._names.channel(channel)
        return await self._group_admin().retention_problem(channel)

    async def _move(self, topic: str, messages: list[Message]) -> None:
        """Store retry and dead-letter copies (the topic exists: made at subscribe time)."""
        _, producer = self._connected()
        await producer.send(topic, messages)

    async def _forget(self, subscription: KafkaSubscription) -> None:
        self._subscriptions.pop(subscription, None)
