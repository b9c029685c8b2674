"""AWS adapter throughput against raw aiobotocore calls, on the same local moto server.

Starts its own moto server (SNS + SQS) and measures, in the same run and on the same server:

- publish only (to a topic without subscriptions): ``EventBus.publish_many`` of N events
  (CloudEvents encoding included; SNS ``PublishBatch`` of 10, one call after the other) against
  raw ``sns.publish_batch`` calls of 10 with the same body and attribute, one after the other;
  and with ``CONCURRENCY`` calls in flight (``publish_many`` of 10 gathered, against raw batches
  gathered);
- end to end: N events published (``CONCURRENCY`` batches in flight) while a consumer group
  takes them: an ``EventBus`` handler typed ``Event[Order]`` (receive, decode, handler, batched
  delete) against ``POLLERS`` raw loops of ``sqs.receive_message(10)``, msgspec decode of the
  same JSON and ``delete_message_batch``. Consumers run while publishing, so the queue stays
  short (moto's ReceiveMessage gets slower the more messages a queue holds).

The events are structured mode (the SQS adapter's default): one ``content-type`` attribute and
the JSON event as the body. Target: each eventbus figure >= 0.8x the raw one. Figures are the
best of three interleaved runs; nothing is asserted. Run: python bench/aws_throughput.py [N]
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(Path(__file__).parent))
sys.path.insert(0, str(ROOT / "adapters" / "aws" / "tests"))

import msgspec
from _util import verdict
from aiobotocore.session import get_session
from eventbus_aws import group_queue_name, topic_name
from moto_launcher import REGION, TEST_CREDENTIALS, MotoServer

from eventbus import ContentMode, Event, EventBus, encode

N = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000
CONCURRENCY = 8
POLLERS = 4  # what the adapter runs for max_in_flight 40
MAX_IN_FLIGHT = 40


class Order(msgspec.Struct):
    order_id: str
    customer: str
    amount_cents: int


class Envelope(msgspec.Struct):
    id: str
    type: str
    data: Order


def make_events(event_type: str, n: int) -> list[Event[Order]]:
    return [
        Event(type=event_type, source="/bench", data=Order(f"o-{i}", "ada", i)) for i in range(n)
    ]


def raw_entries(n: int) -> list[tuple[str, dict[str, Any]]]:
    """What the bus sends for the same events: the JSON event and its content-type attribute."""
    out = []
    for event in make_events("bench.order.placed", n):
        message = encode(event, "sqs", ContentMode.STRUCTURED)
        attributes = {
            k: {"DataType": "String", "StringValue": str(v)} for k, v in message.headers.items()
        }
        out.append((message.body.decode(), attributes))
    return out


async def fresh(sns: Any, sqs: Any) -> tuple[str, str, str]:
    """A channel with the bus's group ``g`` queue made by raw calls: (channel, topic, queue)."""
    channel = f"bench.t{uuid.uuid4().hex[:10]}"
    topic = (await sns.create_topic(Name=topic_name(channel)))["TopicArn"]
    name = group_queue_name(channel, "g")
    queue = (await sqs.create_queue(QueueName=name))["QueueUrl"]
    arn = (await sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"]))[
        "Attributes"
    ]["QueueArn"]
    await sns.subscribe(
        TopicArn=topic, Protocol="sqs", Endpoint=arn, Attributes={"RawMessageDelivery": "true"}
    )
    return channel, topic, queue


async def raw_publish(sns: Any, topic: str, entries: list[tuple[str, dict[str, Any]]]) -> None:
    batch = [
        {"Id": str(i), "Message": body, "MessageAttributes": attributes}
        for i, (body, attributes) in enumerate(entries)
    ]
    await sns.publish_batch(TopicArn=topic, PublishBatchRequestEntries=batch)


async def raw_publish_all(sns: Any, topic: str, entries: list[tuple[str, dict[str, Any]]]) -> None:
    semaphore = asyncio.Semaphore(CONCURRENCY)

    async def one(chunk: list[tuple[str, dict[str, Any]]]) -> None:
        async with semaphore:
            await raw_publish(sns, topic, chunk)

    await asyncio.gather(*(one(entries[i : i + 10]) for i in range(0, len(entries), 10)))


async def raw_run(
    sns: Any, sqs: Any, entries: list[tuple[str, dict[str, Any]]]
) -> tuple[float, float, float]:
    """(sequential publish, concurrent publish, end to end) per second."""
    lonely = (await sns.create_topic(Name=f"bench-p{uuid.uuid4().hex[:10]}"))["TopicArn"]
    start = time.perf_counter()
    for i in range(0, len(entries), 10):
        await raw_publish(sns, lonely, entries[i : i + 10])
    sequential = len(entries) / (time.perf_counter() - start)
    start = time.perf_counter()
    await raw_publish_all(sns, lonely, entries)
    concurrent = len(entries) / (time.perf_counter() - start)

    _, topic, queue = await fresh(sns, sqs)
    decode = msgspec.json.Decoder(Envelope).decode
    got = 0
    done = asyncio.Event()

    async def poller() -> None:
        nonlocal got
        while not done.is_set():
            response = await sqs.receive_message(
                QueueUrl=queue,
                MaxNumberOfMessages=10,
                WaitTimeSeconds=1,
                MessageAttributeNames=["All"],
                MessageSystemAttributeNames=["ApproximateReceiveCount"],
            )
            messages = response.get("Messages") or []
            for m in messages:
                _ = (m["MessageAttributes"]["content-type"], decode(m["Body"]))
            if messages:
                receipts = [
                    {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]}
                    for i, m in enumerate(messages)
                ]
                await sqs.delete_message_batch(QueueUrl=queue, Entries=receipts)
                got += len(messages)
                if got >= len(entries):
                    done.set()

    pollers = [asyncio.create_task(poller()) for _ in range(POLLERS)]
    start = time.perf_counter()
    await raw_publish_all(sns, topic, entries)
    await done.wait()
    end_to_end = len(entries) / (time.perf_counter() - start)
    await asyncio.gather(*pollers)
    return sequential, concurrent, end_to_end


async def bus_publish_all(bus: EventBus, events: list[Event[Order]]) -> None:
    semaphore = asyncio.Semaphore(CONCURRENCY)

    async def one(chunk: list[Event[Order]]) -> None:
        async with semaphore:
            await bus.publish_many(chunk)

    await asyncio.gather(*(one(events[i : i + 10]) for i in range(0, len(events), 10)))


async def bus_run(url: str, sns: Any, sqs: Any) -> tuple[float, float, float]:
    lonely = f"bench.p{uuid.uuid4().hex[:10]}"
    channel, _, _ = await fresh(sns, sqs)
    done = asyncio.Event()
    count = 0

    async def handler(event: Event[Order]) -> None:
        nonlocal count
        count += 1
        if count == N:
            done.set()

    async with EventBus(url) as bus:
        await bus.publish_many(make_events(lonely, 1))  # the topic exists before timing
        events = make_events(lonely, N)
        start = time.perf_counter()
        await bus.publish_many(events)
        sequential = N / (time.perf_counter() - start)
        events = make_events(lonely, N)
        start = time.perf_counter()
        await bus_publish_all(bus, events)
        concurrent = N / (time.perf_counter() - start)
        await bus.subscribe(
            channel, handler, group="g", max_in_flight=MAX_IN_FLIGHT, dead_letter_channel=False
        )
        events = make_events(channel, N)
        start = time.perf_counter()
        await bus_publish_all(bus, events)
        await done.wait()
        end_to_end = N / (time.perf_counter() - start)
    return sequential, concurrent, end_to_end


def best(runs: list[tuple[float, float, float]]) -> tuple[float, float, float]:
    return (max(r[0] for r in runs), max(r[1] for r in runs), max(r[2] for r in runs))


async def main() -> None:
    os.environ.update(TEST_CREDENTIALS)
    server = MotoServer(Path(tempfile.mkdtemp(prefix="bench-moto-"))).start()
    url = server.url(wait_time=1)
    entries = raw_entries(N)
    try:
        session = get_session()
        async with (
            session.create_client("sns", region_name=REGION, endpoint_url=server.endpoint) as sns,
            session.create_client("sqs", region_name=REGION, endpoint_url=server.endpoint) as sqs,
        ):
            raw_runs, bus_runs = [], []
            for _ in range(3):  # interleaved, so drift in the machine's speed hits both sides
                raw_runs.append(await raw_run(sns, sqs, entries))
                bus_runs.append(await bus_run(url, sns, sqs))
    finally:
        server.stop()
    raw_seq, raw_conc, raw_sub = best(raw_runs)
    bus_seq, bus_conc, bus_sub = best(bus_runs)
    rows = [
        ("publish", "raw sns.publish_batch(10), sequential", raw_seq, None),
        ("publish", "eventbus publish_many", bus_seq, raw_seq),
        ("publish", f"raw publish_batch(10), {CONCURRENCY} in flight", raw_conc, None),
        ("publish", f"eventbus publish_many(10), {CONCURRENCY} in flight", bus_conc, raw_conc),
        ("end to end", f"raw publish + {POLLERS} receive/decode/delete loops", raw_sub, None),
        (
            "end to end",
            f"eventbus publish + Event[Order] handler ({MAX_IN_FLIGHT})",
            bus_sub,
            raw_sub,
        ),
    ]
    print(f"moto server (SNS -> SQS raw delivery), {N:,} events, structured JSON, best of 3")
    for phase, label, rate, base in rows:
        ratio = f"  {rate / base:.2f}x raw" if base else ""
        print(f"{phase:<10}  {label:<52} {rate:8,.0f} /s{ratio}")
    ok_pub = min(bus_seq / raw_seq, bus_conc / raw_conc) >= 0.8
    print(f"target publish >= 0.8x raw : {verdict(ok_pub)}")
    print(f"target end to end >= 0.8x raw : {verdict(bus_sub / raw_sub >= 0.8)}")
    print(json.dumps({"n": N, "raw": raw_runs, "bus": bus_runs}, default=round))


if __name__ == "__main__":
    asyncio.run(main())
