"""Request-reply scenarios of the conformance suite (mixed into ``AdapterConformance``).

Every adapter runs them: natively where it implements ``ReplyingAdapter``, through the bus's
reply channel where it does not. A requester bus and a responder bus share the broker.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable
from datetime import UTC, datetime, timedelta
from typing import Any

import msgspec
import pytest

from eventbus._adapter._contract import Capabilities, Semantic, Support
from eventbus._bus._eventbus import EventBus
from eventbus._errors import BusClosedError
from eventbus._rpc import (
    CAUSATION_ID,
    CORRELATION_ID,
    ERROR_MESSAGE,
    EXPIRY_TIME,
    REPLY_TO,
    NoRespondersError,
    RemoteHandlerError,
    RequestTimeoutError,
)
from eventbus._rpc._attributes import ACK_TYPE
from eventbus._wire._event import Event

__all__ = ["RequestReplyChecks"]


class Number(msgspec.Struct, frozen=True):
    n: int


def _run(coro: Any, timeout: float = 90.0) -> Any:
    return asyncio.run(asyncio.wait_for(coro, timeout))


async def _until(predicate: Any, what: str, timeout: float = 20.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not predicate():
        if loop.time() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.005)


class RequestReplyChecks:
    """``EventBus.request`` against a responder on another bus of the same broker."""

    #: Run the scenarios through the bus's emulation (a reply channel) on an adapter without
    #: request-reply (set where that emulation is proven on the broker).
    emulated_request_reply: bool = False
    #: Requests in flight at once in the concurrency scenario (lowered only where the test
    #: broker's throughput, not the adapter, bounds how many finish within the timeout).
    concurrent_requests: int = 1000

    def require_request_reply(self, capabilities: Capabilities) -> None:
        if not capabilities.has(Semantic.REQUEST_REPLY) and not self.emulated_request_reply:
            pytest.skip("adapter lacks request-reply (and its emulation is not checked here)")

    async def started(self, *subs: Awaitable[Any]) -> None:  # overridden by AdapterConformance
        for sub in subs:
            await sub

    def test_request_reply_roundtrip(
        self, bus_url: str, prefix: str, capabilities: Capabilities
    ) -> None:
        self.require_request_reply(capabilities)
        seen: list[Event[Any]] = []

        async def scenario() -> Event[Any]:
            async with EventBus(bus_url) as server, EventBus(bus_url) as client:

                async def double(event: Event[Number]) -> Event[Any]:
                    seen.append(event)
                    assert event.data is not None
                    return Event(
                        type=f"{prefix}.doubled", source="/s", data={"n": event.data.n * 2}
                    )

                await self.started(server.subscribe(f"{prefix}.double", double))
                request: Event[Any] = Event(type=f"{prefix}.double", source="/c", data={"n": 21})
                reply = await client.request(request, timeout=30, reply_type=Number)
                assert reply.data == Number(42)
                assert reply.extensions[CAUSATION_ID] == request.id
                assert reply.extensions[CORRELATION_ID] == request.id
                assert REPLY_TO not in reply.extensions
                assert client.request_stats.replied == 1
                return request

        request = _run(scenario())
        (got,) = seen
        assert got.id == request.id
        assert isinstance(got.extensions[REPLY_TO], str) and got.extensions[REPLY_TO]
        assert got.extensions[CORRELATION_ID] == request.id
        assert EXPIRY_TIME in got.extensions

    def test_request_keeps_callers_correlation_id(
        self, bus_url: str, prefix: str, capabilities: Capabilities
    ) -> None:
        self.require_request_reply(capabilities)

        async def scenario() -> None:
            async with EventBus(bus_url) as server, EventBus(bus_url) as client:

                async def ack(event: Event[Any]) -> None:
                    return None

                await self.started(server.subscribe(f"{prefix}.ack", ack))
                request: Event[Any] = Event(
                    type=f"{prefix}.ack", source="/c", extensions={CORRELATION_ID: "order-7"}
                )
                reply = await client.request(request, timeout=30)
                assert reply.type == ACK_TYPE  # the handler returned nothing: an empty ack
                assert reply.data is None
                assert reply.extensions[CORRELATION_ID] == "order-7"
                assert reply.extensions[CAUSATION_ID] == request.id

        _run(scenario())

    def test_many_concurrent_requests_each_get_their_reply(
        self, bus_url: str, prefix: str, capabilities: Capabilities
    ) -> None:
        self.require_request_reply(capabilities)
        count = self.concurrent_requests

        async def scenario() -> None:
            async with EventBus(bus_url) as server, EventBus(bus_url) as client:

                async def double(event: Event[Number]) -> Event[Any]:
                    assert event.data is not None
                    await asyncio.sleep(0)
                    return Event(
                        type=f"{prefix}.doubled", source="/s", data={"n": event.data.n * 2}
                    )

                await self.started(server.subscribe(f"{prefix}.double", double))
                replies = await asyncio.gather(
                    *(
                        client.request(
                            Event(type=f"{prefix}.double", source="/c", data={"n": i}),
                            timeout=60,
                            reply_type=Number,
                        )
                        for i in range(count)
                    )
                )
                assert [r.data for r in replies] == [Number(2 * i) for i in range(count)]
                assert client.request_stats.replied == count
                assert client.request_stats.late == 0

        _run(scenario(), 180)

    def test_handler_error_is_a_remote_handler_error(
        self, bus_url: str, prefix: str, capabilities: Capabilities
    ) -> None:
        self.require_request_reply(capabilities)

        async def scenario() -> None:
            calls: list[str] = []
            async with EventBus(bus_url) as server, EventBus(bus_url) as client:

                async def refuse(event: Event[Any]) -> Event[Any]:
                    calls.append(event.id)
                    raise LookupError("no such account: 17")

                await self.started(server.subscribe(f"{prefix}.refuse", refuse))
                request: Event[Any] = Event(type=f"{prefix}.refuse", source="/c")
                with pytest.raises(RemoteHandlerError) as info:
                    await client.request(request, timeout=30)
                assert info.value.error_type == "LookupError"
                assert info.value.error_message == "no such account: 17"
                assert info.value.reply.extensions[CAUSATION_ID] == request.id
                assert info.value.reply.extensions[ERROR_MESSAGE] == "no such account: 17"
                assert calls == [request.id]  # answered once: no retry of a request

        _run(scenario())

    def test_timeout_then_late_reply_is_dropped_and_counted(
        self, bus_url: str, prefix: str, capabilities: Capabilities
    ) -> None:
        self.require_request_reply(capabilities)

        async def scenario() -> None:
            release = asyncio.Event()
            async with EventBus(bus_url) as server, EventBus(bus_url) as client:

                async def slow(event: Event[Any]) -> Event[Any]:
                    await release.wait()
                    return Event(type=f"{prefix}.late", source="/s")

                await self.started(server.subscribe(f"{prefix}.slow", slow))
                # Long enough for the request to reach the handler before its expirytime
                # (stamped before the send; a first send on Service Bus attaches a link).
                with pytest.raises(RequestTimeoutError):
                    await client.request(Event(type=f"{prefix}.slow", source="/c"), timeout=2.0)
                assert client.request_stats.timed_out == 1
                release.set()
                await _until(lambda: client.request_stats.late == 1, "the late reply")
                assert client.request_stats.replied == 0

        _run(scenario())

    def test_no_responders(self, bus_url: str, prefix: str, capabilities: Capabilities) -> None:
        """NATIVE request-reply tells "no responders" at once (long before the timeout);
        elsewhere a request nobody receives times out."""
        self.require_request_reply(capabilities)
        native = capabilities.support(Semantic.REQUEST_REPLY) is Support.NATIVE
        # A first token of its own: no stream or route another test made captures it.
        kind = f"nobody{uuid.uuid4().hex[:12]}.request"

        async def scenario() -> None:
            async with EventBus(bus_url) as client:
                request: Event[Any] = Event(type=kind, source="/c")
                if native:
                    with pytest.raises(NoRespondersError):
                        await client.request(request, timeout=600)  # the run() limit is 90 s
                    assert client.request_stats.no_responders == 1
                else:
                    with pytest.raises(RequestTimeoutError):
                        await client.request(request, timeout=0.5)

        _run(scenario())

    def test_close_fails_pending_requests(
        self, bus_url: str, prefix: str, capabilities: Capabilities
    ) -> None:
        self.require_request_reply(capabilities)

        async def scenario() -> None:
            arrived = asyncio.Event()
            release = asyncio.Event()
            async with EventBus(bus_url) as server:

                async def slow(event: Event[Any]) -> None:
                    arrived.set()
                    await release.wait()

                await self.started(server.subscribe(f"{prefix}.slow", slow))
                client = EventBus(bus_url)
                await client.open()
                waiting = [
                    asyncio.ensure_future(
                        client.request(Event(type=f"{prefix}.slow", source="/c"), timeout=600)
                    )
                    for _ in range(3)
                ]
                await arrived.wait()
                await client.close()
                for task in waiting:
                    with pytest.raises(BusClosedError):
                        await task
                assert client.request_stats.cancelled == 3
                release.set()
                with pytest.raises(BusClosedError):
                    await client.request(Event(type=f"{prefix}.slow", source="/c"), timeout=1)

        _run(scenario())

    def test_expired_request_is_dropped_unanswered(
        self, bus_url: str, prefix: str, capabilities: Capabilities
    ) -> None:
        self.require_request_reply(capabilities)

        async def scenario() -> None:
            handled: list[str] = []
            async with EventBus(bus_url) as server, EventBus(bus_url) as client:

                async def handler(event: Event[Any]) -> None:
                    handled.append(event.id)

                sub = server.subscribe(f"{prefix}.job", handler)
                await self.started(sub)
                past = datetime.now(UTC) - timedelta(seconds=5)
                gone: Event[Any] = Event(
                    type=f"{prefix}.job",
                    source="/c",
                    extensions={REPLY_TO: "nobody-listens", EXPIRY_TIME: past},
                )
                await client.publish(gone)
                # A live request after it: once it is answered, the expired one was seen.
                await client.request(Event(type=f"{prefix}.job", source="/c"), timeout=30)
                await _until(lambda: sub.stats.expired == 1, "the expired request")
                assert gone.id not in handled

        _run(scenario())
