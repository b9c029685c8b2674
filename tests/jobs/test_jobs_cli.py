"""``eventbus jobs list|show|cancel STORE_URL`` against a real SQLite job store."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from pathlib import Path

import msgspec
import pytest

from eventbus import Event, EventBus, Jobs, JobState, SqliteJobStore
from eventbus._cli._main import main


def _make_jobs(path: Path) -> list[str]:
    async def make() -> list[str]:
        async with EventBus("memory://") as bus:
            store = SqliteJobStore(path)
            jobs = Jobs(bus, store)
            ids = [(await jobs.submit(Event(type="cli.report", source="/c"))).id for _ in range(3)]
            await jobs._change(
                ids[0],
                lambda s: msgspec.structs.replace(s, state=JobState.RUNNING, progress=0.25),
            )
            await store.close()
            return ids

    return asyncio.run(make())


def test_list_show_cancel(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "jobs.db"
    ids = _make_jobs(path)
    url = f"sqlite:///{path}"
    assert main(["jobs", "list", url, "--json"]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert sorted(j["id"] for j in listed) == sorted(ids)
    assert main(["jobs", "list", str(path), "--state", "running"]) == 0
    out = capsys.readouterr().out
    assert ids[0] in out and "running" in out and "25%" in out and ids[1] not in out
    assert main(["jobs", "show", url, ids[1], "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["state"] == "pending"
    assert main(["jobs", "cancel", url, ids[0], "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["state"] == "cancelled"
    assert main(["jobs", "cancel", url, ids[0]]) == 1  # final already
    assert "cancelled already" in capsys.readouterr().err
    assert main(["jobs", "show", url, "nope"]) == 1
    assert "no job 'nope'" in capsys.readouterr().err


def test_argument_errors_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    url = f"sqlite:///{tmp_path / 'jobs.db'}"
    with pytest.raises(SystemExit) as info:
        main(["jobs"])
    assert info.value.code == 2
    with pytest.raises(SystemExit) as info:
        main(["jobs", "show", url])  # no JOB_ID
    assert info.value.code == 2
    assert main(["jobs", "list", url, "--limit", "0"]) == 2
    assert main(["jobs", "list", url, "--state", "finished"]) == 2
    assert "--state 'finished' is not one of" in capsys.readouterr().err
    assert main(["jobs", "list", "mysql://u:hunter2@h/db"]) == 2
    err = capsys.readouterr().err
    assert "unsupported job store" in err and "hunter2" not in err


def test_the_command_is_registered(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "eventbus", "jobs", "list", str(tmp_path / "j.db"), "--json"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == []
