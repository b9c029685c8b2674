"""The pluggy plugin that registers ``nats://`` (entry point ``eventbus.adapters: nats``)."""

from __future__ import annotations

from eventbus.adapter import AdapterInfo, hookimpl
from eventbus_nats._adapter import NatsAdapter
from eventbus_nats._capabilities import JETSTREAM

__all__ = ["eventbus_adapters"]


@hookimpl
def eventbus_adapters() -> list[AdapterInfo]:
    """The NATS adapter, served for ``nats://`` URLs (capabilities shown: JetStream, the default)."""
    return [
        AdapterInfo(
            scheme="nats",
            distribution="eventbus-nats",
            description=(
                "NATS JetStream (default: at-least-once, durable groups, dead letters) or core "
                "NATS (?mode=core: at-most-once): nats://[user:pass@]host:port[,host:port][?...]"
            ),
            factory=NatsAdapter.from_url,
            capabilities=JETSTREAM,
        )
    ]
