"""eventbus-kafka: the Apache Kafka adapter for eventbus (confluent-kafka / librdkafka).

Installed, it serves ``kafka://`` URLs: ``EventBus("kafka://localhost:9092")``. For typed
configuration build a :class:`KafkaAdapter` from a :class:`KafkaConfig` and pass it to
``EventBus``. See docs/adapters/kafka.md.
"""

from eventbus_kafka._adapter import KafkaAdapter
from eventbus_kafka._capabilities import KAFKA
from eventbus_kafka._config import (
    ConsumerConfig,
    KafkaConfig,
    ProducerConfig,
    SaslConfig,
    TlsConfig,
    TopicConfig,
)
from eventbus_kafka._url import parse_kafka_url

__all__ = [
    "KAFKA",
    "ConsumerConfig",
    "KafkaAdapter",
    "KafkaConfig",
    "ProducerConfig",
    "SaslConfig",
    "TlsConfig",
    "TopicConfig",
    "parse_kafka_url",
]
