"""Durable jobs on memory:// with the SQLite store: the state machine, end to end."""

from __future__ import annotations

import asyncio
import uuid
from collections import Counter, defaultdict
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import msgspec
import pytest

from eventbus import (
    ConfigurationError,
    ConsumeContext,
    Event,
    EventBus,
    EventBusError,
    JobCancelledError,
    JobConflictError,
    JobNotFoundError,
    Jobs,
    JobState,
    JobStatus,
    JobTimeoutError,
    Middleware,
    RejectedEventError,
    RetryPolicy,
    SqliteJobStore,
    current_job,
)
from eventbus._jobs._jobs import cancel_step
from eventbus._jobs._model import utc_now


class Resize(msgspec.Struct, frozen=True):
    width: int


@pytest.fixture
def kind() -> str:
    return f"jobs.t{uuid.uuid4().hex[:8]}.resize"


@pytest.fixture
async def setup(tmp_path: Path) -> Any:
    bus = EventBus("memory://")
    store = SqliteJobStore(tmp_path / "jobs.db")
    jobs = Jobs(bus, store, max_attempts=3, events_prefix="test.job")
    seen: list[Event[Any]] = []

    async def record(event: Event[Any]) -> None:
        seen.append(event)

    bus.subscribe("test.job.>", record, dead_letter_channel=False)
    async with bus:
        yield bus, jobs, seen
    await store.close()


async def test_submit_returns_pending_then_worker_succeeds_with_progress(
    setup: Any, kind: str
) -> None:
    _bus, jobs, seen = setup
    gate = asyncio.Event()

    @jobs.worker(kind)
    async def resize(event: Event[Resize]) -> dict[str, int]:
        assert event.data is not None
        job = current_job()
        await job.progress(0.5, "half way")
        await gate.wait()
        return {"width": event.data.width, "attempt": job.attempt}

    await asyncio.sleep(0.05)
    submitted = await jobs.submit(Event(type=kind, source="/c", data={"width": 640}))
    assert submitted.state is JobState.PENDING
    await _until(lambda: any(e.type == "test.job.progress" for e in seen))
    running = await jobs.status(submitted.id)
    assert running.state is JobState.RUNNING and running.progress == 0.5
    assert running.message == "half way" and running.attempts == 1
    gate.set()
    done = await jobs.wait(submitted.id, timeout=10)
    assert done.state is JobState.SUCCEEDED
    assert done.result == {"width": 640, "attempt": 1}
    assert done.created <= done.started <= done.finished  # type: ignore[operator]
    await asyncio.sleep(0.05)
    mine = [e for e in seen if e.extensions["jobid"] == submitted.id]
    assert [e.type for e in mine] == [
        "test.job.pending",
        "test.job.running",
        "test.job.progress",
        "test.job.succeeded",
    ]
    assert [int(e.extensions["jobversion"]) for e in mine] == [1, 2, 3, 4]  # type: ignore[call-overload]
    assert mine[-1].data["result"] == {"width": 640, "attempt": 1}
    assert mine[-1].subject == submitted.id and mine[-1].extensions["jobtype"] == kind


async def test_same_key_returns_the_same_job_and_runs_it_once(setup: Any, kind: str) -> None:
    _bus, jobs, _ = setup
    calls: list[str] = []

    @jobs.worker(kind)
    async def work(event: Event[Any]) -> None:
        calls.append(event.extensions["jobid"])  # type: ignore[arg-type]

    await asyncio.sleep(0.05)
    first = await jobs.submit(Event(type=kind, source="/c"), key="order-7")
    again = await jobs.submit(Event(type=kind, source="/c"), key="order-7")
    assert again.id == first.id
    assert (await jobs.wait(first.id, timeout=10)).state is JobState.SUCCEEDED
    after = await jobs.submit(Event(type=kind, source="/c"), key="order-7")
    assert after.id == first.id and after.state is JobState.SUCCEEDED
    with pytest.raises(JobConflictError, match="order-7"):
        await jobs.submit(Event(type=kind + "x", source="/c"), key="order-7")
    await asyncio.sleep(0.05)
    assert calls == [first.id]
    assert jobs.stats.duplicates == 2


async def test_a_failed_attempt_is_retried_then_succeeds(setup: Any, kind: str) -> None:
    _, jobs, seen = setup
    attempts: list[int] = []

    @jobs.worker(kind)
    async def flaky(event: Event[Any]) -> str:
        attempts.append(current_job().attempt)
        if len(attempts) == 1:
            raise OSError("disk full")
        return "ok"

    await asyncio.sleep(0.05)
    job = await jobs.submit(Event(type=kind, source="/c"))
    done = await jobs.wait(job.id, timeout=10)
    assert done.state is JobState.SUCCEEDED and done.result == "ok"
    assert attempts == [1, 2] and done.attempts == 2
    await _until(lambda: any(e.type == "test.job.succeeded" for e in seen))
    states = [e.extensions["jobstate"] for e in seen if e.extensions["jobid"] == job.id]
    assert states == ["pending", "running", "pending", "running", "succeeded"]
    retry = [e for e in seen if e.extensions["jobid"] == job.id][2]
    assert retry.data["error"] == {"type": "OSError", "message": "disk full"}


async def test_the_last_failed_attempt_fails_the_job(setup: Any, kind: str) -> None:
    _, jobs, _ = setup
    calls = Counter[str]()

    @jobs.worker(kind)
    async def broken(event: Event[Any]) -> None:
        calls[event.id] += 1
        raise ValueError(f"bad input {calls[event.id]}")

    await asyncio.sleep(0.05)
    job = await jobs.submit(Event(type=kind, source="/c"))
    done = await jobs.wait(job.id, timeout=10)
    assert done.state is JobState.FAILED
    assert done.error is not None and done.error.type == "ValueError"
    assert done.error.message == "bad input 3"
    assert done.attempts == 3 and sum(calls.values()) == 3


async def test_a_rejected_job_fails_at_once(setup: Any, kind: str) -> None:
    _, jobs, _ = setup
    calls: list[int] = []

    @jobs.worker(kind)
    async def refuse(event: Event[Any]) -> None:
        calls.append(1)
        raise RejectedEventError("no such image", reason="invalid")

    await asyncio.sleep(0.05)
    job = await jobs.submit(Event(type=kind, source="/c"))
    done = await jobs.wait(job.id, timeout=10)
    assert done.state is JobState.FAILED and done.attempts == 1 and calls == [1]


async def testcancel_step_a_running_job_stops_it_at_its_next_progress(
    setup: Any, kind: str
) -> None:
    _, jobs, _seen = setup
    started = asyncio.Event()
    stopped: list[str] = []

    @jobs.worker(kind)
    async def long(event: Event[Any]) -> None:
        started.set()
        try:
            while True:
                await current_job().progress(None, "working")
                await asyncio.sleep(0.01)
        except JobCancelledError:
            stopped.append("cancelled")
            raise

    await asyncio.sleep(0.05)
    job = await jobs.submit(Event(type=kind, source="/c"))
    await started.wait()
    cancelled = await jobs.cancel(job.id)
    assert cancelled.state is JobState.CANCELLED
    await asyncio.sleep(0.1)
    assert stopped == ["cancelled"]
    final = await jobs.status(job.id)
    assert final.state is JobState.CANCELLED and final.version == cancelled.version
    assert (await jobs.cancel(job.id)).version == cancelled.version  # final: unchanged


async def test_acancel_stepled_pending_job_is_never_run(setup: Any, kind: str) -> None:
    _, jobs, _ = setup
    first_started, release = asyncio.Event(), asyncio.Event()
    ran: list[str] = []

    @jobs.worker(kind, max_in_flight=1)
    async def one_at_a_time(event: Event[Any]) -> None:
        ran.append(current_job().id)
        first_started.set()
        await release.wait()

    await asyncio.sleep(0.05)
    first = await jobs.submit(Event(type=kind, source="/c"))
    await first_started.wait()
    second = await jobs.submit(Event(type=kind, source="/c"))
    assert (await jobs.cancel(second.id)).state is JobState.CANCELLED
    release.set()
    assert (await jobs.wait(first.id, timeout=10)).state is JobState.SUCCEEDED
    await asyncio.sleep(0.1)
    assert ran == [first.id]
    assert jobs.stats.skipped == 1


async def test_a_job_past_its_deadline_expires(setup: Any, kind: str) -> None:
    _, jobs, _ = setup
    interrupted: list[bool] = []
    started = asyncio.Event()

    @jobs.worker(kind)
    async def slow(event: Event[Any]) -> None:
        started.set()
        try:
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            interrupted.append(True)
            raise

    await asyncio.sleep(0.05)
    job = await jobs.submit(Event(type=kind, source="/c"), deadline=2.0)
    assert job.deadline is not None
    await started.wait()  # (a worker starting after the deadline would expire it unrun)
    done = await jobs.wait(job.id, timeout=10)
    assert done.state is JobState.EXPIRED
    await _until(lambda: interrupted == [True])


async def test_a_job_nobody_runs_expires_when_read_after_its_deadline(setup: Any) -> None:
    _, jobs, _ = setup
    job = await jobs.submit(
        Event(type="jobs.nobody.listens", source="/c"), deadline=timedelta(seconds=0.2)
    )
    assert (await jobs.status(job.id)).state is JobState.PENDING
    done = await jobs.wait(job.id, timeout=10)
    assert done.state is JobState.EXPIRED


async def test_wait_times_out_with_a_typed_error(setup: Any) -> None:
    _, jobs, _ = setup
    job = await jobs.submit(Event(type="jobs.nobody.listens", source="/c"))
    with pytest.raises(JobTimeoutError) as info:
        await jobs.wait(job.id, timeout=0.2)
    assert isinstance(info.value, TimeoutError) and isinstance(info.value, EventBusError)
    assert info.value.job_id == job.id
    assert isinstance(info.value.status, JobStatus)
    assert info.value.status.state is JobState.PENDING
    with pytest.raises(JobNotFoundError):
        await jobs.status("no-such-job")
    with pytest.raises(LookupError):
        await jobs.cancel("no-such-job")


async def test_a_final_job_redelivered_is_acked_without_running(setup: Any, kind: str) -> None:
    bus, jobs, _ = setup
    calls: list[str] = []

    @jobs.worker(kind)
    async def work(event: Event[Any]) -> int:
        calls.append(event.id)
        return len(calls)

    await asyncio.sleep(0.05)
    event: Event[Any] = Event(type=kind, source="/c")
    job = await jobs.submit(event)
    done = await jobs.wait(job.id, timeout=10)
    # the job event again (a new event id: memory:// drops a copy with the same source + id)
    await bus.publish(Event(type=kind, source="/c", extensions={"jobid": job.id}))
    await _until(lambda: jobs.stats.skipped == 1)
    assert calls == [event.id]
    after = await jobs.status(job.id)
    assert after.state is JobState.SUCCEEDED and after.version == done.version
    assert after.result == 1


async def test_outcome_is_stored_before_the_event_is_acked(setup: Any, kind: str) -> None:
    """The bus acks when the handler chain returns: by then the outcome must be in the store
    (else a worker killed right after the ack leaves the job running for ever)."""
    _, jobs, _ = setup
    states: list[str] = []

    class AfterHandler(Middleware):
        async def on_consume(
            self, event: Event[Any], context: ConsumeContext, call_next: Any
        ) -> None:
            try:
                await call_next(event, context)
            finally:
                status = await jobs.store.get(event.extensions["jobid"])
                states.append(status.state.value)

    count = 0

    @jobs.worker(kind, middleware=[AfterHandler()])
    async def work(event: Event[Any]) -> None:
        nonlocal count
        count += 1
        await asyncio.sleep(0.01)
        if count == 1:
            raise OSError("first attempt fails")

    await asyncio.sleep(0.05)
    job = await jobs.submit(Event(type=kind, source="/c"))
    assert (await jobs.wait(job.id, timeout=10)).state is JobState.SUCCEEDED
    await asyncio.sleep(0.05)
    assert states == ["pending", "succeeded"]


async def test_concurrent_transitions_have_one_winner(setup: Any) -> None:
    """A cancel racing a completion: exactly one final state is written and announced."""
    _, jobs, seen = setup
    ids = [(await jobs.submit(Event(type="jobs.race.x", source="/c"))).id for _ in range(30)]

    def succeed(cur: JobStatus) -> JobStatus | None:
        if cur.final:
            return None
        return msgspec.structs.replace(cur, state=JobState.SUCCEEDED, result="done")

    outcomes = await asyncio.gather(
        *(jobs._change(i, succeed) for i in ids), *(jobs._change(i, cancel_step) for i in ids)
    )
    await asyncio.sleep(0.05)
    finals: dict[str, list[str]] = defaultdict(list)
    for event in seen:
        if event.extensions["jobstate"] in ("succeeded", "cancelled"):
            finals[str(event.extensions["jobid"])].append(str(event.extensions["jobstate"]))
    for n, job_id in enumerate(ids):
        won = [s for s, changed in (outcomes[n], outcomes[n + len(ids)]) if changed]
        assert len(won) == 1, job_id
        stored = await jobs.status(job_id)
        assert stored.state is won[0].state
        assert finals[job_id] == [won[0].state.value]


async def test_completion_callback_is_called_once_for_jobs_with_a_callback(
    tmp_path: Path, kind: str
) -> None:
    called: list[JobStatus] = []

    async def on_complete(status: JobStatus) -> None:
        called.append(status)

    async with EventBus("memory://") as bus:
        store = SqliteJobStore(tmp_path / "j.db")
        jobs = Jobs(bus, store, on_complete=on_complete)
        jobs.worker(kind, _echo)
        await asyncio.sleep(0.05)
        with_cb = await jobs.submit(Event(type=kind, source="/c", data=1), callback="https://x/cb")
        without = await jobs.submit(Event(type=kind, source="/c", data=2))
        await jobs.wait(with_cb.id, timeout=10)
        await jobs.wait(without.id, timeout=10)
        await asyncio.sleep(0.05)
        await store.close()
    assert [s.id for s in called] == [with_cb.id]
    assert called[0].callback == "https://x/cb" and called[0].result == 1


async def test_default_callback_publishes_a_completion_event(tmp_path: Path, kind: str) -> None:
    completed: list[Event[Any]] = []
    async with EventBus("memory://") as bus:

        async def record(event: Event[Any]) -> None:
            completed.append(event)

        bus.subscribe("io.eventbus.job.completed", record)
        async with Jobs(bus, tmp_path / "j.db") as jobs:
            jobs.worker(kind, _echo)
            await asyncio.sleep(0.05)
            job = await jobs.submit(Event(type=kind, source="/c", data=5), callback="https://x/cb")
            await jobs.wait(job.id, timeout=10)
            await asyncio.sleep(0.05)
    (event,) = completed
    assert event.extensions["jobcallback"] == "https://x/cb"
    assert event.extensions["jobid"] == job.id and event.data["state"] == "succeeded"


async def _until(predicate: Any, timeout: float = 10.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not predicate():
        assert asyncio.get_running_loop().time() < deadline, "timed out"
        await asyncio.sleep(0.01)


async def _echo(event: Event[Any]) -> Any:
    return event.data


async def test_bad_arguments_are_typed_errors(setup: Any, kind: str) -> None:
    bus, jobs, _ = setup
    with pytest.raises(ConfigurationError, match="max_attempts"):
        Jobs(bus, jobs.store, max_attempts=0)
    with pytest.raises(ConfigurationError, match="EventBus"):
        Jobs("memory://", jobs.store)  # type: ignore[arg-type]
    with pytest.raises(ConfigurationError, match="deadline"):
        await jobs.submit(Event(type=kind, source="/c"), deadline=-1)
    with pytest.raises(ConfigurationError, match="aware"):
        await jobs.submit(Event(type=kind, source="/c"), deadline=datetime(2030, 1, 1))
    with pytest.raises(ConfigurationError, match="key"):
        await jobs.submit(Event(type=kind, source="/c"), key="")
    with pytest.raises(ConfigurationError, match="Event"):
        await jobs.submit({"type": kind})  # type: ignore[arg-type]
    with pytest.raises(ConfigurationError, match="async def"):
        jobs.handler(lambda event: None)
    with pytest.raises(ConfigurationError, match="retry policy"):
        jobs.worker(kind, _echo, retry=RetryPolicy(max_attempts=1))
    with pytest.raises(ConfigurationError, match="unknown job state"):
        await jobs.list(state="done")
    with pytest.raises(ConfigurationError, match="unsupported job store"):
        Jobs(bus, "mysql://u:secret@h/db")
    assert datetime.now(UTC) > utc_now() - timedelta(seconds=5)


async def test_progress_checks_its_fraction(setup: Any, kind: str) -> None:
    _, jobs, _ = setup
    problems: list[str] = []

    @jobs.worker(kind)
    async def work(event: Event[Any]) -> None:
        try:
            await current_job().progress(1.5)
        except ConfigurationError as exc:
            problems.append(str(exc))

    await asyncio.sleep(0.05)
    job = await jobs.submit(Event(type=kind, source="/c"))
    assert (await jobs.wait(job.id, timeout=10)).state is JobState.SUCCEEDED
    assert problems and "0..1" in problems[0]


async def test_an_event_without_a_job_id_is_dead_lettered(setup: Any, kind: str) -> None:
    bus, jobs, _ = setup
    dead: list[Event[Any]] = []

    async def record(event: Event[Any]) -> None:
        dead.append(event)

    sub = jobs.worker(kind, _echo)
    bus.subscribe(f"{kind}.dlq", record, channel=f"{kind}.dlq")
    await asyncio.sleep(0.05)
    await bus.publish(Event(type=kind, source="/c"))
    await asyncio.sleep(0.2)
    assert sub.stats.dead_lettered == 1
    assert jobs.stats.started == 0


def test_job_state_machine_never_leaves_a_final_state() -> None:
    from eventbus._jobs._model import FINAL_STATES, allowed

    for final in FINAL_STATES:
        for target in JobState:
            assert not allowed(final, target)
    assert allowed(JobState.PENDING, JobState.RUNNING)
    assert allowed(JobState.RUNNING, JobState.PENDING)  # a failed attempt awaiting its retry
    assert not allowed(JobState.PENDING, JobState.PENDING)


async def test_a_final_job_delivered_again_announces_its_status_again(
    tmp_path: Path, kind: str
) -> None:
    """A worker that stored the outcome but died before announcing it: the job event comes
    back, the next worker finds the job final and publishes the final status event."""
    seen: list[Event[Any]] = []
    dropped: list[str] = []

    class LoseFirstSucceeded(Middleware):
        async def on_publish(self, event: Event[Any], call_next: Any) -> None:
            if event.type == "test.job.succeeded" and not dropped:
                dropped.append(event.id)
                raise OSError("connection lost")
            await call_next(event)

    async with EventBus("memory://", middleware=[LoseFirstSucceeded()]) as bus:

        async def record(event: Event[Any]) -> None:
            seen.append(event)

        bus.subscribe("test.job.succeeded", record)
        store = SqliteJobStore(tmp_path / "j.db")
        jobs = Jobs(bus, store, events_prefix="test.job")
        jobs.worker(kind, _echo)
        await asyncio.sleep(0.05)
        event: Event[Any] = Event(type=kind, source="/c", data=3)
        job = await jobs.submit(event)
        done = await jobs.wait(job.id, timeout=10)
        await asyncio.sleep(0.05)
        assert seen == [] and jobs.stats.event_errors == 1
        # the job event again (a new event id: memory:// drops a copy with the same source + id)
        await bus.publish(Event(type=kind, source="/c", data=3, extensions={"jobid": job.id}))
        await _until(lambda: len(seen) == 1)
        await store.close()
    assert seen[0].id == dropped[0] == f"{job.id}.{done.version}"
    assert seen[0].data["result"] == 3


async def test_a_job_a_worker_gets_after_its_deadline_expires_unrun(setup: Any, kind: str) -> None:
    _, jobs, _ = setup
    first_started, release = asyncio.Event(), asyncio.Event()
    ran: list[str] = []

    @jobs.worker(kind, max_in_flight=1)
    async def one_at_a_time(event: Event[Any]) -> None:
        ran.append(current_job().id)
        first_started.set()
        await release.wait()

    await asyncio.sleep(0.05)
    first = await jobs.submit(Event(type=kind, source="/c"))
    await first_started.wait()
    late = await jobs.submit(Event(type=kind, source="/c"), deadline=0.2)
    await asyncio.sleep(0.4)  # the deadline passes while the only worker is busy
    release.set()
    assert (await jobs.wait(first.id, timeout=10)).state is JobState.SUCCEEDED
    await _until(lambda: jobs.stats.skipped == 1)  # the worker took it and did not run it
    assert (await jobs.store.get(late.id)).state is JobState.EXPIRED
    assert ran == [first.id]
