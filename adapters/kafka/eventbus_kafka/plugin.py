"""The pluggy plugin that registers ``kafka://`` (entry point ``eventbus.adapters: kafka``)."""

from __future__ import annotations

from eventbus.adapter import AdapterInfo, hookimpl
from eventbus_kafka._adapter import KafkaAdapter
from eventbus_kafka._capabilities import KAFKA

__all__ = ["eventbus_adapters"]


@hookimpl
def eventbus_adapters() -> list[AdapterInfo]:
    """The Kafka adapter, served for ``kafka://`` URLs."""
    return [
        AdapterInfo(
            scheme="kafka",
            distribution="eventbus-kafka",
            description=(
                "Apache Kafka (consumer groups, key order, retry and dead-letter topics): "
                "kafka://[user:pass@]host:port[,host:port][?...]"
            ),
            factory=KafkaAdapter.from_url,
            capabilities=KAFKA,
        )
    ]
