"""Publishing: headers and size checks, core NATS (fire and forget) and JetStream (acknowledged).

JetStream publishes are pipelined: every message goes out with its own reply subject on one
shared inbox, then the adapter waits for all the acknowledgements. Messages that got none
(timeout, JetStream unavailable, a reconnect) are sent again, in order, with the same
``Nats-Msg-Id``, so the stream drops the copies it already stored.

When messages stay unconfirmed, ``PublishError.outcome`` says what is known: ``"unknown"`` when
one of them was handed to the connection and never answered (the server may have stored it;
while reconnecting, nats-py keeps it in its buffer and sends it when the server is back), and
``"not-stored"`` when every one was refused, answered "no stream" or never handed over.
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import msgspec
from nats.aio.client import Client
from nats.aio.msg import Msg

from eventbus.adapter import LimitExceededError, Message, PublishError, Scrubber
from eventbus_nats._client import AdapterClient
from eventbus_nats._errors import translated
from eventbus_nats._names import ADAPTER_NAME

__all__ = ["MSG_ID", "JetStreamPublisher", "check_size", "headers_of", "publish_core"]

MSG_ID = "Nats-Msg-Id"
_WINDOW = 4096  # acknowledgements awaited at once
_RETRY_PAUSE = 0.2
_Headers = dict[str, str]
_Sent = tuple[int, str, "asyncio.Future[Msg] | None"]


class _PubAck(msgspec.Struct):
    error: dict[str, object] | None = None


_read_ack = msgspec.json.Decoder(_PubAck).decode


def headers_of(message: Message, dedupe: bool) -> _Headers | None:
    """The NATS headers of ``message``: string values; ``Nats-Msg-Id`` from ``dedupe_id``.

    A received message's own ``Nats-Msg-Id`` is never sent again (a dead letter or a re-publish
    would otherwise be dropped as a duplicate of the original).
    """
    headers = message.headers
    out: dict[str, Any]
    if dedupe and message.dedupe_id is not None:
        out = dict(headers)
        out[MSG_ID] = message.dedupe_id
    elif MSG_ID in headers or type(headers) is not dict:
        out = {k: v for k, v in headers.items() if k != MSG_ID}
    else:
        out = headers  # a plain dict, as the bindings make: no copy
    if not out:
        return None
    for value in out.values():
        if type(value) is not str:
            return {k: _text(v) for k, v in out.items()}
    return out


def _text(value: object) -> str:
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def check_size(headers: Mapping[str, str] | None, body: bytes, max_payload: int) -> None:
    """Raise LimitExceededError when the message, as NATS counts it, exceeds ``max_payload``."""
    size = len(body)
    if headers:
        # Under half the limit with names and values, framing (12 + 4 per header) cannot
        # push it over; otherwise count exactly.
        size += sum(map(len, headers)) + sum(map(len, headers.values()))
        if size * 2 <= max_payload:
            return
        size = len(body) + 12  # b"NATS/1.0\r\n" ... b"\r\n"
        for key, value in headers.items():
            size += len(key) + len(value.encode()) + 4
    if size > max_payload:
        raise LimitExceededError("message size in bytes", max_payload, size, adapter=ADAPTER_NAME)


async def publish_core(
    nc: Client, subject: str, messages: Sequence[Message], max_payload: int, scrub: Scrubber
) -> None:
    """Hand ``messages`` to the connection in order (core NATS: at most once)."""
    with translated(f"publishing to {subject!r}", scrub, publishing=True):
        if isinstance(nc, AdapterClient):
            await nc.publish_all(subject, _checked(messages, max_payload))
            return
        for headers, body in _checked(messages, max_payload):
            await nc.publish(subject, body, headers=headers)


def _checked(
    messages: Sequence[Message], max_payload: int
) -> Iterator[tuple[_Headers | None, bytes]]:
    """(headers, body) of each message, checked against ``max_payload`` as it is reached."""
    for message in messages:
        headers = headers_of(message, dedupe=False)
        check_size(headers, message.body, max_payload)
        yield headers, message.body


class JetStreamPublisher:
    """Publishes to JetStream and waits for the stream's acknowledgements."""

    def __init__(self, nc: Client, scrub: Scrubber, timeout: float, retries: int) -> None:
        self._nc = nc
        self._scrub = scrub
        self._timeout = timeout
        self._retries = retries
        self._prefix = ""
        self._waiting: dict[str, asyncio.Future[Msg]] = {}
        self._tokens = itertools.count()

    async def start(self) -> None:
        self._prefix = self._nc.new_inbox() + "."
        with translated("subscribing to JetStream acknowledgements", self._scrub):
            await self._nc.subscribe(self._prefix + "*", cb=self._on_ack)

    async def _on_ack(self, msg: Msg) -> None:
        future = self._waiting.pop(msg.subject[len(self._prefix) :], None)
        if future is not None and not future.done():
            future.set_result(msg)

    async def publish(self, subject: str, items: Sequence[tuple[_Headers | None, bytes]]) -> None:
        """Store ``items`` (headers, body) on ``subject``; raise PublishError if JetStream did
        not confirm them all (with the outcome: see the module docstring)."""
        todo = list(range(len(items)))
        unanswered: set[int] = set()  # handed to the connection, never answered
        problem = "no acknowledgement"
        for attempt in range(self._retries + 1):
            if attempt:
                await self._settle_before_retry(attempt)
            sent = await self._send(subject, items, todo)
            todo, problem = await self._collect(subject, sent, unanswered)
            if not todo:
                return
        unknown = not unanswered.isdisjoint(todo)
        raise PublishError(
            self._scrub(
                f"publishing to {subject!r}: JetStream did not confirm {len(todo)} message(s) "
                f"after {self._retries + 1} attempt(s): {problem}"
            ),
            outcome="unknown" if unknown else "not-stored",
        )

    async def _settle_before_retry(self, attempt: int) -> None:
        await asyncio.sleep(_RETRY_PAUSE * attempt)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self._timeout
        while not self._nc.is_connected and loop.time() < deadline:
            if self._nc.is_closed:
                break
            await asyncio.sleep(0.05)

    async def _send(
        self, subject: str, items: Sequence[tuple[_Headers | None, bytes]], todo: list[int]
    ) -> list[_Sent]:
        """Publish each item of ``todo``; a None future means it could not be handed over."""
        sent: list[_Sent] = []
        fast = self._nc if isinstance(self._nc, AdapterClient) else None
        try:
            return await self._send_each(subject, items, todo, sent, fast)
        finally:  # what was queued goes out, also when a publish raised
            if fast is not None:
                await fast.kick()

    async def _send_each(
        self,
        subject: str,
        items: Sequence[tuple[_Headers | None, bytes]],
        todo: list[int],
        sent: list[_Sent],
        fast: AdapterClient | None,
    ) -> list[_Sent]:
        loop = asyncio.get_running_loop()
        nc, prefix, waiting = self._nc, self._prefix, self._waiting
        oldest = 0
        for position, index in enumerate(todo):
            if len(waiting) >= _WINDOW and oldest < len(sent):
                if fast is not None:
                    await fast.kick()  # what is queued goes out before we wait for its acks
                while len(waiting) >= _WINDOW and oldest < len(sent):
                    future = sent[oldest][2]
                    oldest += 1
                    if future is not None and not future.done():
                        await asyncio.wait((future,), timeout=self._timeout)
            headers, body = items[index]
            token = str(next(self._tokens))
            future = loop.create_future()
            waiting[token] = future
            reply = prefix + token
            if fast is None or not fast.queue_publish(subject, reply, headers, body):
                try:
                    if fast is None:
                        await nc.publish(subject, body, reply=reply, headers=headers)
                    else:
                        await fast.publish_checked(subject, body, reply, headers)
                except Exception as exc:
                    waiting.pop(token, None)
                    if not self._handed_over(subject, exc):
                        # Reconnecting with a full buffer: send this one and the rest later.
                        sent.extend((i, "", None) for i in todo[position:])
                        return sent
            sent.append((index, token, future))
        return sent

    def _handed_over(self, subject: str, exc: Exception) -> bool:
        """After ``publish`` raised ``exc``: raise it translated (refused, or the connection
        is closed), or return False (reconnecting with a full buffer: try again later)."""
        try:
            with translated(f"publishing to {subject!r}", self._scrub, publishing=True):
                raise exc
        except PublishError:
            raise
        except Exception:
            if self._nc.is_closed:
                raise
        return False

    async def _collect(
        self, subject: str, sent: list[_Sent], unanswered: set[int]
    ) -> tuple[list[int], str]:
        """Indexes to send again, and why; raise PublishError on a refusal. Adds to
        ``unanswered`` what was handed over and got no answer."""
        futures = [f for _, _, f in sent if f is not None and not f.done()]
        if futures:
            await asyncio.wait(futures, timeout=self._timeout)
        again: list[int] = []
        problem = "no acknowledgement"
        refusal = ""
        refused: list[int] = []
        for index, token, future in sent:
            if future is None or not future.done():
                if future is not None:
                    future.cancel()
                    self._waiting.pop(token, None)
                    unanswered.add(index)
                    problem = "no acknowledgement (the server may still store what it got)"
                again.append(index)
                continue
            reply = future.result()
            headers = reply.headers
            if headers and headers.get("Status") == "503":
                again.append(index)
                problem = "JetStream is unavailable (no stream answered)"
            elif b'"error"' in reply.data:
                error = _read_ack(reply.data).error or {}
                text = f"{error.get('description')} (JetStream error {error.get('err_code')})"
                if error.get("code") == 503:
                    again.append(index)
                    problem = text
                else:
                    refused.append(index)
                    refusal = refusal or text
        if refusal:
            unknown = not unanswered.isdisjoint(again + refused)
            raise PublishError(
                self._scrub(f"publishing to {subject!r}: {refusal}"),
                outcome="unknown" if unknown else "not-stored",
            )
        return again, problem
