"""The Pub/Sub adapter's pure parts: URLs, config, names, limits, capabilities, errors."""

from __future__ import annotations

import pytest
from eventbus_pubsub import (
    CAPABILITIES,
    EMULATOR_ENV,
    FlowControl,
    PubSubAdapter,
    PubSubConfig,
    RetryBackoff,
    group_subscription_id,
    parse_pubsub_url,
)
from eventbus_pubsub._adapter import ack_deadline, max_delivery_attempts
from eventbus_pubsub._capabilities import capabilities_for
from eventbus_pubsub._errors import translated
from eventbus_pubsub._names import ADAPTER_NAME, fanout_subscription_id
from eventbus_pubsub._publish import to_pubsub
from google.api_core import exceptions as gexc
from google.auth import exceptions as auth_exc

from eventbus._adapter._plugins import create_adapter
from eventbus.adapter import (
    AdapterError,
    BrokerConnectionError,
    ChannelNameError,
    ConfigurationError,
    LimitExceededError,
    Message,
    PublishError,
    Semantic,
    Support,
    check_channel,
)

# -- URLs and config -------------------------------------------------------------------------


def test_url_parameters_map_to_the_typed_config() -> None:
    config = parse_pubsub_url(
        "pubsub://my-project?emulator_host=localhost:8085&provision=false&message_ordering=no"
        "&exactly_once=true&min_backoff=1&max_backoff=30&timeout=5&pull_timeout=0.5"
        "&max_request_bytes=4194304"
        "&fanout_messages=10&max_bytes=1000&endpoint=us-east1-pubsub.googleapis.com:443"
        "&credentials_file=/keys/sa.json"
    )
    assert config == PubSubConfig(
        "my-project",
        emulator_host="localhost:8085",
        credentials_file="/keys/sa.json",
        endpoint="us-east1-pubsub.googleapis.com:443",
        provision=False,
        message_ordering=False,
        exactly_once=True,
        retry_backoff=RetryBackoff(1.0, 30.0),
        flow_control=FlowControl(fanout_messages=10, max_bytes=1000),
        timeout=5.0,
        pull_timeout=0.5,
        max_request_bytes=4194304,
    )
    assert "sa.json" not in repr(config)
    assert parse_pubsub_url("pubsub://p1-x") == PubSubConfig("p1-x")


@pytest.mark.parametrize(
    ("url", "words"),
    [
        ("pubsub://", "names no project"),
        ("pubsub://Bad_Project", "project ID"),
        ("pubsub://p?nope=1", "unknown Pub/Sub URL parameter 'nope'"),
        ("pubsub://p?provision=maybe", "'provision'"),
        ("pubsub://p?timeout=-1", "'timeout'"),
        ("pubsub://p?timeout=0", "timeout must be > 0"),
        ("pubsub://p?pull_timeout=0", "pull_timeout must be > 0"),
        ("pubsub://p?max_request_bytes=99999999", "max_request_bytes"),
        ("pubsub://p?emulator_host=nohost", "HOST:PORT"),
        ("pubsub://p?min_backoff=700", "retry backoff"),
        ("pubsub://p?fanout_messages=0", "flow control"),
        ("pubsub://p/path", "pubsub://PROJECT"),
        ("pubsub://user:secret@p", "pubsub://PROJECT"),
        ("nats://p", "not a pubsub:// URL"),
        ("pubsub://p?timeout=1&timeout=2", "given twice"),
    ],
)
def test_bad_urls_are_refused_with_the_reason(url: str, words: str) -> None:
    with pytest.raises(ConfigurationError) as info:
        parse_pubsub_url(url)
    assert words in str(info.value)
    assert "secret" not in str(info.value)


def test_the_emulator_host_comes_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(EMULATOR_ENV, "127.0.0.1:8681")
    assert PubSubConfig("p").resolved_emulator_host() == "127.0.0.1:8681"
    assert PubSubConfig("p", emulator_host="h:1").resolved_emulator_host() == "h:1"
    assert "emulator at 127.0.0.1:8681" in repr(PubSubAdapter(PubSubConfig("p")))
    monkeypatch.setenv(EMULATOR_ENV, "garbage")
    with pytest.raises(ConfigurationError, match=EMULATOR_ENV):
        PubSubConfig("p").resolved_emulator_host()
    monkeypatch.delenv(EMULATOR_ENV)
    assert PubSubConfig("p").resolved_emulator_host() is None


def test_the_plugin_serves_pubsub_urls() -> None:
    adapter = create_adapter("pubsub://test-project?emulator_host=127.0.0.1:1")
    assert isinstance(adapter, PubSubAdapter)
    assert adapter.capabilities.binding == "pubsub"
    assert adapter.name == "pubsub"


# -- capabilities and names ------------------------------------------------------------------


def test_capabilities_table() -> None:
    support = CAPABILITIES.support
    assert support(Semantic.DEAD_LETTER) is Support.NATIVE
    assert support(Semantic.ORDERING_KEY) is Support.NATIVE
    assert support(Semantic.PUBLISHER_DEDUPE) is Support.UNSUPPORTED
    assert support(Semantic.WILDCARD_SUBSCRIBE) is Support.UNSUPPORTED
    assert support(Semantic.LOCK_RENEWAL) is Support.NATIVE
    unordered = capabilities_for(False, 4 * 1024 * 1024)
    assert unordered.support(Semantic.ORDERING_KEY) is Support.UNSUPPORTED
    assert unordered.limits.max_message_bytes == 4 * 1024 * 1024 - 4096
    limits = CAPABILITIES.limits
    assert (limits.max_header_count, limits.max_header_bytes) == (100, 1280)


@pytest.mark.parametrize("name", ["orders", "com.shop.order.placed", "a-b_c.d~e+f%20", "x" * 255])
def test_topic_names_that_pubsub_accepts(name: str) -> None:
    check_channel(CAPABILITIES.limits, name, adapter=ADAPTER_NAME)
    assert CAPABILITIES.limits.channel_problem(name) is None


@pytest.mark.parametrize("name", ["ab", "1abc", "goog.orders", "with space", "x" * 256, "é-orders"])
def test_topic_names_that_pubsub_refuses(name: str) -> None:
    with pytest.raises(ChannelNameError, match="pubsub"):
        check_channel(CAPABILITIES.limits, name, adapter=ADAPTER_NAME)
    assert CAPABILITIES.limits.channel_problem(name) is not None


def test_group_subscription_names_are_valid_and_never_shared() -> None:
    pairs = [("a~b", "c"), ("a", "b~c"), ("a", "b%7Ec"), ("orders", "billing team/ü")]
    names = [group_subscription_id(channel, group) for channel, group in pairs]
    assert len(set(names)) == len(names)
    for name in names:
        check_channel(CAPABILITIES.limits, name, adapter=ADAPTER_NAME)  # the same rule as topics
    assert group_subscription_id("orders", "billing") == "orders~billing"
    long = group_subscription_id("o" * 250, "g" * 50)
    assert len(long) == 255 and long != group_subscription_id("o" * 250, "g" * 51)
    with pytest.raises(ConfigurationError):
        group_subscription_id("orders", "")
    fanout = fanout_subscription_id("orders")
    assert fanout.startswith("orders~fanout.") and fanout != fanout_subscription_id("orders")


def test_dead_letter_attempts_and_ack_deadline_stay_within_pubsub_ranges() -> None:
    assert [max_delivery_attempts(n) for n in (None, 1, 5, 42, 100, 1000)] == [
        5,
        5,
        5,
        42,
        100,
        100,
    ]
    assert [ack_deadline(s) for s in (0.3, 10, 30, 30.5, 9999)] == [10, 10, 30, 31, 600]


# -- limits checked before sending -----------------------------------------------------------


def _check(message: Message, max_bytes: int = 10_000_000) -> object:
    return to_pubsub(message, ordering=True, max_message_bytes=max_bytes)


def test_a_message_becomes_a_pubsub_message() -> None:
    pm: object = _check(Message({"ce-id": "1", "flag": True}, b"data", key="k-1"))  # type: ignore[dict-item]
    assert pm.data == b"data"  # type: ignore[attr-defined]
    assert dict(pm.attributes) == {"ce-id": "1", "flag": "true"}  # type: ignore[attr-defined]
    assert pm.ordering_key == "k-1"  # type: ignore[attr-defined]
    unordered = to_pubsub(Message({"a": "b"}, b"", key="k"), ordering=False, max_message_bytes=99)
    assert unordered.ordering_key == ""


@pytest.mark.parametrize(
    ("message", "limit", "maximum"),
    [
        (Message({f"a{i}": "v" for i in range(101)}, b""), "attribute count", 100),
        (Message({"k" * 257: "v"}, b""), "attribute name", 256),
        (Message({"ce-x": "v" * 1025}, b""), "attribute 'ce-x'", 1024),
        (Message({"ce-x": "é" * 513}, b""), "attribute 'ce-x'", 1024),  # 1026 bytes
        (Message({"a": "b"}, b"", key="ü" * 513), "ordering key", 1024),
        (Message({"a": "b"}, b"x" * 9_000), "message size", 8_192),
    ],
)
def test_pubsub_limits_are_enforced_before_sending(
    message: Message, limit: str, maximum: int
) -> None:
    with pytest.raises(LimitExceededError) as info:
        _check(message, 8_192)
    assert limit in info.value.limit
    assert info.value.maximum == maximum
    assert info.value.adapter == "pubsub"


def test_attributes_pubsub_refuses() -> None:
    with pytest.raises(PublishError, match="goog"):
        _check(Message({"googclient_x": "1"}, b"x"))
    with pytest.raises(PublishError, match="neither data nor attributes"):
        _check(Message({}, b""))
    with pytest.raises(PublishError, match="UTF-8"):
        _check(Message({"a": b"\xff"}, b"x"))


# -- error translation -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raised", "expected", "words"),
    [
        (gexc.ServiceUnavailable("connection refused"), BrokerConnectionError, "UNAVAILABLE"),
        (gexc.Unauthenticated("bad token"), BrokerConnectionError, "check the credentials"),
        (gexc.PermissionDenied("no"), AdapterError, "IAM"),
        (
            gexc.RetryError("deadline", gexc.ServiceUnavailable("x")),
            BrokerConnectionError,
            "gave up",
        ),
        (
            auth_exc.RefreshError("invalid_grant\nsecret-detail"),
            BrokerConnectionError,
            "RefreshError",
        ),
        (gexc.InvalidArgument("bad name"), AdapterError, "INVALID_ARGUMENT"),
    ],
)
def test_google_errors_become_eventbus_errors(
    raised: Exception, expected: type[Exception], words: str
) -> None:
    with pytest.raises(expected) as info, translated("doing it", "the emulator at h:1"):
        raise raised
    assert words in str(info.value)
    assert "doing it on the emulator at h:1" in str(info.value)
    assert "secret-detail" not in str(info.value)
    assert info.value.__cause__ is raised


def test_publish_failures_are_publish_errors() -> None:
    with pytest.raises(PublishError), translated("publishing", "here", publishing=True):
        raise gexc.PermissionDenied("no")
    with pytest.raises(BrokerConnectionError), translated("publishing", "here", publishing=True):
        raise gexc.ServiceUnavailable("down")
    with pytest.raises(ValueError, match="not ours"), translated("x", "y"):
        raise ValueError("not ours")  # not from the client: not translated


async def test_missing_credentials_are_a_configuration_error(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import google.auth

    def no_credentials(**_: object) -> None:
        raise auth_exc.DefaultCredentialsError("none")

    monkeypatch.delenv(EMULATOR_ENV, raising=False)
    monkeypatch.setattr(google.auth, "default", no_credentials)
    with pytest.raises(ConfigurationError, match="no Google credentials"):
        await PubSubAdapter(PubSubConfig("p")).connect()


async def test_an_unreadable_key_file_is_named_without_its_contents(
    tmp_path: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(EMULATOR_ENV, raising=False)
    key = tmp_path / "sa.json"  # type: ignore[operator]
    key.write_text('{"type": "service_account", "private_key": "TOP-SECRET"}')
    with pytest.raises(ConfigurationError) as info:
        await PubSubAdapter(PubSubConfig("p", credentials_file=str(key))).connect()
    assert "sa.json" in str(info.value)
    assert "TOP-SECRET" not in str(info.value)
