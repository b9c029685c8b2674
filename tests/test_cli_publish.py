"""``eventbus publish`` speaks the whole event: time, dataschema, datacontenttype, data from a
file (binary, text, JSON), typed extensions only when asked (``k:=123``), and the content mode."""

from __future__ import annotations

import argparse
import asyncio
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from eventbus import ConfigurationError, Event, EventBus
from eventbus._cli._main import _parser, main
from eventbus._cli._publish import build_event, parse_extension
from eventbus.testing import wait_until

BASE = ["publish", "memory://cli-publish", "--type", "cli.t", "--source", "/cli"]


def args(*extra: str) -> argparse.Namespace:
    return _parser().parse_args([*BASE, *extra])


def test_extensions_are_strings_unless_typed() -> None:
    event = build_event(
        args(
            *("--extension", "tenant=007", "--extension", "zip=01234"),
            *("--extension", "n:=123", "--extension", "flag:=true", "--extension", 'q:="1"'),
            *("--extension", "empty="),
        )
    )
    assert event.extensions == {
        "tenant": "007",
        "zip": "01234",
        "n": 123,
        "flag": True,
        "q": "1",
        "empty": "",
    }


@pytest.mark.parametrize("text", ["n:=1.5", "n:=null", "n:=[1]", "n:=nope", "novalue"])
def test_bad_extensions_are_configuration_errors(text: str) -> None:
    with pytest.raises(ConfigurationError, match="--extension"):
        parse_extension(text)


def test_every_attribute_from_the_command_line() -> None:
    event = build_event(
        args(
            *("--time", "2024-02-29T23:59:58.654321+05:30", "--id", "e-1", "--subject", "s"),
            *("--dataschema", "https://schemas.example/o.json", "--data", '{"a": [1, 2]}'),
            *("--datacontenttype", "application/vnd.o+json"),
        )
    )
    assert event.time == datetime(
        2024, 2, 29, 23, 59, 58, 654321, tzinfo=timezone(timedelta(hours=5, minutes=30))
    )
    assert (event.id, event.subject, event.dataschema) == (
        "e-1",
        "s",
        "https://schemas.example/o.json",
    )
    assert (event.data, event.datacontenttype) == ({"a": [1, 2]}, "application/vnd.o+json")
    assert build_event(args("--time", "none")).time is None
    with pytest.raises(ConfigurationError, match="--time"):
        build_event(args("--time", "yesterday"))


def test_data_file_binary_text_and_json(tmp_path: Path) -> None:
    raw = bytes(range(256))
    path = tmp_path / "blob"
    path.write_bytes(raw)
    binary = build_event(args("--data-file", str(path)))
    assert (binary.data, binary.datacontenttype) == (raw, "application/octet-stream")
    image = build_event(args("--data-file", str(path), "--datacontenttype", "image/png"))
    assert (image.data, image.datacontenttype) == (raw, "image/png")
    path.write_text("héllo", encoding="utf-8")
    text = build_event(
        args("--data-file", str(path), "--datacontenttype", "text/plain; charset=utf-8")
    )
    assert text.data == "héllo"
    path.write_text('{"k": 1}')
    assert build_event(
        args("--data-file", str(path), "--datacontenttype", "application/json")
    ).data == {"k": 1}
    path.write_bytes(b"\xff")
    with pytest.raises(ConfigurationError, match="does not hold text/plain"):
        build_event(args("--data-file", str(path), "--datacontenttype", "text/plain"))
    with pytest.raises(ConfigurationError, match="No such file"):
        build_event(args("--data-file", str(tmp_path / "missing")))


def test_no_data_means_no_datacontenttype() -> None:
    assert build_event(args()).datacontenttype is None


def test_publish_sends_the_whole_event(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Through main(): a subscriber on the same named memory bus gets every attribute as given."""
    path = tmp_path / "blob"
    path.write_bytes(b"\x00\x01binary")
    got: list[Event[Any]] = []

    async def scenario() -> None:
        async with EventBus("memory://cli-publish") as bus:

            async def handler(event: Event[Any]) -> None:
                got.append(event)

            await bus.subscribe("cli.t", handler)
            argv = [
                *BASE,
                *("--id", "cli-1", "--time", "2024-05-01T12:00:00Z", "--data-file", str(path)),
                *("--extension", "tenant=007", "--extension", "n:=7", "--structured"),
            ]
            code = await asyncio.to_thread(main, argv)
            assert code == 0
            await wait_until(lambda: len(got) == 1, what="the published event")

    asyncio.run(scenario())
    assert capsys.readouterr().out.strip() == "cli-1"
    (event,) = got
    assert event.time == datetime(2024, 5, 1, 12, tzinfo=UTC)
    assert event.data == b"\x00\x01binary"
    assert event.extensions == {"tenant": "007", "n": 7}
