"""Encode + decode of one binary-mode event, against the official cloudevents SDK.

Target: <= 2 µs per encode+decode. Prints both figures and the ratio, measured in this run.
Run: python bench/codec.py
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from _util import per_call_us, verdict
from cloudevents.core.bindings import http as sdk_http
from cloudevents.core.formats.json import JSONFormat
from cloudevents.core.v1.event import CloudEvent

from eventbus import ContentMode, Event, decode, encode, to_sdk

N = 50_000


def main() -> None:
    event = Event(
        type="com.example.shop.order.placed",
        source="/shop/orders",
        subject="o-1001",
        data={"order_id": "o-1001", "customer": "ada", "amount_cents": 4200},
        extensions={"partitionkey": "ada"},
    )
    for binding in ("ce-headers", "pubsub", "amqp"):
        ours = per_call_us(lambda b=binding: decode(encode(event, b), b), N)
        print(f"eventbus {binding:<11} binary encode+decode: {ours:6.2f} µs")
    ours = per_call_us(lambda: decode(encode(event, "ce-headers"), "ce-headers"), N)
    structured = per_call_us(
        lambda: decode(encode(event, "ce-headers", ContentMode.STRUCTURED), "ce-headers"), N
    )
    print(f"eventbus ce-headers  structured encode+decode: {structured:6.2f} µs")

    fmt = JSONFormat()
    sdk_event: CloudEvent = to_sdk(event)

    def sdk_roundtrip() -> object:
        msg = sdk_http.to_binary(sdk_event, fmt)
        return sdk_http.from_binary(msg, fmt)

    theirs = per_call_us(sdk_roundtrip, N // 5)
    print(f"official SDK http    binary encode+decode: {theirs:6.2f} µs")
    print(f"ratio: eventbus is {theirs / ours:.1f}x faster than the official SDK")
    print(f"target <= 2 µs: {ours:.2f} µs  {verdict(ours <= 2.0)}")


if __name__ == "__main__":
    main()
