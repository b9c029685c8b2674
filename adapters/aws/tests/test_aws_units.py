"""URL parsing, resource names, errors and secrets (no server needed except where named)."""

from __future__ import annotations

import asyncio
import os
import re

import pytest
from eventbus_aws import AwsConfig, SqsAdapter, group_queue_name, parse_sqs_url, topic_name
from eventbus_aws._names import channel_names, fanout_queue_name
from moto_launcher import free_port

from eventbus import BrokerConnectionError, ConfigurationError, EventBus, create_adapter
from eventbus.adapter import ChannelNameError, Message, SubscriptionSpec


def test_url_parameters() -> None:
    config = parse_sqs_url(
        "sqs://eu-west-1?endpoint=http://127.0.0.1:4566&provision=false&wait_time=5"
        "&pollers=2&timeout=3.5&profile=dev"
    )
    assert config == AwsConfig(
        "eu-west-1",
        endpoint="http://127.0.0.1:4566",
        profile="dev",
        provision=False,
        wait_time=5,
        pollers=2,
        timeout=3.5,
    )
    assert isinstance(create_adapter("sqs://us-east-1"), SqsAdapter)


@pytest.mark.parametrize(
    ("url", "words"),
    [
        ("sqs://", "names no region"),
        ("sqs://Not_A_Region", "not an AWS region"),
        ("sqs://us-east-1?colour=red", "unknown SQS URL parameter 'colour'"),
        ("sqs://us-east-1?wait_time=21", "wait_time must be 0..20"),
        ("sqs://us-east-1?wait_time=x", "'wait_time'"),
        ("sqs:/us-east-1", "starts with 'sqs://'"),
        ("sqs://us-east-1?provision=maybe", "expected true or false"),
        ("sqs://us-east-1?endpoint=ftp://h", "endpoint must be an http(s)"),
        ("sqs://us-east-1?pollers=0", "expected an integer >= 1"),
        ("sqs://us-east-1?pollers=65", "pollers must be 1..64"),
        ("sqs://us-east-1/path", "sqs://REGION[?param=value"),
        ("sqs://us-east-1?timeout=1&timeout=2", "given twice"),
    ],
)
def test_bad_urls_are_named(url: str, words: str) -> None:
    with pytest.raises(ConfigurationError, match=re.escape(words)):
        parse_sqs_url(url)


@pytest.mark.parametrize(
    "url",
    [
        "sqs://AKIDSECRET:hunter2@us-east-1",
        "sqs://us-east-1?secret_access_key=hunter2",
        "sqs://us-east-1?aws_session_token=hunter2",
    ],
)
def test_credentials_in_urls_are_refused_without_echoing_them(url: str) -> None:
    with pytest.raises(ConfigurationError, match="standard AWS chain") as info:
        parse_sqs_url(url)
    assert "hunter2" not in str(info.value)


def test_topic_names_are_a_prefix_free_code() -> None:
    names = {topic_name(c) for c in ("a.b", "a_b", "a-b", "a._b", "a_.b", "a-.b", "a.-b")}
    assert len(names) == 7
    assert topic_name("com.shop.order_placed") == "com_shop_order-_placed"
    assert topic_name("x", fifo=True) == "x.fifo"
    long = "c." * 200
    assert len(topic_name(long)) <= 251 and topic_name(long) != topic_name(long + "x")
    assert len(group_queue_name(long, "g", fifo=True)) <= 80
    assert len(fanout_queue_name(long, fifo=True)) <= 80
    assert fanout_queue_name("c") != fanout_queue_name("c")


def test_bad_channel_and_group_names() -> None:
    names = channel_names()
    names.channel("ok.Channel-1_x")
    with pytest.raises(ChannelNameError):
        names.channel("has space")
    with pytest.raises(ConfigurationError, match="consumer group"):
        group_queue_name("c", "bad group")


def test_unreachable_endpoint_is_a_connection_error_without_secrets(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIDVISIBLEID")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "sekrit-value-123")
    port = free_port()  # nothing listens there
    url = f"sqs://us-east-1?endpoint=http://127.0.0.1:{port}&timeout=2"

    async def scenario() -> None:
        adapter = SqsAdapter.from_url(url)
        await adapter.connect()
        try:
            with pytest.raises(BrokerConnectionError) as info:
                await adapter.publish("some.channel", [Message({}, b"x")])
            text = f"{info.value} {info.value.__cause__!r} {adapter!r}"
            assert f"127.0.0.1:{port}" in str(info.value)
            with pytest.raises(BrokerConnectionError):
                await adapter.subscribe(SubscriptionSpec("some.channel"), _never)
        finally:
            await adapter.close()
        assert "sekrit-value-123" not in text
        assert "sekrit" not in repr(EventBus(url))

    asyncio.run(scenario())
    assert os.environ["AWS_SECRET_ACCESS_KEY"] == "sekrit-value-123"


async def _never(delivery: object) -> None:
    raise AssertionError("nothing can arrive")


def test_ordering_gate_keeps_one_message_per_key_in_the_bus() -> None:
    from eventbus_aws._delivery import SqsDelivery

    from eventbus.adapter import OrderingGate

    def delivery(key: str | None, n: int) -> SqsDelivery:
        return SqsDelivery(Message({}, str(n).encode(), key), 1, f"r{n}", None)  # type: ignore[arg-type]

    gate = OrderingGate()
    a1, a2, a3, b1, free = (
        delivery("k:a", 1),
        delivery("k:a", 2),
        delivery("k:a", 3),
        delivery("k:b", 4),
        delivery(None, 5),
    )
    assert [gate.admit(d) for d in (a1, a2, a3, b1, free)] == [True, False, False, True, True]
    assert gate.settled(a1, ok=True) == (a2, [])  # acked: the next one of its key goes in
    assert gate.settled(a2, ok=False) == (None, [a3])  # nacked: the ones behind go back
    assert gate.admit(a3)  # the key is free again
    assert gate.settled(free, ok=True) == (None, [])
