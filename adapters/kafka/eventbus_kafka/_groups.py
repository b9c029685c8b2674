"""Browsing what waits for a group, and the groups themselves (the optional adapter protocols).

``browse`` reads the channel's records above the group's committed offsets with a consumer of
its own that is assigned the partitions and never joins a group or commits: the group, its
offsets and the records stay as they were, and nothing is created. ``list_groups`` reads the
broker's consumer groups and their committed offsets (a group id is mapped back to its
eventbus group through the ``group_id`` template); ``retention_problem`` says whether a record
published now would reach a durable group (Kafka keeps records by time, whoever reads them, but
a group started later begins at the end of the topic).
"""

from __future__ import annotations

import asyncio
import re
import secrets
import time
from collections.abc import Callable, Sequence
from typing import Any

from confluent_kafka import Consumer, ConsumerGroupTopicPartitions, KafkaException, TopicPartition

from eventbus.adapter import Browsed, ConfigurationError, GroupInfo, Scrubber
from eventbus_kafka._admin import Admin, result
from eventbus_kafka._clients import bury
from eventbus_kafka._config import KafkaConfig
from eventbus_kafka._delivery import message_of
from eventbus_kafka._errors import translate

__all__ = ["Groups"]

_FAN_OUT_PREFIX = "eventbus-fanout-"
_READ_PATIENCE = 10.0  # seconds a browse may take to read up to the group's end


class Groups:
    def __init__(
        self,
        admin: Admin,
        config: KafkaConfig,
        scrub: Scrubber,
        group_id: Callable[[str, str], str],
        is_retry_topic: Callable[[str], bool],
    ) -> None:
        self._admin = admin
        self._config = config
        self._scrub = scrub
        self._group_id = group_id
        self._is_retry = is_retry_topic
        template = re.escape(config.consumer.group_id)
        self._pattern = template.replace(re.escape("{group}"), "(?P<group>.+)")

    async def _committed(self, group_id: str) -> dict[tuple[str, int], int]:
        request = [ConsumerGroupTopicPartitions(group_id)]
        try:
            (future,) = self._admin.client.list_consumer_group_offsets(request).values()
            found = await result(future)
        except KafkaException as exc:
            raise translate(exc, f"reading offsets of group {group_id!r}", self._scrub) from exc
        return {
            (tp.topic, tp.partition): tp.offset
            for tp in found.topic_partitions or ()
            if tp.offset >= 0 and tp.error is None
        }

    async def _require_topic(self, channel: str) -> None:
        if not await self._admin.partitions(channel):
            raise ConfigurationError(f"Kafka topic {channel!r} does not exist")

    async def browse(self, channel: str, group: str, *, limit: int) -> Sequence[Browsed]:
        await self._require_topic(channel)
        group_id = self._group_id(group, channel)
        committed = {
            p: o for (t, p), o in (await self._committed(group_id)).items() if t == channel
        }
        if not committed:
            raise ConfigurationError(
                f"no consumer group {group!r} (Kafka group {group_id!r}) on {channel!r}"
            )
        ends = {tp.partition: tp.offset for tp in await self._admin.end_offsets([channel])}
        start = [
            TopicPartition(channel, p, committed[p])
            for p in sorted(committed)
            if committed[p] < ends.get(p, 0)
        ]
        if not start or limit <= 0:
            return []
        records = await asyncio.to_thread(self._read, start, ends, limit)
        records.sort(key=lambda r: (r.timestamp()[1], r.partition(), r.offset()))
        return [Browsed(message_of(r)[0], (r.partition(), r.offset())) for r in records[:limit]]

    def _read(self, start: list[TopicPartition], ends: dict[int, int], limit: int) -> list[Any]:
        """Up to ``limit`` records of each partition from ``start`` (on a thread: it blocks)."""
        consumer = Consumer(
            {
                **self._config.client_settings(),
                "group.id": f"eventbus-browse-{secrets.token_hex(8)}",  # never joined
                "enable.auto.commit": False,
                "enable.auto.offset.store": False,
            }
        )
        taken: dict[int, list[Any]] = {tp.partition: [] for tp in start}
        left = {tp.partition: min(limit, ends[tp.partition] - tp.offset) for tp in start}
        deadline = time.monotonic() + _READ_PATIENCE
        try:
            consumer.assign(start)
            while any(n > 0 for n in left.values()) and time.monotonic() < deadline:
                for record in consumer.consume(500, 0.2):
                    partition = record.partition()
                    if record.error() is None and partition is not None and left[partition] > 0:
                        taken[partition].append(record)
                        left[partition] -= 1
        finally:
            consumer.close()
            bury(consumer)  # (a traceback keeping this frame must not keep the client)
            del consumer
        return [r for records in taken.values() for r in records]

    async def list_groups(self, channel: str | None = None) -> Sequence[GroupInfo]:
        client = self._admin.client
        try:
            listed = await result(client.list_consumer_groups())
        except KafkaException as exc:
            raise translate(exc, "listing consumer groups", self._scrub) from exc
        found: list[GroupInfo] = []
        for listing in listed.valid:
            group_id = listing.group_id
            if group_id.startswith(_FAN_OUT_PREFIX):
                continue
            committed = await self._committed(group_id)
            topics = {t for t, _ in committed if not self._is_retry(t)}
            for topic in sorted(topics):
                if channel is not None and topic != channel:
                    continue
                pattern = self._pattern.replace(re.escape("{channel}"), re.escape(topic))
                match = re.fullmatch(pattern, group_id)
                if match is None:
                    continue
                ends = await self._admin.end_offsets([topic])
                pending = sum(
                    max(0, tp.offset - committed.get((topic, tp.partition), tp.offset))
                    for tp in ends
                )
                found.append(GroupInfo(topic, match["group"], pending, group_id))
        return found

    async def delete_group(self, channel: str, group: str) -> None:
        group_id = self._group_id(group, channel)
        if not any(t == channel for t, _ in await self._committed(group_id)):
            raise ConfigurationError(
                f"no consumer group {group!r} (Kafka group {group_id!r}) on {channel!r}"
            )
        try:
            (future,) = self._admin.client.delete_consumer_groups([group_id]).values()
            await result(future)
        except KafkaException as exc:
            raise translate(exc, f"deleting consumer group {group_id!r}", self._scrub) from exc

    async def retention_problem(self, channel: str) -> str | None:
        if not await self._admin.partitions(channel):
            return f"Kafka topic {channel!r} does not exist"
        if any(info.channel == channel for info in await self.list_groups(channel)):
            return None
        return (
            f"no consumer group reads {channel!r} yet: a group started later begins at the "
            f"end of the topic"
        )
