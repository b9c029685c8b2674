"""Publishing: ``Message`` -> ``PubsubMessage``, limits checked first, requests batched.

``publish()`` calls made while the event loop is busy join one queue per topic, sent on the next
loop iteration as PublishRequests of at most 1,000 messages and ``max_request_bytes`` (what the
official client's batching does, without its timer). The requests of one flush go one after the
other, so one caller's messages keep their order; while a flush is in flight, the calls that
arrive meanwhile (concurrent callers, whose relative order is undefined anyway) form the next
flush, up to ``_MAX_FLUSHES`` per topic at once. A caller that awaits each publish therefore
keeps its order. A caller returns once every request holding its messages is acknowledged.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from google.api_core import exceptions as gexc
from google.pubsub_v1 import types

from eventbus.adapter import LimitExceededError, Message, PublishError
from eventbus_pubsub._admin import Admin, missing_topic
from eventbus_pubsub._client import Clients, retry_policy
from eventbus_pubsub._config import PubSubConfig
from eventbus_pubsub._errors import translated
from eventbus_pubsub._names import (
    ADAPTER_NAME,
    ENVELOPE_BYTES,
    MAX_ATTRIBUTE_KEY_BYTES,
    MAX_ATTRIBUTE_VALUE_BYTES,
    MAX_ATTRIBUTES,
    MAX_ORDERING_KEY_BYTES,
    topic_path,
)

__all__ = ["Publisher", "to_pubsub"]

_PubsubMessage: Any = types.PubsubMessage.pb()
_PublishRequest: Any = types.PublishRequest.pb()
_MAX_PER_REQUEST = 1000
_MAX_FLUSHES = 4  # requests in flight per topic (each flush sends its own one at a time)
_REQUEST_SLACK = 512  # topic path and request framing
# The most attribute bytes a message can carry once each attribute passed its own checks.
_MAX_ATTRIBUTE_BYTES = MAX_ATTRIBUTES * (MAX_ATTRIBUTE_KEY_BYTES + MAX_ATTRIBUTE_VALUE_BYTES)


def _text(name: str, value: object) -> str:
    """Attribute values are strings; the pubsub binding only writes strings anyway."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, bytes):
        try:
            return value.decode()
        except UnicodeDecodeError:
            raise PublishError(
                f"attribute {name!r} is not UTF-8 text", outcome="not-stored"
            ) from None
    if isinstance(value, datetime):
        return value.isoformat()
    raise PublishError(
        f"attribute {name!r} has a {type(value).__name__}, not a string", outcome="not-stored"
    )


def _check_attribute(name: str, value: str) -> None:
    if not name or name.startswith("goog"):
        raise PublishError(
            f"attribute name {name!r} is not allowed by Pub/Sub (empty, or starts with 'goog')",
            outcome="not-stored",
        )
    size = len(name.encode())
    if size > MAX_ATTRIBUTE_KEY_BYTES:
        raise LimitExceededError(
            f"size in bytes of attribute name {name[:40]!r}",
            MAX_ATTRIBUTE_KEY_BYTES,
            size,
            adapter=ADAPTER_NAME,
        )
    size = len(value.encode())
    if size > MAX_ATTRIBUTE_VALUE_BYTES:
        raise LimitExceededError(
            f"size in bytes of attribute {name!r} (use structured content mode for long "
            "attribute values)",
            MAX_ATTRIBUTE_VALUE_BYTES,
            size,
            adapter=ADAPTER_NAME,
        )


def to_pubsub(message: Message, *, ordering: bool, max_message_bytes: int) -> Any:
    """The ``PubsubMessage`` (raw protobuf) for ``message``; raise if Pub/Sub would refuse it."""
    headers = message.headers
    if len(headers) > MAX_ATTRIBUTES:
        raise LimitExceededError(
            "attribute count", MAX_ATTRIBUTES, len(headers), adapter=ADAPTER_NAME
        )
    attributes: dict[str, str] = {}
    for name, value in headers.items():
        if type(value) is not str:
            value = _text(name, value)
        # 4 bytes per character at most: short names and values need no encoding to check
        if len(name) > 64 or len(value) > 256 or not name or name.startswith("goog"):
            _check_attribute(name, value)
        attributes[name] = value
    key = message.key if ordering and message.key else ""
    if key and len(key) > MAX_ORDERING_KEY_BYTES // 4:
        size = len(key.encode())
        if size > MAX_ORDERING_KEY_BYTES:
            raise LimitExceededError(
                "ordering key (partitionkey) size in bytes",
                MAX_ORDERING_KEY_BYTES,
                size,
                adapter=ADAPTER_NAME,
            )
    body = message.body
    if not body and not attributes:
        raise PublishError(
            "Pub/Sub refuses a message with neither data nor attributes", outcome="not-stored"
        )
    if len(body) + _MAX_ATTRIBUTE_BYTES + MAX_ORDERING_KEY_BYTES > max_message_bytes:
        size = message.size() + len(key.encode())
        if size > max_message_bytes:
            raise LimitExceededError(
                "message size in bytes", max_message_bytes, size, adapter=ADAPTER_NAME
            )
    return _PubsubMessage(data=body, attributes=attributes, ordering_key=key)


def _fail(requests: list[tuple[list[Any], list[asyncio.Future[None]]]], exc: BaseException) -> None:
    for _, waiting in requests:
        for done in waiting:
            if not done.done():
                done.set_exception(exc)


@dataclass(eq=False)
class _Queue:
    topic: str
    channel: str
    pending: list[tuple[list[Any], asyncio.Future[None]]] = field(default_factory=list)
    scheduled: bool = False
    flushes: set[asyncio.Task[None]] = field(default_factory=set)


class Publisher:
    """Sends messages to topics (see the module docstring for batching and order)."""

    def __init__(self, clients: Clients, admin: Admin, config: PubSubConfig, where: str) -> None:
        self._clients = clients
        self._admin = admin
        self._config = config
        self._where = where
        self._retry = retry_policy(config.timeout)
        self._ordering = config.message_ordering
        self._max_message = config.max_request_bytes - ENVELOPE_BYTES
        self._budget = config.max_request_bytes - _REQUEST_SLACK
        self._queues: dict[str, _Queue] = {}
        self._closed = False

    async def publish(self, channel: str, messages: Sequence[Message]) -> None:
        ordering, most = self._ordering, self._max_message
        # every message is checked before anything is sent
        converted = [to_pubsub(m, ordering=ordering, max_message_bytes=most) for m in messages]
        if not converted:
            return
        if self._closed:
            raise PublishError("the Pub/Sub adapter is closed", outcome="not-stored")
        if self._config.provision:
            topic = await self._admin.ensure_topic(channel)
        else:
            topic = topic_path(self._config.project, channel)
        queue = self._queues.get(topic)
        if queue is None:
            queue = self._queues[topic] = _Queue(topic, channel)
        loop = asyncio.get_running_loop()
        done: asyncio.Future[None] = loop.create_future()
        queue.pending.append((converted, done))
        if not queue.scheduled:
            queue.scheduled = True
            loop.call_soon(self._flush, queue)
        await done

    async def close(self) -> None:
        self._closed = True
        tasks = [task for queue in self._queues.values() for task in queue.flushes]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        for queue in self._queues.values():
            _fail(
                [([], [done for _, done in queue.pending])],
                PublishError("the adapter closed", outcome="not-stored"),
            )
            queue.pending.clear()

    def _flush(self, queue: _Queue) -> None:
        queue.scheduled = False
        if self._closed or not queue.pending or len(queue.flushes) >= _MAX_FLUSHES:
            return  # a flush finishing calls again
        batch, queue.pending = queue.pending, []
        task = asyncio.get_running_loop().create_task(self._send(queue, batch))
        queue.flushes.add(task)
        task.add_done_callback(lambda _: self._flushed(queue, task))

    def _flushed(self, queue: _Queue, task: asyncio.Task[None]) -> None:
        queue.flushes.discard(task)
        if queue.pending and not queue.scheduled:
            self._flush(queue)

    def _requests(
        self, batch: list[tuple[list[Any], asyncio.Future[None]]]
    ) -> list[tuple[list[Any], list[asyncio.Future[None]]]]:
        """Cut the batch into requests; each carries the callers whose last message it holds."""
        requests: list[tuple[list[Any], list[asyncio.Future[None]]]] = [([], [])]
        size = 0
        for messages, done in batch:
            for pm in messages:
                weight = pm.ByteSize() + 8
                current = requests[-1][0]
                if current and (len(current) >= _MAX_PER_REQUEST or size + weight > self._budget):
                    requests.append(([], []))
                    size = 0
                requests[-1][0].append(pm)
                size += weight
            requests[-1][1].append(done)
        return requests

    async def _send(
        self, queue: _Queue, batch: list[tuple[list[Any], asyncio.Future[None]]]
    ) -> None:
        requests = self._requests(batch)
        for index, (messages, finished) in enumerate(requests):
            try:
                await self._rpc(queue.topic, queue.channel, messages)
            except asyncio.CancelledError:  # the adapter is closing: callers must not hang
                _fail(requests[index:], PublishError(f"publishing to {queue.topic} was cancelled"))
                raise
            except Exception as exc:
                _fail(requests[index:], exc)
                return
            for done in finished:
                if not done.done():
                    done.set_result(None)

    async def _rpc(self, topic: str, channel: str, messages: list[Any]) -> None:
        request = types.PublishRequest.wrap(_PublishRequest(topic=topic, messages=messages))
        call = self._clients.publisher.publish
        with translated(f"publishing to topic {topic}", self._where, publishing=True):
            try:
                await call(request=request, retry=self._retry, timeout=self._config.timeout)
            except gexc.NotFound:
                if not self._config.provision:
                    raise missing_topic(topic) from None
                self._admin.forget_topic(topic)  # deleted behind our back: create it again
                await self._admin.ensure_topic(channel)
                await call(request=request, retry=self._retry, timeout=self._config.timeout)
