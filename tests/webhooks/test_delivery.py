"""Webhook delivery over real HTTP (uvicorn receiver) from the in-memory bus."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator
from typing import Any

import pytest
from standardwebhooks import Webhook
from webhook_receiver import Receiver

from eventbus import BreakerState, Event, EventBus
from eventbus.testing import wait_until
from eventbus.webhooks import (
    DISABLED_TYPE,
    Endpoint,
    WebhookDelivery,
    Webhooks,
    WebhookSecret,
)

LOOPBACK = ("127.0.0.0/8",)
FAST = (0.05, 0.05)


@pytest.fixture
async def delivery(bus: EventBus, hooks: Webhooks) -> AsyncIterator[WebhookDelivery]:
    service = WebhookDelivery(
        bus, hooks.store, allow=LOOPBACK, refresh=0.2, breaker_threshold=50, breaker_cool_down=0.3
    )
    yield service
    await service.stop(timeout=0.5)


def order(n: int = 1, type_: str = "com.shop.order.placed") -> Event[Any]:
    return Event(type=type_, source="tests/shop", data={"order": n, "note": "café 100%"})


async def test_binary_delivery_is_signed_and_readable(
    receiver: Receiver, path: str, hooks: Webhooks, bus: EventBus, delivery: WebhookDelivery
) -> None:
    endpoint = await hooks.add(receiver.url(path), "com.shop.order.placed")
    await delivery.start()
    event = order()
    await bus.publish(event)
    (request,) = await receiver.wait_posts(path, 1)
    headers = request.headers
    Webhook(endpoint.secrets[0].reveal()).verify(request.body, headers, json_parse=False)
    assert json.loads(request.body) == {"order": 1, "note": "café 100%"}
    assert headers["content-type"] == "application/json"
    assert headers["ce-id"] == event.id
    assert headers["ce-type"] == "com.shop.order.placed"
    assert headers["ce-source"] == "tests/shop"
    assert headers["webhook-id"].startswith("msg_")


async def test_structured_mode_and_pattern(
    receiver: Receiver, path: str, hooks: Webhooks, bus: EventBus, delivery: WebhookDelivery
) -> None:
    endpoint = await hooks.add(
        receiver.url(path), ["com.shop.order.*"], content_mode="structured", handshake=False
    )
    await delivery.start()
    await bus.publish(order(type_="com.shop.order.shipped"))
    (request,) = await receiver.wait_posts(path, 1)
    assert request.headers["content-type"].startswith("application/cloudevents+json")
    Webhook(endpoint.secrets[0].reveal()).verify(request.body, request.headers, json_parse=False)
    assert json.loads(request.body)["type"] == "com.shop.order.shipped"
    assert receiver.options(path) == []  # handshake switched off


async def test_failures_are_retried_with_the_same_webhook_id(
    receiver: Receiver, path: str, hooks: Webhooks, bus: EventBus, delivery: WebhookDelivery
) -> None:
    receiver.script(
        path, ("status", 500), ("hang", 3), ("close",), ("status", 302, [("location", "/x")])
    )
    await hooks.add(receiver.url(path), "com.shop.order.placed", schedule=(0.05,) * 5, timeout=1)
    await delivery.start()
    await bus.publish(order())
    requests = await receiver.wait_posts(path, 5)
    assert len({r.headers["webhook-id"] for r in requests}) == 1
    await receiver.wait_answered(path, 3)  # 500, 302 and the final 200 (the hang was cut)
    assert receiver.posts("/x") == []  # the redirect was not followed
    # the receiver has answered; the sender counts once it has read the answer
    await wait_until(lambda: delivery.delivered + delivery.failed == 5, what="five answers read")
    assert delivery.delivered == 1
    assert delivery.failed == 4


async def test_retry_after_is_honoured(
    receiver: Receiver, path: str, hooks: Webhooks, bus: EventBus, delivery: WebhookDelivery
) -> None:
    receiver.script(
        path, ("status", 429, [("retry-after", "2")]), ("status", 503, [("retry-after", "1")])
    )
    await hooks.add(receiver.url(path), "com.shop.order.placed", schedule=(0.01,) * 3)
    await delivery.start()
    await bus.publish(order())
    first, second, third = await receiver.wait_posts(path, 3)
    # The schedule says 10 ms; the endpoint asked for 2 s, then 1 s (lower bounds only).
    assert second.at - first.at >= 1.9
    assert third.at - second.at >= 0.9


async def test_gone_disables_the_endpoint_and_announces_it(
    receiver: Receiver, path: str, hooks: Webhooks, bus: EventBus, delivery: WebhookDelivery
) -> None:
    disabled: asyncio.Queue[Event[Any]] = asyncio.Queue()

    async def on_disabled(event: Event[Any]) -> None:
        await disabled.put(event)

    await bus.subscribe(DISABLED_TYPE, on_disabled)
    receiver.script(path, ("status", 410))
    endpoint = await hooks.add(receiver.url(path), "com.shop.order.placed")
    await delivery.start()
    await bus.publish(order())
    announced = await asyncio.wait_for(disabled.get(), 10)
    assert announced.data["endpoint"] == endpoint.id
    stored = await hooks.get(endpoint.id)
    assert not stored.enabled
    assert stored.disabled_reason == "410 Gone"
    (dead,) = await hooks.failed(bus.adapter, endpoint.id)
    assert dead.reason == "endpoint-gone"
    for _ in range(100):
        if endpoint.id not in delivery.endpoints:
            break
        await asyncio.sleep(0.05)
    assert endpoint.id not in delivery.endpoints
    assert len(receiver.posts(path)) == 1


async def test_exhausted_deliveries_reach_the_dead_letters_and_replay(
    receiver: Receiver, path: str, hooks: Webhooks, bus: EventBus, delivery: WebhookDelivery
) -> None:
    receiver.script(path, default=("status", 500, [], b"database is down\n  try later"))
    endpoint = await hooks.add(receiver.url(path), "com.shop.order.placed", schedule=FAST)
    other = path + "/other"  # a second endpoint on the same type: a replay must not reach it
    await hooks.add(receiver.url(other), "com.shop.order.placed")
    await delivery.start()
    event = order()
    await bus.publish(event)
    await receiver.wait_posts(path, 3)
    for _ in range(200):
        dead = await hooks.failed(bus.adapter, endpoint.id)
        if dead:
            break
        await asyncio.sleep(0.05)
    (entry,) = dead
    assert entry.id == event.id
    assert entry.attribute("deadletterattempts") == "3"
    error = entry.attribute("deadlettererror") or ""
    assert "HTTP 500" in error
    assert "database is down try later" in error
    first_id = receiver.posts(path)[0].headers["webhook-id"]

    receiver.script(path, default=("status", 200))
    result = await hooks.replay(bus.adapter, endpoint.id)
    assert result.replayed == 1
    requests = await receiver.wait_answered(path, 1)
    assert requests[-1].headers["webhook-id"] == first_id
    assert await hooks.failed(bus.adapter, endpoint.id) == []
    # The other endpoint got the event once; a marker published after the replay arrives
    # behind anything the replay would have sent it (one channel, in order).
    marker = order(2)
    await bus.publish(marker)
    for _ in range(200):
        if marker.id in {r.headers["ce-id"] for r in receiver.posts(other)}:
            break
        await asyncio.sleep(0.05)
    assert [r.headers["ce-id"] for r in receiver.posts(other)] == [event.id, marker.id]


async def test_a_slow_endpoint_does_not_delay_another(
    receiver: Receiver, path: str, hooks: Webhooks, bus: EventBus, delivery: WebhookDelivery
) -> None:
    slow, fast = path + "/slow", path + "/fast"
    receiver.script(slow, default=("hang", 10))
    await hooks.add(receiver.url(slow), "com.shop.order.placed", timeout=12)
    await hooks.add(receiver.url(fast), "com.shop.order.placed")
    await delivery.start()
    for n in range(20):
        await bus.publish(order(n))
    await receiver.wait_answered(fast, 20, timeout=15)
    assert [r for r in receiver.posts(slow) if r.answered] == []


async def test_breaker_opens_then_probes_and_closes(
    receiver: Receiver, path: str, hooks: Webhooks, bus: EventBus
) -> None:
    receiver.script(path, ("status", 500), ("status", 500), ("status", 500))
    endpoint = await hooks.add(receiver.url(path), "com.shop.order.placed", schedule=(0.01,) * 8)
    changes: list[tuple[BreakerState, BreakerState]] = []
    async with WebhookDelivery(
        bus, hooks.store, allow=LOOPBACK, breaker_threshold=3, breaker_cool_down=0.5
    ) as service:
        service.breaker(endpoint.id).add_listener(lambda old, new: changes.append((old, new)))
        await bus.publish(order())
        await receiver.wait_answered(path, 4)
        for _ in range(100):
            if service.breaker(endpoint.id).state is BreakerState.CLOSED and changes:
                break
            await asyncio.sleep(0.05)
    assert changes == [
        (BreakerState.CLOSED, BreakerState.OPEN),
        (BreakerState.OPEN, BreakerState.HALF_OPEN),
        (BreakerState.HALF_OPEN, BreakerState.CLOSED),
    ]
    assert len(receiver.posts(path)) == 4


async def test_rate_limit_spaces_requests(
    receiver: Receiver, path: str, hooks: Webhooks, bus: EventBus, delivery: WebhookDelivery
) -> None:
    receiver.handshake[path] = 120  # the endpoint grants 120 per minute: one per 0.5 s
    endpoint = await hooks.add(receiver.url(path), "com.shop.order.placed", rate_limit=600)
    assert endpoint.rate_limit == 120
    await delivery.start()
    for n in range(3):
        await bus.publish(order(n))
    requests = await receiver.wait_posts(path, 3)
    assert requests[2].at - requests[0].at >= 0.95


async def test_disable_enable_and_endpoint_changes_are_picked_up(
    receiver: Receiver, path: str, hooks: Webhooks, bus: EventBus, delivery: WebhookDelivery
) -> None:
    endpoint = await hooks.add(receiver.url(path), "com.shop.order.placed")
    await delivery.start()
    await hooks.set_enabled(endpoint.id, False)
    await delivery.refresh()
    assert delivery.endpoints == []
    await hooks.set_enabled(endpoint.id, True)
    await delivery.refresh()
    assert delivery.endpoints == [endpoint.id]
    await bus.publish(order())
    await receiver.wait_answered(path, 1)


async def test_a_rotated_secret_is_used_from_the_next_request(
    receiver: Receiver, path: str, hooks: Webhooks, bus: EventBus, delivery: WebhookDelivery
) -> None:
    endpoint = await hooks.add(receiver.url(path), "com.shop.order.placed")
    await delivery.start()
    await bus.publish(order(1))
    await receiver.wait_answered(path, 1)
    new = WebhookSecret.generate()
    await hooks.store.update(endpoint.with_changes(secrets=(endpoint.secrets[0], new)))
    await delivery.refresh()
    await bus.publish(order(2))
    first, second = await receiver.wait_answered(path, 2)
    assert first.headers["webhook-signature"].count("v1,") == 1
    assert second.headers["webhook-signature"].count("v1,") == 2
    Webhook(new.reveal()).verify(second.body, second.headers, json_parse=False)
    Webhook(endpoint.secrets[0].reveal()).verify(second.body, second.headers, json_parse=False)


async def test_secrets_stay_out_of_logs_and_reprs(
    receiver: Receiver,
    path: str,
    hooks: Webhooks,
    bus: EventBus,
    delivery: WebhookDelivery,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    receiver.script(path, default=("status", 500))
    endpoint = await hooks.add(receiver.url(path), "com.shop.order.placed", schedule=FAST)
    secret = endpoint.secrets[0].reveal().removeprefix("whsec_")
    await delivery.start()
    await bus.publish(order())
    await receiver.wait_answered(path, 3)
    for _ in range(100):
        if await hooks.failed(bus.adapter, endpoint.id):
            break
        await asyncio.sleep(0.05)
    assert caplog.records
    texts = [caplog.text, repr(endpoint), str(endpoint.summary()), repr(delivery), repr(hooks)]
    for text in texts:
        assert secret not in text
    assert isinstance(endpoint, Endpoint)
