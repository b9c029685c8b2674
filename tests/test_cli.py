"""The command line: exit codes, output, and the README's demo."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from pathlib import Path

import pytest

from eventbus import Event, EventBus
from eventbus._cli._main import _parser, _tail, main


def eventbus(
    *args: str, timeout: float = 60, cwd: Path | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "eventbus", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
        cwd=cwd,
    )


def test_version() -> None:
    result = eventbus("--version")
    assert result.returncode == 0
    assert result.stdout.startswith("eventbus ")


def test_adapters_lists_memory_with_capability_table(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["adapters"]) == 0
    out = capsys.readouterr().out
    assert "memory://" in out
    assert "dead-letter" in out and "native" in out


def test_demo_runs_the_order_flow() -> None:
    # Run from the repository root: the demo validates against the shipped ./contracts.
    result = eventbus("demo", cwd=Path(__file__).parents[1])
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "validating against the contract registry" in out
    assert "gateway timeout" in out
    assert "refused to publish o-1004: /amount_cents" in out
    dead = next(line for line in out.splitlines() if "dead-letter:" in line)
    assert "o-1004 after 1 attempt(s) - validation-error" in dead
    assert "at /amount_cents" in dead
    summary = dict(line.split() for line in out.split("summary:")[1].strip().splitlines())
    # What it says it publishes is what it counts as published.
    assert "publishing 5 orders on memory://demo (o-1004 is invalid)" in out
    assert summary == {
        "published": "5",
        "handled": "4",
        "retried": "1",  # o-1003 once; the invalid order is dead-lettered without a retry
        "shipped": "4",
        "dead-lettered": "1",
    }


def test_demo_without_a_registry_rejects_the_invalid_order_in_the_handler(
    tmp_path: Path,
) -> None:
    result = eventbus("demo", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "running without contract validation" in result.stdout
    assert "o-1004 after 1 attempt(s) - payment-declined" in result.stdout
    summary = dict(line.split() for line in result.stdout.split("summary:")[1].strip().splitlines())
    assert summary["retried"] == "1"
    assert summary["dead-lettered"] == "1"


def test_publish_prints_the_event_id(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(
        [
            "publish",
            "memory://cli",
            "--type",
            "cli.test",
            "--source",
            "/cli",
            "--data",
            '{"a": 1}',
            "--subject",
            "s",
            "--extension",
            "tenant=acme",
            "--id",
            "evt-1",
        ]
    )
    assert code == 0
    assert capsys.readouterr().out.strip() == "evt-1"


@pytest.mark.parametrize(
    "argv",
    [
        ["publish", "memory://x", "--type", "t.t"],  # --source missing
        ["publish", "memory://x", "--type", "t.t", "--source", "/s", "--data", "{nope"],
        ["publish", "memory://x", "--type", "t.t", "--source", "/s", "--extension", "novalue"],
        ["publish", "mqtt://x", "--type", "t.t", "--source", "/s"],  # no such adapter
        ["frobnicate"],
        [],
    ],
)
def test_usage_errors_exit_2(argv: list[str]) -> None:
    try:
        code = main(argv)
    except SystemExit as exc:  # argparse's own usage errors
        code = exc.code  # type: ignore[assignment]
    assert code == 2


def test_invalid_event_is_a_failure_with_every_problem_named(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code = main(
        [
            "publish",
            "memory://x",
            "--type",
            "t.t",
            "--source",
            "/s",
            "--extension",
            "Bad=1",
            "--extension",
            "data=2",
        ]
    )
    err = capsys.readouterr().err
    assert code == 2
    assert "extensions.Bad" in err and "extensions.data" in err


async def test_tail_prints_json_lines_then_exits_after_count(
    capsys: pytest.CaptureFixture[str],
) -> None:
    args = _parser().parse_args(
        ["tail", "memory://tail", "tail.test", "--group", "cli", "--count", "2"]
    )
    tail = asyncio.create_task(_tail(args))
    async with EventBus("memory://tail") as bus:
        await asyncio.sleep(0.2)  # let tail subscribe: its group only gets later events
        for i in range(3):
            await bus.publish(Event(type="tail.test", source="/t", data={"n": i}))
        assert await asyncio.wait_for(tail, 10) == 0
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [line["data"] for line in lines] == [{"n": 0}, {"n": 1}]
    assert all(line["type"] == "tail.test" for line in lines)


def test_tail_times_out_with_exit_1(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["tail", "memory://quiet", "nothing.here", "--timeout", "0.2"]) == 1
