"""Kafka adapter pieces that need no broker: URLs, config, names, commit points, the key gate."""

from __future__ import annotations

import pytest
from confluent_kafka import KafkaError, KafkaException
from eventbus_kafka import KAFKA, KafkaAdapter, KafkaConfig, SaslConfig, TlsConfig, parse_kafka_url
from eventbus_kafka._config import ConsumerConfig, TopicConfig
from eventbus_kafka._delivery import KafkaDelivery
from eventbus_kafka._errors import translate
from eventbus_kafka._names import limits_for, retry_topic
from eventbus_kafka._offsets import PartitionOffsets
from eventbus_kafka._ordering import KeyGate

from eventbus import EventBus
from eventbus.adapter import (
    AdapterError,
    BrokerConnectionError,
    ChannelNameError,
    ConfigurationError,
    Message,
    PublishError,
    Scrubber,
    Semantic,
    Support,
    check_channel,
)

# -- URLs and config ---------------------------------------------------------------------------


def test_url_servers_default_port_and_parameters() -> None:
    config = parse_kafka_url(
        "kafka://a:9093,b,[::1]:9094?partitions=6&replication_factor=2&linger_ms=0"
        "&retry_delays=0.5,5,60&group_id={group}&client_id=shop&provision=false"
    )
    assert config.servers == ("a:9093", "b:9092", "[::1]:9094")
    assert config.topics == TopicConfig(6, 2, False, (0.5, 5.0, 60.0))
    assert config.producer.linger_ms == 0
    assert config.consumer.group_id == "{group}"
    assert config.client_id == "shop"
    assert config.sasl is None and config.tls is None
    assert config.security_protocol() == "PLAINTEXT"


def test_url_credentials_mean_sasl_and_never_show() -> None:
    config = parse_kafka_url("kafka://alice:s%40cret@h:1?sasl_mechanism=SCRAM-SHA-512&tls=true")
    assert config.sasl == SaslConfig("alice", "s@cret", "SCRAM-SHA-512")
    assert config.security_protocol() == "SASL_SSL"
    assert "s@cret" not in repr(config) and "s@cret" not in repr(KafkaAdapter(config))
    settings = config.client_settings()
    assert settings["sasl.mechanism"] == "SCRAM-SHA-512"
    assert settings["sasl.password"] == "s@cret"
    with pytest.raises(ConfigurationError) as info:
        parse_kafka_url("kafka://alice:hunter2@h:1?bogus=1")
    assert "hunter2" not in str(info.value)
    assert "bogus" in str(info.value) and "partitions" in str(info.value)


@pytest.mark.parametrize(
    ("url", "words"),
    [
        ("nats://h:1", "not a kafka:// URL"),
        ("kafka://", "names no broker"),
        ("kafka://h:0", "bad broker"),
        ("kafka://h:x", "bad broker"),
        ("kafka://h/path", "unexpected path"),
        ("kafka://h?partitions=0", "partitions must be >= 1"),
        ("kafka://h?partitions=two", "'partitions'"),
        ("kafka://h?partitions=1&partitions=2", "given twice"),
        ("kafka://h?retry_delays=30,1", "must increase"),
        ("kafka://h?sasl_mechanism=PLAIN", "needs user:password"),
        ("kafka://alice:pw@h?sasl_mechanism=GSSAPI", "mechanism must be one of"),
        ("kafka://h?compression=brotli", "unknown compression"),
        ("kafka://h?group_id=fixed", "must contain '{group}'"),
        ("kafka://h?group_id={group}.{topic}", "only {group} and {channel}"),
        ("kafka://h?replication_factor=0", "replication_factor"),
        ("kafka://h?tls_cert=c.pem", "both cert_file and key_file"),
    ],
)
def test_url_errors_name_the_problem(url: str, words: str) -> None:
    with pytest.raises(ConfigurationError) as info:
        parse_kafka_url(url)
    assert words in str(info.value)


def test_tls_settings_and_reprs_hide_secrets() -> None:
    tls = TlsConfig(ca_file="ca.pem", cert_file="c.pem", key_file="k.pem", key_password="kp-9")
    config = KafkaConfig(servers=("h:1",), tls=tls, sasl=SaslConfig("bob", "pw-7"))
    assert "kp-9" not in repr(config) and "pw-7" not in repr(config)
    settings = config.client_settings()
    assert settings["security.protocol"] == "SASL_SSL"
    assert settings["ssl.ca.location"] == "ca.pem"
    assert settings["ssl.key.password"] == "kp-9"
    assert set(config.secrets()) == {"kp-9", "pw-7"}
    with pytest.raises(ConfigurationError):
        KafkaConfig(servers=("user:pw@h:1",))
    with pytest.raises(ConfigurationError):
        ConsumerConfig(commit_interval=0)


def test_plugin_registers_kafka_scheme() -> None:
    bus = EventBus("kafka://127.0.0.1:9?partitions=2")
    assert isinstance(bus.adapter, KafkaAdapter)
    assert bus.adapter.config.topics.partitions == 2
    caps = bus.capabilities
    assert caps.binding == "kafka"
    assert caps.support(Semantic.ORDERING_KEY) is Support.NATIVE
    assert caps.support(Semantic.DELAYED_REDELIVERY) is Support.EMULATED
    assert caps.support(Semantic.DEAD_LETTER) is Support.EMULATED
    assert caps.support(Semantic.WILDCARD_SUBSCRIBE) is Support.UNSUPPORTED
    assert KAFKA.limits.max_message_bytes == 1_048_588 - 512


# -- names ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("channel", "ok"),
    [
        ("orders", True),
        ("orders.v1_x-y", True),
        ("..a", True),
        ("", False),
        (".", False),
        ("..", False),
        ("orders/eu", False),
        ("ordérs", False),
        ("has space", False),
        ("x" * 238, True),
        ("x" * 239, False),  # the retry topics of a longer name would pass Kafka's 249
    ],
)
def test_channel_names(channel: str, ok: bool) -> None:
    limits = KAFKA.limits
    if ok:
        check_channel(limits, channel, adapter="kafka")
        assert len(retry_topic(channel, 600.0)) <= 249
    else:
        with pytest.raises(ChannelNameError):
            check_channel(limits, channel, adapter="kafka")


def test_retry_topic_names_and_room() -> None:
    assert retry_topic("orders", 1.0) == "orders.retry.1s"
    assert retry_topic("orders", 0.25) == "orders.retry.250ms"
    assert limits_for(10_000, (0.25,)).max_channel_length == 249 - len(".retry.250ms")


# -- errors --------------------------------------------------------------------------------------


def test_errors_are_translated_and_scrubbed() -> None:
    scrub = Scrubber(["hunter2"])
    down = KafkaException(KafkaError(KafkaError._TRANSPORT, "broker hunter2 down"))
    error = translate(down, "connecting", scrub)
    assert isinstance(error, BrokerConnectionError)
    assert "hunter2" not in str(error) and "***" in str(error)
    bad = KafkaException(KafkaError(KafkaError.TOPIC_EXCEPTION, "collides with a_b"))
    named = translate(bad, "creating", scrub, topic="a.b")
    assert isinstance(named, ChannelNameError) and "collides" in str(named)
    big = KafkaError(KafkaError.MSG_SIZE_TOO_LARGE)
    assert isinstance(translate(big, "publishing", scrub, publishing=True), PublishError)
    assert type(translate(ValueError("x"), "doing", scrub)) is AdapterError


# -- commit points -------------------------------------------------------------------------------


def test_commit_point_never_passes_an_unsettled_offset() -> None:
    offsets = PartitionOffsets()
    for offset in (10, 11, 12, 13):
        offsets.add(offset)
    assert offsets.commit_point() is None  # nothing settled yet
    offsets.settle(12)
    offsets.settle(13)
    assert offsets.commit_point() is None  # 10 and 11 are still open
    assert len(offsets) == 2
    offsets.settle(10)
    assert offsets.commit_point() == 11
    offsets.committed = 11
    assert offsets.commit_point() is None
    offsets.settle(11)
    assert offsets.commit_point() == 14
    assert len(offsets) == 0
    offsets.settle(11)  # twice: no effect
    assert offsets.commit_point() == 14
    with pytest.raises(ValueError, match="after"):
        offsets.add(13)


# -- the key gate --------------------------------------------------------------------------------


class _Owner:
    def settled(self, delivery: KafkaDelivery) -> None: ...

    async def retry(self, delivery: KafkaDelivery, delay: float) -> None: ...

    async def move_dead(self, delivery: KafkaDelivery, dead: object) -> None: ...


def _delivery(key: str | None, offset: int) -> KafkaDelivery:
    return KafkaDelivery(_Owner(), Message({}, b"", key), 1, "t", 0, offset)  # type: ignore[arg-type]


def test_key_gate_hands_over_one_per_key_in_order() -> None:
    gate = KeyGate()
    a1, b1, a2, a3, none = (_delivery("a", 1), _delivery("b", 2), _delivery("a", 3),
                            _delivery("a", 4), _delivery(None, 5))  # fmt: skip
    assert gate.admit(a1) and gate.admit(b1) and gate.admit(none)
    assert not gate.admit(a2) and not gate.admit(a3)
    assert len(gate) == 2
    retried = _delivery("a", 1)
    gate.replace(a1, retried)
    assert gate.next_after(a1) is None  # a1 no longer holds the key: its retry does
    assert gate.next_after(retried) is a2
    assert gate.next_after(a2) is a3
    assert gate.next_after(a3) is None
    assert gate.admit(_delivery("a", 6))  # the key's line was closed
    gate.forget(lambda d: d.message.key == "b")
    assert gate.admit(_delivery("b", 7))
