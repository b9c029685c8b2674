"""AWS resource names: channel -> SNS topic, (channel, group) -> SQS queue, and the limits.

SNS topic names are 1 to 256 characters of ``[A-Za-z0-9_-]`` (FIFO topics end in ``.fifo``);
SQS queue names 1 to 80 of the same characters (FIFO queues end in ``.fifo``). Channels default
to event types, which are full of dots, so a channel is written with a prefix-free code:
``.`` -> ``_``, ``_`` -> ``-_``, ``-`` -> ``--`` (``com.shop.order_placed`` is the topic
``com_shop_order-_placed``); two channels never share a topic. A consumer group is the queue
``<topic>-g-<group>`` (group coded the same way), a fan-out subscriber the queue
``<topic>-f-<random hex>``. Names too long for AWS are cut and end in a hash of the full name.
"""

from __future__ import annotations

import re
import secrets

from eventbus.adapter import ChannelNames, ConfigurationError, Limits, fit_name

__all__ = [
    "ADAPTER_NAME",
    "FIFO_SUFFIX",
    "LIMITS",
    "MAX_ATTRIBUTES",
    "MAX_BATCH",
    "MAX_MESSAGE_BYTES",
    "channel_names",
    "check_group",
    "fanout_queue_name",
    "group_queue_name",
    "topic_name",
]

ADAPTER_NAME = "sqs"
FIFO_SUFFIX = ".fifo"

#: SQS and SNS quotas (docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/
#: quotas-messages.html; SNS PublishBatch): a message with its attributes is at most 256 KiB,
#: SQS keeps at most 10 message attributes, and batches hold at most 10 entries.
MAX_MESSAGE_BYTES = 262_144
MAX_ATTRIBUTES = 10
MAX_BATCH = 10

_MAX_TOPIC = 256 - len(FIFO_SUFFIX)
_MAX_QUEUE = 80 - len(FIFO_SUFFIX)
_CODE = {".": "_", "_": "-_", "-": "--"}
_CHANNEL = re.compile(r"[A-Za-z0-9][A-Za-z0-9._\-]*")
_CHANNEL_RULE = "letters, digits, '.', '_' and '-', starting with a letter or digit"
_GROUP = re.compile(r"[A-Za-z0-9._\-]+")

LIMITS = Limits(
    max_message_bytes=MAX_MESSAGE_BYTES,
    max_header_count=MAX_ATTRIBUTES,  # _codec checks again with its body marker
    max_header_bytes=None,  # only the total counts, which max_message_bytes covers
    channel_pattern=_CHANNEL.pattern,
    channel_rule=_CHANNEL_RULE,
    max_channel_length=255,
)


def channel_names() -> ChannelNames:
    """The toolkit's channel checker for SQS's rules (it remembers the valid names)."""
    return ChannelNames(LIMITS, adapter=ADAPTER_NAME)


def check_group(group: str) -> None:
    if not _GROUP.fullmatch(group):
        raise ConfigurationError(
            f"consumer group {group!r} for SQS must be letters, digits, '.', '_' and '-' "
            "(None means fan-out)"
        )


def _code(name: str) -> str:
    return "".join(_CODE.get(ch, ch) for ch in name)


def topic_name(channel: str, fifo: bool = False) -> str:
    """The SNS topic of ``channel`` (``.fifo`` appended for a FIFO channel)."""
    return fit_name(_code(channel), _MAX_TOPIC) + (FIFO_SUFFIX if fifo else "")


def group_queue_name(channel: str, group: str, fifo: bool = False) -> str:
    """The durable SQS queue of consumer group ``group`` on ``channel``."""
    check_group(group)
    base = fit_name(f"{_code(channel)}-g-{_code(group)}", _MAX_QUEUE)
    return base + (FIFO_SUFFIX if fifo else "")


def fanout_queue_name(channel: str, fifo: bool = False) -> str:
    """A fresh queue for one fan-out subscriber (deleted when it closes)."""
    base = fit_name(_code(channel), _MAX_QUEUE - 19) + f"-f-{secrets.token_hex(8)}"
    return base + (FIFO_SUFFIX if fifo else "")
