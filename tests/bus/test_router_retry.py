"""Pure pieces: type patterns, routing and the retry schedule."""

from __future__ import annotations

import random

import pytest
from hypothesis import given
from hypothesis import strategies as st

from eventbus import ConfigurationError, RetryPolicy, Router
from eventbus._bus._router import type_matcher


@pytest.mark.parametrize(
    ("pattern", "event_type", "matches"),
    [
        ("a.b.c", "a.b.c", True),
        ("a.b.c", "a.b.cd", False),
        ("a.*.c", "a.x.c", True),
        ("a.*.c", "a.x.y.c", False),
        ("a.>", "a.b", True),
        ("a.>", "a.b.c.d", True),
        ("a.>", "a", False),
        (">", "anything.at.all", True),
        ("*", "one", True),
        ("*", "two.tokens", False),
    ],
)
def test_type_patterns(pattern: str, event_type: str, matches: bool) -> None:
    assert type_matcher(pattern)(event_type) is matches


@pytest.mark.parametrize("bad", ["a..b", "", "a.>.b", ".a"])
def test_bad_patterns_are_rejected(bad: str) -> None:
    with pytest.raises(ConfigurationError):
        type_matcher(bad)


def test_router_default_is_type_as_channel_with_prefix() -> None:
    router = Router(prefix="prod.")
    assert router.channel_for("shop.order.placed") == "prod.shop.order.placed"
    route = router.route("shop.order.placed")
    assert route.channel == "prod.shop.order.placed" and route.filter is None
    assert router.route("shop.order.*").channel == "prod.shop.order.*"
    assert router.dead_letter_channel("orders") == "orders.dlq"


def test_router_routes_patterns_to_shared_channels() -> None:
    router = Router({"shop.order.>": "orders", "shop.payment.*": "payments"})
    assert router.channel_for("shop.order.placed") == "orders"
    assert router.channel_for("shop.order.line.added") == "orders"
    assert router.channel_for("shop.payment.captured") == "payments"
    assert router.channel_for("shop.other") == "shop.other"
    route = router.route("shop.order.*")
    assert route.channel == "orders"
    assert route.filter is not None
    assert route.filter("shop.order.placed") and not route.filter("shop.order.line.added")


@given(
    attempt=st.integers(min_value=1, max_value=60),
    initial=st.floats(min_value=0, max_value=5),
    multiplier=st.floats(min_value=1, max_value=4),
    jitter=st.floats(min_value=0, max_value=1),
    seed=st.integers(),
)
def test_retry_delay_stays_within_jittered_exponential_bounds(
    attempt: int, initial: float, multiplier: float, jitter: float, seed: int
) -> None:
    policy = RetryPolicy(
        initial_delay=initial, max_delay=30.0, multiplier=multiplier, jitter=jitter
    )
    base = min(30.0, initial * multiplier ** (attempt - 1))
    delay = policy.delay(attempt, random.Random(seed))
    assert base * (1 - jitter) - 1e-9 <= delay <= base * (1 + jitter) + 1e-9


def test_retry_policy_validates_every_field_at_once() -> None:
    with pytest.raises(ConfigurationError) as info:
        RetryPolicy(max_attempts=0, multiplier=0.5, jitter=2)
    text = str(info.value)
    assert "max_attempts" in text and "multiplier" in text and "jitter" in text


@pytest.mark.parametrize(
    ("pattern", "ok"),
    [
        ("a.b", True),
        ("a.*.c", True),
        ("a.>", True),
        (">", True),
        ("a.>.c", False),
        ("a b.*", False),
    ],
)
def test_limits_judge_wildcard_patterns_once_for_bus_and_adapters(pattern: str, ok: bool) -> None:
    from eventbus import Limits

    assert (Limits().pattern_problem(pattern) is None) is ok
