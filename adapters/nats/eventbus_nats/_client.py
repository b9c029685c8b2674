"""The nats-py client the adapter uses: nats-py's ``Client`` with faster header handling.

nats-py spends more time on a message's headers than on the rest of a core NATS publish or
delivery: it validates and encodes every header field by field when sending, and checks every
character of every name when parsing. For the ce- headers of binary mode this client
- sends the very bytes nats-py would, built in one pass (any header that is not plain ASCII
  with a known-good name and a value without surrounding whitespace or line breaks takes
  nats-py's own path);
- parses a header block in one decode, with nats-py's results except where nats-py would hide
  a broken message from the bindings' checks (invalid UTF-8, a repeated name; tests compare).
These are private nats-py hooks: ``_hooks.py`` checks their shape before every connect and
uses nats-py's own ``Client`` instead when one of them changed (docs/adapters/nats.md).
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterator
from typing import Any

from nats.aio.client import Client

try:
    from nats.protocol.command import hpub_cmd
except ImportError:  # a nats-py without it: _hooks.py then picks nats-py's own Client
    hpub_cmd = None  # type: ignore[assignment]

HPUB_AVAILABLE = callable(hpub_cmd)

__all__ = ["HPUB_AVAILABLE", "AdapterClient", "encode_header_block", "parse_header_lines"]

_ASCII_SPACE = " \t\n\r\x0b\x0c"  # what bytes.strip() removes
_EDGE_SPACE = frozenset(" \t\x0b\x0c\x1c\x1d\x1e\x1f")  # what str.strip() also removes
_SPACE_IN_NAME = re.compile(r"[\t-\r\x1c-\x20]").search  # ASCII chars where str.isspace()
_NAME = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")  # nats-py's rule for header names
_MAX_NAMES = 4096
_SHORT_BLOCK = 128  # header blocks up to this size are remembered (structured mode: one line)
_MAX_BLOCKS = 256


def _remember(names: set[str], name: str) -> None:
    if len(names) >= _MAX_NAMES:
        names.clear()
    names.add(name)


def parse_header_lines(raw: bytes, known: set[str]) -> dict[str, Any]:
    """``Name: value`` lines (CRLF-separated) to a dict, as nats-py's own parser reads them,
    except that nothing is hidden from the bindings' checks:

    - a value that is not valid UTF-8 stays ``bytes`` (nats-py would put U+FFFD in its place
      and the event would read as valid; the decoders reject it as a ``DecodeError``);
    - a name that appears more than once maps to the list of its values (nats-py keeps the
      last; the decoders reject a repeated ``ce-`` header).

    Names that are not ASCII or contain whitespace are skipped; surrounding ASCII whitespace
    is removed from values. ``known`` caches names already found valid.
    """
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        return _parse_lines_bytes(raw)
    out: dict[str, Any] = {}
    for line in text.split("\r\n"):
        name, sep, value = line.partition(":")
        if not sep:
            continue
        if name in known:
            key = name
        else:
            key = name.strip(_ASCII_SPACE)
            if not key.isascii() or _SPACE_IN_NAME(key) is not None:
                continue
            if key == name:
                _remember(known, key)
        value = value.strip(_ASCII_SPACE)
        if key in out:
            _repeat(out, key, value)
        else:
            out[key] = value
    return out


def _repeat(out: dict[str, Any], key: str, value: str | bytes) -> None:
    seen = out[key]
    if type(seen) is list:
        seen.append(value)
    else:
        out[key] = [seen, value]


def _parse_lines_bytes(raw: bytes) -> dict[str, Any]:
    """The slow path of :func:`parse_header_lines` for a block that is not valid UTF-8."""
    out: dict[str, Any] = {}
    for line in raw.split(b"\r\n"):
        name, sep, raw_value = line.partition(b":")
        if not sep:
            continue
        try:
            key = name.strip().decode("ascii")
        except UnicodeDecodeError:
            continue
        if _SPACE_IN_NAME(key) is not None:
            continue
        value: str | bytes = raw_value.strip()
        with contextlib.suppress(UnicodeDecodeError):  # else bytes: "is not valid UTF-8"
            value = raw_value.strip().decode("utf-8")
        if key in out:
            _repeat(out, key, value)
        else:
            out[key] = value
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
    """nats-py's client with :func:`parse_header_lines` and :func:`encode_header_block`, and
    :meth:`publish_all` for batches."""

    def __init__(self) -> None:
        super().__init__()
        self._good_header_names: set[str] = set()
        self._known_header_names: set[str] = set()
        self._parsed_blocks: dict[bytes, dict[str, Any]] = {}
        self._header_blocks: dict[tuple[str, str], bytes] = {}
        self._accepted: set[str] = set()  # subjects nats-py's publish accepted
        self._fast = True

    def use_public_paths(self) -> None:
        """From now on, nats-py's own header handling (its state differs from the expected)."""
        self._fast = False

    def _parse_header_lines(self, raw: bytes) -> dict[str, Any]:  # type: ignore[override]
        if not self._fast:
            return Client._parse_header_lines(raw)
        if len(raw) > _SHORT_BLOCK:
            return parse_header_lines(raw, self._known_header_names)
        seen = self._parsed_blocks.get(raw)
        if seen is not None:
            return seen.copy()
        out = parse_header_lines(raw, self._known_header_names)
        if len(self._parsed_blocks) < _MAX_BLOCKS and all(type(v) is str for v in out.values()):
            self._parsed_blocks[raw] = out.copy()
        return out

    def _block(self, headers: dict[str, Any]) -> bytes | None:
        """:func:`encode_header_block`, remembered for one-header dicts (structured mode's
        content type is the same on every message)."""
        if len(headers) != 1:
            return encode_header_block(headers, self._good_header_names)
        ((name, value),) = headers.items()
        if type(name) is not str or type(value) is not str:
            return None
        block = self._header_blocks.get((name, value))
        if block is None:
            block = encode_header_block(headers, self._good_header_names)
            if block is not None and len(self._header_blocks) < _MAX_BLOCKS:
                self._header_blocks[name, value] = block
        return block

    def queue_publish(
        self,
        subject: str,
        reply: str,
        headers: dict[str, Any] | None,
        body: bytes,
        *,
        from_server: bool = False,
    ) -> bool:
        """Append what ``publish(subject, body, reply, headers)`` would send to nats-py's pending
        buffer, with the same counters, and return True; or do nothing and return False, and the
        caller awaits ``publish`` itself: for a subject no ``publish`` call has accepted yet
        (nats-py validates it), a connection not plainly up, a payload over the server's limit,
        a header block nats-py would rewrite or refuse, or a buffer this would fill (nats-py
        then flushes and waits). ``reply`` is the caller's own inbox subject, taken as valid, and
        so is ``subject`` ``from_server``: a reply subject the server sent, read from a protocol
        line split at whitespace (what nats-py's check refuses cannot be in it).
        Nothing is flushed: :meth:`kick` once after the queued messages."""
        if not self._fast or self._status != Client.CONNECTED:
            return False
        if not from_server and subject not in self._accepted:
            return False
        size = len(body)
        if size > self._max_payload:
            return False
        if headers is None:
            cmd = b"PUB %b %b %d\r\n%b\r\n" % (subject.encode(), reply.encode(), size, body)
        elif not headers or (block := self._block(headers)) is None:
            return False
        else:
            cmd = b"HPUB %b %b %d %d\r\n%b%b\r\n" % (
                subject.encode(),
                reply.encode(),
                len(block),
                len(block) + size,
                block,
                body,
            )
        if 0 < self._max_pending_size < self._pending_data_size + len(cmd):
            return False
        self.stats["out_msgs"] += 1
        self.stats["out_bytes"] += size
        self._pending.append(cmd)
        self._pending_data_size += len(cmd)
        return True

    async def publish_checked(
        self, subject: str, body: bytes, reply: str = "", headers: dict[str, Any] | None = None
    ) -> None:
        """nats-py's ``publish``; once it accepted ``subject``, :meth:`queue_publish` may too."""
        await self.publish(subject, body, reply=reply, headers=headers)
        if len(self._accepted) >= _MAX_NAMES:
            self._accepted.clear()
        self._accepted.add(subject)

    async def kick(self) -> None:
        """What nats-py does after each publish, once after queued ones: wake the flusher."""
        if self._flush_queue is not None and self._flush_queue.empty():
            await self._flush_pending()

    async def publish_all(
        self, subject: str, items: Iterator[tuple[dict[str, Any] | None, bytes]]
    ) -> None:
        """``publish(subject, body, headers=headers)`` for each item, in order: queued where
        :meth:`queue_publish` can (nothing else runs between two queued messages, so the
        connection cannot change state unseen), else through nats-py's ``publish``."""
        queue = self.queue_publish
        try:
            for headers, body in items:
                if not queue(subject, "", headers, body):
                    await self.publish_checked(subject, body, headers=headers)
        finally:  # what was queued goes out even when an item fails
            await self.kick()

    async def _send_publish(
        self,
        subject: str,
        reply: str,
        payload: bytes,
        payload_size: int,
        headers: dict[str, Any] | None,
    ) -> None:
        block = None
        if self._fast and type(headers) is dict and headers:
            block = self._block(headers)
        if block is None or not subject:
            await super()._send_publish(subject, reply, payload, payload_size, headers)
            return
        # The rest of nats-py's _send_publish, unchanged.
        self.stats["out_msgs"] += 1
        self.stats["out_bytes"] += payload_size
        await self._send_command(hpub_cmd(subject, reply, block, payload))
        if self._flush_queue is not None and self._flush_queue.empty():
            await self._flush_pending()
