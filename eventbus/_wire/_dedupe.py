"""The broker dedupe id of an event (``Message.dedupe_id``), from its ``source`` and ``id``.

The bindings set ``Message.dedupe_id`` with it; adapters send it as it is. Exported by
:mod:`eventbus.adapter` (through ``_adapter._toolkit``) as :func:`broker_dedupe_id`.
"""

from __future__ import annotations

import functools
import hashlib

__all__ = ["broker_dedupe_id"]

_SHORT_ID = 96  # ids up to this long stay readable; "<id>@<16 hex>" fits 128 characters


@functools.lru_cache(maxsize=1024)
def _source_digest(source: str) -> str:
    return hashlib.blake2b(source.encode("utf-8", "surrogatepass"), digest_size=8).hexdigest()


def broker_dedupe_id(source: str, event_id: str) -> str:
    """The id a broker's duplicate detection compares (``Message.dedupe_id``, which adapters
    send as ``Nats-Msg-Id``, Service Bus ``MessageId``...) for the event ``(source, id)``.

    CloudEvents identity is source + id: two producers may use the same id, and must not drop
    each other's events. The result is the same for the same pair in every process and release
    (a re-sent publish is still a duplicate) and differs for different pairs: ``<id>@<digest of
    source>`` (16 hex characters), or for an id longer than 96 characters a 32-hex-character
    digest of both. Either way at most 128 characters (Service Bus' MessageId limit).
    """
    if len(event_id) <= _SHORT_ID:
        return f"{event_id}@{_source_digest(source)}"
    source_bytes = source.encode("utf-8", "surrogatepass")
    data = b"%d:" % len(source_bytes) + source_bytes + event_id.encode("utf-8", "surrogatepass")
    return hashlib.blake2b(data, digest_size=16).hexdigest()
