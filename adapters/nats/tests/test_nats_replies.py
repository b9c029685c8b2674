"""Request-reply on NATS, core and JetStream: the requester's inbox subscription is its only
trace on the server, and closing the listener removes it.

Checked on a server with its monitoring port: while the listener is open the server lists the
inbox subscription (and a message sent there reaches the listener); once ``close()`` returns
(the adapter still connected) no connection subscribes to the inbox any more. On JetStream the
listener also makes no stream consumer.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import nats
import pytest
from eventbus_nats import NatsAdapter
from nats_launcher import NatsServer, free_port

from eventbus.adapter import Message
from eventbus.testing import run, wait_until


async def _consumers(nc: Any) -> int:
    """How many consumers the server's streams have (0 without JetStream)."""
    return sum(s.state.consumer_count for s in await nc.jetstream().streams_info())


async def _subscriptions(monitor: str) -> set[str]:
    """Every subject some client subscribes to (the server's /connz)."""
    async with httpx.AsyncClient() as http:
        response = await http.get(f"{monitor}/connz", params={"subs": "1", "limit": "1000"})
    response.raise_for_status()
    return {s for c in response.json()["connections"] for s in c.get("subscriptions_list", [])}


@pytest.mark.parametrize("query", ["", "mode=core"], ids=["jetstream", "core"])
def test_closing_the_listener_unsubscribes_its_inbox(
    start_server: Callable[..., NatsServer], query: str
) -> None:
    port = free_port()
    server = start_server(config=f'http: "127.0.0.1:{port}"')
    monitor = f"http://127.0.0.1:{port}"

    async def scenario() -> None:
        probe = await nats.connect(server.url())
        adapter = NatsAdapter.from_url(server.url(query))
        await adapter.connect()
        try:
            before = await _consumers(probe)
            got: list[Message] = []
            listener = await adapter.listen_replies(got.append, lambda token: None)
            inbox = listener.reply_to("7")
            wildcard = inbox.rpartition(".")[0] + ".*"
            assert wildcard in await _subscriptions(monitor)
            assert await _consumers(probe) == before  # no consumer for the replies
            await probe.publish(inbox, b"reply")
            await wait_until(lambda: len(got) == 1, 10, "the reply on the inbox")
            assert got[0].body == b"reply"
            await listener.close()
            # Once close() returned, the server has dropped the subscription.
            assert wildcard not in await _subscriptions(monitor)
            assert await _consumers(probe) == before
        finally:
            await adapter.close()
            await probe.close()

    run(scenario())
