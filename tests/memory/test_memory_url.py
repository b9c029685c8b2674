"""``memory://`` URLs, constructor validation and the pluggy plugin."""

from __future__ import annotations

import pluggy
import pytest

from eventbus._adapter import _hookspecs
from eventbus._errors import ConfigurationError
from eventbus._memory import (
    CAPABILITIES,
    DEFAULT_DEDUPE_WINDOW,
    MemoryAdapter,
    MemoryFaults,
    parse_memory_url,
)
from eventbus._memory import plugin as memory_plugin


def test_full_url_is_read() -> None:
    options = parse_memory_url(
        "memory://test?seed=42&duplicate=0.1&reorder=0.2&crash_before_ack=0.05&slow=0.01"
        "&slow_delay=0.05&max_queue=100&max_message_bytes=2048&dedupe_window=5"
    )
    assert options.name == "test"
    assert options.faults == MemoryFaults(
        seed=42, duplicate=0.1, reorder=0.2, crash_before_ack=0.05, slow=0.01, slow_delay=0.05
    )
    assert (options.max_queue, options.max_message_bytes, options.dedupe_window) == (100, 2048, 5)


def test_bare_url_gives_defaults() -> None:
    options = parse_memory_url("memory://")
    assert options.name is None
    assert options.faults is None
    assert options.max_queue is None
    assert options.dedupe_window == DEFAULT_DEDUPE_WINDOW


def test_adapter_from_url_applies_options() -> None:
    adapter = MemoryAdapter.from_url("memory://?seed=1&reorder=0.5&max_message_bytes=10")
    assert adapter.faults == MemoryFaults(seed=1, reorder=0.5)
    assert adapter.capabilities.limits.max_message_bytes == 10
    assert adapter.broker.name is None


@pytest.mark.parametrize(
    ("url", "named"),
    [
        ("memory://x?duplicate=2", "duplicate"),
        ("memory://x?reorder=abc", "reorder"),
        ("memory://x?slow=-0.1", "slow"),
        ("memory://x?crash_before_ack=nan", "crash_before_ack"),
        ("memory://x?slow_delay=-1", "slow_delay"),
        ("memory://x?seed=1.5", "seed"),
        ("memory://x?seed=", "seed"),
        ("memory://x?max_queue=0", "max_queue"),
        ("memory://x?max_message_bytes=big", "max_message_bytes"),
        ("memory://x?dedupe_window=inf", "dedupe_window"),
        ("memory://x?bogus=1", "bogus"),
        ("memory://x?seed=1&seed=2", "seed"),
    ],
)
def test_bad_parameters_are_named(url: str, named: str) -> None:
    with pytest.raises(ConfigurationError, match=f"'{named}'"):
        parse_memory_url(url)


@pytest.mark.parametrize(
    "url",
    [
        "nats://localhost:4222",
        "memory:relative",
        "memory://bad name",
        "memory://host:4222",
        "memory://user:secret@x",
        "memory://x/path",
        "memory://x#fragment",
    ],
)
def test_bad_urls_are_refused(url: str) -> None:
    with pytest.raises(ConfigurationError) as info:
        parse_memory_url(url)
    assert "secret" not in str(info.value)


def test_constructor_validation() -> None:
    with pytest.raises(ConfigurationError, match="max_queue"):
        MemoryAdapter(max_queue=0)
    with pytest.raises(ConfigurationError, match="name"):
        MemoryAdapter("")
    with pytest.raises(ConfigurationError, match="dedupe_window"):
        MemoryAdapter(dedupe_window=-1)


def test_plugin_registers_the_memory_adapter() -> None:
    manager = pluggy.PluginManager("eventbus")
    manager.add_hookspecs(_hookspecs)
    manager.register(memory_plugin)
    (infos,) = manager.hook.eventbus_adapters()
    (info,) = infos
    assert (info.scheme, info.distribution) == ("memory", "eventbus")
    assert info.capabilities is CAPABILITIES
    adapter = info.factory("memory://?seed=3")
    assert isinstance(adapter, MemoryAdapter)
    assert adapter.faults.seed == 3
