"""Pub/Sub adapter throughput against the raw google-cloud-pubsub clients, on the same pstest fake.

Builds and starts its own pstest server (Google's in-memory Pub/Sub fake; needs Go), then measures,
in the same run and on the same server:

- publish: ``EventBus.publish_many`` (batches of 1,000, CloudEvents encoding included) and
  concurrent ``EventBus.publish`` calls, against the raw ``PublisherClient.publish`` with futures
  (its default batching) sending the same attributes and bytes;
- consume: an ``EventBus`` handler typed ``Event[Order]`` (decode, handler, ack) in a consumer
  group leasing ``LEASE`` messages, against the raw ``SubscriberClient`` pulling ``LEASE`` at a
  time, reading the ce- attributes, decoding the data into the same Struct and acking (through
  the client's proto-plus wrappers, as documented, and again reading raw protobuf, as the
  adapter does); and, for reference, the raw streaming ``SubscriberClient.subscribe`` (pstest
  feeds a stream one message per 10 ms tick, so it is measured on ``STREAM_N`` messages only).

Target: each eventbus figure >= 0.8x the raw one. Figures are the best of three runs; nothing is
asserted. Run: python bench/pubsub_throughput.py [N]
"""

from __future__ import annotations

import asyncio
import os
import sys
import threading
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(Path(__file__).parent))
sys.path.insert(0, str(ROOT / "adapters" / "pubsub" / "tests"))

import msgspec
from _util import verdict
from google.cloud import pubsub_v1
from google.pubsub_v1 import types
from pstest_launcher import PstestServer

from eventbus import Event, EventBus, encode

N = int(sys.argv[1]) if len(sys.argv) > 1 else 20_000
STREAM_N = 200
LEASE = 500
BATCH = 1_000
PROJECT = "bench"


class Order(msgspec.Struct):
    order_id: str
    customer: str
    amount_cents: int


def make_events(event_type: str, n: int) -> list[Event[Order]]:
    return [
        Event(type=event_type, source="/bench", data=Order(f"o-{i}", "ada", i)) for i in range(n)
    ]


def raw_messages(n: int) -> list[tuple[bytes, dict[str, str]]]:
    """What the bus sends for the same events: ce- attributes and the JSON data."""
    out = []
    for event in make_events("bench.order.placed", n):
        message = encode(event, "pubsub")
        out.append((message.body, {k: str(v) for k, v in message.headers.items()}))
    return out


def fresh(admin: pubsub_v1.PublisherClient, sub: pubsub_v1.SubscriberClient) -> tuple[str, str]:
    name = f"bench.t{uuid.uuid4().hex[:10]}"
    topic = admin.topic_path(PROJECT, name)
    subscription = sub.subscription_path(PROJECT, f"{name}~g")  # the bus's group "g"
    admin.create_topic(name=topic)
    sub.create_subscription(name=subscription, topic=topic, ack_deadline_seconds=60)
    return name, subscription


def fill(
    publisher: pubsub_v1.PublisherClient, topic: str, messages: list[tuple[bytes, dict[str, str]]]
) -> None:
    futures = [publisher.publish(topic, data, **attrs) for data, attrs in messages]
    for future in futures:
        future.result()


# -- raw clients ------------------------------------------------------------------------------


def raw_run(
    publisher: pubsub_v1.PublisherClient,
    subscriber: pubsub_v1.SubscriberClient,
    messages: list[tuple[bytes, dict[str, str]]],
    protobuf: bool = False,
) -> tuple[float, float]:
    """Publish every message (futures, default batching), then pull, decode and ack them.

    ``protobuf``: read the pull responses as raw protobuf (``PullResponse.pb``) instead of the
    proto-plus wrappers the client returns, as the adapter does.
    """
    name, subscription = fresh(publisher, subscriber)
    start = time.perf_counter()
    fill(publisher, publisher.topic_path(PROJECT, name), messages)
    published = time.perf_counter()
    decode = msgspec.json.Decoder(Order).decode
    got = 0
    while got < len(messages):
        response = subscriber.pull(subscription=subscription, max_messages=LEASE)
        if protobuf:
            response = types.PullResponse.pb(response)
        ack_ids = []
        for received in response.received_messages:
            message = received.message
            _ = (message.attributes["ce-id"], message.attributes["ce-type"], decode(message.data))
            ack_ids.append(received.ack_id)
        if ack_ids:
            subscriber.acknowledge(subscription=subscription, ack_ids=ack_ids)
        got += len(ack_ids)
    consumed = time.perf_counter()
    return len(messages) / (published - start), len(messages) / (consumed - published)


def raw_stream(subscriber: pubsub_v1.SubscriberClient, subscription: str, n: int) -> float:
    decode = msgspec.json.Decoder(Order).decode
    done = threading.Event()
    lock = threading.Lock()
    count = 0

    def callback(message: pubsub_v1.subscriber.message.Message) -> None:
        nonlocal count
        _ = (message.attributes["ce-id"], decode(message.data))
        message.ack()
        with lock:
            count += 1
            if count >= n:
                done.set()

    start = time.perf_counter()
    future = subscriber.subscribe(
        subscription, callback, flow_control=pubsub_v1.types.FlowControl(max_messages=LEASE)
    )
    done.wait(120)
    elapsed = time.perf_counter() - start
    future.cancel()
    future.result()
    return count / elapsed


# -- eventbus -----------------------------------------------------------------------------------


async def bus_run(url: str, name: str, concurrent: bool = False) -> tuple[float, float]:
    """Publish N events (publish_many batches, or concurrent publish calls), then consume them."""
    events = make_events(name, N)
    done = asyncio.Event()
    count = 0

    async def handler(event: Event[Order]) -> None:
        nonlocal count
        count += 1
        if count == N:
            done.set()

    async with EventBus(url) as bus:
        start = time.perf_counter()
        for i in range(0, N, BATCH):
            chunk = events[i : i + BATCH]
            if concurrent:
                await asyncio.gather(*(bus.publish(e) for e in chunk))
            else:
                await bus.publish_many(chunk)
        published = time.perf_counter()
        bus.subscribe(name, handler, group="g", max_in_flight=LEASE, dead_letter_channel=False)
        await done.wait()
        consumed = time.perf_counter()
    return N / (published - start), N / (consumed - published)


def best(runs: list[tuple[float, float]]) -> tuple[float, float]:
    return max(r[0] for r in runs), max(r[1] for r in runs)


def main() -> None:
    server = PstestServer().start()
    os.environ["PUBSUB_EMULATOR_HOST"] = server.host
    # the events carry no partition key: subscriptions without message ordering, as the raw ones
    url = f"pubsub://{PROJECT}?max_request_bytes={4 * 1024 * 1024}&message_ordering=false"
    publisher, subscriber = pubsub_v1.PublisherClient(), pubsub_v1.SubscriberClient()
    messages = raw_messages(N)
    try:
        raw_runs, pb_runs, bus_runs, gather_runs = [], [], [], []
        for _ in range(3):  # interleaved, so drift in the machine's speed hits both sides
            raw_runs.append(raw_run(publisher, subscriber, messages))
            pb_runs.append(raw_run(publisher, subscriber, messages, protobuf=True))
            bus_runs.append(asyncio.run(bus_run(url, fresh(publisher, subscriber)[0])))
            gather_runs.append(asyncio.run(bus_run(url, fresh(publisher, subscriber)[0], True)))
        raw_pub, raw_sub = best(raw_runs)
        _, pb_sub = best(pb_runs)
        bus_pub, bus_sub = best(bus_runs)
        gather_pub, _ = best(gather_runs)
        name, subscription = fresh(publisher, subscriber)
        fill(publisher, publisher.topic_path(PROJECT, name), messages[:STREAM_N])
        stream = raw_stream(subscriber, subscription, STREAM_N)
    finally:
        publisher.stop()
        subscriber.close()
        server.stop()

    rows = [
        ("publish", "raw PublisherClient.publish + futures", raw_pub, None),
        ("publish", f"eventbus publish_many ({BATCH:,})", bus_pub, raw_pub),
        ("publish", f"eventbus publish, {BATCH:,} gathered", gather_pub, raw_pub),
        ("consume", f"raw SubscriberClient.pull({LEASE}) + ack", raw_sub, None),
        ("consume", "  same, reading raw protobuf", pb_sub, None),
        ("consume", f"eventbus Event[Order] handler, lease {LEASE}", bus_sub, raw_sub),
        ("consume", f"raw streaming subscribe(), {STREAM_N} msgs", stream, None),
    ]
    print(f"pstest fake, {N:,} events, small JSON data (binary mode: ce- attributes), best of 3")
    for phase, label, rate, base in rows:
        ratio = f"  {rate / base:.2f}x raw" if base else ""
        print(f"{phase}  {label:<44} {rate:9,.0f} /s{ratio}")
    print(f"consume ratio to the raw-protobuf pull loop: {bus_sub / pb_sub:.2f}x")
    print("(pstest feeds a streaming pull one message per 10 ms tick)")
    print(f"target publish >= 0.8x raw : {verdict(min(bus_pub, gather_pub) / raw_pub >= 0.8)}")
    print(f"target consume >= 0.8x raw : {verdict(bus_sub / raw_sub >= 0.8)}")


if __name__ == "__main__":
    main()
