"""What the Service Bus adapter provides, per semantic (see docs/adapters/servicebus.md)."""

from __future__ import annotations

from eventbus.adapter import Capabilities, Limits, Semantic, Support
from eventbus_servicebus._config import DEFAULT_MAX_MESSAGE_BYTES

__all__ = ["CAPABILITIES", "capabilities_for"]

_BASE = {
    Semantic.AT_LEAST_ONCE: Support.NATIVE,  # peek-lock; abandon and lock expiry redeliver
    Semantic.ATTEMPT_COUNT: Support.NATIVE,  # DeliveryCount + 1
    Semantic.CONSUMER_GROUPS: Support.NATIVE,  # a group is a topic subscription
    # The adapter publishes the annotated message to "<channel>.dlq" (subscription "dlq") and
    # completes the original: the deadletter* attributes stay readable. The entity's own
    # $DeadLetterQueue keeps what the broker dead-letters itself (MaxDeliveryCountExceeded),
    # and the bus's dead letters too with native_dead_letter=true.
    Semantic.DEAD_LETTER: Support.EMULATED,
    # The adapter keeps the lock (renewing it) for the delay, then abandons: the broker counts
    # the attempt and, in a session, the order holds. Queues schedule a copy instead.
    Semantic.DELAYED_REDELIVERY: Support.NATIVE,
    # SessionId = partition key; an ordered subscription (or every one, with sessions=true)
    # is session-enabled and handles each session's messages one at a time.
    Semantic.ORDERING_KEY: Support.NATIVE,
    Semantic.PUBLISHER_DEDUPE: Support.NATIVE,  # MessageId = event id (duplicate detection)
    Semantic.TTL: Support.UNSUPPORTED,  # Message carries no time-to-live
    Semantic.BATCH_PUBLISH: Support.NATIVE,
    # ReplyTo + ReplyToSessionId: a session of a session-enabled reply queue per requester.
    # Emulated, not native: the broker cannot tell at once that nobody receives a request.
    Semantic.REQUEST_REPLY: Support.EMULATED,
    Semantic.WILDCARD_SUBSCRIBE: Support.UNSUPPORTED,  # one topic per channel
    Semantic.LOCK_RENEWAL: Support.NATIVE,  # renew-lock
    Semantic.BROWSE: Support.NATIVE,  # peek
    Semantic.GROUP_ADMIN: Support.NATIVE,  # subscriptions, through the administration client
}

_LIMITS = Limits(
    max_message_bytes=DEFAULT_MAX_MESSAGE_BYTES,
    max_channel_length=260,
    channel_rule="letters, digits, '.', '_' and '-', starting with a letter or digit",
)

#: What the adapter provides with the default message size limit.
CAPABILITIES = Capabilities(semantics=_BASE, limits=_LIMITS, binding="amqp")


def capabilities_for(max_message_bytes: int) -> Capabilities:
    if max_message_bytes == DEFAULT_MAX_MESSAGE_BYTES:
        return CAPABILITIES
    limits = Limits(
        max_message_bytes=max_message_bytes,
        max_channel_length=_LIMITS.max_channel_length,
        channel_rule=_LIMITS.channel_rule,
    )
    return Capabilities(semantics=_BASE, limits=limits, binding="amqp")
