"""``eventbus demo``: a small order flow on the in-memory bus.

Shows typed publish/subscribe, competing consumers, a transient failure that is retried, contract
validation against the shipped registry (``./contracts``): the producer is refused an invalid
order, a legacy producer that skips validation sends it anyway, and the consumer side
dead-letters it at once with the failing JSON pointer. Then a summary.
"""

from __future__ import annotations

import asyncio
import os
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import msgspec

from eventbus._bus._eventbus import EventBus
from eventbus._bus._middleware import Middleware
from eventbus._bus._retry import RetryPolicy
from eventbus._contracts.middleware import ValidationMiddleware
from eventbus._contracts.registry import Registry
from eventbus._errors import RejectedEventError, SchemaValidationError
from eventbus._wire._event import Event

SOURCE = "/demo/shop"
ORDER_PLACED = "com.example.shop.order.placed"
PAYMENT_CAPTURED = "com.example.shop.payment.captured"


class OrderPlaced(msgspec.Struct, frozen=True):
    order_id: str
    customer: str
    amount_cents: int
    currency: str = "EUR"


class PaymentCaptured(msgspec.Struct, frozen=True):
    order_id: str
    amount_cents: int


def _open_registry(contracts: str | os.PathLike[str] | None) -> Registry | None:
    if contracts is None or not Path(contracts).is_dir():
        return None
    return Registry(contracts)


async def run_demo(
    out: Callable[[str], None] = print,
    url: str = "memory://demo",
    contracts: str | os.PathLike[str] | None = "contracts",
) -> dict[str, int]:
    """Run the flow; return the summary counts (the CLI prints them, tests assert them).

    ``contracts``: the registry to validate against (the shipped ``./contracts`` by default);
    without one the payment handler rejects the invalid order itself, with the same outcome.
    """
    registry = _open_registry(contracts)
    if registry is not None:
        out(f"validating against the contract registry at {contracts}")
    else:
        out(f"no contract registry at {contracts}: running without contract validation")
    middleware: list[Middleware] = [ValidationMiddleware(registry)] if registry else []
    counts: Counter[str] = Counter()
    gateway_calls: Counter[str] = Counter()
    done = asyncio.Event()
    orders = [
        OrderPlaced("o-1001", "ada", 4_200),
        OrderPlaced("o-1002", "grace", 1_999),
        OrderPlaced("o-1003", "linus", 12_500),  # the gateway times out once: retried
        OrderPlaced("o-1005", "barbara", 780),
    ]
    poison = OrderPlaced("o-1004", "mallory", -1)  # breaks the contract -> dead-letter channel
    expected_outcomes = len(orders) + 1  # captured + dead-lettered
    retry = RetryPolicy(max_attempts=3, initial_delay=0.05, max_delay=0.2)

    async with EventBus(url, retry=retry, middleware=middleware) as bus:

        @bus.subscribe(ORDER_PLACED, group="payments")
        async def charge(event: Event[OrderPlaced]) -> None:
            order = event.data
            assert order is not None
            gateway_calls[order.order_id] += 1
            if order.amount_cents <= 0:  # without a registry, the handler guards itself
                raise RejectedEventError(
                    f"/amount_cents: must be positive, got {order.amount_cents}",
                    reason="payment-declined",
                )
            if order.order_id == "o-1003" and gateway_calls[order.order_id] == 1:
                out(f"  payments: gateway timeout for {order.order_id}, will retry")
                raise TimeoutError("payment gateway timed out")
            out(
                f"  payments: charged {order.customer} {order.amount_cents / 100:.2f} {order.currency}"
            )
            await bus.publish(
                Event(
                    type=PAYMENT_CAPTURED,
                    source=SOURCE,
                    subject=order.order_id,
                    data=PaymentCaptured(order.order_id, order.amount_cents),
                )
            )

        @bus.subscribe(PAYMENT_CAPTURED, group="shipping")
        async def ship(event: Event[PaymentCaptured]) -> None:
            assert event.data is not None
            counts["shipped"] += 1
            out(f"  shipping: order {event.data.order_id} ready to ship")
            if counts["shipped"] + counts["dead-lettered"] == expected_outcomes:
                done.set()

        @bus.subscribe(">", channel=f"{ORDER_PLACED}.dlq", group="dlq", dead_letter_channel=False)
        async def dead_letters(event: Event[Any]) -> None:
            counts["dead-lettered"] += 1
            ext = {k: str(v) for k, v in event.extensions.items()}
            out(
                f"  dead-letter: {event.subject or event.id} after "
                f"{ext.get('deadletterattempts')} attempt(s) - "
                f"{ext.get('deadletterreason')}: {ext.get('deadlettererror')}"
            )
            if counts["shipped"] + counts["dead-lettered"] == expected_outcomes:
                done.set()

        out(f"publishing {len(orders) + 1} orders on {url} ({poison.order_id} is invalid)")
        await bus.publish_many(
            Event(type=ORDER_PLACED, source=SOURCE, subject=o.order_id, data=o) for o in orders
        )
        bad = Event(type=ORDER_PLACED, source=SOURCE, subject=poison.order_id, data=poison)
        try:
            await bus.publish(bad)
        except SchemaValidationError as exc:
            out(
                f"  orders: refused to publish {poison.order_id}: {'; '.join(map(str, exc.violations))}"
            )
        else:  # no registry: it went out; the payment handler rejects it
            counts["published"] += 1
        if registry is not None:
            async with EventBus(url) as legacy:  # a producer that skips validation
                out(f"  legacy producer: publishing {poison.order_id} without validation")
                await legacy.publish(bad)
                counts["published"] += 1
        await asyncio.wait_for(done.wait(), timeout=30)
        stats = bus.subscriptions[0].stats
        counts["published"] += len(orders)
        counts["retried"] = stats.retried
        counts["handled"] = stats.handled

    out("summary:")
    for key in ("published", "handled", "retried", "shipped", "dead-lettered"):
        out(f"  {key:<14}{counts[key]}")
    return dict(counts)


def main() -> int:
    asyncio.run(run_demo())
    return 0
