"""nats-py's private hooks: checked before each connect; when one of them changed, the adapter
uses nats-py's own Client through its public API, with the same behaviour (slower).

The conformance suite runs through that path on core NATS and JetStream, with a nats-py whose
``_parse_header_lines`` takes another parameter (what a release reshaping it would look like).
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

import pytest
from eventbus_nats import _client, _hooks
from eventbus_nats._client import AdapterClient
from eventbus_nats._hooks import hooks_problem, instance_problem
from nats.aio.client import Client
from nats_launcher import NatsServer

from eventbus import ContentMode, Event, EventBus
from eventbus.testing import AdapterConformance, run, wait_until

_original_parse = Client._parse_header_lines


def _reshaped(raw: bytes, strict: bool = False) -> dict[str, str]:
    return _original_parse(raw)


@pytest.fixture
def reshaped_nats_py(monkeypatch: pytest.MonkeyPatch) -> None:
    """nats-py with ``Client._parse_header_lines(raw, strict=False)``: not the expected shape."""
    monkeypatch.setattr(Client, "_parse_header_lines", staticmethod(_reshaped))


@pytest.fixture
def fresh_log(monkeypatch: pytest.MonkeyPatch) -> None:
    """Forget which path was logged last."""
    monkeypatch.setattr(_hooks, "_reported", [])


def test_the_installed_nats_py_has_the_hooks_in_the_expected_shape() -> None:
    """Holds for every nats-py in the pinned range (adapters/nats/pyproject.toml)."""
    assert hooks_problem() is None


async def _send_publish_without_size(
    self: Any, subject: str, reply: str, payload: bytes, headers: Any
) -> None: ...


def _sync_send_command(self: Any, cmd: bytes, priority: bool = False) -> None: ...


async def _publish_elsewhere(self: Any, subject: str, payload: bytes = b"") -> None:
    await self._send_command(payload)


async def _headers_elsewhere(self: Any, headers: bytes) -> None:
    return None


@pytest.mark.parametrize(
    ("changes", "problem"),
    [
        ({"_send_publish": _send_publish_without_size}, "Client._send_publish takes"),
        ({"_send_command": _sync_send_command}, "Client._send_command is no longer a coroutine"),
        ({"_flush_pending": None}, "Client._flush_pending is gone"),
        ({"_parse_header_lines": staticmethod(_reshaped)}, "Client._parse_header_lines takes"),
        ({"publish": _publish_elsewhere}, "Client.publish no longer calls _send_publish"),
        ({"_process_headers": _headers_elsewhere}, "no longer calls _parse_header_lines"),
    ],
)
def test_each_change_of_a_hook_is_noticed(changes: dict[str, Any], problem: str) -> None:
    changed = type("ChangedClient", (Client,), changes)
    found = hooks_problem(changed)
    assert found is not None
    assert problem in found


def test_a_missing_hpub_cmd_is_noticed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_client, "HPUB_AVAILABLE", False)
    assert hooks_problem() == "nats.protocol.command.hpub_cmd is gone"


def test_a_client_without_the_expected_state_is_noticed() -> None:
    client = Client()
    assert instance_problem(client) is None
    client.stats = {"in_msgs": 0}
    assert instance_problem(client) == "Client.stats has no out_msgs/out_bytes counters"
    client = Client()
    del client._flush_queue
    assert instance_problem(client) == "Client._flush_queue is gone"


def _connection_type(url: str) -> type:
    async def scenario() -> type:
        async with EventBus(url) as bus:
            await bus.publish(Event(type="hooks.ping", source="/t"))  # connects
            return type(bus.adapter.connection)  # type: ignore[attr-defined]

    return run(scenario())


def test_the_path_is_chosen_at_connect_and_logged_once(
    nats_server: NatsServer,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    fresh_log: None,
) -> None:
    caplog.set_level(logging.INFO, logger="eventbus.nats")
    url = nats_server.url("mode=core")
    assert _connection_type(url) is AdapterClient
    with monkeypatch.context() as patched:
        patched.setattr(Client, "_parse_header_lines", staticmethod(_reshaped))
        assert _connection_type(url) is Client
        assert _connection_type(url) is Client
    assert _connection_type(url) is AdapterClient
    paths = [r.getMessage() for r in caplog.records if "nats: using nats-py" in r.getMessage()]
    assert paths == [
        "nats: using nats-py's private header hooks (the fast path)",
        "nats: using nats-py's public API only (slower header handling): "
        "Client._parse_header_lines takes ('raw', 'strict'), not ('raw',); "
        "see docs/adapters/nats.md",
        "nats: using nats-py's private header hooks (the fast path)",
    ]


def _received(url: str, mode: ContentMode) -> tuple[Event[Any], Any]:
    """An event with extensions sent and received; and the connection it came on."""

    async def scenario() -> tuple[Event[Any], Any]:
        got: list[Event[Any]] = []
        async with EventBus(url, content_mode=mode) as bus:

            async def handler(event: Event[Any]) -> None:
                got.append(event)

            await bus.subscribe("hooks.order.placed", handler)
            sent = Event(
                type="hooks.order.placed",
                source="/hooks",
                subject="o-1",
                data={"order_id": "o-1"},
                extensions={
                    "tenant": "acme",
                    "traceparent": "00-" + "1" * 32 + "-" + "2" * 16 + "-01",
                },
            )
            await bus.publish(sent)
            await wait_until(lambda: len(got) == 1, what="the event")
            assert got[0].id == sent.id
            return got[0], bus.adapter.connection  # type: ignore[attr-defined]

    return run(scenario())


@pytest.mark.parametrize("mode", [ContentMode.BINARY, ContentMode.STRUCTURED])
def test_a_client_whose_state_differs_uses_nats_py_header_handling(
    nats_server: NatsServer, monkeypatch: pytest.MonkeyPatch, mode: ContentMode
) -> None:
    """Hooks in shape but the connected client's state not: the AdapterClient hands every
    header to nats-py's own code, and events arrive as on the fast path."""
    calls = {"send": 0, "parse": 0}
    send_publish = Client._send_publish

    async def counted_send(
        self: Any, subject: str, reply: str, payload: bytes, payload_size: int, headers: Any
    ) -> None:
        if headers:
            calls["send"] += 1
        await send_publish(self, subject, reply, payload, payload_size, headers)

    def counted_parse(raw: bytes) -> dict[str, str]:
        calls["parse"] += 1
        return _original_parse(raw)

    monkeypatch.setattr(Client, "_send_publish", counted_send)
    monkeypatch.setattr(Client, "_parse_header_lines", staticmethod(counted_parse))
    url = nats_server.url("mode=core")
    fast, connection = _received(url, mode)
    assert connection._fast
    assert calls == {"send": 0, "parse": 0}  # the adapter client's own header code
    monkeypatch.setattr(_hooks, "instance_problem", lambda nc: "changed state")
    slow, connection = _received(url, mode)
    assert isinstance(connection, AdapterClient)
    assert not connection._fast
    if mode is ContentMode.BINARY:  # ce- headers: nats-py's code wrote and read them
        assert calls == {"send": 1, "parse": 1}
    assert slow.attributes() | {"id": "", "time": ""} == fast.attributes() | {"id": "", "time": ""}
    assert slow.data == fast.data


def _only_nats_py_clients(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Every connection the test opens is nats-py's own Client (the public path)."""
    made: list[type] = []
    new_client = _hooks.new_client

    def recording() -> tuple[Client, str | None]:
        nc, problem = new_client()
        made.append(type(nc))
        return nc, problem

    monkeypatch.setattr(_hooks, "new_client", recording)
    monkeypatch.setattr("eventbus_nats._connect.new_client", recording)
    yield
    assert all(kind is Client for kind in made), made


class TestCoreConformanceOnPublicPaths(AdapterConformance):
    @pytest.fixture(autouse=True)
    def public_paths(
        self, reshaped_nats_py: None, monkeypatch: pytest.MonkeyPatch
    ) -> Iterator[None]:
        yield from _only_nats_py_clients(monkeypatch)

    @pytest.fixture
    def bus_url(self, nats_server: NatsServer) -> str:
        return nats_server.url("mode=core")


class TestJetStreamConformanceOnPublicPaths(AdapterConformance):
    short_ack_wait = 1.0

    @pytest.fixture(autouse=True)
    def public_paths(
        self, reshaped_nats_py: None, monkeypatch: pytest.MonkeyPatch
    ) -> Iterator[None]:
        yield from _only_nats_py_clients(monkeypatch)

    @pytest.fixture
    def bus_url(self, nats_server: NatsServer) -> str:
        return nats_server.url()
