"""Browse and group administration on Pub/Sub (the optional adapter protocols).

Nothing here creates a topic or subscription. Pub/Sub has no peek (and seeking to a snapshot
is not in every emulator), so a browse leases what the group's subscription holds with unary
Pulls, reads it, and gives every message back at once (``ModifyAckDeadline 0``): the
subscription keeps them all, available right away, and any number of browses return the same
messages. What it leaves is Pub/Sub's delivery-attempt count, one higher (only a subscription
with a dead-letter policy uses it; the ``dlq`` group's has none). A consumer group is the
subscription ``<channel>~<group>``; fan-out subscribers' own subscriptions are not groups.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import unquote

from google.api_core import exceptions as gexc

from eventbus.adapter import Browsed, ConfigurationError, GroupInfo, Message
from eventbus_pubsub._client import Clients, retry_policy
from eventbus_pubsub._config import PubSubConfig
from eventbus_pubsub._errors import translated
from eventbus_pubsub._names import group_subscription_id, subscription_path, topic_path

__all__ = ["PubSubGroups"]

_PULL = 1000
_MODACK = 1000
_FANOUT = "~fanout."


def _group_of(subscription_id: str) -> tuple[str, str] | None:
    """(channel, group) of a consumer-group subscription ID; None for other subscriptions."""
    if _FANOUT in subscription_id or "~" not in subscription_id:
        return None
    channel, _, group = subscription_id.rpartition("~")
    return channel, unquote(group)


class PubSubGroups:
    """Browses subscriptions and lists or deletes consumer-group subscriptions."""

    def __init__(self, clients: Clients, config: PubSubConfig, where: str) -> None:
        self._clients = clients
        self._config = config
        self._where = where
        self._retry = retry_policy(config.timeout)

    def _path(self, channel: str, group: str) -> str:
        return subscription_path(self._config.project, group_subscription_id(channel, group))

    async def _require(self, channel: str, group: str) -> str:
        path = self._path(channel, group)
        with translated(f"checking subscription {path}", self._where):
            try:
                await self._clients.subscriber.get_subscription(
                    subscription=path, retry=self._retry, timeout=self._config.timeout
                )
            except gexc.NotFound:
                raise ConfigurationError(
                    f"there is no consumer group {group!r} on {channel!r} (Pub/Sub subscription "
                    f"{path!r}); nothing was created"
                ) from None
        return path

    async def browse(self, channel: str, group: str, limit: int) -> list[Browsed]:
        path = await self._require(channel, group)
        subscriber, timeout = self._clients.subscriber, self._config.timeout
        seen: dict[str, tuple[Any, Browsed]] = {}
        ack_ids: list[str] = []
        try:
            while len(seen) < limit:
                with translated(f"reading subscription {path}", self._where):
                    response = await subscriber.pull(
                        request={"subscription": path, "max_messages": _PULL},
                        retry=self._retry,
                        timeout=timeout,
                    )
                received = response.received_messages
                if not received:
                    break
                fresh = 0
                for item in received:
                    ack_ids.append(item.ack_id)
                    pm = item.message
                    if pm.message_id in seen:
                        continue  # its lease ran out while reading: delivered again
                    fresh += 1
                    attributes = pm.attributes
                    message = Message(
                        {k: attributes[k] for k in attributes}, pm.data, pm.ordering_key or None
                    )
                    seen[pm.message_id] = (pm.publish_time, Browsed(message, pm.message_id))
                if not fresh:
                    break
        finally:
            await self._give_back(path, ack_ids)
        ordered = sorted(seen.values(), key=lambda pair: pair[0])
        return [browsed for _, browsed in ordered][:limit]

    async def _give_back(self, path: str, ack_ids: list[str]) -> None:
        for start in range(0, len(ack_ids), _MODACK):
            with translated(f"giving messages back to {path}", self._where):
                await self._clients.subscriber.modify_ack_deadline(
                    request={
                        "subscription": path,
                        "ack_ids": ack_ids[start : start + _MODACK],
                        "ack_deadline_seconds": 0,
                    },
                    retry=self._retry,
                    timeout=self._config.timeout,
                )

    async def _topic_subscriptions(self, channel: str) -> list[str] | None:
        """The subscription IDs of ``channel``'s topic; None when the topic does not exist."""
        topic = topic_path(self._config.project, channel)
        names: list[str] = []
        with translated(f"listing the subscriptions of {topic}", self._where):
            try:
                await self._clients.publisher.get_topic(
                    topic=topic, retry=self._retry, timeout=self._config.timeout
                )
                pages = await self._clients.publisher.list_topic_subscriptions(
                    request={"topic": topic}, retry=self._retry, timeout=self._config.timeout
                )
                async for name in pages:
                    names.append(name.rsplit("/", 1)[-1])
            except gexc.NotFound:
                return None
        return names

    async def list_groups(self, channel: str | None) -> list[GroupInfo]:
        project = self._config.project
        ids: list[str] = []
        if channel is not None:
            ids = await self._topic_subscriptions(channel) or []
        else:
            with translated("listing subscriptions", self._where):
                pages = await self._clients.subscriber.list_subscriptions(
                    request={"project": f"projects/{project}"},
                    retry=self._retry,
                    timeout=self._config.timeout,
                )
                async for subscription in pages:
                    ids.append(subscription.name.rsplit("/", 1)[-1])
        groups = []
        for subscription_id in ids:
            parsed = _group_of(subscription_id)
            if parsed is not None and channel in (None, parsed[0]):
                path = subscription_path(project, subscription_id)
                groups.append(GroupInfo(parsed[0], parsed[1], None, path))
        return groups

    async def delete_group(self, channel: str, group: str) -> None:
        path = await self._require(channel, group)
        with translated(f"deleting subscription {path}", self._where):
            await self._clients.subscriber.delete_subscription(
                subscription=path, retry=self._retry, timeout=self._config.timeout
            )

    async def retention_problem(self, channel: str) -> str | None:
        ids = await self._topic_subscriptions(channel)
        topic = topic_path(self._config.project, channel)
        if ids is None:
            return f"the Pub/Sub topic {topic!r} does not exist"
        if any(_group_of(i) is not None or "~" not in i for i in ids):
            return None
        return (
            f"the Pub/Sub topic {topic!r} has no subscription but fan-out subscribers' own, so "
            "what is published there is dropped (or lost when they leave)"
        )
