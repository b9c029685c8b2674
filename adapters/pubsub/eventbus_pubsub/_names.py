"""Pub/Sub resource names: channel -> topic, (channel, group) -> subscription, and the limits.

Topic and subscription IDs follow the same rule (cloud.google.com/pubsub/docs/pubsub-basics
"resource names"): 3 to 255 characters, starting with a letter, made of letters, digits and
``- _ . ~ + %``, not starting with ``goog``. A channel is used as the topic ID as it is, so channel
names must follow that rule (the bus checks them against :data:`LIMITS` before anything is sent).

A consumer group is a durable subscription named ``<channel>~<group>``: the group is
percent-encoded where it has characters outside ``[A-Za-z0-9-_.+]`` (``~`` and ``%`` included),
so the last ``~`` always separates the two parts and two (channel, group) pairs never share a
name. A fan-out subscriber gets ``<channel>~fanout.<random hex>``. Names longer than 255
characters are cut and end in a hash of the full name.
"""

from __future__ import annotations

import re
import secrets

from eventbus.adapter import ConfigurationError, Limits, fit_name

__all__ = [
    "ADAPTER_NAME",
    "ENVELOPE_BYTES",
    "MAX_ATTRIBUTES",
    "MAX_ATTRIBUTE_KEY_BYTES",
    "MAX_ATTRIBUTE_VALUE_BYTES",
    "MAX_ORDERING_KEY_BYTES",
    "MAX_REQUEST_BYTES",
    "check_project",
    "check_topic_id",
    "fanout_subscription_id",
    "group_subscription_id",
    "limits_for",
    "reply_subscription_id",
    "subscription_path",
    "topic_path",
]

ADAPTER_NAME = "pubsub"

#: Pub/Sub quotas (cloud.google.com/pubsub/quotas, "Resource limits").
MAX_REQUEST_BYTES = 10_000_000  # one PublishRequest (what the Python client also uses)
MAX_ATTRIBUTES = 100
MAX_ATTRIBUTE_KEY_BYTES = 256
MAX_ATTRIBUTE_VALUE_BYTES = 1024
MAX_ORDERING_KEY_BYTES = 1024
#: Room kept in a request for its envelope: topic path, protobuf framing of the message, its
#: attributes (up to 100) and ordering key (up to 1 KB). A message the bus lets through as at
#: most ``max_request_bytes - ENVELOPE_BYTES`` bytes always fits in a request of its own.
ENVELOPE_BYTES = 4096

_MAX_NAME = 255
_CHANNEL_RULE = (
    "Pub/Sub topic names are 3 to 255 characters: letters, digits and '-', '_', '.', '~', '+', "
    "'%', starting with a letter and not with 'goog'"
)
# Project IDs: 6-30 lowercase letters, digits and hyphens, starting with a letter. Emulators accept
# any name, and older projects may be domain-scoped ("example.com:proj"), so the check is loose.
_PROJECT = re.compile(r"[a-z][a-z0-9\-.:]{0,62}[a-z0-9]|[a-z]")
_TOPIC_ID = re.compile(r"(?!goog)[A-Za-z][A-Za-z0-9\-_.~+%]{2,254}")
_GROUP_SAFE = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.+")


def limits_for(max_request_bytes: int = MAX_REQUEST_BYTES) -> Limits:
    """What the bus checks before it hands a message over (the adapter checks the rest)."""
    return Limits(
        max_message_bytes=max_request_bytes - ENVELOPE_BYTES,
        max_header_count=MAX_ATTRIBUTES,
        max_header_bytes=MAX_ATTRIBUTE_KEY_BYTES + MAX_ATTRIBUTE_VALUE_BYTES,
        channel_pattern=r"(?!goog)[A-Za-z][A-Za-z0-9\-_.~+%]{2,}",
        channel_rule=_CHANNEL_RULE,
        max_channel_length=_MAX_NAME,
    )


def check_project(project: str) -> None:
    if not _PROJECT.fullmatch(project):
        raise ConfigurationError(
            f"{project!r} is not a Google Cloud project ID: use lowercase letters, digits and "
            "hyphens, starting with a letter (pubsub://PROJECT)"
        )


def check_topic_id(name: str, what: str) -> None:
    if not _TOPIC_ID.fullmatch(name):
        raise ConfigurationError(f"{what} {name[:80]!r} is not a valid topic name: {_CHANNEL_RULE}")


def topic_path(project: str, channel: str) -> str:
    return f"projects/{project}/topics/{channel}"


def subscription_path(project: str, subscription_id: str) -> str:
    return f"projects/{project}/subscriptions/{subscription_id}"


def _escape_group(group: str) -> str:
    return "".join(
        ch if ch in _GROUP_SAFE else "".join(f"%{b:02X}" for b in ch.encode()) for ch in group
    )


def group_subscription_id(channel: str, group: str) -> str:
    """The durable subscription of consumer group ``group`` on ``channel``."""
    if not group:
        raise ConfigurationError("a consumer group name must not be empty (None means fan-out)")
    return fit_name(f"{channel}~{_escape_group(group)}", _MAX_NAME)


def fanout_subscription_id(channel: str) -> str:
    """A fresh subscription for one fan-out subscriber (deleted when it closes)."""
    return fit_name(f"{channel}~fanout.{secrets.token_hex(8)}", _MAX_NAME)


def reply_subscription_id(reply_topic: str, requester: str) -> str:
    """The subscription of one requester on the reply topic (deleted when it closes)."""
    return fit_name(f"{reply_topic}~reply.{requester}", _MAX_NAME)
