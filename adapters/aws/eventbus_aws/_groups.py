"""Browse and group administration on SQS (the optional adapter protocols).

Nothing here creates a topic, queue or subscription. SQS has no peek, so a browse receives
what the group's queue holds (10 per ``ReceiveMessage``, visibility long enough to read them
all), reads it, and gives every message back at once (``ChangeMessageVisibilityBatch 0``): the
queue keeps them all, visible again right away, and any number of browses return the same
messages. What it leaves is SQS's ``ApproximateReceiveCount``, one higher per browse (only a
queue with a redrive policy acts on it; the ``dlq`` group's queue has none). A consumer group is
a queue tagged ``eventbus-channel`` / ``eventbus-group``; fan-out subscribers' queues are not
groups.
"""

from __future__ import annotations

import re
from typing import Any

from eventbus.adapter import Browsed, ConfigurationError, GroupInfo
from eventbus_aws._admin import CHANNEL_TAG, GROUP_TAG
from eventbus_aws._client import Clients
from eventbus_aws._codec import from_sqs
from eventbus_aws._config import AwsConfig
from eventbus_aws._errors import MissingResourceError, translated
from eventbus_aws._names import FIFO_SUFFIX, MAX_BATCH, group_queue_name, topic_name

__all__ = ["SqsGroups"]

_BROWSE_VISIBILITY = 120
# A fan-out subscriber's queue name ends in "-f-" and 16 hex digits (see _names): coded names
# double every '-', so no channel or group name ends that way.
_FANOUT = re.compile(r"-f-[0-9a-f]{16}(?:\.fifo)?$")


class SqsGroups:
    """Browses group queues and lists or deletes them."""

    def __init__(self, clients: Clients, config: AwsConfig, where: str) -> None:
        self._clients = clients
        self._config = config
        self._where = where

    async def _queue_url(self, name: str) -> str | None:
        try:
            with translated(f"looking up the SQS queue {name!r}", self._where):
                return (await self._clients.sqs.get_queue_url(QueueName=name))["QueueUrl"]
        except MissingResourceError:
            return None

    async def _require(self, channel: str, group: str) -> tuple[str, str]:
        """(name, url) of the group's queue, standard or FIFO."""
        name = group_queue_name(channel, group)
        for candidate in (name, name + FIFO_SUFFIX):
            url = await self._queue_url(candidate)
            if url is not None:
                return candidate, url
        raise ConfigurationError(
            f"there is no consumer group {group!r} on {channel!r} (SQS queue {name!r}) on "
            f"{self._where}; nothing was created"
        )

    async def browse(self, channel: str, group: str, limit: int) -> list[Browsed]:
        name, url = await self._require(channel, group)
        sqs = self._clients.sqs
        seen: dict[str, tuple[int, Browsed]] = {}
        receipts: list[str] = []
        try:
            while len(seen) < limit:
                with translated(f"reading the SQS queue {name!r}", self._where):
                    response = await sqs.receive_message(
                        QueueUrl=url,
                        MaxNumberOfMessages=MAX_BATCH,
                        WaitTimeSeconds=0,
                        VisibilityTimeout=_BROWSE_VISIBILITY,
                        MessageAttributeNames=["All"],
                        MessageSystemAttributeNames=["SentTimestamp"],
                    )
                received = response.get("Messages") or []
                fresh = 0
                for raw in received:
                    receipts.append(raw["ReceiptHandle"])
                    message_id = raw["MessageId"]
                    if message_id in seen:
                        continue
                    fresh += 1
                    message = from_sqs(
                        raw.get("Body", ""), raw.get("MessageAttributes") or {}, None, None
                    )
                    sent = int((raw.get("Attributes") or {}).get("SentTimestamp", "0") or 0)
                    seen[message_id] = (sent, Browsed(message, message_id))
                if not fresh:
                    break
        finally:
            await self._give_back(name, url, receipts)
        ordered = sorted(seen.values(), key=lambda pair: pair[0])
        return [browsed for _, browsed in ordered][:limit]

    async def _give_back(self, name: str, url: str, receipts: list[str]) -> None:
        for start in range(0, len(receipts), MAX_BATCH):
            chunk = receipts[start : start + MAX_BATCH]
            entries: Any = [
                {"Id": str(i), "ReceiptHandle": r, "VisibilityTimeout": 0}
                for i, r in enumerate(chunk)
            ]
            with translated(f"giving messages back to the SQS queue {name!r}", self._where):
                await self._clients.sqs.change_message_visibility_batch(
                    QueueUrl=url, Entries=entries
                )

    async def _queue_urls(self, prefix: str) -> list[str]:
        urls: list[str] = []
        token: str | None = None
        while True:
            kwargs: dict[str, Any] = {"QueueNamePrefix": prefix, "MaxResults": 1000}
            if token:
                kwargs["NextToken"] = token
            with translated("listing SQS queues", self._where):
                response = await self._clients.sqs.list_queues(**kwargs)
            urls.extend(response.get("QueueUrls") or [])
            token = response.get("NextToken")
            if not token:
                return urls

    async def list_groups(self, channel: str | None) -> list[GroupInfo]:
        prefix = f"{topic_name(channel)}-g-" if channel is not None else ""
        groups: list[GroupInfo] = []
        sqs = self._clients.sqs
        for url in await self._queue_urls(prefix):
            with translated("reading an SQS queue's tags", self._where):
                tags = (await sqs.list_queue_tags(QueueUrl=url)).get("Tags") or {}
            owner, group = tags.get(CHANNEL_TAG), tags.get(GROUP_TAG)
            if owner is None or group is None or channel not in (None, owner):
                continue
            with translated("reading an SQS queue's attributes", self._where):
                attributes = (
                    await sqs.get_queue_attributes(
                        QueueUrl=url,
                        AttributeNames=[
                            "ApproximateNumberOfMessages",
                            "ApproximateNumberOfMessagesNotVisible",
                        ],
                    )
                ).get("Attributes") or {}
            pending = sum(int(v) for v in attributes.values())
            groups.append(GroupInfo(owner, group, pending, url.rsplit("/", 1)[-1]))
        return groups

    async def _subscriptions(self, topic_arn: str) -> list[dict[str, Any]]:
        subs: list[dict[str, Any]] = []
        token: str | None = None
        while True:
            kwargs: dict[str, Any] = {"TopicArn": topic_arn}
            if token:
                kwargs["NextToken"] = token
            with translated("listing SNS subscriptions", self._where):
                response = await self._clients.sns.list_subscriptions_by_topic(**kwargs)
            subs.extend(dict(s) for s in response.get("Subscriptions") or [])
            token = response.get("NextToken")
            if not token:
                return subs

    async def _topic_arn(self, channel: str) -> str | None:
        for fifo in (True, False):
            with translated("looking up the AWS account", self._where):
                arn = await self._clients.arn("sns", topic_name(channel, fifo=fifo))
            try:
                with translated("looking up an SNS topic", self._where):
                    await self._clients.sns.get_topic_attributes(TopicArn=arn)
            except MissingResourceError:
                continue
            return arn
        return None

    async def delete_group(self, channel: str, group: str) -> None:
        name, url = await self._require(channel, group)
        topic = await self._topic_arn(channel)
        if topic is not None:
            with translated("looking up the AWS account", self._where):
                queue_arn = await self._clients.arn("sqs", name)
            for sub in await self._subscriptions(topic):
                if sub.get("Endpoint") == queue_arn:
                    with translated(f"unsubscribing the SQS queue {name!r}", self._where):
                        await self._clients.sns.unsubscribe(SubscriptionArn=sub["SubscriptionArn"])
        with translated(f"deleting the SQS queue {name!r}", self._where):
            await self._clients.sqs.delete_queue(QueueUrl=url)

    async def retention_problem(self, channel: str) -> str | None:
        topic = await self._topic_arn(channel)
        name = topic_name(channel)
        if topic is None:
            return f"the SNS topic {name!r} (channel {channel!r}) does not exist"
        for sub in await self._subscriptions(topic):
            endpoint = str(sub.get("Endpoint", ""))
            if sub.get("Protocol") != "sqs" or not _FANOUT.search(endpoint.rsplit(":", 1)[-1]):
                return None
        return (
            f"the SNS topic {name!r} has no subscription but fan-out subscribers' own queues, so "
            "what is published there is dropped (or lost when they leave)"
        )
