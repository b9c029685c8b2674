"""What the adapter declares (docs/adapters/pubsub.md explains each row)."""

from __future__ import annotations

from eventbus.adapter import Capabilities, Semantic, Support
from eventbus_pubsub._names import MAX_REQUEST_BYTES, limits_for

__all__ = ["BINDING", "CAPABILITIES", "capabilities_for"]

BINDING = "pubsub"  # ce- attributes, Pub/Sub content-type rules (eventbus._wire._bindings)
_N, _E, _U = Support.NATIVE, Support.EMULATED, Support.UNSUPPORTED


def _semantics(message_ordering: bool) -> dict[Semantic, Support]:
    return {
        Semantic.AT_LEAST_ONCE: _N,  # unacked messages come back after the ack deadline
        # delivery_attempt where the subscription has a dead-letter policy (every one with a
        # dead-letter channel); otherwise the adapter counts this process's deliveries
        Semantic.ATTEMPT_COUNT: _N,
        Semantic.CONSUMER_GROUPS: _N,  # a group is a durable subscription
        # the subscription's dead-letter policy catches what the consumer never settles; the
        # bus's annotated dead letter goes through Delivery.dead_letter (publish, then ack)
        Semantic.DEAD_LETTER: _N,
        # modify_ack_deadline(delay): whole seconds by Pub/Sub, the fraction waited in process
        Semantic.DELAYED_REDELIVERY: _N,
        Semantic.ORDERING_KEY: _N if message_ordering else _U,  # ordering_key + ordered subs
        Semantic.PUBLISHER_DEDUPE: _U,  # Pub/Sub has none: use the idempotency store
        Semantic.TTL: _U,
        Semantic.BATCH_PUBLISH: _N,  # one PublishRequest per 1,000 messages / request size
        # A reply topic with one filtered subscription per requester; emulated, not native:
        # Pub/Sub cannot tell at once that nobody receives a request.
        Semantic.REQUEST_REPLY: _E,
        Semantic.WILDCARD_SUBSCRIBE: _U,  # a subscription reads exactly one topic
        Semantic.LOCK_RENEWAL: _N,  # modify_ack_deadline
        # no peek: unary Pulls, then every message given back at once (modify_ack_deadline 0)
        Semantic.BROWSE: _E,
        Semantic.GROUP_ADMIN: _N,  # a group is a subscription
    }


CAPABILITIES = Capabilities(_semantics(True), limits_for(MAX_REQUEST_BYTES), binding=BINDING)


def capabilities_for(message_ordering: bool, max_request_bytes: int) -> Capabilities:
    if message_ordering and max_request_bytes == MAX_REQUEST_BYTES:
        return CAPABILITIES
    return Capabilities(
        _semantics(message_ordering), limits_for(max_request_bytes), binding=BINDING
    )
