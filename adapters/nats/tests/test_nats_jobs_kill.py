"""A job worker SIGKILLed in the middle of 100 jobs on JetStream: the jobs it held are
redelivered and retried by the next worker; every job ends ``succeeded`` exactly once (one
succeeded transition, one succeeded status event), none stays ``running``."""

from __future__ import annotations

import asyncio
import signal
import subprocess
import uuid
from collections import Counter
from pathlib import Path
from typing import Any

from jobs_procs import runs, start_worker
from nats_launcher import NatsServer

from eventbus import Event, EventBus, Jobs, JobState, SqliteJobStore
from eventbus.testing import run

N = 100
SCRIPT = Path(__file__).with_name("jobs_worker_proc.py")


def test_killed_worker_jobs_are_retried_and_succeed_once(
    nats_server: NatsServer, tmp_path: Path
) -> None:
    url = nats_server.url()
    tag = uuid.uuid4().hex[:8]
    kind, prefix = f"jobkill.t{tag}.work", f"jobkill.t{tag}.status"
    store_path, out = tmp_path / "jobs.db", tmp_path / "runs.txt"
    workers: list[subprocess.Popen[str]] = []

    async def scenario() -> dict[str, Any]:
        succeeded: Counter[str] = Counter()
        async with EventBus(url) as bus:
            store = SqliteJobStore(store_path)
            jobs = Jobs(bus, store, poll_interval=0.1, status_events=False)

            async def count(event: Event[Any]) -> None:
                succeeded[str(event.extensions["jobid"])] += 1

            await bus.subscribe(f"{prefix}.succeeded", count)
            workers.append(start_worker(SCRIPT, url, kind, store_path, out, prefix))
            submitted = await asyncio.gather(
                *(jobs.submit(Event(type=kind, source="/kill", data=n)) for n in range(N))
            )
            ids = [s.id for s in submitted]
            loop = asyncio.get_running_loop()
            deadline = loop.time() + 30
            # Kill mid-batch: after 30 runs, at a moment jobs are running (the worker takes
            # its jobs in batches, so right after a batch finishes none is).
            while len(runs(out)) < 30 or not await jobs.list(state=JobState.RUNNING, limit=1):
                assert loop.time() < deadline, "the first worker stalled"
                await asyncio.sleep(0.01)
            workers[0].send_signal(signal.SIGKILL)
            workers[0].wait(timeout=10)
            running_at_kill = {s.id for s in await jobs.list(state=JobState.RUNNING, limit=N)}
            states = Counter(s.state.value for s in await jobs.list(limit=N))
            assert running_at_kill, (
                f"the kill must hit jobs mid-run: {states}, {len(runs(out))} runs"
            )
            workers.append(start_worker(SCRIPT, url, kind, store_path, out, prefix))
            final = [await jobs.wait(i, timeout=60) for i in ids]
            deadline = loop.time() + 30
            while sum(succeeded.values()) < N:
                assert loop.time() < deadline, (
                    f"{N - sum(succeeded.values())} status events missing"
                )
                await asyncio.sleep(0.05)
            await asyncio.sleep(1.5)  # a redelivery that came late would show up here
            leftover = await jobs.list(state=JobState.RUNNING, limit=N)
            await store.close()
        return {
            "ids": ids,
            "final": final,
            "running_at_kill": running_at_kill,
            "succeeded": succeeded,
            "leftover": leftover,
        }

    try:
        result = run(scenario(), timeout=180)
    finally:
        for process in workers:
            if process.poll() is None:
                process.kill()
                process.wait(timeout=10)
            if process.stdout is not None:
                process.stdout.close()
    ids, final = result["ids"], result["final"]
    assert [s.state for s in final] == [JobState.SUCCEEDED] * N
    assert result["leftover"] == []
    assert result["succeeded"] == Counter({i: 1 for i in ids})  # one succeeded event per job
    for status in final:
        if status.id in result["running_at_kill"]:
            assert status.attempts >= 2, f"job {status.id} was running at the kill: retried"
    done = runs(out)
    ran = Counter(i for i, _ in done)
    assert set(ran) == set(ids)  # every job's work was done
    repeated = sum(n - 1 for n in ran.values())
    # Only work the killed worker did without storing its outcome runs twice: at most its
    # in-flight window (max_in_flight 8).
    assert repeated <= 8, f"{repeated} repeated runs"
    print(
        f"running at the kill: {len(result['running_at_kill'])}; repeated runs: {repeated}; "
        f"max attempts: {max(s.attempts for s in final)}"
    )
