"""URL parsing, configuration checks, names and header handling (no server needed)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from eventbus_nats import (
    CORE,
    JETSTREAM,
    AuthConfig,
    ConsumerConfig,
    NatsConfig,
    StreamConfig,
    TlsConfig,
    parse_nats_url,
)
from eventbus_nats._names import ADAPTER_NAME, consumer_name, limits_for, stream_name
from eventbus_nats._publish import MSG_ID, check_size, headers_of

from eventbus import ChannelNameError, ConfigurationError, LimitExceededError, Message
from eventbus.adapter import ChannelNames, Semantic, Support

NAMES = ChannelNames(limits_for(1024), adapter=ADAPTER_NAME)


def test_url_defaults_to_jetstream_on_localhost() -> None:
    config = parse_nats_url("nats://")
    assert config.servers == ("127.0.0.1:4222",)
    assert config.mode == "jetstream" and config.provision
    assert config.streams == (StreamConfig(),)


def test_url_with_everything() -> None:
    config = parse_nats_url(
        "nats://bob:p%40ss@h1,h2:4333,[::1]:4444?mode=core&name=svc&tls=true&tls_ca=/ca.pem"
        "&tls_verify=false&reconnect_wait=0.5&max_reconnect=-1&storage=memory"
        "&retention=limits&max_age=3600&duplicate_window=30&replicas=3&provision=false"
        "&publish_timeout=2&publish_retries=1&max_ack_pending=50&extra_deliveries=0"
        "&stream=APP_%7Broot%7D&pull_expires=1"
    )
    assert config.servers == ("h1:4222", "h2:4333", "[::1]:4444")
    assert config.auth == AuthConfig(user="bob", password="p@ss")
    assert config.mode == "core" and config.name == "svc" and not config.provision
    assert config.tls == TlsConfig(ca_file="/ca.pem", verify=False)
    assert config.reconnect.time_wait == 0.5 and config.reconnect.max_attempts == -1
    (stream,) = config.streams
    assert (stream.name, stream.storage, stream.retention, stream.replicas) == (
        "APP_{root}",
        "memory",
        "limits",
        3,
    )
    assert stream.max_age == 3600 and stream.duplicate_window == 30
    assert config.consumer == ConsumerConfig(max_ack_pending=50, extra_deliveries=0, pull_expires=1)
    assert (config.publish_timeout, config.publish_retries) == (2, 1)


def test_url_token_forms() -> None:
    assert parse_nats_url("nats://tok@h").auth == AuthConfig(token="tok")
    assert parse_nats_url("nats://h?token=tok").auth == AuthConfig(token="tok")
    assert parse_nats_url("nats://h?creds=/x.creds").auth == AuthConfig(creds_file="/x.creds")


@pytest.mark.parametrize(
    ("url", "fragment"),
    [
        ("memory://x", "not a nats:// URL"),
        ("nats://h/path", "unexpected path"),
        ("nats://h?mode=fast", "mode must be"),
        ("nats://h?bogus=1", "unknown NATS URL parameter 'bogus'"),
        ("nats://h?mode=core&mode=core", "given twice"),
        ("nats://h:99999", "bad server"),
        ("nats://h?provision=maybe", "expected true or false"),
        ("nats://h?publish_timeout=-1", "publish_timeout"),
        ("nats://h?stream=FIXED", "{root}"),
        ("nats://h?tls_cert=/c.pem", "cert_file and key_file"),
    ],
)
def test_url_errors(url: str, fragment: str) -> None:
    with pytest.raises(ConfigurationError, match=None) as info:
        parse_nats_url(url)
    assert fragment in str(info.value)


def test_config_checks() -> None:
    with pytest.raises(ConfigurationError, match="credentials"):
        NatsConfig(servers=("u:p@h:4222",))
    with pytest.raises(ConfigurationError, match="one of"):
        AuthConfig(user="u", password="p", token="t")
    with pytest.raises(ConfigurationError, match="at most one template"):
        NatsConfig(streams=(StreamConfig(), StreamConfig(name="B_{root}")))
    with pytest.raises(ConfigurationError, match="literal name"):
        StreamConfig(name="X_{root}", subjects=("a.>",))
    with pytest.raises(ConfigurationError, match="extra_deliveries"):
        ConsumerConfig(extra_deliveries=-1)


@pytest.mark.parametrize("channel", ["a", "com.example.order-placed", "a.b_c.D-9", "x/y:z"])
def test_valid_channels(channel: str) -> None:
    NAMES.channel(channel)
    NAMES.pattern(channel)


@pytest.mark.parametrize(
    "channel", ["", "a..b", ".a", "a.", "a b", "a.*", "a.>", "$JS.API.x", "_INBOX.x", "é"]
)
def test_invalid_channels(channel: str) -> None:
    with pytest.raises(ChannelNameError):
        NAMES.channel(channel)


@pytest.mark.parametrize("pattern", ["a.*", "a.>", "*.b", ">", "a.*.c.>"])
def test_valid_patterns(pattern: str) -> None:
    NAMES.pattern(pattern)


@pytest.mark.parametrize("pattern", ["a.>.c", "a.b*", "a..*", "$SYS.>"])
def test_invalid_patterns(pattern: str) -> None:
    with pytest.raises(ChannelNameError):
        NAMES.pattern(pattern)


def test_derived_names_are_valid_and_distinct() -> None:
    assert stream_name("EVENTBUS_{root}", "orders") == "EVENTBUS_orders"
    odd = stream_name("EVENTBUS_{root}", "a/b")
    assert odd.startswith("EVENTBUS_a_b_") and odd != stream_name("EVENTBUS_{root}", "a_b")
    first = consumer_name("billing", "com.shop.order.*")
    assert first.startswith("billing__com_shop_order__")
    assert first != consumer_name("billing", "com.shop.order.>")
    assert all(c.isalnum() or c in "_-" for c in first)


def test_headers_never_resend_a_received_msg_id() -> None:
    received = Message({"ce-id": "1", MSG_ID: "1"}, b"")
    assert headers_of(received, dedupe=False) == {"ce-id": "1"}
    moved = Message({"ce-id": "1", MSG_ID: "1"}, b"", dedupe_id="dead-letter:S:7")
    assert headers_of(moved, dedupe=True) == {"ce-id": "1", MSG_ID: "dead-letter:S:7"}
    native = Message({"n": 1, "b": True, "x": b"y"}, b"")
    assert headers_of(native, dedupe=False) == {"n": "1", "b": "true", "x": "y"}
    plain = {"ce-id": "2"}
    assert headers_of(Message(plain, b""), dedupe=False) is plain  # no copy on the hot path
    assert headers_of(Message({}, b""), dedupe=False) is None


def test_size_counts_headers_as_nats_does() -> None:
    check_size({"a": "b"}, b"x" * 1000, 1024)
    with pytest.raises(LimitExceededError):
        check_size({"a": "b" * 30}, b"x" * 1000, 1024)
    with pytest.raises(LimitExceededError):
        check_size(None, b"x" * 1025, 1024)


def test_capability_tables() -> None:
    assert JETSTREAM.support(Semantic.AT_LEAST_ONCE) is Support.NATIVE
    assert JETSTREAM.support(Semantic.ORDERING_KEY) is Support.UNSUPPORTED
    assert CORE.support(Semantic.AT_LEAST_ONCE) is Support.UNSUPPORTED
    assert CORE.support(Semantic.CONSUMER_GROUPS) is Support.NATIVE
    assert JETSTREAM.binding == CORE.binding == "ce-headers"
    assert JETSTREAM.limits.max_message_bytes == 1024 * 1024


def _outcome(action: Callable[[], object]) -> BaseException | None:
    """What ``action`` raised, skips and failures included (so a skip cannot hide here)."""
    try:
        action()
    except BaseException as exc:  # pytest's Skipped/Failed derive from BaseException
        return exc
    return None


def test_a_missing_nats_server_fails_the_run_in_ci(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from nats_launcher import require_nats_server

    monkeypatch.setenv("PATH", str(tmp_path))  # no nats-server there
    monkeypatch.setenv("CI", "true")
    failed = _outcome(require_nats_server)
    assert isinstance(failed, pytest.fail.Exception), repr(failed)
    assert "nats-server is not installed" in str(failed)
    monkeypatch.delenv("CI")
    assert isinstance(_outcome(require_nats_server), pytest.skip.Exception)
