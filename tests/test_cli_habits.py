"""CLI habits: --json on `adapters`, Ctrl-C exits 130 quietly, helpful unknown-scheme errors."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys

import pytest

from eventbus import ConfigurationError, EventBus, UnknownSchemeError
from eventbus._cli import main


def test_adapters_json_lists_schemes_and_capabilities(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["adapters", "--json"]) == 0
    listing = json.loads(capsys.readouterr().out)["adapters"]
    assert listing["memory"]["distribution"] == "eventbus"
    assert listing["nats"]["capabilities"]["consumer-groups"] in ("native", "emulated")


def test_a_misspelled_scheme_suggests_the_closest_installed_one() -> None:
    with pytest.raises(UnknownSchemeError) as err:
        EventBus("nat://localhost:4222")
    assert "did you mean nats://?" in str(err.value)
    assert err.value.suggestion == "nats"


def test_a_url_without_a_scheme_says_so() -> None:
    with pytest.raises(ConfigurationError, match="'localhost:4222' has no scheme"):
        EventBus("localhost:4222")


def test_ctrl_c_exits_130_quietly() -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "eventbus", "tail", "memory://", "orders.created", "--group", "g"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    assert process.stderr is not None
    first = process.stderr.readline()  # printed inside the command, just before it listens
    assert b"joining the durable consumer group" in first
    process.send_signal(signal.SIGINT)
    _, err = process.communicate(timeout=60)
    assert process.returncode == 130, err
    assert b"Traceback" not in err
