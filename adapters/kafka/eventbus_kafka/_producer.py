"""The adapter's one producer: librdkafka batches, a thread serves its delivery reports.

``send`` queues records (in order; the idempotent producer keeps that order per partition even
through retries) and returns once the brokers acknowledged all of them, or raises the first
failure as PublishError. Delivery reports arrive on a small thread that polls the producer and
hands each batch's result back to the event loop.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Mapping, Sequence
from typing import Any

from confluent_kafka import KafkaError, Producer

from eventbus.adapter import HeaderValue, Message, PublishError, Scrubber
from eventbus_kafka._clients import tie
from eventbus_kafka._config import KafkaConfig
from eventbus_kafka._errors import describe, translate

__all__ = ["KafkaProducer", "record_headers"]

log = logging.getLogger("eventbus.kafka")
_GONE: Any = None  # what a closed helper holds instead of its client
_POLL_SECONDS = 0.05
_FULL_QUEUE_WAIT = 0.005


def record_headers(headers: Mapping[str, HeaderValue]) -> list[tuple[str, str | bytes | None]]:
    """Message headers as Kafka record headers (values as UTF-8 bytes)."""
    out: list[tuple[str, str | bytes | None]] = []
    for name, value in headers.items():
        if isinstance(value, bytes):
            out.append((name, value))
        elif isinstance(value, str):
            out.append((name, value.encode("utf-8")))
        else:
            out.append((name, str(value).encode("utf-8")))
    return out


def _plain(headers: dict[str, HeaderValue]) -> bool:
    """Whether librdkafka takes ``headers`` as they are (str values, sent as UTF-8)."""
    try:
        "".join(headers.values())  # type: ignore[arg-type]
    except TypeError:
        return False
    return True


class _Batch:
    """Counts the delivery reports of one ``send``; resolves its future on the loop."""

    __slots__ = ("error", "future", "left", "lock", "loop")

    def __init__(self, loop: asyncio.AbstractEventLoop, size: int) -> None:
        self.loop = loop
        self.future: asyncio.Future[None] = loop.create_future()
        self.left = size
        self.lock = threading.Lock()
        self.error: KafkaError | None = None

    def report(self, error: KafkaError | None, _record: Any) -> None:  # librdkafka's thread
        if error is not None and self.error is None:
            self.error = error
        self.skip(1)

    def skip(self, count: int) -> None:
        """``count`` records are accounted for (reported, or never queued)."""
        with self.lock:
            self.left -= count
            done = self.left == 0
        if done:
            self.loop.call_soon_threadsafe(self._finish)

    def _finish(self) -> None:
        if not self.future.done():
            self.future.set_result(None)


class KafkaProducer:
    def __init__(self, config: KafkaConfig, scrub: Scrubber, max_message_bytes: int) -> None:
        settings: dict[str, Any] = {
            **config.client_settings(),
            "enable.idempotence": config.producer.idempotence,
            "acks": "all",
            "linger.ms": config.producer.linger_ms,
            "compression.type": config.producer.compression,
            "delivery.timeout.ms": int(config.producer.timeout * 1000),
            "message.max.bytes": max_message_bytes,
            # keyless records go to a random partition each, so a group shares the work
            "sticky.partitioning.linger.ms": 0,
        }
        self._producer = Producer(settings)
        self._grave = tie(self, self._producer)
        self._scrub = scrub
        self._stop = threading.Event()
        self._thread = threading.Thread(
            target=self._serve, name="eventbus-kafka-producer", daemon=True
        )
        self._thread.start()

    def _serve(self) -> None:
        producer, stop = self._producer, self._stop
        while not stop.is_set():
            producer.poll(_POLL_SECONDS)
        producer.poll(0)

    async def send(self, topic: str, messages: Sequence[Message]) -> None:
        if not messages:
            return
        batch = _Batch(asyncio.get_running_loop(), len(messages))
        produce = self._producer.produce
        report = batch.report
        for index, message in enumerate(messages):
            given = message.headers
            headers: Any = given  # str values: librdkafka sends them as UTF-8
            if type(given) is not dict or not _plain(given):
                headers = record_headers(given)
            while True:
                try:
                    # an empty body is binary mode without data: a record with no value
                    # (Kafka binding 3.2.2); a structured body is never empty
                    value = message.body or None
                    produce(topic, value, message.key, headers=headers, on_delivery=report)
                    break
                except BufferError:  # the local queue is full: let the brokers catch up
                    await asyncio.sleep(_FULL_QUEUE_WAIT)
                except Exception as exc:
                    batch.skip(len(messages) - index)  # never queued: no report will come
                    await batch.future
                    raise translate(
                        exc, f"publishing to {topic!r}", self._scrub, publishing=True, topic=topic
                    ) from exc
        await batch.future
        if batch.error is not None:
            raise PublishError(self._scrub(f"publishing to {topic!r}: {describe(batch.error)}"))

    async def close(self, timeout: float = 10.0) -> None:
        """Wait for queued records (up to ``timeout`` seconds), then stop the report thread."""
        left = await asyncio.to_thread(self._producer.flush, timeout)
        if left:
            log.warning("kafka: %d record(s) were not delivered before closing", left)
        self._stop.set()
        await asyncio.to_thread(self._thread.join, 5)
        if not self._thread.is_alive():  # (a report thread still polling keeps its producer)
            self._producer = _GONE
            self._grave()
