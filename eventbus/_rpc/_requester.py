"""The requester: send a request event, wait for the reply that names it as its cause."""

from __future__ import annotations

import asyncio
import itertools
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from eventbus._adapter._contract import Adapter, ReplyingAdapter, ReplyListener
from eventbus._bus._middleware import Middleware, compose_publish
from eventbus._errors import BusClosedError, ConfigurationError
from eventbus._rpc._attributes import (
    CAUSATION_ID,
    CORRELATION_ID,
    ERROR_MESSAGE,
    ERROR_TYPE,
    EXPIRY_TIME,
    REPLY_TO,
)
from eventbus._rpc._channel import ChannelReplies
from eventbus._rpc._errors import NoRespondersError, RemoteHandlerError, RequestTimeoutError
from eventbus._wire._event import Event
from eventbus._wire._message import Message
from eventbus._wire._types import format_time

__all__ = ["RequestStats", "Requester"]

log = logging.getLogger("eventbus")

Encode = Callable[[Event[Any]], tuple[str, Message]]
Decode = Callable[[Message, Any], Event[Any]]


@dataclass
class RequestStats:
    """What this bus's requests came to. ``late``: replies that arrived after their request
    gave up (or twice); ``invalid``: messages on the reply address that were not events."""

    sent: int = 0
    replied: int = 0
    remote_errors: int = 0
    timed_out: int = 0
    no_responders: int = 0
    cancelled: int = 0
    late: int = 0
    invalid: int = 0


@dataclass
class _Pending:
    future: asyncio.Future[Event[Any]]
    token: str
    reply_type: Any


class Requester:
    """One bus's requests: one reply listener, opened before the first request is sent."""

    def __init__(
        self, adapter: Adapter, encode: Encode, decode: Decode, middleware: Sequence[Middleware]
    ) -> None:
        self._adapter = adapter
        self._native = isinstance(adapter, ReplyingAdapter)  # a Protocol check: not per request
        self._encode = encode
        self._decode = decode
        self._send = compose_publish(middleware, self._publish)
        self._pending: dict[str, _Pending] = {}  # by request id (a reply's causationid)
        self._tokens: dict[str, str] = {}  # token -> request id
        # How many waiting requests want each reply type: while they all want the same one, a
        # reply is decoded once, straight into it (see _on_reply).
        self._types: dict[Any, int] = {}
        self._counter = itertools.count(1)
        self._listener: ReplyListener | None = None
        self._lock = asyncio.Lock()
        self._closed = False
        self.stats = RequestStats()

    @property
    def pending(self) -> int:
        return len(self._pending)

    async def _listen(self) -> ReplyListener:
        async with self._lock:
            if self._closed:
                raise BusClosedError("the bus is closing: no more requests")
            if self._listener is None:
                adapter = self._adapter
                if self._native:
                    assert isinstance(adapter, ReplyingAdapter)
                    self._listener = await adapter.listen_replies(
                        self._on_reply, self._on_no_responders
                    )
                else:
                    self._listener = await ChannelReplies.open(adapter, self._on_reply)
            return self._listener

    async def request(self, event: Event[Any], timeout: float, reply_type: Any) -> Event[Any]:
        if not isinstance(event, Event):
            raise ConfigurationError(f"request() takes an Event, not {type(event).__name__}")
        if isinstance(timeout, bool) or not (isinstance(timeout, int | float) and timeout > 0):
            raise ConfigurationError(f"timeout must be a number of seconds > 0, got {timeout!r}")
        if event.id in self._pending:
            raise ConfigurationError(f"a request with id {event.id!r} is already waiting")
        listener = self._listener or await self._listen()
        token = format(next(self._counter), "x")
        links: dict[str, Any] = {
            REPLY_TO: listener.reply_to(token),
            # As its RFC 3339 text: what every binding carries (a datetime value would also cost
            # the event its fast validation path).
            EXPIRY_TIME: format_time(datetime.now(UTC) + timedelta(seconds=timeout)),
        }
        if CORRELATION_ID not in event.extensions:
            links[CORRELATION_ID] = event.id
        request = event.with_extensions(**links)
        future: asyncio.Future[Event[Any]] = asyncio.get_running_loop().create_future()
        self._pending[request.id] = _Pending(future, token, reply_type)
        self._tokens[token] = request.id
        types = self._types
        types[reply_type] = types.get(reply_type, 0) + 1
        try:
            await self._send(request)
            self.stats.sent += 1
            try:
                async with asyncio.timeout(timeout):
                    return await future
            except TimeoutError:
                if future.done() and not future.cancelled():
                    return future.result()  # the reply won the race with the timer
                self.stats.timed_out += 1
                raise RequestTimeoutError(
                    f"no reply to request {request.id!r} ({request.type!r}) within {timeout} s"
                ) from None
        finally:
            self._pending.pop(request.id, None)
            self._tokens.pop(token, None)
            left = types[reply_type] - 1
            if left:
                types[reply_type] = left
            else:
                del types[reply_type]

    async def _publish(self, request: Event[Any]) -> None:
        channel, message = self._encode(request)
        reply_to = request.extensions[REPLY_TO]
        assert isinstance(reply_to, str)
        adapter = self._adapter
        if self._native:
            await adapter.publish_request(channel, message, reply_to)  # type: ignore[attr-defined]
        else:
            await adapter.publish(channel, (message,))

    def _on_reply(self, message: Message) -> None:
        # The reply's causationid names its request, and so the type to decode its data into:
        # while every waiting request wants the same type (the usual case), decode straight
        # into it; otherwise (or if that fails) decode untyped, then again once the request is
        # known.
        guess = next(iter(self._types)) if len(self._types) == 1 else None
        reply = None
        if guess is not None:
            try:
                reply = self._decode(message, guess)
            except Exception:
                guess = None
        if reply is None:
            try:
                reply = self._decode(message, None)
            except Exception as exc:
                self.stats.invalid += 1
                log.warning("eventbus: dropped a message on the reply address: %r", exc)
                return
        cause = reply.extensions.get(CAUSATION_ID)
        pending = self._pending.get(cause) if isinstance(cause, str) else None
        if pending is None or pending.future.done():
            self.stats.late += 1
            log.info("eventbus: dropped a late reply (causationid %r)", cause)
            return
        future = pending.future
        if ERROR_TYPE in reply.extensions:
            self.stats.remote_errors += 1
            future.set_exception(
                RemoteHandlerError(
                    str(reply.extensions[ERROR_TYPE]),
                    str(reply.extensions.get(ERROR_MESSAGE, "")),
                    reply,
                )
            )
            return
        if pending.reply_type is not guess:
            try:
                reply = self._decode(message, pending.reply_type)
            except Exception as exc:
                future.set_exception(exc)
                return
        self.stats.replied += 1
        future.set_result(reply)

    def _on_no_responders(self, token: str) -> None:
        request_id = self._tokens.get(token)
        pending = self._pending.get(request_id) if request_id is not None else None
        if pending is None or pending.future.done():
            return
        self.stats.no_responders += 1
        pending.future.set_exception(
            NoRespondersError(f"no subscriber receives request {request_id!r}")
        )

    async def close(self) -> None:
        """Fail every waiting request with BusClosedError and remove the reply listener."""
        async with self._lock:
            self._closed = True
            for pending in list(self._pending.values()):
                if not pending.future.done():
                    self.stats.cancelled += 1
                    pending.future.set_exception(
                        BusClosedError("the bus closed while the request waited for its reply")
                    )
            listener, self._listener = self._listener, None
        if listener is not None:
            await listener.close()
