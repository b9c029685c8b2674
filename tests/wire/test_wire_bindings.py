"""Bindings: header mapping, percent-encoding, mode detection, key variants, annotate."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import msgspec
import pytest

from eventbus import (
    ConfigurationError,
    ContentMode,
    DataDecodeError,
    DecodeError,
    Event,
    InvalidEventError,
    Message,
    annotate,
    decode,
    encode,
    to_json,
)
from eventbus._wire._bindings import BINDINGS
from eventbus._wire._types import format_time
from eventbus.adapter import broker_dedupe_id

T0 = datetime(2024, 5, 1, 12, 30, tzinfo=UTC)
STRUCTURED = ContentMode.STRUCTURED


class Order(msgspec.Struct):
    order_id: str


def event(**changes: Any) -> Event[Any]:
    base: dict[str, Any] = {"type": "t", "source": "/s", "id": "1", "time": T0, "data": {"a": 1}}
    base.update(changes)
    return Event(**base)


CE = {"ce-specversion": "1.0", "ce-id": "1", "ce-source": "/s", "ce-type": "t"}
AMQP = {
    "cloudEvents_specversion": "1.0",
    "cloudEvents_id": "1",
    "cloudEvents_source": "/s",
    "cloudEvents_type": "t",
}


# -- encode -----------------------------------------------------------------------------------


def test_ce_headers_binary_maps_every_attribute() -> None:
    e = event(subject="s1", dataschema="urn:s", extensions={"flag": True, "n": 3, "raw": b"\x01"})
    message = encode(e, "ce-headers")
    assert type(message.headers) is dict
    assert message.headers == {
        **CE,
        "ce-datacontenttype": "application/json",
        "ce-dataschema": "urn:s",
        "ce-subject": "s1",
        "ce-time": "2024-05-01T12:30:00Z",
        "ce-flag": "true",
        "ce-n": "3",
        "ce-raw": "AQ==",
    }
    assert message.body == b'{"a":1}'


def test_key_and_dedupe_id() -> None:
    e = event(extensions={"partitionkey": "customer-7"})
    for binding in BINDINGS:
        for mode in ContentMode:
            message = encode(e, binding, mode)
            dedupe = broker_dedupe_id(e.source, "1")
            assert (message.key, message.dedupe_id) == ("customer-7", dedupe)
    assert encode(event(), "pubsub").key is None
    assert encode(event(extensions={"partitionkey": 5}), "pubsub").key is None


@pytest.mark.parametrize(
    "value",
    [
        "plain-ASCII_~!#$&'()*+,/:;<=>?@[]^`{|}",
        "a b",
        'say "hi"',
        "100%",
        "code%41%42",
        "%C3%A9",
        "é€",
        "😀",
    ],
)
def test_ce_headers_values_are_canonical_strings_as_is(value: str) -> None:
    """No percent-encoding either way: sdk-go's NATS modules and the JavaScript and Java SDKs
    write and read ce- values raw (docs/architecture.md, "ce- header values")."""
    message = encode(event(subject=value, extensions={"x": value}), "ce-headers")
    assert message.headers["ce-subject"] == value
    assert message.headers["ce-x"] == value
    back = decode(message, "ce-headers")
    assert (back.subject, back.extensions["x"]) == (value, value)
    sent_raw = Message({**CE, "ce-subject": value}, b"")
    assert decode(sent_raw, "ce-headers").subject == value


def test_ce_headers_reject_values_that_are_not_utf8() -> None:
    with pytest.raises(DecodeError) as info:
        decode(Message({**CE, "ce-subject": b"\xc0\xa0"}, b""), "ce-headers")
    assert info.value.where == "ce-subject"


def test_pubsub_values_are_not_percent_encoded() -> None:
    message = encode(event(subject="a b%20é", extensions={"x": '"q"'}), "pubsub")
    assert message.headers["ce-subject"] == "a b%20é"
    assert message.headers["ce-x"] == '"q"'
    back = decode(message, "pubsub")
    assert back.subject == "a b%20é"
    assert back.extensions == {"x": '"q"'}


def test_amqp_binary_uses_native_types_and_content_type() -> None:
    e = event(
        subject="s", data={"a": 1}, extensions={"flag": True, "n": 3, "raw": b"\x01", "at": T0}
    )
    headers = encode(e, "amqp").headers
    colon = {k.replace("cloudEvents_", "cloudEvents:"): v for k, v in AMQP.items()}
    assert headers == {
        **colon,
        "content-type": "application/json",
        "cloudEvents:subject": "s",
        "cloudEvents:time": format_time(T0),  # a string: AMQP timestamps hold milliseconds
        "cloudEvents:flag": True,
        "cloudEvents:n": 3,
        "cloudEvents:raw": b"\x01",
        "cloudEvents:at": format_time(T0),
    }
    # timestamps travel as canonical strings: a timestamp extension comes back as its string
    back = e.with_extensions(at=format_time(T0))
    assert decode(encode(e, "amqp"), "amqp") == back
    underscore = encode(e, "amqp", amqp_prefix="cloudEvents_").headers
    assert {k.replace("cloudEvents_", "cloudEvents:") for k in underscore} == set(headers)
    assert decode(encode(e, "amqp", amqp_prefix="cloudEvents_"), "amqp") == back
    with pytest.raises(ConfigurationError, match="cloudEvents:"):
        encode(e, "amqp", amqp_prefix="ce_")


def test_amqp_long_extension_beyond_integer_is_a_timestamp() -> None:
    """The Azure SDK hands AMQP timestamps over as plain milliseconds."""
    ms = 1893564245600
    back = decode(Message({**AMQP, "cloudEvents_exp": ms, "cloudEvents_n": 2**31 - 1}, b""), "amqp")
    assert back.extensions["exp"] == datetime(2030, 1, 2, 6, 4, 5, 600000, tzinfo=UTC)
    assert back.extensions["n"] == 2**31 - 1


@pytest.mark.parametrize(
    ("binding", "headers"),
    [
        ("ce-headers", {"Content-Type": "application/cloudevents+json; charset=utf-8"}),
        (
            "pubsub",
            {
                "Content-Type": "application/cloudevents+json; charset=UTF-8",
                "content-type": "application/cloudevents+json; charset=UTF-8",
            },
        ),
        ("amqp", {"content-type": "application/cloudevents+json; charset=utf-8"}),
        ("kafka", {"content-type": "application/cloudevents+json; charset=utf-8"}),
    ],
)
def test_structured_headers(binding: str, headers: dict[str, str]) -> None:
    e = event(extensions={"n": 1})
    message = encode(e, binding, STRUCTURED)
    assert message.headers == headers
    assert message.body == to_json(e)
    assert decode(message, binding) == e
    assert encode(e, binding, "structured") == message  # type: ignore[arg-type]


def test_unknown_binding_and_mode() -> None:
    with pytest.raises(ConfigurationError):
        encode(event(), "mqtt")
    with pytest.raises(ConfigurationError):
        decode(Message({}, b""), "mqtt")
    with pytest.raises(ConfigurationError):
        annotate(Message({}, b""), "mqtt", {})
    with pytest.raises(ConfigurationError):
        encode(event(), "pubsub", "sideways")  # type: ignore[arg-type]
    assert issubclass(ConfigurationError, ValueError)


# -- decode: mode detection and header variants ------------------------------------------------


@pytest.mark.parametrize("binding", ["ce-headers", "pubsub"])
@pytest.mark.parametrize("key", ["content-type", "Content-Type", "CONTENT-TYPE"])
def test_structured_detection_any_key_case(binding: str, key: str) -> None:
    body = to_json(event(subject="json"))
    ctype = "Application/CloudEvents+JSON; charset=UTF-8"
    assert decode(Message({key: ctype, **CE}, body), binding).subject == "json"


def test_amqp_structured_detection() -> None:
    body = to_json(event(subject="json"))
    message = Message({"Content-Type": "application/cloudevents+json", **AMQP}, body)
    assert decode(message, "amqp").subject == "json"


@pytest.mark.parametrize("binding", BINDINGS)
def test_structured_without_content_type_is_read_when_no_attributes(binding: str) -> None:
    e = event()
    assert decode(Message({}, to_json(e)), binding) == e  # sdk-go's Pub/Sub structured writer


@pytest.mark.parametrize("binding", BINDINGS)
@pytest.mark.parametrize(
    ("ctype", "problem"),
    [
        ("application/cloudevents-batch+json", "batch"),
        ("application/cloudevents+avro", "unsupported event format"),
    ],
)
def test_unsupported_structured_formats(binding: str, ctype: str, problem: str) -> None:
    with pytest.raises(DecodeError, match=problem) as info:
        decode(Message({"content-type": ctype}, b"{}"), binding)
    assert info.value.where == "content-type"


@pytest.mark.parametrize("binding", ["ce-headers", "pubsub"])
def test_header_names_are_case_insensitive(binding: str) -> None:
    headers = {
        "CE-SpecVersion": "1.0",
        "Ce-Id": "1",
        "ce-SOURCE": "/s",
        "CE-TYPE": "t",
        "Ce-X": "v",
    }
    e = decode(Message(headers, b""), binding)
    assert (e.id, e.source, e.type, e.extensions) == ("1", "/s", "t", {"x": "v"})


@pytest.mark.parametrize("binding", ["ce-headers", "pubsub"])
@pytest.mark.parametrize("key", ["content-type", "Content-Type"])
def test_plain_content_type_is_datacontenttype(binding: str, key: str) -> None:
    e = decode(Message({**CE, key: "text/plain"}, b"hi"), binding)
    assert (e.datacontenttype, e.data) == ("text/plain", "hi")
    both = decode(
        Message({**CE, key: "text/plain", "ce-datacontenttype": "text/csv"}, b"a"), binding
    )
    assert both.datacontenttype == "text/csv"


def test_ce_specversion_alone_means_binary() -> None:
    e = decode(Message({**CE, "content-type": "application/json"}, b'{"a":1}'), "ce-headers")
    assert e.data == {"a": 1}


def test_binary_without_content_type() -> None:
    assert decode(Message(CE, b'{"a":1}'), "ce-headers").data == {"a": 1}
    raw = decode(Message(CE, b"\xff\x00"), "ce-headers")
    assert raw.data == b"\xff\x00"
    assert raw.datacontenttype == "application/octet-stream"
    assert decode(Message(CE, b""), "ce-headers").data is None


def test_bytes_keys_and_values_for_ce_headers() -> None:
    headers = {b"ce-specversion": b"1.0", b"ce-id": b"1", "ce-source": b"/s", "ce-type": "t"}
    assert decode(Message(headers, b""), "ce-headers").source == "/s"  # type: ignore[arg-type]


@pytest.mark.parametrize("prefix", ["cloudEvents_", "cloudEvents:"])
def test_amqp_both_prefixes(prefix: str) -> None:
    headers = {prefix + k.removeprefix("cloudEvents_"): v for k, v in AMQP.items()}
    headers[prefix + "x"] = "v"
    e = decode(Message(headers, b""), "amqp")
    assert (e.id, e.extensions) == ("1", {"x": "v"})


def test_amqp_underscore_wins_over_colon() -> None:
    headers = {**AMQP, "cloudEvents:id": "colon"}
    assert decode(Message(headers, b""), "amqp").id == "1"
    headers = {"cloudEvents:id": "colon", **AMQP}
    assert decode(Message(headers, b""), "amqp").id == "1"


def test_amqp_bytes_keys_and_values() -> None:
    headers = {
        b"cloudEvents_specversion": b"1.0",
        b"cloudEvents_id": b"1",
        b"cloudEvents_source": b"/s",
        "cloudEvents_type": b"t",
        b"cloudEvents_time": b"2024-05-01T12:30:00Z",
        b"content-type": b"application/json",
        b"cloudEvents_raw": b"\x00\x01",
    }
    e = decode(Message(headers, b'{"a":1}'), "amqp")  # type: ignore[arg-type]
    assert (e.id, e.source, e.type, e.time) == ("1", "/s", "t", T0)
    assert e.datacontenttype == "application/json"
    assert e.data == {"a": 1}
    assert e.extensions == {"raw": b"\x00\x01"}  # binary stays binary


def test_amqp_time_forms() -> None:
    for value in (T0, T0.replace(tzinfo=None), "2024-05-01T12:30:00Z", 1714566600000):
        assert decode(Message({**AMQP, "cloudEvents_time": value}, b""), "amqp").time == T0


@pytest.mark.parametrize(
    ("header", "value"),
    [
        ("cloudEvents_time", "soon"),
        ("cloudEvents_time", 10**20),
        ("cloudEvents_time", 1.5),
        ("cloudEvents_id", 7),
        ("cloudEvents_id", b"\xff"),
        ("cloudEvents_x", 1.5),
        ("cloudEvents_x", ["a"]),
        ("content-type", 5),
    ],
)
def test_amqp_bad_values_name_the_property(header: str, value: Any) -> None:
    with pytest.raises(DecodeError) as info:
        decode(Message({**AMQP, header: value}, b""), "amqp")
    assert info.value.where == header


@pytest.mark.parametrize(
    ("headers", "where"),
    [
        ({"ce-specversion": "1.0", "ce-source": "/s", "ce-type": "t"}, "ce-id"),
        ({**CE, "ce-specversion": "0.3"}, "ce-specversion"),
        ({**CE, "ce-time": "2024-13-01T00:00:00Z"}, "ce-time"),
        ({**CE, "ce-Bad_Name": "x"}, "ce-bad_name"),
        ({**CE, "ce-": "x"}, "ce-"),
        ({**CE, "content-type": "nonsense"}, "content-type"),
        ({**CE, "ce-id": 5}, "ce-id"),
        ({**CE, "ce-id": b"\xff"}, "ce-id"),
    ],
)
def test_binary_errors_name_the_header(headers: dict[str, Any], where: str) -> None:
    with pytest.raises(DecodeError) as info:
        decode(Message(headers, b""), "ce-headers")
    assert info.value.where == where


def test_attribute_errors_win_over_data_errors() -> None:
    with pytest.raises(DecodeError) as info:
        decode(Message({**CE, "ce-id": ""}, b"\xff"), "ce-headers", Order)
    assert type(info.value) is DecodeError


def test_data_type_mismatch_is_a_data_decode_error() -> None:
    message = encode(event(data={"other": 1}), "ce-headers")
    with pytest.raises(DataDecodeError):
        decode(message, "ce-headers", Order)
    good = encode(event(data=Order("o-1")), "amqp")
    assert decode(good, "amqp", Order).data == Order("o-1")
    assert decode(good, "amqp", bytes).data == b'{"order_id":"o-1"}'


def test_decoded_time_keeps_offset() -> None:
    tz = timezone(timedelta(hours=9))
    message = encode(event(time=datetime(2024, 1, 1, 9, tzinfo=tz)), "ce-headers")
    assert message.headers["ce-time"] == "2024-01-01T09:00:00+09:00"
    assert decode(message, "ce-headers").time.utcoffset() == timedelta(hours=9)  # type: ignore[union-attr]


# -- annotate ---------------------------------------------------------------------------------

NOTES: dict[str, Any] = {"deadletterreason": "bad data\nline 2", "deadletterattempts": 3}


@pytest.mark.parametrize("binding", BINDINGS)
@pytest.mark.parametrize("mode", list(ContentMode))
def test_annotate_round_trips(binding: str, mode: ContentMode) -> None:
    original = encode(event(extensions={"keep": "me"}), binding, mode)
    annotated = annotate(original, binding, NOTES)
    assert (annotated.key, annotated.dedupe_id) == (original.key, original.dedupe_id)
    ext = decode(annotated, binding).extensions
    assert ext["deadletterreason"] == "bad data line 2"  # control characters become spaces
    assert str(ext["deadletterattempts"]) == "3"
    assert ext["keep"] == "me"
    if mode is ContentMode.STRUCTURED:
        assert msgspec.json.decode(annotated.body)["deadletterattempts"] == 3
    else:
        assert annotated.body == original.body


def test_annotate_overwrites_any_case_and_prefix() -> None:
    m = annotate(Message({**CE, "CE-DEADLETTERREASON": "old"}, b""), "ce-headers", NOTES)
    assert "CE-DEADLETTERREASON" not in m.headers
    assert m.headers["ce-deadletterreason"] == "bad data line 2"
    amqp = annotate(Message({**AMQP, "cloudEvents:deadletterreason": "old"}, b""), "amqp", NOTES)
    assert "cloudEvents:deadletterreason" not in amqp.headers
    assert amqp.headers["cloudEvents_deadletterattempts"] == 3


def test_annotate_keeps_a_colon_message_colon() -> None:
    headers = {"cloudEvents:" + k.removeprefix("cloudEvents_"): v for k, v in AMQP.items()}
    m = annotate(Message(headers, b""), "amqp", {"x": "y"})
    assert m.headers["cloudEvents:x"] == "y"


@pytest.mark.parametrize("binding", BINDINGS)
def test_annotate_garbage_never_raises(binding: str) -> None:
    for message in (
        Message({}, b"\xff"),
        Message({"content-type": "application/cloudevents+json"}, b"not json"),
        Message({"content-type": b"\xff", 5: None}, b"[1, 2]"),  # type: ignore[dict-item]
    ):
        annotated = annotate(message, binding, NOTES)
        assert annotated.body == message.body
        assert any("deadletterreason" in str(k) for k in annotated.headers)


def test_annotate_does_not_mutate_the_message() -> None:
    headers = dict(CE)
    message = Message(headers, b"")
    annotate(message, "ce-headers", NOTES)
    assert headers == CE


def test_annotate_rejects_invalid_names_and_values() -> None:
    with pytest.raises(InvalidEventError):
        annotate(Message({}, b""), "pubsub", {"Bad-Name": "x"})
    with pytest.raises(InvalidEventError):
        annotate(Message({}, b""), "pubsub", {"n": 2**40})
