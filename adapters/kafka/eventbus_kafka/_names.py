"""Topic names: Kafka's rules, and the retry topics the adapter derives from a channel.

A channel is a topic: ASCII letters, digits, ``.``, ``_`` and ``-``, at most 249 characters,
not ``.`` or ``..``. The adapter keeps room for its retry topics (``<channel>.retry.<n>s``),
so a channel may be a little shorter. Kafka also refuses a topic whose name differs from an
existing one only by ``.`` versus ``_`` (their metrics names would collide): the broker says
so when the topic is created, and the adapter passes that on as a ChannelNameError.
"""

from __future__ import annotations

from eventbus.adapter import Limits

__all__ = [
    "ADAPTER_NAME",
    "DEFAULT_MAX_MESSAGE_BYTES",
    "limits_for",
    "retry_label",
    "retry_topic",
    "retry_topics",
]

ADAPTER_NAME = "kafka"
#: The broker's default ``message.max.bytes``; the real one is read from the broker on connect.
DEFAULT_MAX_MESSAGE_BYTES = 1_048_588
#: Record-batch framing the size of a one-record batch adds to the message (headers' varints,
#: the batch header): kept free under the broker's limit.
RECORD_OVERHEAD = 512
_MAX_TOPIC = 249
_RULE = "ASCII letters, digits, '.', '_' and '-', not '.' or '..'"
_PATTERN = r"(?!\.{1,2}$)[A-Za-z0-9._\-]+"


def retry_label(delay: float) -> str:
    """``1s``, ``30s``, ``250ms``: how a retry topic names its delay bound."""
    if delay >= 1 and float(delay).is_integer():
        return f"{int(delay)}s"
    return f"{round(delay * 1000)}ms"


def retry_topic(channel: str, delay: float) -> str:
    return f"{channel}.retry.{retry_label(delay)}"


def retry_topics(channel: str, delays: tuple[float, ...]) -> tuple[str, ...]:
    return tuple(retry_topic(channel, d) for d in delays)


def limits_for(max_message_bytes: int, delays: tuple[float, ...]) -> Limits:
    """Limits of a broker taking records of ``max_message_bytes`` (its ``message.max.bytes``)."""
    suffix = max(len(retry_topic("", d)) for d in delays)
    return Limits(
        max_message_bytes=max(1, max_message_bytes - RECORD_OVERHEAD),
        channel_pattern=_PATTERN,
        channel_rule=_RULE,
        max_channel_length=_MAX_TOPIC - suffix,
    )
