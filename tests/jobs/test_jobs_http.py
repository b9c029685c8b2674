"""The jobs HTTP front (JobsApp) over a real uvicorn server, driven by a real httpx client."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn

from eventbus import ConfigurationError, Event, EventBus, Jobs, JobsApp, SqliteJobStore, current_job


async def _until(predicate: Any, timeout: float = 10.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not predicate():
        assert asyncio.get_running_loop().time() < deadline, "timed out"
        await asyncio.sleep(0.01)


@pytest.fixture
async def served(tmp_path: Path) -> AsyncIterator[tuple[httpx.AsyncClient, Jobs, dict[str, Any]]]:
    kind = f"http.t{uuid.uuid4().hex[:8]}.report"
    gates: dict[str, Any] = {"release": asyncio.Event(), "calls": [], "kind": kind}
    async with EventBus("memory://") as bus:
        store = SqliteJobStore(tmp_path / "jobs.db")
        jobs = Jobs(bus, store, max_attempts=1)

        @jobs.worker(kind)
        async def report(event: Event[dict[str, Any]]) -> dict[str, Any]:
            gates["calls"].append(current_job().id)
            await gates["release"].wait()
            assert event.data is not None
            if event.data.get("fail"):
                raise ValueError("cannot build that report")
            return {"rows": event.data["rows"]}

        app = JobsApp(jobs, types=[kind, f"{kind}.other"], retry_after=2)
        config = uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning", lifespan="on")
        server = uvicorn.Server(config)
        task = asyncio.create_task(server.serve())
        await _until(lambda: server.started)
        port = server.servers[0].sockets[0].getsockname()[1]
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as client:
            yield client, jobs, gates
        server.should_exit = True
        await task
        await store.close()


async def test_post_202_location_then_status_then_303_to_the_result(served: Any) -> None:
    client, jobs, gates = served
    kind = gates["kind"]
    posted = await client.post(f"/jobs/{kind}", json={"rows": 3})
    assert posted.status_code == 202
    job_id = posted.json()["id"]
    assert posted.headers["location"] == f"/jobs/{job_id}"
    assert posted.headers["retry-after"] == "2"
    assert posted.json()["state"] == "pending"
    await _until(lambda: bool(gates["calls"]))
    running = await client.get(posted.headers["location"])
    assert running.status_code == 200
    assert running.json()["state"] == "running" and running.headers["retry-after"] == "2"
    early = await client.get(f"/jobs/{job_id}/result")
    assert early.status_code == 409 and "running" in early.json()["error"]
    gates["release"].set()
    await jobs.wait(job_id, timeout=10)
    done = await client.get(f"/jobs/{job_id}")
    assert done.status_code == 303
    assert done.headers["location"] == f"/jobs/{job_id}/result"
    assert done.json()["state"] == "succeeded"
    result = await client.get(f"/jobs/{job_id}", follow_redirects=True)
    assert result.status_code == 200 and result.json() == {"rows": 3}
    listed = await client.get("/jobs", params={"state": "succeeded"})
    assert [j["id"] for j in listed.json()] == [job_id]


async def test_idempotency_key_header_returns_the_same_job(served: Any) -> None:
    client, _, gates = served
    kind = gates["kind"]
    headers = {"Idempotency-Key": "report-2026-12"}
    first = await client.post(f"/jobs/{kind}", json={"rows": 1}, headers=headers)
    again = await client.post(f"/jobs/{kind}", json={"rows": 1}, headers=headers)
    assert first.status_code == again.status_code == 202
    assert again.headers["location"] == first.headers["location"]
    other = await client.post(f"/jobs/{kind}.other", json={}, headers=headers)
    assert other.status_code == 409 and "report-2026-12" in other.json()["error"]
    gates["release"].set()
    await asyncio.sleep(0.1)
    assert len(gates["calls"]) == 1


async def test_failed_and_cancelled_jobs_show_their_status(served: Any) -> None:
    client, jobs, gates = served
    kind = gates["kind"]
    failing = (await client.post(f"/jobs/{kind}", json={"fail": True})).json()["id"]
    gates["release"].set()
    await jobs.wait(failing, timeout=10)
    shown = await client.get(f"/jobs/{failing}")
    assert shown.status_code == 200 and "retry-after" not in shown.headers
    assert shown.json()["state"] == "failed"
    assert shown.json()["error"] == {"type": "ValueError", "message": "cannot build that report"}
    assert (await client.get(f"/jobs/{failing}/result")).status_code == 409
    gates["release"].clear()
    waiting = (await client.post(f"/jobs/{kind}", json={"rows": 1})).json()["id"]
    cancelled = await client.delete(f"/jobs/{waiting}")
    assert cancelled.status_code == 200 and cancelled.json()["state"] == "cancelled"
    assert (await client.delete(f"/jobs/{waiting}")).status_code == 409
    gates["release"].set()


async def test_bad_requests_get_clear_errors(served: Any) -> None:
    client, _, gates = served
    kind = gates["kind"]
    assert (await client.get("/jobs/nope")).status_code == 404
    assert (await client.delete("/jobs/nope")).status_code == 404
    assert (await client.get("/nothing")).status_code == 404
    assert (await client.post("/jobs/not.offered", json={})).status_code == 404
    bad = await client.post(
        f"/jobs/{kind}", content=b"{not json", headers={"content-type": "application/json"}
    )
    assert bad.status_code == 400 and "JSON" in bad.json()["error"]
    text = await client.post(f"/jobs/{kind}", content=b"x", headers={"content-type": "text/plain"})
    assert text.status_code == 400
    deadline = await client.post(f"/jobs/{kind}", json={}, params={"deadline": "-3"})
    assert deadline.status_code == 400 and "deadline" in deadline.json()["error"]
    put = await client.put(f"/jobs/{kind}", json={})
    assert put.status_code == 405 and "GET" in put.headers["allow"]
    big = await client.post(f"/jobs/{kind}", content=b"[" + b"1," * 600_000 + b"1]")
    assert big.status_code == 413


async def test_app_arguments_are_checked(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="Jobs"):
        JobsApp(object())  # type: ignore[arg-type]
    async with EventBus("memory://") as bus:
        store = SqliteJobStore(tmp_path / "j.db")
        with pytest.raises(ConfigurationError, match="retry_after"):
            JobsApp(Jobs(bus, store), retry_after=-1)
        await store.close()
