"""Topics, queues and SNS->SQS subscriptions: provisioned (``provision=True``) or verified.

A channel is a standard SNS topic unless it is FIFO: an ordered subscription (``ordered=True``)
makes its channel a FIFO topic (``<topic>.fifo``), and publishers look for the FIFO topic first,
so they find one made before they published. A channel that already exists as a standard topic
cannot become FIFO (SNS cannot convert it): subscribing with ``ordered=True`` then raises.

A queue subscribed to a topic has raw message delivery on (the SQS body is the published message
and its attributes survive) and a queue policy letting that topic, and only it, send to it. A
dead-letter channel's ``dlq`` group queue is the redrive target of the queues whose subscriptions
name that channel (SQS's redrive policy: after ``maxReceiveCount`` receives a message moves there
as it is); its retention is SQS's longest, 14 days.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from eventbus.adapter import DEAD_LETTER_GROUP, ConfigurationError
from eventbus_aws._client import Clients
from eventbus_aws._config import AwsConfig
from eventbus_aws._errors import MissingResourceError, translated
from eventbus_aws._names import FIFO_SUFFIX, topic_name

__all__ = ["CHANNEL_TAG", "GROUP_TAG", "Admin", "QueuePlan", "QueueRef", "TopicRef"]

#: Queue tags naming the channel and consumer group a queue serves (``eventbus groups`` reads
#: them: queue names may be cut and hashed, tags keep the names as they are).
CHANNEL_TAG = "eventbus-channel"
GROUP_TAG = "eventbus-group"

_DLQ_RETENTION = 14 * 24 * 3600
_MAX_RECEIVE_COUNT = 1000


@dataclass(frozen=True, slots=True)
class TopicRef:
    channel: str
    arn: str
    fifo: bool


@dataclass(frozen=True, slots=True)
class QueueRef:
    name: str
    url: str
    arn: str
    fifo: bool
    subscription_arn: str | None = None


@dataclass(frozen=True, slots=True)
class QueuePlan:
    """What a subscription's queue should look like."""

    name: str
    topic: TopicRef
    group: str | None = None  # None: a fan-out subscriber's queue
    dead_letter: QueueRef | None = None  # redrive target
    max_receive_count: int | None = None
    retention: int | None = None


class Admin:
    def __init__(self, clients: Clients, config: AwsConfig, where: str) -> None:
        self._clients = clients
        self._config = config
        self._where = where
        self._topics: dict[str, TopicRef] = {}

    async def _arn(self, service: str, name: str) -> str:
        with translated("looking up the AWS account (sts:GetCallerIdentity)", self._where):
            return await self._clients.arn(service, name)

    async def _topic_exists(self, arn: str) -> bool:
        try:
            with translated("looking up an SNS topic", self._where):
                await self._clients.sns.get_topic_attributes(TopicArn=arn)
        except MissingResourceError:
            return False
        return True

    async def topic(self, channel: str, *, fifo: bool = False) -> TopicRef:
        """The topic of ``channel``: the FIFO one if it exists (or ``fifo`` asks for one),
        else the standard one, created when missing if provisioning."""
        known = self._topics.get(channel)
        if known is not None and (known.fifo or not fifo):
            return known
        clients = self._clients
        fifo_arn = await self._arn("sns", topic_name(channel, fifo=True))
        if await self._topic_exists(fifo_arn):
            ref = TopicRef(channel, fifo_arn, True)
        else:
            name = topic_name(channel)
            standard_arn = await self._arn("sns", name)
            standard = (known is not None) or await self._topic_exists(standard_arn)
            if fifo and standard:
                raise ConfigurationError(
                    f"channel {channel!r} is the standard SNS topic {name!r}: order per "
                    f"partition key needs a FIFO topic, which SNS cannot convert it to (delete "
                    f"it, or create {name + FIFO_SUFFIX!r} before publishing)"
                )
            if not standard and not self._config.provision:
                wanted = name + FIFO_SUFFIX if fifo else name
                raise MissingResourceError(
                    f"the SNS topic {wanted!r} for channel {channel!r} does not exist on "
                    f"{self._where} and provision is off"
                )
            if standard:
                ref = TopicRef(channel, standard_arn, False)
            else:
                attributes = {"FifoTopic": "true", "ContentBasedDeduplication": "true"}
                with translated(f"creating the SNS topic of {channel!r}", self._where):
                    created = await clients.sns.create_topic(
                        Name=topic_name(channel, fifo=fifo), Attributes=attributes if fifo else {}
                    )
                ref = TopicRef(channel, created["TopicArn"], fifo)
        self._topics[channel] = ref
        return ref

    async def existing_topic(self, channel: str) -> TopicRef | None:
        """The standard topic of ``channel`` if it exists (never created); None if not."""
        known = self._topics.get(channel)
        if known is not None:
            return known
        arn = await self._arn("sns", topic_name(channel))
        if not await self._topic_exists(arn):
            return None
        ref = self._topics[channel] = TopicRef(channel, arn, False)
        return ref

    def forget(self, channel: str) -> None:
        """Drop what is known of ``channel``'s topic (it was deleted)."""
        self._topics.pop(channel, None)

    async def delete_topic(self, topic: TopicRef) -> None:
        """Delete ``topic`` (a requester's reply topic: the adapter deletes no other)."""
        self.forget(topic.channel)
        with translated(f"deleting the SNS topic of {topic.channel!r}", self._where):
            await self._clients.sns.delete_topic(TopicArn=topic.arn)

    async def queue(self, plan: QueuePlan) -> QueueRef:
        """Create or update the queue of ``plan`` and subscribe it to its topic."""
        clients, fifo = self._clients, plan.topic.fifo
        name = plan.name
        arn = await self._arn("sqs", name)
        attributes: dict[Any, str] = {"Policy": _policy(arn, plan.topic.arn)}
        if plan.dead_letter is not None:
            count = max(1, min(_MAX_RECEIVE_COUNT, plan.max_receive_count or 10))
            attributes["RedrivePolicy"] = json.dumps(
                {"deadLetterTargetArn": plan.dead_letter.arn, "maxReceiveCount": count}
            )
        if plan.retention is not None:
            attributes["MessageRetentionPeriod"] = str(plan.retention)
        url = None
        try:
            with translated(f"looking up the SQS queue {name!r}", self._where):
                url = (await clients.sqs.get_queue_url(QueueName=name))["QueueUrl"]
        except MissingResourceError:
            if not self._config.provision:
                raise
        if url is None:
            if fifo:
                attributes["FifoQueue"] = "true"
            tags = {CHANNEL_TAG: plan.topic.channel}
            if plan.group is not None:
                tags[GROUP_TAG] = plan.group
            with translated(f"creating the SQS queue {name!r}", self._where):
                created = await clients.sqs.create_queue(
                    QueueName=name, Attributes=attributes, tags=tags
                )
                url = created["QueueUrl"]
        elif self._config.provision:
            with translated(f"updating the SQS queue {name!r}", self._where):
                await clients.sqs.set_queue_attributes(QueueUrl=url, Attributes=attributes)
        if not self._config.provision:  # the queue exists: its subscription is the owner's job
            return QueueRef(name, url, arn, fifo)
        with translated(f"subscribing the SQS queue {name!r} to its topic", self._where):
            subscription = await clients.sns.subscribe(
                TopicArn=plan.topic.arn,
                Protocol="sqs",
                Endpoint=arn,
                Attributes={"RawMessageDelivery": "true"},
                ReturnSubscriptionArn=True,
            )
        return QueueRef(name, url, arn, fifo, subscription.get("SubscriptionArn"))

    async def dead_letter_queue(self, topic: TopicRef, name: str) -> QueueRef:
        """The ``dlq`` group queue of a dead-letter channel (kept 14 days)."""
        plan = QueuePlan(name, topic, DEAD_LETTER_GROUP, retention=_DLQ_RETENTION)
        return await self.queue(plan)

    async def delete(self, queue: QueueRef) -> None:
        """Remove a fan-out subscriber's subscription and queue."""
        with translated(f"deleting the SQS queue {queue.name!r}", self._where):
            if queue.subscription_arn is not None:
                await self._clients.sns.unsubscribe(SubscriptionArn=queue.subscription_arn)
            await self._clients.sqs.delete_queue(QueueUrl=queue.url)


def _policy(queue_arn: str, topic_arn: str) -> str:
    """The queue policy letting the topic (and only it) send to the queue."""
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Sid": "eventbus-sns-to-sqs",
                    "Effect": "Allow",
                    "Principal": {"Service": "sns.amazonaws.com"},
                    "Action": "sqs:SendMessage",
                    "Resource": queue_arn,
                    "Condition": {"ArnEquals": {"aws:SourceArn": topic_arn}},
                }
            ],
        }
    )
