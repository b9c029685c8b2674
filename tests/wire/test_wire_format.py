"""The JSON event format: encoding rules, decoding rules, errors, batches, round trips."""

from __future__ import annotations

import base64
import contextlib
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import msgspec
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from wire_strategies import events, expected

from eventbus import (
    DataDecodeError,
    DecodeError,
    EncodeError,
    Event,
    from_json,
    from_json_batch,
    to_json,
    to_json_batch,
)

T0 = datetime(2024, 5, 1, 12, 30, 0, 123456, tzinfo=UTC)


class Order(msgspec.Struct):
    order_id: str
    amount: int


@dataclass
class Point:
    x: int
    y: int


def doc(**members: Any) -> bytes:
    base: dict[str, Any] = {"specversion": "1.0", "id": "1", "source": "/s", "type": "t"}
    base.update(members)
    return msgspec.json.encode({k: v for k, v in base.items() if v is not ...})


def members(event: Event[Any]) -> dict[str, Any]:
    out: dict[str, Any] = msgspec.json.decode(to_json(event))
    return out


# -- encoding ---------------------------------------------------------------------------------


def test_attributes_and_extension_types() -> None:
    event = Event(
        type="t",
        source="/s",
        id="1",
        time=T0,
        subject="sub",
        dataschema="https://example.com/s.json",
        extensions={"b": True, "i": -5, "s": "x", "raw": b"\x00\x01", "when": T0},
    )
    assert members(event) == {
        "specversion": "1.0",
        "id": "1",
        "source": "/s",
        "type": "t",
        "dataschema": "https://example.com/s.json",
        "subject": "sub",
        "time": "2024-05-01T12:30:00.123456Z",
        "b": True,
        "i": -5,
        "s": "x",
        "raw": "AAE=",
        "when": "2024-05-01T12:30:00.123456Z",
    }


def test_time_keeps_its_offset_and_unset_members_are_omitted() -> None:
    tz = timezone(timedelta(hours=-5, minutes=-30))
    m = members(Event(type="t", source="/s", time=datetime(2024, 1, 2, 3, 4, 5, tzinfo=tz)))
    assert m["time"] == "2024-01-02T03:04:05-05:30"
    assert "subject" not in m
    assert "dataschema" not in m
    assert "time" not in members(Event(type="t", source="/s", time=None))


def test_bytes_data_goes_to_data_base64() -> None:
    m = members(Event(type="t", source="/s", data=b"\xff\x00"))
    assert m["data_base64"] == "/wA="
    assert "data" not in m
    assert m["datacontenttype"] == "application/octet-stream"


@pytest.mark.parametrize(
    ("data", "ctype", "wire"),
    [
        ({"a": [1, 2]}, None, {"a": [1, 2]}),
        ({"a": 1}, "application/vnd.x+json; charset=utf-8", {"a": 1}),
        ("already text", "application/json", "already text"),
        (Order("o-1", 3), "text/json", {"order_id": "o-1", "amount": 3}),
        (Point(1, 2), None, {"x": 1, "y": 2}),
        ("<a/>", "application/xml", "<a/>"),
        ([1, "x"], None, [1, "x"]),
    ],
)
def test_data_member(data: Any, ctype: str | None, wire: Any) -> None:
    assert members(Event(type="t", source="/s", data=data, datacontenttype=ctype))["data"] == wire


def test_non_json_type_needs_str_or_bytes() -> None:
    with pytest.raises(EncodeError):
        to_json(Event(type="t", source="/s", data={"a": 1}, datacontenttype="text/csv"))


def test_unencodable_data_is_an_encode_error() -> None:
    with pytest.raises(EncodeError):
        to_json(Event(type="t", source="/s", data={"a": object()}))


# -- decoding ---------------------------------------------------------------------------------


def test_decodes_every_member() -> None:
    body = doc(
        time="2024-05-01T12:30:00.123456Z",
        subject="sub",
        datacontenttype="application/json",
        dataschema="urn:x",
        flag=False,
        n=42,
        s="text",
        data={"k": "v"},
    )
    event = from_json(body)
    assert (event.id, event.source, event.type, event.subject) == ("1", "/s", "t", "sub")
    assert event.time == T0
    assert event.dataschema == "urn:x"
    assert event.extensions == {"flag": False, "n": 42, "s": "text"}
    assert event.data == {"k": "v"}


def test_null_members_are_unset() -> None:
    event = from_json(doc(subject=None, time=None, ext=None, data=None, datacontenttype=None))
    assert event.subject is None
    assert event.time is None
    assert event.data is None
    assert event.extensions == {}
    assert event.datacontenttype is None  # no data: none is invented


def test_json_data_string_stays_a_string() -> None:
    assert from_json(doc(data='{"a": 1}')).data == '{"a": 1}'


def test_data_base64() -> None:
    event = from_json(doc(data_base64=base64.b64encode(b"\x00hi").decode()))
    assert event.data == b"\x00hi"
    assert event.datacontenttype == "application/octet-stream"
    both_null = from_json(doc(data=None, data_base64="aGk="))
    assert both_null.data == b"hi"


def test_data_and_data_base64_are_exclusive() -> None:
    with pytest.raises(DecodeError) as info:
        from_json(doc(data={"a": 1}, data_base64="aGk="))
    assert info.value.where == "data_base64"


def test_data_type_conversion() -> None:
    body = doc(data={"order_id": "o-1", "amount": 2})
    assert from_json(body, Order).data == Order("o-1", 2)
    assert from_json(body, dict[str, Any]).data == {"order_id": "o-1", "amount": 2}
    assert from_json(body, bytes).data == b'{"order_id":"o-1","amount":2}'
    assert from_json(doc(data={"x": 1, "y": 2}), Point).data == Point(1, 2)
    b64 = doc(data_base64=base64.b64encode(b'{"order_id":"o","amount":1}').decode())
    assert from_json(b64, Order).data == Order("o", 1)
    with pytest.raises(DataDecodeError) as info:
        from_json(doc(data={"order_id": "o-1"}), Order)
    assert "amount" in str(info.value)


@pytest.mark.parametrize(
    ("body", "where"),
    [
        (b"not json", "body"),
        (b"[1]", "body"),
        (b"\xff", "body"),
        (b"[" * 10000, "body"),
        (doc(id=...), "id"),
        (doc(id=""), "id"),
        (doc(id=7), "id"),
        (doc(source=None), "source"),
        (doc(type=["t"]), "type"),
        (doc(specversion="0.3"), "specversion"),
        (doc(specversion=...), "specversion"),
        (doc(time="yesterday"), "time"),
        (doc(time=12), "time"),
        (doc(time="2024-01-01T00:00:00"), "time"),
        (doc(subject=""), "subject"),
        (doc(subject=1), "subject"),
        (doc(datacontenttype="json"), "datacontenttype"),
        (doc(dataschema="relative/path"), "dataschema"),
        (doc(data_base64="!!!"), "data_base64"),
        (doc(data_base64=5), "data_base64"),
        (doc(n=2**31), "n"),
        (doc(n=-(2**31) - 1), "n"),
        (doc(f=1.5), "f"),
        (doc(o={"a": 1}), "o"),
        (doc(Upper="x"), "Upper"),
        (doc(s="a\x00b"), "s"),
        (doc(id="a\nb"), "id"),
    ],
)
def test_malformed_input_names_the_member(body: bytes, where: str) -> None:
    with pytest.raises(DecodeError) as info:
        from_json(body)
    assert info.value.where == where
    assert type(info.value) is DecodeError


def test_invalid_event_keeps_every_problem() -> None:
    with pytest.raises(DecodeError) as info:
        from_json(doc(id="", source="", n=2**40))
    text = str(info.value)
    assert "id:" in text
    assert "source:" in text
    assert "n:" in text
    assert "3 problem(s)" in text


def test_int32_bounds_are_accepted() -> None:
    event = from_json(doc(lo=-(2**31), hi=2**31 - 1))
    assert event.extensions == {"lo": -(2**31), "hi": 2**31 - 1}


# -- batch ------------------------------------------------------------------------------------


def test_batch_round_trip_and_empty_batch() -> None:
    batch = [Event(type="t", source="/s", data={"i": i}) for i in range(3)]
    assert from_json_batch(to_json_batch(batch)) == batch
    assert to_json_batch([]) == b"[]"
    assert from_json_batch(b"[]") == []


def test_batch_errors_name_the_item() -> None:
    with pytest.raises(DecodeError) as info:
        from_json_batch(b'[{"specversion":"1.0","id":"1","source":"/s","type":"t"}, {"id": 2}]')
    assert info.value.where == "[1].id"
    with pytest.raises(DecodeError) as info:
        from_json_batch(b"[1]")
    assert info.value.where == "[0]"
    with pytest.raises(DecodeError):
        from_json_batch(doc())


# -- properties -------------------------------------------------------------------------------


@settings(max_examples=150, deadline=None)
@given(events())
def test_round_trip(event: Event[Any]) -> None:
    assert from_json(to_json(event)) == expected(event, "", structured=True)


@settings(max_examples=40, deadline=None)
@given(st.lists(events(), max_size=4))
def test_batch_round_trip(batch: list[Event[Any]]) -> None:
    want = [expected(e, "", structured=True) for e in batch]
    assert from_json_batch(to_json_batch(batch)) == want


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=200))
def test_garbage_bytes_raise_only_decode_errors(body: bytes) -> None:
    for decoder in (from_json, from_json_batch):
        with contextlib.suppress(DecodeError):
            decoder(body)


@settings(max_examples=200, deadline=None)
@given(
    st.dictionaries(
        st.sampled_from(
            [
                "specversion",
                "id",
                "source",
                "type",
                "time",
                "subject",
                "data",
                "data_base64",
                "datacontenttype",
                "dataschema",
                "ext",
                "X",
            ]
        ),
        st.one_of(st.none(), st.booleans(), st.integers(), st.floats(), st.text(max_size=8))
        | st.lists(st.integers(), max_size=2),
    ),
    st.sampled_from([None, Order, dict, str, bytes, int]),
)
def test_garbage_members_raise_only_decode_errors(garbage: dict[str, Any], kind: Any) -> None:
    body = doc(**garbage)
    with contextlib.suppress(DecodeError):
        from_json(body, kind)
