"""Request-reply across languages over core NATS: a Go service built on sdk-go answers an
eventbus requester, and an eventbus responder answers a Go requester, each side reading and
setting only the documented attributes (``replyto``, ``correlationid``, ``causationid``,
``expirytime``). The results feed docs/interop.md (matrix.RPC_ROWS)."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import pytest
from interop_lib import Helper, Wire, wire_of
from matrix import RPC_RESULTS, RPC_ROWS, RpcRow
from nats_launcher import NatsServer

from eventbus import Event, EventBus
from eventbus._rpc import CAUSATION_ID, CORRELATION_ID, EXPIRY_TIME, REPLY_TO


def _value(wire: Wire, name: str) -> str | None:
    entry = wire["attributes"].get(name)
    return None if entry is None else str(entry["value"])


async def _eventbus_asks_go(go: Helper, nats: NatsServer, kind: str) -> list[str]:
    _, box = go.start(
        {"op": "respond", "proto": "nats", "url": nats.url(), "address": kind, "timeout": 30}
    )
    ready = await asyncio.to_thread(go.wait, box, 30)
    assert ready.get("ready"), ready
    request: Event[Any] = Event(type=kind, source="/interop/python", data={"q": 1})
    async with EventBus(nats.url("mode=core")) as bus:
        reply = await bus.request(request, timeout=20)
    seen = await asyncio.to_thread(go.wait, box, 30)
    assert "event" in seen, seen
    problems = []
    if reply.extensions.get(CAUSATION_ID) != request.id:
        problems.append(f"reply causationid {reply.extensions.get(CAUSATION_ID)!r}")
    if reply.extensions.get(CORRELATION_ID) != request.id:
        problems.append(f"reply correlationid {reply.extensions.get(CORRELATION_ID)!r}")
    if reply.data != {"answered": request.id}:
        problems.append(f"reply data {reply.data!r}")
    asked = seen["event"]
    if _value(asked, "id") != request.id or _value(asked, CORRELATION_ID) != request.id:
        problems.append(f"the Go side read id/correlationid {asked['attributes']}")
    if not (_value(asked, REPLY_TO) or "").startswith("_INBOX."):
        problems.append(f"the Go side read replyto {_value(asked, REPLY_TO)!r}")
    if _value(asked, EXPIRY_TIME) is None:
        problems.append("the Go side read no expirytime")
    return problems


async def _go_asks_eventbus(go: Helper, nats: NatsServer, kind: str) -> list[str]:
    handled: list[Event[Any]] = []
    async with EventBus(nats.url("mode=core")) as bus:

        async def answer(event: Event[Any]) -> Event[Any]:
            handled.append(event)
            return Event(type=f"{kind}.reply", source="/interop/python", data={"got": event.data})

        await bus.subscribe(kind, answer)
        request: Event[Any] = Event(type=kind, source="/interop/go", data={"q": 2})
        got = await asyncio.to_thread(
            go.request,
            {
                "op": "request",
                "proto": "nats",
                "url": nats.url(),
                "address": kind,
                "event": wire_of(request),
                "timeout": 20,
            },
            30,
        )
    assert "event" in got, got
    reply = got["event"]
    problems = []
    if _value(reply, CAUSATION_ID) != request.id:
        problems.append(f"reply causationid {_value(reply, CAUSATION_ID)!r}")
    if _value(reply, CORRELATION_ID) != request.id:
        problems.append(f"reply correlationid {_value(reply, CORRELATION_ID)!r}")
    for name in (REPLY_TO, EXPIRY_TIME):
        if _value(reply, name) is not None:
            problems.append(f"the reply carries {name}")
    if [e.id for e in handled] != [request.id] or handled[0].data != {"q": 2}:
        problems.append(f"eventbus handled {[(e.id, e.data) for e in handled]}")
    if not str(handled[0].extensions.get(REPLY_TO, "")).startswith("_INBOX."):
        problems.append(f"eventbus read replyto {handled[0].extensions.get(REPLY_TO)!r}")
    return problems


@pytest.mark.parametrize("row", RPC_ROWS, ids=lambda row: row.key)
async def test_request_reply(row: RpcRow, go_helper: Helper, interop_nats: NatsServer) -> None:
    kind = f"dev.eventbus.rpc{uuid.uuid4().hex[:8]}.ask"
    run = _eventbus_asks_go if row.requester == "eventbus" else _go_asks_eventbus
    try:
        problems = await run(go_helper, interop_nats, kind)
    except Exception as exc:  # recorded as the row's result
        problems = [f"{type(exc).__name__}: {exc}"]
    RPC_RESULTS[row.key] = "; ".join(problems)
    assert not problems, problems
