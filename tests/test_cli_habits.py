"""CLI habits: --json on the commands that print data, Ctrl-C exits 130 quietly, helpful
unknown-scheme errors, a help text on every argument, and every bad argument exits 2 naming it."""

from __future__ import annotations

import argparse
import json
import logging
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import pytest

from eventbus import ConfigurationError, EventBus, UnknownSchemeError
from eventbus._cli._main import _parser, main


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


# -- --json on every command that prints data -----------------------------------------------


def test_publish_json_prints_what_was_published(capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["publish", "memory://", "--type", "shop.order.placed", "--source", "/shop"]
    assert main([*argv, "--subject", "o-1", "--id", "evt-7", "--json"]) == 0
    published = json.loads(capsys.readouterr().out)
    assert published == {
        "id": "evt-7",
        "type": "shop.order.placed",
        "source": "/shop",
        "subject": "o-1",
        "topic": "shop.order.placed",
        "outcome": "published",
    }
    assert main(argv) == 0  # without --json: the id alone
    assert "{" not in capsys.readouterr().out


# -- every argument documented; every bad argument exits 2 naming it --------------------------


def _walk(parser: argparse.ArgumentParser, path: list[str]) -> Iterator[tuple[str, Any]]:
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            helps = {choice.dest: choice.help for choice in action._choices_actions}
            for name, child in action.choices.items():
                yield " ".join([*path, name]), helps.get(name)
                yield from _walk(child, [*path, name])
        else:
            yield " ".join(path), action


def test_every_argument_of_every_command_has_a_help_text() -> None:
    missing = []
    for where, action in _walk(_parser(), ["eventbus"]):
        if isinstance(action, str | None):  # a subcommand's own help line
            if not action:
                missing.append(where)
        elif not action.help or action.help == argparse.SUPPRESS:
            missing.append(f"{where} {'/'.join(action.option_strings) or action.dest}")
    assert missing == []


BAD_ARGUMENTS: list[tuple[list[str], str]] = [
    (["adapters", "--bogus"], "--bogus"),
    (["demo", "--bogus"], "--bogus"),
    (["publish", "memory://", "--type", "a b", "--source", "/s"], "--type"),
    (["publish", "memory://", "--type", "", "--source", "/s"], "--type"),
    (["publish", "memory://", "--type", "t.t"], "--source"),
    (["publish", "memory://", "--type", "t.t", "--source", ""], "--source"),
    (["publish", "memory://", "--type", "t.t", "--source", "/s", "--id", ""], "--id"),
    (["publish", "memory://", "--type", "t.t", "--source", "/s", "--time", "noon"], "--time"),
    (["publish", "memory://", "--type", "t.t", "--source", "/s", "--data", "{no"], "--data"),
    (
        ["publish", "memory://", "--type", "t.t", "--source", "/s", "--datacontenttype", "x"],
        "--datacontenttype",
    ),
    (
        ["publish", "memory://", "--type", "t.t", "--source", "/s", "--dataschema", "::"],
        "--dataschema",
    ),
    (
        ["publish", "memory://", "--type", "t.t", "--source", "/s", "--extension", "x"],
        "--extension",
    ),
    (
        ["publish", "memory://", "--type", "t.t", "--source", "/s", "--extension", "B=1"],
        "--extension B",
    ),
    (["publish", "nat://h", "--type", "t.t", "--source", "/s"], "scheme 'nat'"),
    (
        ["publish", "memory://", "--type", "t.t", "--source", "/s", "--binary", "--structured"],
        "--structured",
    ),
    (["tail", "memory://", "a b"], "TYPE_OR_PATTERN"),
    (["tail", "memory://", "a..b"], "TYPE_OR_PATTERN"),
    (["tail", "memory://", "t.t", "--channel", "a b"], "--channel"),
    (["tail", "memory://", "t.t", "--count", "0", "--timeout", "1"], "--count"),
    (["tail", "memory://", "t.t", "--timeout", "-1"], "--timeout"),
    (["contracts", "compat", "old.json"], "NEW.json"),
    (["contracts", "compat", "a.json", "b.json", "--mode", "SIDEWAYS"], "--mode"),
    (["contracts", "asyncapi", "--broker", "carrier-pigeon"], "--broker"),
    (["contracts", "frobnicate"], "frobnicate"),
    (["dlq", "list", "memory://", "a b"], "CHANNEL"),
    (["dlq", "list", "memory://", "orders", "--type", "a..b"], "--type"),
    (["dlq", "list", "memory://", "orders", "--since", "yesterday"], "--since"),
    (["dlq", "show", "memory://", "orders", "--limit", "0"], "--limit"),
    (["dlq", "show", "memory://", "orders", "--dlq-channel", "a b"], "--dlq-channel"),
    (["dlq", "replay", "memory://", "orders", "--idle", "0"], "--idle"),
    (["dlq", "replay", "memory://", "orders", "--to", "a b"], "--to"),
    (["dlq", "purge", "memory://", "orders"], "purge"),
    (["groups", "list", "localhost:4222"], "localhost:4222"),
    (["groups", "delete", "memory://", "orders"], "GROUP"),
    (["outbox", "relay", "sqlite:///x.db", "memory://", "--batch-size", "0"], "--batch-size"),
    (["outbox", "relay", "sqlite:///x.db", "memory://", "--poll-interval", "0"], "--poll-interval"),
    (["outbox", "relay", "sqlite:///x.db", "memory://", "--lease", "nan"], "--lease"),
    (["outbox", "relay", "mysql://h/db", "memory://"], "mysql://"),
    (["outbox", "status"], "DB_URL"),
    (["jobs", "list", "x.db", "--limit", "0"], "--limit"),
    (["jobs", "list", "x.db", "--state", "done"], "--state"),
    (["jobs", "list", "mysql://h/db"], "mysql://"),
    (["jobs", "show", "x.db"], "JOB_ID"),
    (["jobs", "cancel"], "STORE_URL"),
    (["run", "no-colon"], "MODULE:ATTR"),
    (["run", "shop:bus", "--workers", "0"], "--workers"),
    (["run", "shop:bus", "--health-port", "70000"], "--health-port"),
    (["run", "shop:bus", "--log-level", "loud"], "--log-level"),
    (["webhooks", "add", "https://example.com/h", "--type", "a", "--timeout", "0"], "--timeout"),
    (
        ["webhooks", "add", "https://example.com/h", "--type", "a", "--rate-limit", "0"],
        "--rate-limit",
    ),
    (["webhooks", "add", "https://example.com/h", "--type", "a", "--schedule", "x"], "--schedule"),
    (["webhooks", "add", "https://example.com/h", "--type", "a", "--secret", "pw"], "--secret"),
    (["webhooks", "add", "https://example.com/h", "--type", "a", "--allow", "lan"], "--allow"),
    (["webhooks", "add", "https://example.com/h"], "--type"),
    (["webhooks", "list", "--store", "mysql://h/db"], "mysql://"),
    (["webhooks", "show"], "ID"),
    (["webhooks", "replay", "ep_1"], "--bus"),
    (["webhooks", "deliver", "--bus", "memory://", "--refresh", "0"], "--refresh"),
    (
        ["webhooks", "deliver", "--bus", "memory://", "--breaker-threshold", "0"],
        "--breaker-threshold",
    ),
    (["webhooks", "deliver", "--bus", "memory://", "--smtp", "mailhost"], "--smtp"),
    (["frobnicate"], "frobnicate"),
]


@pytest.fixture
def keep_logging() -> Iterator[None]:
    """``eventbus run`` configures the root logger: give the test process its own back."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)


@pytest.mark.parametrize(
    ("argv", "named"), BAD_ARGUMENTS, ids=lambda v: " ".join(v) if isinstance(v, list) else v
)
def test_a_bad_argument_exits_2_naming_it(
    argv: list[str], named: str, capsys: pytest.CaptureFixture[str], keep_logging: None
) -> None:
    try:
        code = main(argv)
    except SystemExit as exc:  # argparse's own usage errors
        code = exc.code  # type: ignore[assignment]
    err = capsys.readouterr().err
    assert code == 2, err
    assert named in err, err
    assert "Traceback" not in err


def test_the_bad_argument_table_covers_every_command() -> None:
    commands = {name for name, _ in _walk(_parser(), []) if " " not in name} - {""}
    assert commands <= {argv[0] for argv, _ in BAD_ARGUMENTS}
