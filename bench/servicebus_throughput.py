"""Service Bus adapter throughput against raw azure-servicebus, on the same test broker, same run.

Starts the Proton-based test broker (adapters/servicebus/tests/sb_broker) in a subprocess, then:
- publish: N events through ``EventBus.publish_many`` (batches of 100) vs the raw SDK building
  and sending the same messages (same application properties, JSON body, content type and
  MessageId) in batches of 100; the CloudEvents headers are precomputed for the raw side;
- consume: N messages waiting in a subscription, received and completed through an EventBus
  subscriber (typed decode, max_in_flight 64) vs a raw receiver (batches of up to 64, each
  completed; the completes of a batch run concurrently, as the bus's handlers do), timed
  from the first message handled, so opening the receiver link is left out on both sides.
Both sides use the same client options (socket_timeout 0.02 on loopback). Target: >= 0.8x raw.
Run: python bench/servicebus_throughput.py [N]
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
import time
import uuid
from pathlib import Path
from urllib.parse import quote

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(Path(__file__).parent))

import msgspec
from _util import verdict
from azure.servicebus import ServiceBusMessage
from azure.servicebus.aio import ServiceBusClient

from eventbus import Event, EventBus, encode

N = int(sys.argv[1]) if len(sys.argv) > 1 else 5_000
BATCH = 100
SOCKET_TIMEOUT = 0.02


class Order(msgspec.Struct):
    order_id: str
    amount_cents: int


def start_broker() -> tuple[subprocess.Popen[str], str, str]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "sb_broker"],
        cwd=ROOT / "adapters" / "servicebus" / "tests",
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    port, key_name, key = proc.stdout.readline().split()
    conn = (
        f"Endpoint=sb://127.0.0.1:{port};SharedAccessKeyName={key_name};"
        f"SharedAccessKey={key};UseDevelopmentEmulator=true"
    )
    url = (
        f"servicebus://{quote(key_name, safe='')}:{quote(key, safe='')}@127.0.0.1:{port}"
        f"?emulator=true&socket_timeout={SOCKET_TIMEOUT}"
    )
    return proc, conn, url


def events(channel: str) -> list[Event[Order]]:
    return [Event(type=channel, source="/bench", data=Order(f"o-{i}", i)) for i in range(N)]


def raw_wire(channel: str) -> list[tuple[dict[str, object], Order, str]]:
    """Per event: the application properties the binding writes, the data, the id."""
    out = []
    for event in events(channel):
        headers = dict(encode(event, "amqp").headers)
        headers.pop("content-type", None)
        assert event.data is not None
        out.append((headers, event.data, event.id))
    return out


def raw_messages(wire: list[tuple[dict[str, object], Order, str]]) -> list[ServiceBusMessage]:
    """What a raw SDK user writes: a JSON body, the properties, the content type, an id."""
    return [
        ServiceBusMessage(
            msgspec.json.encode(data),
            application_properties=headers,  # type: ignore[arg-type]
            content_type="application/json",
            message_id=message_id,
        )
        for headers, data, message_id in wire
    ]


async def raw_publish(conn: str, channel: str) -> float:
    wire = raw_wire(channel)
    client = ServiceBusClient.from_connection_string(conn)
    sender = client.get_topic_sender(channel, socket_timeout=SOCKET_TIMEOUT)
    async with client, sender:
        await sender.send_messages(raw_messages(wire[:1]))  # link open, outside the timing
        start = time.perf_counter()
        for i in range(1, N, BATCH):
            await sender.send_messages(raw_messages(wire[i : i + BATCH]))
        return (N - 1) / (time.perf_counter() - start)


async def bus_publish(url: str, channel: str) -> float:
    batch = events(channel)
    async with EventBus(url) as bus:
        await bus.publish(batch[0])
        start = time.perf_counter()
        for i in range(1, N, BATCH):
            await bus.publish_many(batch[i : i + BATCH])
        return (N - 1) / (time.perf_counter() - start)


async def fill(conn: str, channel: str, subscription: str) -> None:
    async with ServiceBusClient.from_connection_string(conn) as client:
        receiver = client.get_subscription_receiver(channel, subscription)
        async with receiver:
            pass  # the subscription exists before the messages are sent
        async with client.get_topic_sender(channel) as sender:
            messages = raw_messages(raw_wire(channel))
            for i in range(0, N, BATCH):
                await sender.send_messages(messages[i : i + BATCH])


async def raw_consume(conn: str, channel: str) -> float:
    await fill(conn, channel, "raw")
    done = 0
    async with ServiceBusClient.from_connection_string(conn) as client:
        receiver = client.get_subscription_receiver(
            channel, "raw", max_wait_time=1, socket_timeout=SOCKET_TIMEOUT
        )
        receiver._further_pull_receive_timeout = 0.02  # as the adapter sets it
        async with receiver:
            start = 0.0
            while done < N:
                batch = await receiver.receive_messages(max_message_count=64, max_wait_time=1)
                if batch and not start:
                    start = time.perf_counter()  # from the first message, as for the bus
                for message in batch:
                    msgspec.json.decode(b"".join(message.body), type=Order)
                await asyncio.gather(*(receiver.complete_message(m) for m in batch))
                done += len(batch)
            return N / (time.perf_counter() - start)


async def bus_consume(url: str, conn: str, channel: str) -> float:
    await fill(conn, channel, "bus")
    handled = 0
    start = 0.0
    finished = asyncio.Event()
    async with EventBus(url) as bus:

        async def handler(event: Event[Order]) -> None:
            nonlocal handled, start
            handled += 1
            if handled == 1:
                start = time.perf_counter()  # from the first message: link opening excluded
            if handled == N:
                finished.set()

        await bus.subscribe(
            channel, handler, group="bus", max_in_flight=64, dead_letter_channel=False
        )
        await finished.wait()
        return N / (time.perf_counter() - start)


async def main() -> None:
    proc, conn, url = start_broker()
    try:
        tag = uuid.uuid4().hex[:8]
        raw_pub = await raw_publish(conn, f"bench.raw{tag}")
        bus_pub = await bus_publish(url, f"bench.bus{tag}")
        raw_sub = await raw_consume(conn, f"bench.rawc{tag}")
        bus_sub = await bus_consume(url, conn, f"bench.busc{tag}")
    finally:
        assert proc.stdin is not None
        proc.stdin.close()
        proc.wait(10)
    print(f"Service Bus adapter vs raw azure-servicebus, {N} events, test broker on loopback")
    for what, ours, raw in (("publish", bus_pub, raw_pub), ("consume", bus_sub, raw_sub)):
        ratio = ours / raw
        print(
            f"{what:8} eventbus {ours:8.0f}/s   raw SDK {raw:8.0f}/s   "
            f"ratio {ratio:4.2f}x  (target >= 0.8x: {verdict(ratio >= 0.8)})"
        )


if __name__ == "__main__":
    asyncio.run(main())
