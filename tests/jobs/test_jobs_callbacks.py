"""Job completion callbacks delivered as signed webhooks to a real HTTP receiver (uvicorn)."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import uvicorn

from eventbus import Event, EventBus, Jobs, SqliteJobStore, WebhookCallbacks
from eventbus.webhooks import DestinationGuard, WebhookSecret, verify

SECRET = WebhookSecret.generate()


async def _until(predicate: Any, timeout: float = 15.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not predicate():
        assert asyncio.get_running_loop().time() < deadline, "timed out"
        await asyncio.sleep(0.01)


class Receiver:
    """An ASGI app: ``/flaky`` answers 500 once then 200, ``/gone`` 410, ``/ok`` 200."""

    def __init__(self) -> None:
        self.requests: list[tuple[str, dict[str, str], bytes]] = []

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        headers = {k.decode(): v.decode() for k, v in scope["headers"]}
        path = scope["path"]
        seen = sum(1 for p, _, _ in self.requests if p == path)
        self.requests.append((path, headers, body))
        status = {"/gone": 410}.get(path, 500 if path == "/flaky" and seen == 0 else 200)
        await send({"type": "http.response.start", "status": status, "headers": []})
        await send({"type": "http.response.body", "body": b""})


@pytest.fixture
async def receiver() -> AsyncIterator[tuple[Receiver, str]]:
    app = Receiver()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning"))
    task = asyncio.create_task(server.serve())
    await _until(lambda: server.started)
    port = server.servers[0].sockets[0].getsockname()[1]
    yield app, f"http://127.0.0.1:{port}"
    server.should_exit = True
    await task


async def test_completions_reach_each_jobs_callback_url_signed(
    receiver: tuple[Receiver, str], tmp_path: Path
) -> None:
    app, base = receiver
    kind = f"cb.t{uuid.uuid4().hex[:8]}.work"
    async with EventBus("memory://") as bus:
        store = SqliteJobStore(tmp_path / "j.db")
        jobs = Jobs(bus, store)

        @jobs.worker(kind)
        async def work(event: Event[int]) -> int:
            assert event.data is not None
            return event.data + 1

        guard = DestinationGuard(allow=["127.0.0.0/8"])
        async with WebhookCallbacks(jobs, SECRET, guard=guard, schedule=(0.05, 0.05)) as callbacks:
            flaky = await jobs.submit(
                Event(type=kind, source="/c", data=1), callback=f"{base}/flaky"
            )
            gone = await jobs.submit(Event(type=kind, source="/c", data=2), callback=f"{base}/gone")
            plain = await jobs.submit(Event(type=kind, source="/c", data=3))
            for job in (flaky, gone, plain):
                await jobs.wait(job.id, timeout=10)
            await _until(lambda: callbacks.delivered == 1 and callbacks.gone == 1)
            await asyncio.sleep(0.2)
        await store.close()
    paths = [p for p, _, _ in app.requests]
    assert sorted(paths) == ["/flaky", "/flaky", "/gone"]  # retried once; 410 not retried
    headers, body = [(h, b) for p, h, b in app.requests if p == "/flaky"][-1]  # the 200 one
    verified = verify(headers, body, SECRET)
    assert verified is not None
    assert headers["ce-type"] == "io.eventbus.job.completed"
    assert headers["ce-jobid"] == flaky.id and headers["ce-jobcallback"] == f"{base}/flaky"
    assert b'"state":"succeeded"' in body and b'"result":2' in body


async def test_a_private_callback_address_is_refused_and_dead_lettered(tmp_path: Path) -> None:
    kind = f"cb.t{uuid.uuid4().hex[:8]}.work"
    dead: list[Event[Any]] = []
    async with EventBus("memory://") as bus:

        async def record(event: Event[Any]) -> None:
            dead.append(event)

        bus.subscribe("io.eventbus.job.completed.dlq", record)
        store = SqliteJobStore(tmp_path / "j.db")
        jobs = Jobs(bus, store)
        jobs.worker(kind, _noop)
        async with WebhookCallbacks(jobs, SECRET, schedule=(0.01,)) as callbacks:
            job = await jobs.submit(Event(type=kind, source="/c"), callback="http://127.0.0.1:9/x")
            await jobs.wait(job.id, timeout=10)
            await _until(lambda: len(dead) == 1)
            assert callbacks.delivered == 0
        await store.close()
    assert "loopback" in str(dead[0].extensions["deadlettererror"])


async def _noop(event: Event[Any]) -> None:
    return None
