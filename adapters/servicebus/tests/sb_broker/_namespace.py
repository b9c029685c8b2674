"""The test broker's namespace: entity paths, auto-creation, and what tests may inspect.

Paths as the SDK sends them (``amqps://host:port/<path>``, scheme and host stripped):
``<queue>``, ``<topic>``, ``<topic>/Subscriptions/<name>``, either of those followed by
``/$DeadLetterQueue``, ``<entity>/$management`` and ``$cbs``. Names compare case-insensitively,
as on Service Bus. With ``auto_create`` (the default) sending to an unknown name creates a
topic, and receiving from ``<topic>/Subscriptions/<name>`` creates the subscription (what
``provision=true`` does on a real namespace); receiving from an unknown plain name creates a
queue. Without it, an unknown entity is ``amqp:not-found``, as on Service Bus.
"""

from __future__ import annotations

import threading
from collections import deque
from dataclasses import dataclass, field, replace
from typing import Any
from urllib.parse import urlsplit

from sb_broker._entities import EntityConfig, MessageQueue
from sb_broker._topic import Topic

DLQ_SUFFIX = "/$deadletterqueue"


class EntityNotFound(LookupError):
    pass


@dataclass
class Address:
    kind: str  # "cbs" | "management" | "queue" | "subscription" | "topic" | "unknown"
    entity: str  # the entity path (without $management / $DeadLetterQueue)
    dead_letter: bool = False

    @classmethod
    def parse(cls, address: str | None) -> Address:
        path = address or ""
        if "://" in path:
            path = urlsplit(path).path
        path = path.strip("/")
        lowered = path.lower()
        if lowered == "$cbs":
            return cls("cbs", "")
        if lowered.endswith("/$management"):
            return cls("management", path[: -len("/$management")])
        dead = lowered.endswith(DLQ_SUFFIX)
        if dead:
            path = path[: -len(DLQ_SUFFIX)]
        parts = path.split("/")
        if len(parts) == 3 and parts[1].lower() == "subscriptions":
            return cls("subscription", path, dead)
        return cls("unknown", path, dead)


@dataclass
class Namespace:
    """Every entity of the broker. Guard access from other threads with ``lock``."""

    defaults: EntityConfig = field(default_factory=EntityConfig)
    auto_create: bool = True
    key_name: str = "RootManageSharedAccessKey"
    key: str = "test-broker-key"
    lock: threading.RLock = field(default_factory=threading.RLock)
    queues: dict[str, MessageQueue] = field(default_factory=dict)
    topics: dict[str, Topic] = field(default_factory=dict)
    #: The last messages sent to any entity, as (entity, raw bytes), for tests to inspect.
    received: deque[tuple[str, bytes]] = field(default_factory=lambda: deque(maxlen=1000))

    # -- provisioning ----------------------------------------------------------------------------

    def create_queue(self, name: str, **config: Any) -> MessageQueue:
        cfg = replace(self.defaults, **config)
        dlq = MessageQueue(name + "/$DeadLetterQueue", replace(cfg, requires_session=False), None)
        queue = self.queues[name.lower()] = MessageQueue(name, cfg, dlq)
        return queue

    def create_topic(self, name: str, **config: Any) -> Topic:
        topic = self.topics[name.lower()] = Topic(name, replace(self.defaults, **config))
        return topic

    def create_subscription(self, topic: str, name: str, **config: Any) -> MessageQueue:
        parent = self.topics.get(topic.lower()) or self.create_topic(topic)
        cfg = replace(self.defaults, **config)
        path = f"{parent.path}/Subscriptions/{name}"
        dlq = MessageQueue(path + "/$DeadLetterQueue", replace(cfg, requires_session=False), None)
        sub = parent.subscriptions[name.lower()] = MessageQueue(path, cfg, dlq)
        return sub

    def delete_subscription(self, topic: str, name: str) -> None:
        parent = self.topics.get(topic.lower())
        if parent is not None:
            parent.subscriptions.pop(name.lower(), None)

    # -- lookup ----------------------------------------------------------------------------------

    def target(self, address: Address) -> MessageQueue | Topic:
        """Where a message sent to ``address`` goes."""
        key = address.entity.lower()
        if address.kind == "unknown" and not address.dead_letter:
            found = self.queues.get(key) or self.topics.get(key)
            if found is not None:
                return found
            if self.auto_create and key:
                return self.create_topic(address.entity)
        raise EntityNotFound(address.entity)

    def source(self, address: Address, session: bool = False) -> MessageQueue:
        """The entity a receiver on ``address`` reads (created requiring sessions when the
        first receiver asks for a session)."""
        key = address.entity.lower()
        found: MessageQueue | None = None
        if address.kind == "subscription":
            topic_name, _, sub_name = address.entity.split("/")
            topic = self.topics.get(topic_name.lower())
            found = topic.subscriptions.get(sub_name.lower()) if topic is not None else None
            if found is None and self.auto_create:
                found = self.create_subscription(topic_name, sub_name, requires_session=session)
        elif address.kind == "unknown":
            found = self.queues.get(key)
            if found is None and self.auto_create and key and key not in self.topics:
                found = self.create_queue(address.entity, requires_session=session)
        if found is None:
            raise EntityNotFound(address.entity)
        if address.dead_letter:
            assert found.dead_letter_queue is not None
            return found.dead_letter_queue
        return found

    def all_queues(self) -> list[MessageQueue]:
        out: list[MessageQueue] = []
        for queue in self.queues.values():
            out.append(queue)
        for topic in self.topics.values():
            out.extend(topic.subscriptions.values())
        out.extend([q.dead_letter_queue for q in list(out) if q.dead_letter_queue is not None])
        return out

    def tick(self, now: float) -> bool:
        changed = False
        for topic in list(self.topics.values()):
            changed |= topic.tick(now)
        for queue in self.all_queues():
            changed |= queue.tick(now)
        return changed

    def remember(self, entity: str, raw: bytes) -> None:
        self.received.append((entity, raw))
