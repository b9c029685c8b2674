"""Wildcard matching and message limits of the in-memory broker (names: ``_adapter._toolkit``).

A pattern is a channel name whose '.'-separated tokens may be ``*`` (exactly one token) or, as
the last token only, ``>`` (one or more tokens), as in NATS.
"""

from __future__ import annotations

from collections.abc import Sequence

from eventbus._adapter._contract import Limits
from eventbus._errors import LimitExceededError
from eventbus._wire._message import Message

__all__ = [
    "ADAPTER_NAME",
    "check_messages",
    "is_wildcard",
    "matches",
]

ADAPTER_NAME = "memory"


def is_wildcard(pattern: str) -> bool:
    return "*" in pattern or ">" in pattern


def matches(pattern_tokens: Sequence[str], channel_tokens: Sequence[str]) -> bool:
    """True when a channel (split on '.') matches a pattern (split on '.')."""
    for i, token in enumerate(pattern_tokens):
        if token == ">":
            return len(channel_tokens) > i
        if i >= len(channel_tokens):
            return False
        if token != "*" and token != channel_tokens[i]:
            return False
    return len(pattern_tokens) == len(channel_tokens)


def check_messages(limits: Limits, messages: Sequence[Message]) -> None:
    """Raise LimitExceededError if a message's ``size()`` is above ``limits.max_message_bytes``.

    Exact unless a message's headers alone pass half the limit: header bytes are only counted
    once the body is over half the limit, because counting them costs about as much as the rest
    of a publish and the bus checks every message against the same limits before publishing.
    """
    maximum = limits.max_message_bytes
    if maximum is None:
        return
    half = maximum // 2
    for message in messages:
        if len(message.body) > half:
            size = message.size()
            if size > maximum:
                raise LimitExceededError("message size", maximum, size, adapter=ADAPTER_NAME)
