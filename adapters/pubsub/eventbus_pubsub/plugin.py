"""The pluggy plugin that registers ``pubsub://`` (entry point ``eventbus.adapters: pubsub``)."""

from __future__ import annotations

from eventbus.adapter import AdapterInfo, hookimpl
from eventbus_pubsub._adapter import PubSubAdapter
from eventbus_pubsub._capabilities import CAPABILITIES

__all__ = ["eventbus_adapters"]


@hookimpl
def eventbus_adapters() -> list[AdapterInfo]:
    """The Google Cloud Pub/Sub adapter, served for ``pubsub://PROJECT`` URLs."""
    return [
        AdapterInfo(
            scheme="pubsub",
            distribution="eventbus-pubsub",
            description=(
                "Google Cloud Pub/Sub (at-least-once, groups as subscriptions, dead-letter "
                "policy, ordering keys): pubsub://PROJECT[?emulator_host=HOST:PORT&...]"
            ),
            factory=PubSubAdapter.from_url,
            capabilities=CAPABILITIES,
        )
    ]
