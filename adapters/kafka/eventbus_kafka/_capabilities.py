"""What the adapter declares (the table in docs/adapters/kafka.md explains each row)."""

from __future__ import annotations

from eventbus.adapter import Capabilities, Semantic, Support
from eventbus_kafka._config import TopicConfig
from eventbus_kafka._names import DEFAULT_MAX_MESSAGE_BYTES, limits_for

__all__ = ["KAFKA", "capabilities_for"]

_N, _E, _U = Support.NATIVE, Support.EMULATED, Support.UNSUPPORTED

_SEMANTICS = {
    Semantic.AT_LEAST_ONCE: _N,  # offsets committed only past settled records
    Semantic.ATTEMPT_COUNT: _E,  # an attempt header on the retry copies
    Semantic.CONSUMER_GROUPS: _N,  # Kafka consumer groups
    Semantic.DEAD_LETTER: _E,  # the adapter writes the dead-letter topic, then commits
    Semantic.DELAYED_REDELIVERY: _E,  # retry topics with increasing delays (non-blocking)
    Semantic.ORDERING_KEY: _N,  # partitionkey is the record key: one partition per key
    Semantic.PUBLISHER_DEDUPE: _U,  # the idempotent producer only drops its own retries
    Semantic.TTL: _U,
    Semantic.BATCH_PUBLISH: _N,  # librdkafka batches records per partition
    # A shared reply topic, each requester reading it and keeping the replies addressed to it;
    # emulated: Kafka cannot tell at once that nobody receives a request.
    Semantic.REQUEST_REPLY: _E,
    Semantic.WILDCARD_SUBSCRIBE: _U,
    Semantic.LOCK_RENEWAL: _U,  # nothing to renew: no timer redelivers an in-flight record
    Semantic.BROWSE: _N,  # records above the group's committed offsets, read without a group
    Semantic.GROUP_ADMIN: _N,  # consumer groups and their committed offsets
}

KAFKA = Capabilities(
    _SEMANTICS,
    limits_for(DEFAULT_MAX_MESSAGE_BYTES, TopicConfig().retry_delays),
    binding="kafka",
)


def capabilities_for(max_message_bytes: int, delays: tuple[float, ...]) -> Capabilities:
    return Capabilities(_SEMANTICS, limits_for(max_message_bytes, delays), binding="kafka")
