"""Kafka: eventbus against the raw clients (confluent-kafka, aiokafka) and FastStream, one broker.

Starts its own Apache Kafka broker (KRaft, the tests' launcher: Java 17 and Maven), then, in
the same run and on the same broker, with the same payload (a JSON order) and the same ce_
headers:

- publish only: N records, waiting until the brokers acknowledged all of them (idempotent
  producers, ``acks=all``): raw confluent-kafka ``Producer.produce`` with delivery callbacks,
  raw aiokafka ``send``, ``EventBus.publish_many`` in batches of 1,000;
- end to end: N records published while a consumer group reads them, decodes the data into
  the same msgspec Struct and commits: the two raw clients, an ``EventBus`` handler typed
  ``Event[Order]``, and FastStream's Kafka broker (aiokafka underneath, pydantic-typed handler)
  when ``faststream[kafka]`` is installed.

The raw clients' figures decided the adapter's client (docs/architecture.md). Figures are the
best of two runs; nothing is asserted. Run: python bench/kafka_throughput.py [N]
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(Path(__file__).parent))
sys.path.insert(0, str(ROOT / "adapters" / "kafka" / "tests"))

import msgspec
from _util import best_of
from confluent_kafka import Consumer, Producer
from confluent_kafka.admin import AdminClient, NewTopic  # type: ignore[attr-defined]
from kafka_launcher import MESSAGE_MAX_BYTES as MAX_BYTES
from kafka_launcher import KafkaServer

from eventbus import Event, EventBus, encode

N = int(sys.argv[1]) if len(sys.argv) > 1 else 20_000
LIMIT = 300.0  # seconds one measurement may take
BATCH = 1_000
PARTITIONS = 3


class Order(msgspec.Struct):
    order_id: str
    customer: str
    amount_cents: int


def sample() -> tuple[list[tuple[str, bytes]], bytes]:
    """The ce_ headers and body eventbus sends for one order (the raw clients send the same)."""
    message = encode(
        Event(type="bench.order", source="/bench", data=Order("o-1", "ada", 1250)), "kafka"
    )
    headers = [(k, str(v).encode()) for k, v in message.headers.items()]
    return headers, message.body


HEADERS, BODY = sample()
decode_order = msgspec.json.Decoder(Order).decode


def new_topic(bootstrap: str) -> str:
    name = f"bench.t{uuid.uuid4().hex[:10]}"
    admin = AdminClient({"bootstrap.servers": bootstrap})
    for future in admin.create_topics([NewTopic(name, PARTITIONS, 1)]).values():
        future.result()
    return name


# -- raw confluent-kafka ---------------------------------------------------------------------------


class _Poller:
    """Serves a confluent Producer's delivery reports on a thread (as the adapter does)."""

    def __init__(self, producer: Producer) -> None:
        self.producer, self.stop = producer, threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        while not self.stop.is_set():
            self.producer.poll(0.05)

    def close(self) -> None:
        self.stop.set()
        self.thread.join()


async def confluent_publish(bootstrap: str, topic: str, n: int) -> float:
    producer = Producer(
        {"bootstrap.servers": bootstrap, "enable.idempotence": True, "linger.ms": 5,
         "message.max.bytes": MAX_BYTES}  # the test broker's limit (librdkafka batches up to it)
    )  # fmt: skip
    poller = _Poller(producer)
    producer.list_topics(topic, timeout=10)  # connected
    start = time.perf_counter()
    loop = asyncio.get_running_loop()
    done = loop.create_future()
    left = n
    lock = threading.Lock()

    failed: list[Any] = []

    def report(error: Any, _record: Any) -> None:
        nonlocal left
        if error is not None:
            failed.append(error)
        with lock:
            left -= 1
            if left == 0:
                loop.call_soon_threadsafe(done.set_result, None)

    for i in range(n):
        while True:
            try:
                producer.produce(topic, BODY, headers=HEADERS, on_delivery=report)
                break
            except BufferError:
                await asyncio.sleep(0.001)
        if i % BATCH == 0:
            await asyncio.sleep(0)
    await done
    elapsed = time.perf_counter() - start
    poller.close()
    if failed:
        raise RuntimeError(f"{len(failed)} records not stored: {failed[0]}")
    return n / elapsed


async def confluent_consume(bootstrap: str, topic: str, n: int) -> None:
    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": f"raw-{topic}",
                         "auto.offset.reset": "earliest", "enable.auto.commit": False})  # fmt: skip
    consumer.subscribe([topic])
    got = 0
    while got < n:
        records = consumer.consume(500, 0)
        if not records:
            await asyncio.sleep(0.001)
            continue
        for record in records:
            if record.error() is None:
                dict(record.headers() or ())
                decode_order(record.value() or b"")
                got += 1
        consumer.commit(asynchronous=True)
    consumer.close()


# -- raw aiokafka ----------------------------------------------------------------------------------


async def aiokafka_publish(bootstrap: str, topic: str, n: int) -> float:
    import aiokafka

    producer = aiokafka.AIOKafkaProducer(bootstrap_servers=bootstrap, enable_idempotence=True,
                                         linger_ms=5)  # fmt: skip
    await producer.start()
    try:
        start = time.perf_counter()
        pending = [await producer.send(topic, BODY, headers=HEADERS) for _ in range(n)]
        await asyncio.gather(*pending)
        return n / (time.perf_counter() - start)
    finally:
        await producer.stop()


async def aiokafka_consume(bootstrap: str, topic: str, n: int) -> None:
    import aiokafka

    consumer = aiokafka.AIOKafkaConsumer(topic, bootstrap_servers=bootstrap,
                                         group_id=f"raw-{topic}", auto_offset_reset="earliest",
                                         enable_auto_commit=False)  # fmt: skip
    await consumer.start()
    got = 0
    try:
        while got < n:
            batches = await consumer.getmany(timeout_ms=100, max_records=500)
            for records in batches.values():
                for record in records:
                    dict(record.headers)
                    decode_order(record.value)
                    got += 1
            if batches:
                await consumer.commit()
    finally:
        await consumer.stop()


# -- eventbus and FastStream ------------------------------------------------------------------------


def events(n: int) -> list[Event[Order]]:
    return [
        Event(type="bench.order", source="/bench", data=Order(f"o-{i}", "ada", i)) for i in range(n)
    ]


async def eventbus_publish_many(url: str, channel: str, n: int) -> float:
    batch = [Event(type=channel, source="/bench", data=Order(f"o-{i}", "ada", i)) for i in range(n)]
    async with EventBus(url) as bus:
        await bus.publish_many(batch[:1])  # the topic exists, the producer is connected
        start = time.perf_counter()
        for i in range(1, n, BATCH):
            await bus.publish_many(batch[i : i + BATCH])
        return (n - 1) / (time.perf_counter() - start)


async def eventbus_e2e(url: str, channel: str, n: int) -> float:
    done = asyncio.Event()
    got = 0
    async with EventBus(url) as bus:

        async def handle(event: Event[Order]) -> None:
            nonlocal got
            got += 1
            if got == n:
                done.set()

        await bus.subscribe(channel, handle, group="bench")
        batch = [
            Event(type=channel, source="/bench", data=Order(f"o-{i}", "ada", i)) for i in range(n)
        ]
        start = time.perf_counter()
        for i in range(0, n, BATCH):
            await bus.publish_many(batch[i : i + BATCH])
        await done.wait()
        return n / (time.perf_counter() - start)


async def faststream_e2e(bootstrap: str, topic: str, n: int) -> float:
    try:
        from faststream.kafka import KafkaBroker
        from pydantic import BaseModel
    except ImportError:
        return float("nan")

    class OrderModel(BaseModel):
        order_id: str
        customer: str
        amount_cents: int

    broker = KafkaBroker(bootstrap)
    done = asyncio.Event()
    got = 0

    @broker.subscriber(topic, group_id=f"fs-{topic}", auto_offset_reset="earliest")
    async def handle(body: OrderModel) -> None:
        nonlocal got
        got += 1
        if got == n:
            done.set()

    async with broker:
        await broker.start()
        await asyncio.sleep(2)  # its consumer joins the group in the background
        start = time.perf_counter()
        headers = {k: v.decode() for k, v in HEADERS}
        step = 50  # its batch publish (aiokafka batches hold 16 KiB)
        for i in range(0, n, step):
            await broker.publish_batch(*[BODY] * min(step, n - i), topic=topic, headers=headers)
        await done.wait()
        return n / (time.perf_counter() - start)


# -- running ---------------------------------------------------------------------------------------


def timed(run: Callable[[], Awaitable[float]], what: str) -> float:
    """One measurement (the coroutine returns records/s), given up after ``LIMIT`` seconds."""
    try:
        value = asyncio.run(asyncio.wait_for(run(), LIMIT))
    except TimeoutError:
        print(f"  {what}: no result in {LIMIT} s", flush=True)
        return float("nan")
    except Exception as exc:
        print(f"  {what}: failed: {exc!r}", flush=True)
        return float("nan")
    return value


def e2e(
    bootstrap: str,
    publish: Callable[[str, str, int], Awaitable[float]],
    consume: Callable[[str, str, int], Awaitable[None]],
) -> Callable[[], Awaitable[float]]:
    """Consume while publishing; records/s from the first publish to the last record read."""

    async def both() -> float:
        topic = new_topic(bootstrap)
        reader = asyncio.ensure_future(consume(bootstrap, topic, N))
        await asyncio.sleep(1.0)  # the consumer has joined its group
        start = time.perf_counter()
        await publish(bootstrap, topic, N)
        await reader
        return N / (time.perf_counter() - start)

    return both


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        server = KafkaServer(Path(tmp)).start()
        try:
            bootstrap, url = server.bootstrap, server.url(f"partitions={PARTITIONS}")
            timed(lambda: eventbus_publish_many(url, new_topic(bootstrap), 200), "warm-up")
            print(f"Kafka {N} records, {len(BODY)}-byte JSON body, {len(HEADERS)} ce_ headers, "
                  f"{PARTITIONS} partitions\n", flush=True)  # fmt: skip
            print("publish only (all acknowledged), records/s", flush=True)
            runs: dict[str, Callable[[], Awaitable[float]]] = {
                "raw confluent-kafka": lambda: confluent_publish(bootstrap, new_topic(bootstrap), N),
                "raw aiokafka": lambda: aiokafka_publish(bootstrap, new_topic(bootstrap), N),
                "eventbus publish_many": lambda: eventbus_publish_many(url, new_topic(bootstrap), N),
            }  # fmt: skip
            show({name: best_of(lambda r=run, w=name: timed(r, w), 2) for name, run in runs.items()},
                 "raw confluent-kafka")  # fmt: skip
            print("\nend to end (publish while a group consumes, decodes, commits), records/s")
            runs = {
                "raw confluent-kafka": e2e(bootstrap, confluent_publish, confluent_consume),
                "raw aiokafka": e2e(bootstrap, aiokafka_publish, aiokafka_consume),
                "eventbus (Event[Order] handler)": lambda: eventbus_e2e(url, f"bench.e{uuid.uuid4().hex[:8]}", N),
            }  # fmt: skip
            end = {
                name: best_of(lambda r=run, w=name: timed(r, w), 2) for name, run in runs.items()
            }
            fs = timed(lambda: faststream_e2e(bootstrap, new_topic(bootstrap), N), "FastStream")
            if fs != fs:  # nan: not installed or no result
                print("  (FastStream: pip install 'faststream[kafka]' to compare)")
            else:
                end["FastStream KafkaBroker (pydantic)"] = fs
            show(end, "raw confluent-kafka")
            if fs == fs:
                ratio = end["eventbus (Event[Order] handler)"] / fs
                print(f"  eventbus / FastStream: {ratio:.2f}x")
        finally:
            server.stop()


def show(figures: dict[str, float], baseline: str) -> None:
    base = figures[baseline]
    for name, value in figures.items():
        print(f"  {name:<36} {value:>9,.0f}  {value / base:5.2f}x {baseline}", flush=True)


if __name__ == "__main__":
    main()
