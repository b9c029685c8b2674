"""AMQP 1.0 message bytes, section by section: what the test broker stores and hands out.

A message is kept as the raw sections the client sent (properties, application properties,
body...), so what a receiver gets is byte-for-byte what the sender wrote. The broker rewrites
only the header (Proton's encoder drops a delivery-count of 0, which the SDK then reads as
absent) and the message annotations (``x-opt-*`` broker annotations).
"""

from __future__ import annotations

import random
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

from proton import Data, Described, Message, symbol, timestamp, ulong

HEADER, DELIVERY_ANNOTATIONS, MESSAGE_ANNOTATIONS, PROPERTIES = 0x70, 0x71, 0x72, 0x73
APPLICATION_PROPERTIES, DATA, FOOTER = 0x74, 0x75, 0x78
BATCH_SECTIONS = range(0x70, 0x79)

#: Field positions in the properties section.
MESSAGE_ID, CONTENT_TYPE, ABSOLUTE_EXPIRY, GROUP_ID = 0, 6, 8, 10


def now_ms() -> int:
    return int(time.time() * 1000)


def split_sections(raw: bytes) -> list[tuple[int, bytes]]:
    """``raw`` cut into (section code, encoded section) pairs."""
    sections: list[tuple[int, bytes]] = []
    offset = 0
    while offset < len(raw):
        data = Data()
        used = data.decode(raw[offset:])
        if used <= 0:
            raise ValueError("undecodable AMQP section")
        data.rewind()
        data.next()
        value = data.get_object()
        code = int(value.descriptor) if isinstance(value, Described) else -1  # type: ignore[arg-type]
        sections.append((code, bytes(raw[offset : offset + used])))
        offset += used
    return sections


def section_value(encoded: bytes) -> Any:
    """The value of one encoded section (a list, map, binary...)."""
    data = Data()
    data.decode(encoded)
    data.rewind()
    data.next()
    described = data.get_object()
    value = described.value if isinstance(described, Described) else described
    return bytes(value) if isinstance(value, memoryview) else value


def encode_section(code: int, value: Any) -> bytes:
    data = Data()
    data.put_object(Described(ulong(code), value))
    return bytes(data.encode())


def header_section(delivery_count: int, ttl_ms: int | None) -> bytes:
    """A header written in full, so that a delivery-count of 0 is on the wire too."""
    data = Data()
    data.put_described()
    data.enter()
    data.put_ulong(HEADER)
    data.put_list()
    data.enter()
    data.put_bool(False)  # durable
    data.put_ubyte(4)  # priority
    if ttl_ms is None:
        data.put_null()
    else:
        data.put_uint(ttl_ms)
    data.put_bool(delivery_count == 0)  # first-acquirer
    data.put_uint(delivery_count)
    data.exit()
    data.exit()
    return bytes(data.encode())


def is_batch(sections: list[tuple[int, bytes]]) -> bool:
    """A batch send: data sections that each hold a whole encoded message."""
    datas = [s for code, s in sections if code == DATA]
    if not datas:
        return False
    for encoded in datas:
        payload = section_value(encoded)
        if not (
            isinstance(payload, bytes)
            and len(payload) > 3
            and payload[:2] == b"\x00\x53"
            and payload[2] in BATCH_SECTIONS
        ):
            return False
    return True


def batch_messages(sections: list[tuple[int, bytes]]) -> list[bytes]:
    return [section_value(s) for code, s in sections if code == DATA]


@dataclass
class Envelope:
    """One stored message: its sections and what the broker reads from them."""

    sections: list[tuple[int, bytes]]
    annotations: dict[Any, Any]
    message_id: str | None
    session_id: str | None
    expires_at: float | None  # epoch seconds
    ttl_ms: int | None
    scheduled_at: float | None  # epoch seconds
    extra: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def parse(cls, raw: bytes) -> Envelope:
        sections = split_sections(raw)
        annotations: dict[Any, Any] = {}
        props: list[Any] = []
        ttl_ms: int | None = None
        kept: list[tuple[int, bytes]] = []
        for code, encoded in sections:
            if code == HEADER:
                header = section_value(encoded) or []
                if len(header) > 2 and header[2] is not None:
                    ttl_ms = int(header[2])
            elif code == MESSAGE_ANNOTATIONS:
                annotations = dict(section_value(encoded) or {})
            elif code == DELIVERY_ANNOTATIONS:
                continue
            else:
                if code == PROPERTIES:
                    props = list(section_value(encoded) or [])
                kept.append((code, encoded))
        props += [None] * (13 - len(props))
        message_id = None if props[MESSAGE_ID] is None else str(props[MESSAGE_ID])
        session_id = None if props[GROUP_ID] is None else str(props[GROUP_ID])
        expires_at = None
        if ttl_ms:
            expires_at = time.time() + ttl_ms / 1000
        scheduled = annotations.get(symbol("x-opt-scheduled-enqueue-time"))
        scheduled_at = int(scheduled) / 1000 if scheduled else None
        return cls(kept, annotations, message_id, session_id, expires_at, ttl_ms, scheduled_at)

    def application_properties(self) -> dict[str, Any]:
        for code, encoded in self.sections:
            if code == APPLICATION_PROPERTIES:
                return dict(section_value(encoded) or {})
        return {}

    def set_application_properties(self, values: dict[str, Any]) -> None:
        encoded = encode_section(APPLICATION_PROPERTIES, values)
        for i, (code, _) in enumerate(self.sections):
            if code == APPLICATION_PROPERTIES:
                self.sections[i] = (code, encoded)
                return
        at = next((i for i, (c, _) in enumerate(self.sections) if c > APPLICATION_PROPERTIES), None)
        self.sections.insert(
            len(self.sections) if at is None else at, (APPLICATION_PROPERTIES, encoded)
        )

    def encode(self, delivery_count: int, annotations: dict[Any, Any]) -> bytes:
        merged = {**self.annotations, **annotations}
        parts = [header_section(delivery_count, self.ttl_ms)]
        parts.append(encode_section(MESSAGE_ANNOTATIONS, merged))
        parts.extend(encoded for _, encoded in self.sections)
        return b"".join(parts)

    def copy(self) -> Envelope:
        return Envelope(
            list(self.sections),
            dict(self.annotations),
            self.message_id,
            self.session_id,
            self.expires_at,
            self.ttl_ms,
            self.scheduled_at,
            dict(self.extra),
        )


_TOKEN_CHARS = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"


def new_lock_token() -> uuid.UUID:
    """A lock token whose delivery tag (its ``bytes_le``) is ASCII: proton-python hands tags
    back as text, so an ASCII tag maps back to its token without loss."""
    return uuid.UUID(bytes_le="".join(random.choices(_TOKEN_CHARS, k=16)).encode())


def token_of_tag(tag: str | bytes) -> uuid.UUID:
    return uuid.UUID(bytes_le=tag.encode() if isinstance(tag, str) else bytes(tag))


def ts(epoch_seconds: float) -> timestamp:
    return timestamp(int(epoch_seconds * 1000))


def decode_message(raw: bytes) -> Message:
    message = Message()
    message.decode(raw)
    return message
