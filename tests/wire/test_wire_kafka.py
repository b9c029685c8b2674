"""The Kafka protocol binding: exact headers, and interop with the official SDK's Kafka binding."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from cloudevents.core.bindings import kafka as sdk_kafka
from cloudevents.core.formats.json import JSONFormat
from cloudevents.core.v1.event import CloudEvent

from eventbus import ContentMode, DecodeError, Event, Message, annotate, decode, encode

FMT = JSONFormat()
T0 = datetime(2024, 5, 1, 12, 30, 15, 250000, tzinfo=UTC)


def sample(**changes: Any) -> Event[Any]:
    base: dict[str, Any] = {
        "type": "com.example.order.placed",
        "source": "/orders here",
        "id": "id-1",
        "time": T0,
        "subject": "order 7 / ünï %41",
        "data": {"order": 7},
        "extensions": {"partitionkey": "cust 1", "priority": 3},
    }
    base.update(changes)
    return Event(**base)


def as_sdk(message: Message) -> sdk_kafka.KafkaMessage:
    """Our message as a Kafka record (header values are bytes on the wire)."""
    headers = {k: str(v).encode() for k, v in message.headers.items()}
    return sdk_kafka.KafkaMessage(headers, message.key, message.body)


def from_sdk_record(record: sdk_kafka.KafkaMessage) -> Message:
    key = record.key.decode() if isinstance(record.key, bytes) else record.key
    return Message(dict(record.headers), record.value, key)


def test_binary_headers_are_ce_underscore_utf8_and_content_type() -> None:
    message = encode(sample(), "kafka")
    assert message.headers == {
        "ce_specversion": "1.0",
        "ce_id": "id-1",
        "ce_source": "/orders here",
        "ce_type": "com.example.order.placed",
        "content-type": "application/json",
        "ce_subject": "order 7 / ünï %41",  # no percent-encoding in the Kafka binding
        "ce_time": "2024-05-01T12:30:15.250000Z",
        "ce_partitionkey": "cust 1",
        "ce_priority": "3",
    }
    assert message.key == "cust 1"  # the Key Mapper: partitionkey is the record key, and kept
    assert message.body == b'{"order":7}'
    # binary mode carries strings: an Integer extension comes back as its canonical string
    assert decode(message, "kafka") == sample(
        extensions={"partitionkey": "cust 1", "priority": "3"}
    )


def test_structured_mode_content_type() -> None:
    message = encode(sample(), "kafka", ContentMode.STRUCTURED)
    assert message.headers == {"content-type": "application/cloudevents+json; charset=utf-8"}
    assert message.key == "cust 1"
    assert decode(message, "kafka") == sample()  # JSON keeps the Integer


@pytest.mark.parametrize("mode", list(ContentMode))
def test_ours_decodes_with_the_sdk(mode: ContentMode) -> None:
    ours = sample()
    theirs = sdk_kafka.from_kafka(as_sdk(encode(ours, "kafka", mode)), FMT)
    assert (theirs.get_id(), theirs.get_source(), theirs.get_type()) == (
        ours.id,
        ours.source,
        ours.type,
    )
    assert theirs.get_subject() == ours.subject
    assert theirs.get_time() == ours.time
    assert theirs.get_datacontenttype() == "application/json"
    assert theirs.get_extension("partitionkey") == "cust 1"
    assert str(theirs.get_extension("priority")) == "3"
    assert theirs.get_data() == {"order": 7}


@pytest.mark.parametrize("mode", ["binary", "structured"])
def test_sdk_decodes_with_ours(mode: str) -> None:
    theirs = CloudEvent(
        {
            "type": "com.example.x",
            "source": "/a b",
            "id": "i-9",
            "time": T0,
            "subject": "ünï",
            "datacontenttype": "application/json",
            "partitionkey": "k-1",
        },
        {"n": 1},
    )
    to = sdk_kafka.to_binary if mode == "binary" else sdk_kafka.to_structured
    record = to(theirs, FMT)
    assert record.key == "k-1"
    ours = decode(from_sdk_record(record), "kafka")
    assert (ours.id, ours.source, ours.type, ours.subject) == (
        "i-9",
        "/a b",
        "com.example.x",
        "ünï",
    )
    assert ours.time == T0
    assert ours.data == {"n": 1}
    assert ours.extensions["partitionkey"] == "k-1"


def test_bytes_values_and_any_case_names_are_read() -> None:
    headers = {
        "CE_SpecVersion": b"1.0",
        "ce_id": b"1",
        "ce_source": b"/s",
        "ce_type": b"t",
        "Content-Type": b"text/plain",
        "ce-ignored": b"not a Kafka binding header",
    }
    event = decode(Message(headers, b"hello"), "kafka")
    assert event.datacontenttype == "text/plain"
    assert event.data == "hello"
    assert event.extensions == {}


def test_errors_name_the_kafka_header() -> None:
    base = {"ce_specversion": "1.0", "ce_id": "1", "ce_source": "/s", "ce_type": "t"}
    with pytest.raises(DecodeError) as info:
        decode(Message({**base, "ce_id": ""}, b""), "kafka")
    assert info.value.where == "ce_id"
    assert "ce-id" not in str(info.value)
    with pytest.raises(DecodeError) as info:
        decode(Message({**base, "content-type": b"\xff"}, b""), "kafka")
    assert info.value.where == "content-type"
    with pytest.raises(DecodeError) as info:
        decode(Message({**base, "ce_time": "yesterday"}, b""), "kafka")
    assert info.value.where == "ce_time"


def test_annotate_writes_ce_underscore_headers() -> None:
    message = encode(sample(), "kafka")
    annotated = annotate(message, "kafka", {"deadletterreason": "handler-error"})
    assert annotated.headers["ce_deadletterreason"] == "handler-error"
    assert "ce-deadletterreason" not in annotated.headers
    assert decode(annotated, "kafka").extensions["deadletterreason"] == "handler-error"
