"""Topics, the broker's limits and group offsets, through confluent-kafka's AdminClient.

``ensure_topics`` creates missing topics (or, with ``provision=False``, insists they exist);
``start_group`` gives a consumer group that has no committed offset on a partition the
partition's current end, so a group starts at the moment it is first subscribed, whatever
the rebalance timing (``auto.offset.reset`` alone would lose what is published meanwhile).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable, Iterable
from concurrent.futures import Future
from typing import Any, TypeVar

from confluent_kafka import (
    ConsumerGroupTopicPartitions,
    KafkaError,
    KafkaException,
    TopicPartition,
)
from confluent_kafka.admin import (  # type: ignore[attr-defined]
    AdminClient,
    ConfigResource,
    NewTopic,
    OffsetSpec,
    ResourceType,
)

from eventbus.adapter import ConfigurationError, Scrubber
from eventbus_kafka._clients import tie
from eventbus_kafka._config import KafkaConfig
from eventbus_kafka._errors import kafka_error, translate

__all__ = ["Admin", "result"]

log = logging.getLogger("eventbus.kafka")
_GONE: Any = None  # what a closed helper holds instead of its client
T = TypeVar("T")
_NO_OFFSET = -1001  # librdkafka's OFFSET_INVALID: nothing committed


_TRANSIENT = frozenset(
    {
        KafkaError.NOT_LEADER_FOR_PARTITION,
        KafkaError.LEADER_NOT_AVAILABLE,
        KafkaError.UNKNOWN_TOPIC_OR_PART,
        KafkaError.COORDINATOR_LOAD_IN_PROGRESS,
        KafkaError.COORDINATOR_NOT_AVAILABLE,
        KafkaError.NOT_COORDINATOR,
        KafkaError.UNKNOWN_LEADER_EPOCH,
        KafkaError.FENCED_LEADER_EPOCH,
        KafkaError._TIMED_OUT,
    }
)
_PATIENCE = 30.0  # seconds to wait out a new topic's leader election or a coordinator's load


async def result(future: Future[T]) -> T:
    """A confluent-kafka (concurrent.futures) future, awaited."""
    return await asyncio.wrap_future(future)


_NO_LEADERS = frozenset({KafkaError._NOENT})


async def _patiently(call: Callable[[], Awaitable[T]], also: frozenset[int] = frozenset()) -> T:
    """``call()`` again while the cluster answers "not ready yet" (right after a topic was
    created, or the first time a group coordinator loads), for up to ``_PATIENCE`` seconds.
    ``also``: more error codes that mean "not ready yet" for this call."""
    deadline = time.monotonic() + _PATIENCE
    pause = 0.05
    while True:
        try:
            return await call()
        except KafkaException as exc:
            error = kafka_error(exc)
            transient = error is not None and (error.code() in _TRANSIENT or error.code() in also)
            if not transient or time.monotonic() > deadline:
                raise
        await asyncio.sleep(pause)
        pause = min(pause * 2, 1.0)


class Admin:
    def __init__(self, config: KafkaConfig, scrub: Scrubber) -> None:
        self._config = config
        self._scrub = scrub
        self._client = AdminClient(config.client_settings())
        self._grave = tie(self, self._client)
        self._known: set[str] = set()
        self._partitions: dict[str, int] = {}

    @property
    def client(self) -> AdminClient:
        return self._client

    def close(self) -> None:
        """Hand the client to the reaper (see _clients); this helper is unusable afterwards."""
        self._client = _GONE
        self._grave()

    async def broker_limit(self) -> int:
        """The cluster's ``message.max.bytes`` (read from one broker)."""
        timeout = self._config.connect_timeout
        try:
            metadata = await asyncio.to_thread(self._client.list_topics, timeout=timeout)
            broker = str(next(iter(metadata.brokers)))
            resource = ConfigResource(ResourceType.BROKER, broker)
            (future,) = self._client.describe_configs([resource]).values()
            entries: dict[str, Any] = await result(future)
        except KafkaException as exc:
            servers = ",".join(self._config.servers)
            raise translate(exc, f"connecting to Kafka at {servers}", self._scrub) from exc
        return int(entries["message.max.bytes"].value)

    async def ensure_topics(self, topics: Iterable[str]) -> None:
        wanted = [t for t in dict.fromkeys(topics) if t not in self._known]
        if not wanted:
            return
        existing = await self._existing(wanted)
        missing = [t for t in wanted if t not in existing]
        if missing and not self._config.topics.provision:
            raise ConfigurationError(
                f"Kafka topic(s) {', '.join(map(repr, missing))} do not exist and provisioning "
                f"is off (provision=false): create them first"
            )
        if missing:
            await self._create(missing)
        self._known.update(wanted)

    async def _existing(self, topics: list[str]) -> dict[str, int]:
        try:
            metadata = await asyncio.to_thread(
                self._client.list_topics, timeout=self._config.connect_timeout
            )
        except KafkaException as exc:
            raise translate(exc, "listing Kafka topics", self._scrub) from exc
        found = {}
        for name in topics:
            info = metadata.topics.get(name)
            if info is not None and info.error is None:
                found[name] = len(info.partitions)
        self._partitions.update(found)
        return found

    async def _refresh(self, topics: list[str]) -> None:
        """Fetch ``topics``' metadata from the cluster (librdkafka updates its cache)."""
        for name in topics:
            with contextlib.suppress(KafkaException):
                await asyncio.to_thread(self._client.list_topics, name, 5.0)

    async def _create(self, topics: list[str]) -> None:
        settings = self._config.topics
        new = [
            NewTopic(
                t,
                num_partitions=settings.partitions,
                replication_factor=settings.replication_factor,
            )
            for t in topics
        ]
        futures = self._client.create_topics(new, operation_timeout=30)
        for name, future in futures.items():
            try:
                await result(future)
            except KafkaException as exc:
                error = kafka_error(exc)
                if error is not None and error.code() == KafkaError.TOPIC_ALREADY_EXISTS:
                    continue  # created by someone else meanwhile
                raise translate(exc, f"creating topic {name!r}", self._scrub, topic=name) from exc
            self._partitions[name] = settings.partitions
        log.info("kafka: created topic(s) %s", ", ".join(topics))

    async def partitions(self, topic: str) -> list[TopicPartition]:
        count = self._partitions.get(topic)
        if count is None:
            count = (await self._existing([topic])).get(topic, 0)
        return [TopicPartition(topic, p) for p in range(count)]

    async def end_offsets(self, topics: Iterable[str]) -> list[TopicPartition]:
        """Every partition of ``topics`` with its current end offset."""
        names = list(topics)
        wanted = [tp for topic in names for tp in await self.partitions(topic)]
        if not wanted:
            return []
        request = {tp: OffsetSpec.latest() for tp in wanted}  # type: ignore[no-untyped-call]

        async def read() -> list[TopicPartition]:
            out = []
            try:
                for tp, future in self._client.list_offsets(request, request_timeout=10).items():
                    info = await result(future)
                    out.append(TopicPartition(tp.topic, tp.partition, info.offset))
            except KafkaException as exc:
                error = kafka_error(exc)
                if error is not None and error.code() in _NO_LEADERS:
                    await self._refresh(names)
                raise
            return out

        try:
            # Right after a topic was created its partitions may have no leader yet: librdkafka
            # then answers _NOENT ("No leaders found") rather than LEADER_NOT_AVAILABLE, from
            # its cached metadata: ask the cluster again before the next try.
            return await _patiently(read, also=_NO_LEADERS)
        except KafkaException as exc:
            raise translate(exc, "reading end offsets", self._scrub) from exc

    async def start_group(self, group_id: str, topics: Iterable[str]) -> None:
        """Commit the end offset for ``group_id`` on every partition it has nothing for."""
        topics = list(topics)
        request = [ConsumerGroupTopicPartitions(group_id)]

        async def read() -> ConsumerGroupTopicPartitions:
            (future,) = self._client.list_consumer_group_offsets(
                request, request_timeout=10
            ).values()
            return await result(future)

        try:
            current = await _patiently(read)
        except KafkaException as exc:
            raise translate(exc, f"reading offsets of group {group_id!r}", self._scrub) from exc
        have = {
            (tp.topic, tp.partition)
            for tp in current.topic_partitions or ()
            if tp.offset != _NO_OFFSET and tp.error is None
        }
        ends = await self.end_offsets(topics)
        missing = [tp for tp in ends if (tp.topic, tp.partition) not in have]
        if not missing:
            return
        change = [ConsumerGroupTopicPartitions(group_id, missing)]
        try:
            (future,) = self._client.alter_consumer_group_offsets(change).values()
            await result(future)
        except KafkaException as exc:
            # A group with live members keeps their positions: someone else started it.
            log.debug("kafka: group %r not started here: %s", group_id, self._scrub(str(exc)))

    async def delete_group(self, group_id: str) -> None:
        try:
            (future,) = self._client.delete_consumer_groups([group_id]).values()
            await result(future)
        except KafkaException as exc:
            log.debug("kafka: could not delete group %r: %s", group_id, self._scrub(str(exc)))
