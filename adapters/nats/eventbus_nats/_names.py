"""Subject rules and the names the adapter derives from subjects (streams, durable consumers).

A channel is a NATS subject: '.'-separated tokens of printable ASCII without spaces, '*' or '>';
no empty token; not a system subject (``$...``) nor a reply inbox (``_INBOX...``). A pattern
may use ``*`` for one token and ``>`` as the last token.
"""

from __future__ import annotations

import hashlib
import re

from eventbus.adapter import Limits

__all__ = [
    "ADAPTER_NAME",
    "DEFAULT_MAX_PAYLOAD",
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
