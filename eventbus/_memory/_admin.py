"""Browse and group administration of the in-memory broker (the optional adapter protocols).

Browsing is a snapshot of a group's queue: nothing is leased or counted. Removing settles the
browsed messages for good. A consumer group is a durable queue of (pattern, group); fan-out
queues are not groups (they go with their subscriber).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from eventbus._adapter._contract import Browsed, GroupInfo
from eventbus._errors import ConfigurationError
from eventbus._memory._broker import MemoryBroker
from eventbus._memory._names import matches
from eventbus._memory._queue import Queue
from eventbus._wire._message import Message

__all__ = ["browse", "delete_group", "list_groups", "remove", "retention_problem"]


def _group_queue(broker: MemoryBroker, channel: str, group: str) -> Queue:
    queue = broker.existing_group(channel, group)
    if queue is None:
        raise ConfigurationError(
            f"there is no consumer group {group!r} on {channel!r} on the memory broker "
            f"{broker.name or '(private)'!r}"
        )
    return queue


def browse(broker: MemoryBroker, channel: str, group: str, limit: int) -> list[Browsed]:
    """A snapshot of what ``group`` holds on ``channel``: leased ones first, then in order."""
    messages = _group_queue(broker, channel, group).messages()[:limit]
    return [Browsed(message, message) for message in messages]


def remove(broker: MemoryBroker, channel: str, group: str, refs: Sequence[Any]) -> None:
    wanted = {id(ref) for ref in refs if isinstance(ref, Message)}
    _group_queue(broker, channel, group).discard(wanted)


def list_groups(broker: MemoryBroker, channel: str | None) -> list[GroupInfo]:
    return [
        GroupInfo(queue.pattern, queue.group, queue.depth, f"{queue.pattern}/{queue.group}")
        for queue in broker.group_queues()
        if queue.group is not None and channel in (None, queue.pattern)
    ]


def delete_group(broker: MemoryBroker, channel: str, group: str) -> None:
    broker.remove_queue(_group_queue(broker, channel, group))


def retention_problem(broker: MemoryBroker, channel: str) -> str | None:
    tokens = channel.split(".")
    for queue in broker.group_queues():
        if matches(queue.tokens, tokens):
            return None
    return f"no consumer group subscribes to {channel!r}: what is published there is dropped"
