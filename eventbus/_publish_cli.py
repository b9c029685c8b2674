"""``eventbus publish``: one event, every attribute, from the command line.

Extensions are strings unless typed explicitly, as httpie does: ``--extension tenant=007`` is the
string ``"007"``, ``--extension n:=123`` the Integer 123, ``--extension flag:=true`` the
Boolean. Data: ``--data`` takes JSON; ``--data-file PATH`` (``-`` for stdin) takes bytes, read as
JSON for a JSON ``--datacontenttype``, as UTF-8 text for ``text/*``, as binary otherwise
(``application/octet-stream`` unless told). ``--time`` takes an RFC 3339 timestamp or ``none``.
The content mode is the adapter's default unless ``--binary`` or ``--structured`` says.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from eventbus._errors import ConfigurationError
from eventbus._wire._data import is_json_type
from eventbus._wire._types import parse_time

__all__ = ["add_parser", "build_event", "parse_extension", "publish"]


def add_parser(sub: Any) -> None:
    pub = sub.add_parser("publish", help="publish one event and print its id")
    pub.add_argument("url")
    pub.add_argument("--type", required=True, dest="event_type")
    pub.add_argument("--source", required=True)
    data = pub.add_mutually_exclusive_group()
    data.add_argument("--data", default=None, help="JSON data")
    data.add_argument(
        "--data-file",
        default=None,
        metavar="PATH",
        help="data from a file ('-': stdin): JSON for a JSON --datacontenttype, text for "
        "text/*, otherwise binary (application/octet-stream unless --datacontenttype says)",
    )
    pub.add_argument("--subject")
    pub.add_argument("--id", dest="event_id")
    pub.add_argument("--time", help="RFC 3339 timestamp, or 'none' (default: now)")
    pub.add_argument("--dataschema", help="URI of the data's schema")
    pub.add_argument("--datacontenttype")
    pub.add_argument(
        "--extension",
        action="append",
        default=[],
        metavar="NAME=TEXT|NAME:=JSON",
        help="NAME=VALUE is a string; NAME:=123 an integer, NAME:=true a boolean",
    )
    mode = pub.add_mutually_exclusive_group()
    mode.add_argument("--structured", action="store_true", help="structured content mode")
    mode.add_argument("--binary", action="store_true", help="binary content mode")


def parse_extension(text: str) -> tuple[str, Any]:
    """``NAME=VALUE`` (a string, as given) or ``NAME:=JSON`` (an integer, boolean or string)."""
    name, sep, raw = text.partition("=")
    if not sep:
        raise ConfigurationError(f"--extension {text!r}: expected NAME=VALUE or NAME:=JSON")
    if not name.endswith(":"):
        return name, raw
    name = name[:-1]
    try:
        value = json.loads(raw)
    except json.JSONDecodeError:
        raise ConfigurationError(
            f"--extension {name}:={raw!r}: not a JSON value (quote strings or use {name}=...)"
        ) from None
    if not isinstance(value, bool | int | str):
        raise ConfigurationError(
            f"--extension {name}:={raw!r}: an extension is an integer, boolean or string"
        )
    return name, value


def _file_data(path: str, ctype: str | None) -> tuple[Any, str]:
    raw = sys.stdin.buffer.read() if path == "-" else Path(path).read_bytes()
    if ctype is None:
        return raw, "application/octet-stream"
    media = ctype.split(";", 1)[0].strip().lower()
    try:
        if is_json_type(ctype):
            return json.loads(raw), ctype
        if media.startswith("text/"):
            return raw.decode("utf-8"), ctype
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ConfigurationError(f"--data-file {path!r} does not hold {media}: {exc}") from None
    return raw, ctype


def build_event(args: argparse.Namespace) -> Any:
    from eventbus._wire._event import Event

    ctype = args.datacontenttype
    data: Any = None
    if args.data is not None:
        try:
            data = json.loads(args.data)
        except json.JSONDecodeError as exc:
            raise ConfigurationError(f"--data is not valid JSON: {exc}") from None
    elif args.data_file is not None:
        try:
            data, ctype = _file_data(args.data_file, ctype)
        except OSError as exc:
            raise ConfigurationError(f"--data-file: {exc.strerror}: {args.data_file}") from None
    fields: dict[str, Any] = {}
    if args.event_id:
        fields["id"] = args.event_id
    if args.time is not None:
        if args.time.lower() == "none":
            fields["time"] = None
        else:
            try:
                fields["time"] = parse_time(args.time)
            except ValueError as exc:
                raise ConfigurationError(f"--time: {exc}") from None
    return Event(
        type=args.event_type,
        source=args.source,
        data=data,
        subject=args.subject,
        dataschema=args.dataschema,
        datacontenttype=ctype,
        extensions=dict(parse_extension(e) for e in args.extension),
        **fields,
    )


async def publish(args: argparse.Namespace) -> str:
    """Publish the event the arguments describe; its id."""
    from eventbus._bus._eventbus import EventBus

    event = build_event(args)
    mode = "structured" if args.structured else "binary" if args.binary else None
    async with EventBus(args.url, content_mode=mode) as bus:
        await bus.publish(event)
    return str(event.id)
