"""The nats-py client the adapter uses: nats-py's ``Client`` with faster header handling.

nats-py spends more time on a message's headers than on the rest of a core NATS publish or
delivery: it validates and encodes every header field by field when sending, and checks every
character of every name when parsing. For the ce- headers of binary mode this client
- sends the very bytes nats-py would, built in one pass (any header that is not plain ASCII
  with a known-good name and a value without surrounding whitespace or line breaks takes
  nats-py's own path);
- parses a header block in one decode, with nats-py's results (tests compare both).
If a future nats-py stops calling these hooks, the overrides are simply unused.
"""

from __future__ import annotations

import re
from typing import Any

from nats.aio.client import Client
from nats.protocol.command import hpub_cmd

__all__ = ["AdapterClient", "encode_header_block", "parse_header_lines"]

_ASCII_SPACE = " \t\n\r\x0b\x0c"  # what bytes.strip() removes
_EDGE_SPACE = frozenset(" \t\x0b\x0c\x1c\x1d\x1e\x1f")  # what str.strip() also removes
_SPACE_IN_NAME = re.compile(r"[\t-\r\x1c-\x20]").search  # ASCII chars where str.isspace()
_NAME = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")  # nats-py's rule for header names
_MAX_NAMES = 4096


def _remember(names: set[str], name: str) -> None:
    if len(names) >= _MAX_NAMES:
        names.clear()
    names.add(name)


def parse_header_lines(raw: bytes, known: set[str]) -> dict[str, str]:
    """``Name: value`` lines (CRLF-separated) to a dict, as nats-py's own parser reads them.

    Names that are not ASCII or contain whitespace are skipped; values are UTF-8 with
    replacement characters for invalid bytes, surrounding ASCII whitespace removed. ``known``
    caches names already found valid.
    """
    out: dict[str, str] = {}
    for line in raw.decode("utf-8", "replace").split("\r\n"):
        name, sep, value = line.partition(":")
        if not sep:
            continue
        if name in known:
            out[name] = value.strip(_ASCII_SPACE)
            continue
        key = name.strip(_ASCII_SPACE)
        if key.isascii() and _SPACE_IN_NAME(key) is None:
            out[key] = value.strip(_ASCII_SPACE)
            if key == name:
                _remember(known, key)
    return out


def encode_header_block(headers: dict[str, str], good_names: set[str]) -> bytes | None:
    """The header block nats-py would send for ``headers``, or None for its own slow path.

    ``good_names`` caches the names already checked against nats-py's rule.
    """
    parts = ["NATS/1.0\r\n"]
    for name, value in headers.items():
        if name not in good_names:
            if type(name) is not str or not _NAME.fullmatch(name):
                return None
            _remember(good_names, name)
        if type(value) is not str or (
            value and (value[0] in _EDGE_SPACE or value[-1] in _EDGE_SPACE)
        ):
            return None
        parts.append(f"{name}: {value}\r\n")
    parts.append("\r\n")
    text = "".join(parts)
    lines = len(headers) + 2  # any other CR or LF is inside a value: nats-py rewrites those
    if not text.isascii() or text.count("\r") != lines or text.count("\n") != lines:
        return None
    return text.encode()


class AdapterClient(Client):
    """nats-py's client with :func:`parse_header_lines` and :func:`encode_header_block`."""

    def __init__(self) -> None:
        super().__init__()
        self._good_header_names: set[str] = set()
        self._known_header_names: set[str] = set()

    def _parse_header_lines(self, raw: bytes) -> dict[str, str]:  # type: ignore[override]
        return parse_header_lines(raw, self._known_header_names)

    async def _send_publish(
        self,
        subject: str,
        reply: str,
        payload: bytes,
        payload_size: int,
        headers: dict[str, Any] | None,
    ) -> None:
        block = None
        if type(headers) is dict and headers:
            block = encode_header_block(headers, self._good_header_names)
        if block is None or not subject:
            await super()._send_publish(subject, reply, payload, payload_size, headers)
            return
        # The rest of nats-py's _send_publish, unchanged.
        self.stats["out_msgs"] += 1
        self.stats["out_bytes"] += payload_size
        await self._send_command(hpub_cmd(subject, reply, block, payload))
        if self._flush_queue is not None and self._flush_queue.empty():
            await self._flush_pending()
