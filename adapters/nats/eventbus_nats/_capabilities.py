"""What the adapter declares in each mode (the table in docs/adapters/nats.md explains each row)."""

from __future__ import annotations

from dataclasses import replace

from eventbus.adapter import Capabilities, Semantic, Support
from eventbus_nats._config import Mode
from eventbus_nats._names import DEFAULT_MAX_PAYLOAD, limits_for

__all__ = ["CORE", "JETSTREAM", "capabilities_for"]

_N, _E, _U = Support.NATIVE, Support.EMULATED, Support.UNSUPPORTED

_JETSTREAM = {
    Semantic.AT_LEAST_ONCE: _N,  # explicit acks; unacked messages come back after ack_wait
    Semantic.ATTEMPT_COUNT: _N,  # the consumer's delivery count
    Semantic.CONSUMER_GROUPS: _N,  # durable pull consumers
    # JetStream has no dead-letter queue: the adapter moves the message itself (republish with
    # a derived Nats-Msg-Id, then TERM), and the bus hands it over through Delivery.dead_letter.
    Semantic.DEAD_LETTER: _E,
    Semantic.DELAYED_REDELIVERY: _N,  # -NAK {"delay": ns}
    Semantic.ORDERING_KEY: _U,  # JetStream orders per subject, not per partition key
    Semantic.PUBLISHER_DEDUPE: _N,  # Nats-Msg-Id within the stream's duplicate window
    Semantic.TTL: _U,
    Semantic.BATCH_PUBLISH: _E,  # pipelined, in order, not atomic
    # the reply address in the ce-replyto header (a stream keeps no reply subject); replies
    # on core NATS to the requester's inbox; no "no responders" (the stream keeps a request)
    Semantic.REQUEST_REPLY: _E,
    Semantic.WILDCARD_SUBSCRIBE: _N,
    Semantic.LOCK_RENEWAL: _N,  # +WPI (in progress)
    Semantic.BROWSE: _N,  # direct stream reads above the group's ack floor
    Semantic.GROUP_ADMIN: _N,  # durable consumers
}

_CORE = {
    Semantic.AT_LEAST_ONCE: _U,  # at-most-once: nothing is stored
    Semantic.ATTEMPT_COUNT: _U,
    Semantic.CONSUMER_GROUPS: _N,  # queue groups
    Semantic.DEAD_LETTER: _U,  # the bus publishes to the dead-letter subject itself
    Semantic.DELAYED_REDELIVERY: _U,  # the bus retries in process
    Semantic.ORDERING_KEY: _U,
    Semantic.PUBLISHER_DEDUPE: _U,
    Semantic.TTL: _U,
    Semantic.BATCH_PUBLISH: _E,
    Semantic.REQUEST_REPLY: _N,  # request inboxes; "no responders" at once
    Semantic.WILDCARD_SUBSCRIBE: _N,
    Semantic.LOCK_RENEWAL: _U,
    Semantic.BROWSE: _U,  # nothing is stored
    Semantic.GROUP_ADMIN: _U,  # queue groups exist only while subscribed
}

# Structured by default: sdk-go's protocol/nats/v2 reads nothing else, and the 1.0.2 NATS binding
# knows no other mode (docs/architecture.md, "Content mode per broker"; docs/interop.md).
JETSTREAM = Capabilities(
    _JETSTREAM, limits_for(DEFAULT_MAX_PAYLOAD), binding="ce-headers", content_mode="structured"
)
CORE = Capabilities(
    _CORE, limits_for(DEFAULT_MAX_PAYLOAD), binding="ce-headers", content_mode="structured"
)


def capabilities_for(mode: Mode, max_payload: int = DEFAULT_MAX_PAYLOAD) -> Capabilities:
    base = JETSTREAM if mode == "jetstream" else CORE
    if max_payload == DEFAULT_MAX_PAYLOAD:
        return base
    return replace(base, limits=limits_for(max_payload))
