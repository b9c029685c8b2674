"""Run the test broker on a free loopback port in a background thread."""

from __future__ import annotations

import socket
import threading
import time
from typing import Any

from proton.reactor import Container

from sb_broker._codec import decode_message
from sb_broker._entities import EntityConfig, MessageQueue
from sb_broker._handler import BrokerHandler
from sb_broker._namespace import Address, Namespace


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


class ServiceBusTestBroker:
    """The broker: ``start()`` listens on ``host:port`` (a free port by default)."""

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        lock_duration: float = 30.0,
        max_delivery_count: int = 10,
        duplicate_window: float = 600.0,
        session_wait: float = 1.0,
        auto_create: bool = True,
        key_name: str = "RootManageSharedAccessKey",
        key: str = "dGVzdC1icm9rZXIta2V5LW5vdC1hLXNlY3JldA==",
    ) -> None:
        self.host = host
        self.port = port
        defaults = EntityConfig(
            lock_duration=lock_duration,
            max_delivery_count=max_delivery_count,
            duplicate_window=duplicate_window,
            session_lock_duration=max(lock_duration, 5.0),
        )
        self.namespace = Namespace(defaults, auto_create, key_name, key)
        self._handler = BrokerHandler(self.namespace, session_wait)
        self._thread: threading.Thread | None = None

    def __repr__(self) -> str:
        return f"<ServiceBusTestBroker {self.host}:{self.port}>"

    @property
    def connection_string(self) -> str:
        ns = self.namespace
        return (
            f"Endpoint=sb://{self.host}:{self.port};SharedAccessKeyName={ns.key_name};"
            f"SharedAccessKey={ns.key};UseDevelopmentEmulator=true"
        )

    def start(self) -> ServiceBusTestBroker:
        if not self.port:
            self.port = free_port(self.host)
        container = Container(self._handler)
        container.container_id = "sb-test-broker"
        self._handler.acceptor = container.listen(f"{self.host}:{self.port}")
        self._thread = threading.Thread(target=container.run, name="sb-test-broker", daemon=True)
        self._thread.start()
        deadline = time.monotonic() + 10
        while True:
            try:
                socket.create_connection((self.host, self.port), timeout=1).close()
                return self
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.02)

    def stop(self) -> None:
        self._handler.stopping = True
        if self._thread is not None:
            self._thread.join(10)
            self._thread = None

    def __enter__(self) -> ServiceBusTestBroker:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- provisioning and inspection (thread-safe) ---------------------------------------------

    def create_queue(self, name: str, **config: Any) -> None:
        with self.namespace.lock:
            self.namespace.create_queue(name, **config)

    def create_topic(self, name: str, **config: Any) -> None:
        with self.namespace.lock:
            self.namespace.create_topic(name, **config)

    def create_subscription(self, topic: str, name: str, **config: Any) -> None:
        with self.namespace.lock:
            self.namespace.create_subscription(topic, name, **config)

    def entity(self, path: str) -> MessageQueue:
        """The queue, subscription (``topic/Subscriptions/name``) or ``.../$DeadLetterQueue``."""
        with self.namespace.lock:
            return self.namespace.source(Address.parse(path))

    def subscriptions(self, topic: str) -> list[str]:
        with self.namespace.lock:
            found = self.namespace.topics.get(topic.lower())
            return (
                []
                if found is None
                else [s.path.split("/")[-1] for s in found.subscriptions.values()]
            )

    def received(self, entity: str | None = None) -> list[Any]:
        """Messages sent to ``entity`` (all entities: None), decoded as proton Messages."""
        with self.namespace.lock:
            raws = [raw for name, raw in self.namespace.received if entity in (None, name)]
        return [decode_message(raw) for raw in raws]

    def count(self, path: str) -> dict[str, int]:
        with self.namespace.lock:
            queue = self.namespace.source(Address.parse(path))
            return {
                "ready": queue.ready_count(),
                "locked": queue.locked_count(),
                "scheduled": queue.scheduled_count(),
                **queue.stats,
            }
