"""Subjects, patterns and the names the adapter derives from them (streams, durable consumers).

A channel is a NATS subject: '.'-separated tokens of printable ASCII without spaces, '*' or '>';
no empty token; not a system subject (``$...``) nor a reply inbox (``_INBOX...``). A pattern
may use ``*`` for one token and ``>`` as the last token.
"""

from __future__ import annotations

import hashlib
import re

from eventbus.adapter import ChannelNameError, Limits

__all__ = [
    "ADAPTER_NAME",
    "DEFAULT_MAX_PAYLOAD",
    "check_channel",
    "check_pattern",
    "consumer_name",
    "limits_for",
    "root_of",
    "stream_name",
]

ADAPTER_NAME = "nats"
#: nats-server's default ``max_payload``; the real one is read from the server on connect.
DEFAULT_MAX_PAYLOAD = 1024 * 1024

# Printable ASCII except space, '.', '*' and '>'.
_TOKEN = r"[!-)+-\-/-=?-~]+"
_SUBJECT = rf"(?!\$|_INBOX(?:\.|$)){_TOKEN}(?:\.{_TOKEN})*"
_RULE = (
    "'.'-separated tokens of printable ASCII without spaces, '*' or '>', no empty token, "
    "not starting with '$' or '_INBOX'"
)
_NAME_UNSAFE = re.compile(r"[^A-Za-z0-9_-]")
_MAX_NAME = 64


def limits_for(max_payload: int) -> Limits:
    """Limits of a server with ``max_payload`` (NATS counts headers and body together)."""
    return Limits(
        max_message_bytes=max_payload,
        channel_pattern=_SUBJECT,
        channel_rule=_RULE,
        max_channel_length=255,
    )


def check_channel(limits: Limits, channel: str) -> None:
    """Raise ChannelNameError unless ``channel`` is a literal subject."""
    problem = limits.channel_problem(channel)
    if problem is not None:
        raise ChannelNameError(channel, problem, adapter=ADAPTER_NAME)


def check_pattern(limits: Limits, pattern: str) -> None:
    """Raise ChannelNameError unless ``pattern`` is a subject or a valid wildcard subject."""
    problem = limits.pattern_problem(pattern)
    if problem is not None:
        raise ChannelNameError(pattern, problem, adapter=ADAPTER_NAME)


def root_of(subject: str) -> str | None:
    """The first token of ``subject``, or None when it is a wildcard."""
    root = subject.split(".", 1)[0]
    return None if root in ("*", ">") else root


def _safe(text: str, keep: int) -> str:
    return _NAME_UNSAFE.sub("_", text)[:keep]


def _digest(*parts: str) -> str:
    return hashlib.sha256("\0".join(parts).encode()).hexdigest()[:10]


def stream_name(pattern: str, root: str) -> str:
    """The template stream name for ``root``: '{root}' filled in, made a valid stream name.

    A root that needed changes gets a digest suffix, so two roots never share a name.
    """
    safe = _safe(root, _MAX_NAME)
    if safe != root:
        safe = f"{safe[:40]}_{_digest(root)}"
    return pattern.replace("{root}", safe)


def consumer_name(group: str, subject: str) -> str:
    """The durable consumer of ``group`` on ``subject``: readable, unique, a valid name."""
    return f"{_safe(group, 24)}__{_safe(subject, 26)}__{_digest(group, subject)}"
