"""Publishing: ``PublishBatch`` to the channel's SNS topic, in order.

Messages are encoded (``_codec``: size checked before anything is sent), then sent in batches of
at most 10 entries and 256 KiB (SNS's limits for one PublishBatch), one batch after the other so
the order of ``messages`` is kept. On a FIFO topic every entry has a ``MessageGroupId``: the
message's key (its ``partitionkey``), so SNS and SQS keep order per key; a message without a key
gets a group of its own (no order asked for, no head-of-line blocking). ``MessageDeduplicationId``
is a hash of the message's dedupe id, so SNS drops a re-sent event within its 5-minute window.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from typing import Any

from eventbus.adapter import Message, PublishError
from eventbus_aws._admin import Admin, TopicRef
from eventbus_aws._client import Clients
from eventbus_aws._codec import Outgoing, to_aws
from eventbus_aws._errors import translated
from eventbus_aws._names import MAX_BATCH, MAX_MESSAGE_BYTES

__all__ = ["KEYED", "Publisher", "group_id"]

#: Prefix of a MessageGroupId made from a partition key (others are per-message groups).
KEYED = "k:"
_HASHED = "h:"
_SINGLE = "n:"
_GROUP_CHARS = frozenset(chr(c) for c in range(0x21, 0x7F))
_MAX_GROUP = 128


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def group_id(message: Message, outgoing: Outgoing) -> str:
    """The FIFO MessageGroupId of ``message``: its key (hashed when SQS would refuse it), or a
    group of its own."""
    key = message.key
    if key is not None:
        if len(key) <= _MAX_GROUP - len(KEYED) and _GROUP_CHARS.issuperset(key):
            return KEYED + key
        return _HASHED + _digest(key)
    return _SINGLE + _digest(message.dedupe_id or outgoing.body)


def dedupe_id(message: Message, outgoing: Outgoing) -> str:
    return _digest(message.dedupe_id) if message.dedupe_id else _digest(outgoing.body)


class Publisher:
    def __init__(self, clients: Clients, admin: Admin, where: str) -> None:
        self._clients = clients
        self._admin = admin
        self._where = where

    async def publish(self, channel: str, messages: Sequence[Message]) -> None:
        if not messages:
            return
        encoded = [to_aws(m) for m in messages]  # raises before anything is sent
        await self._publish(await self._admin.topic(channel), messages, encoded)

    async def publish_to(self, topic: TopicRef, messages: Sequence[Message]) -> None:
        """Publish to ``topic`` as it is (no lookup, nothing created)."""
        await self._publish(topic, messages, [to_aws(m) for m in messages])

    async def _publish(
        self, topic: TopicRef, messages: Sequence[Message], encoded: Sequence[Outgoing]
    ) -> None:
        batch: list[dict[str, Any]] = []
        size = 0
        for message, outgoing in zip(messages, encoded, strict=True):
            if batch and (len(batch) == MAX_BATCH or size + outgoing.size > MAX_MESSAGE_BYTES):
                await self._send(topic, batch)
                batch, size = [], 0
            entry: dict[str, Any] = {"Id": str(len(batch)), "Message": outgoing.body}
            if outgoing.attributes:
                entry["MessageAttributes"] = outgoing.attributes
            if topic.fifo:
                entry["MessageGroupId"] = group_id(message, outgoing)
                entry["MessageDeduplicationId"] = dedupe_id(message, outgoing)
            batch.append(entry)
            size += outgoing.size
        await self._send(topic, batch)

    async def _send(self, topic: TopicRef, batch: list[dict[str, Any]]) -> None:
        action = f"publishing {len(batch)} message(s) to channel {topic.channel!r}"
        with translated(action, self._where, publishing=True):
            response = await self._clients.sns.publish_batch(
                TopicArn=topic.arn,
                PublishBatchRequestEntries=batch,  # type: ignore[arg-type]
            )
        failed = response.get("Failed") or []
        if failed:
            first = failed[0]
            raise PublishError(  # SNS answered: the failed entries were not published
                f"{action} on {self._where}: {len(failed)} of {len(batch)} refused "
                f"({first.get('Code', 'error')}: {first.get('Message', '')})",
                outcome="not-stored",
            )
