"""What the adapter declares (docs/adapters/aws.md explains each row)."""

from __future__ import annotations

from eventbus.adapter import Capabilities, Semantic, Support
from eventbus_aws._names import LIMITS

__all__ = ["BINDING", "CAPABILITIES"]

BINDING = "sqs"  # ce- message attributes as-is, or structured JSON (eventbus._wire._bindings)
_N, _E, _U = Support.NATIVE, Support.EMULATED, Support.UNSUPPORTED

CAPABILITIES = Capabilities(
    {
        Semantic.AT_LEAST_ONCE: _N,  # a message not deleted comes back after its visibility
        Semantic.ATTEMPT_COUNT: _N,  # ApproximateReceiveCount
        Semantic.CONSUMER_GROUPS: _N,  # a group is a durable queue subscribed to the topic
        Semantic.DEAD_LETTER: _N,  # redrive policy + Delivery.dead_letter (publish, delete)
        Semantic.DELAYED_REDELIVERY: _N,  # ChangeMessageVisibility(delay)
        Semantic.ORDERING_KEY: _N,  # FIFO topic and queues, MessageGroupId from the key
        Semantic.PUBLISHER_DEDUPE: _U,  # only FIFO channels dedupe (5 minutes): see the docs
        Semantic.TTL: _U,
        Semantic.BATCH_PUBLISH: _N,  # PublishBatch, 10 entries / 256 KiB per call
        Semantic.REQUEST_REPLY: _E,  # a reply topic + queue per requester, deleted on close
        Semantic.WILDCARD_SUBSCRIBE: _U,  # a queue is subscribed to one topic
        Semantic.LOCK_RENEWAL: _N,  # ChangeMessageVisibility(ack wait)
        # no peek: ReceiveMessage, then every message given back at once (visibility 0)
        Semantic.BROWSE: _E,
        Semantic.GROUP_ADMIN: _N,  # a group is a tagged queue subscribed to the topic
    },
    LIMITS,
    binding=BINDING,
    content_mode="structured",
)
