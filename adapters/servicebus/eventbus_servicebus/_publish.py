"""Senders: one per channel, opened on first use and kept; batches cut to the size the link allows.

Sends on one sender are serialised (the SDK's sender is not meant for concurrent sends), so
the order of ``publish`` calls on a channel is the order on the broker. A batch never mixes
SessionIds (partition keys): a batch is one transfer, which a partitioned or session-enabled
entity takes for one session.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from azure.servicebus import ServiceBusMessage
from azure.servicebus.aio import ServiceBusClient, ServiceBusSender
from azure.servicebus.exceptions import MessageSizeExceededError

from eventbus.adapter import Message
from eventbus_servicebus._convert import to_servicebus

__all__ = ["Publisher"]


class Publisher:
    """The sender of one entity (topic or queue)."""

    def __init__(
        self,
        client: ServiceBusClient,
        entity: str,
        queue: bool,
        socket_timeout: float | None = None,
    ) -> None:
        self.entity = entity
        options: dict[str, Any] = (
            {} if socket_timeout is None else {"socket_timeout": socket_timeout}
        )
        self._sender: ServiceBusSender = (
            client.get_queue_sender(entity, **options)
            if queue
            else client.get_topic_sender(entity, **options)
        )
        self._lock = asyncio.Lock()

    async def send(self, messages: Sequence[Message]) -> None:
        converted = [to_servicebus(m) for m in messages]
        async with self._lock:
            if len(converted) == 1:
                await self._sender.send_messages(converted[0])
                return
            await self._send_batches(converted)

    async def send_one(self, message: ServiceBusMessage) -> None:
        """Send one message already in the SDK's form (a request or a reply)."""
        async with self._lock:
            await self._sender.send_messages(message)

    async def _send_batches(self, messages: list[ServiceBusMessage]) -> None:
        batch = await self._sender.create_message_batch()
        session: str | None = None
        for message in messages:
            if len(batch) and message.session_id != session:
                await self._sender.send_messages(batch)
                batch = await self._sender.create_message_batch()
            try:
                batch.add_message(message)
            except MessageSizeExceededError:
                if not len(batch):
                    raise
                await self._sender.send_messages(batch)
                batch = await self._sender.create_message_batch()
                batch.add_message(message)
            session = message.session_id
        if len(batch):
            await self._sender.send_messages(batch)

    async def schedule(self, message: ServiceBusMessage, delay: float) -> None:
        at = datetime.now(UTC) + timedelta(seconds=delay)
        async with self._lock:
            await self._sender.schedule_messages(message, at)

    async def close(self) -> None:
        await self._sender.close()
