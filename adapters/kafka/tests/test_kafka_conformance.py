"""The Kafka adapter passes the conformance suite on a real Kafka broker."""

from __future__ import annotations

import pytest
from eventbus_kafka import KafkaAdapter
from kafka_launcher import KafkaServer

from eventbus.adapter import Capabilities
from eventbus.testing import AdapterConformance, run


class TestKafkaConformance(AdapterConformance):
    @pytest.fixture
    def bus_url(self, kafka_server: KafkaServer) -> str:
        return kafka_server.url()

    @pytest.fixture
    def capabilities(self, bus_url: str) -> Capabilities:
        """As connected: the size limit is the broker's own (the test broker's is not Kafka's
        default), read at connect."""

        async def connected() -> Capabilities:
            adapter = KafkaAdapter.from_url(bus_url)
            await adapter.connect()
            try:
                return adapter.capabilities
            finally:
                await adapter.close()

        return run(connected())

    def test_publish_many_keeps_order(self, bus_url: str, prefix: str) -> None:
        """Kafka keeps order per partition, not per topic, and keyless records are spread
        over the partitions (so that a group shares the work): the suite's scenario, unchanged,
        on a single-partition topic. Order per key on many partitions: test_order_per_partition_key."""
        separator = "&" if "?" in bus_url else "?"
        super().test_publish_many_keeps_order(f"{bus_url}{separator}partitions=1", prefix)
