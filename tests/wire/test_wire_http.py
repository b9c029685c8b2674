"""The HTTP protocol binding: round trips, percent-encoding rules, the official SDK both ways."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from cloudevents.core.bindings import http as sdk_http
from cloudevents.core.formats.json import JSONFormat
from cloudevents.core.v1.event import CloudEvent
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from wire_strategies import any_text, events, expected

from eventbus import DecodeError, EncodeError, Event
from eventbus._wire._http import (
    from_http,
    from_http_batch,
    http_mode,
    percent_decode,
    percent_encode,
    to_http,
    to_http_batch,
)

FMT = JSONFormat()
T0 = datetime(2024, 5, 1, 12, 30, 15, 250000, tzinfo=UTC)


def sample(**changes: Any) -> Event[Any]:
    base: dict[str, Any] = {
        "type": "com.example.order.placed",
        "source": "/orders",
        "id": "id-1",
        "time": T0,
        "subject": 'Euro € 😀 "q" 100%',
        "data": {"order": 7},
        "extensions": {"traceparent": "00-abc-01", "flag": True, "n": 5},
    }
    base.update(changes)
    return Event(**base)


def _wire(headers: dict[str, str]) -> dict[str, bytes]:
    """Headers as the octets a server receives."""
    return {k: v.encode("latin-1") for k, v in headers.items()}


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(event=events(), mode=st.sampled_from(["binary", "structured"]))
def test_round_trip(event: Event[Any], mode: str) -> None:
    try:
        headers, body = to_http(event, mode)
    except EncodeError:  # a non-ASCII datacontenttype cannot be a Content-Type header
        assert mode == "binary"
        assert event.datacontenttype is not None and not event.datacontenttype.isascii()
        return
    for value in headers.values():  # what HTTP allows: printable ASCII, no space or quote
        assert value.isascii() and value.isprintable()
    if mode == "binary":
        assert "ce-datacontenttype" not in headers
        assert all(" " not in v and '"' not in v for k, v in headers.items() if k[:3] == "ce-")
    assert http_mode(headers) == mode
    assert from_http(_wire(headers), body) == expected(event, "ce-headers", mode == "structured")
    assert from_http(headers, body) == expected(event, "ce-headers", mode == "structured")


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(batch=st.lists(events(), max_size=4))
def test_batch_round_trip(batch: list[Event[Any]]) -> None:
    headers, body = to_http_batch(batch)
    assert http_mode(headers) == "batch"
    assert from_http_batch(headers, body) == [expected(e, "ce-headers", True) for e in batch]


@settings(max_examples=300, deadline=None)
@given(text=any_text(40))
def test_percent_encoding_round_trips_any_text(text: str) -> None:
    encoded = percent_encode(text)
    assert encoded.isascii() and encoded.isprintable()
    assert not any(c in encoded for c in ' "')
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate is no UTF-8: refused when read back
        with pytest.raises(DecodeError):
            percent_decode(encoded, "ce-x")
        return
    assert percent_decode(encoded, "ce-x") == text


@settings(max_examples=300, deadline=None)
@given(raw=st.binary(max_size=30))
def test_percent_decoding_garbage_raises_only_decode_errors(raw: bytes) -> None:
    where = "ce-x"
    try:
        percent_decode(raw, "ce-x")
    except DecodeError as exc:
        where = str(exc.where)
    assert where == "ce-x"


def test_the_spec_example_and_its_decoding_rules() -> None:
    assert percent_encode("Euro € 😀") == "Euro%20%E2%82%AC%20%F0%9F%98%80"
    assert percent_decode("Euro%20%e2%82%ac%20%F0%9F%98%80", "ce-x") == "Euro € 😀"
    assert percent_decode("%41%42c", "ce-x") == "ABc"  # needlessly encoded: accepted
    assert percent_decode(b'"quoted \\"x\\" a%20b"', "ce-x") == 'quoted "x" a b'
    assert percent_decode("Grüße".encode(), "ce-x") == "Grüße"  # raw UTF-8 senders
    with pytest.raises(DecodeError, match=r"ce-x: is not valid UTF-8") as info:
        percent_decode("%C0%A0", "ce-x")  # an overlong space: MUST be rejected
    assert info.value.where == "ce-x"
    with pytest.raises(DecodeError, match="not followed by two hex digits"):
        percent_decode("100%", "ce-x")


def test_binary_errors_name_the_header() -> None:
    headers, body = to_http(sample())
    for missing in ("ce-id", "ce-source", "ce-type", "ce-specversion"):
        partial = {k: v for k, v in headers.items() if k != missing}
        with pytest.raises(DecodeError) as info:
            from_http(partial, body)
        assert missing in str(info.value)
    with pytest.raises(DecodeError) as info:
        from_http({**headers, "ce-time": "yesterday"}, body)
    assert "ce-time" in str(info.value)
    with pytest.raises(DecodeError, match="ce-subject: is not valid UTF-8"):
        from_http({**headers, "ce-subject": "%FF"}, body)
    with pytest.raises(DecodeError, match="ce-datacontenttype"):
        from_http({**headers, "ce-datacontenttype": "text/plain"}, body)
    with pytest.raises(DecodeError, match="content-type: is 'application/json', not a Cloud"):
        from_http({"content-type": "application/json"}, b'{"a": 1}')
    with pytest.raises(DecodeError, match="appears more than once"):
        from_http({**headers, "CE-ID": "2"}, body)


def test_structured_and_batch_are_told_apart() -> None:
    headers, body = to_http_batch([sample()])
    with pytest.raises(DecodeError, match="from_http_batch"):
        from_http(headers, body)
    with pytest.raises(DecodeError, match="cloudevents-batch"):
        from_http_batch({"content-type": "application/json"}, body)
    headers, body = to_http(sample(), "structured")
    assert http_mode({"Content-Type": "application/cloudevents+json"}) == "structured"
    assert from_http(headers, body) == sample()
    batch_headers, _ = to_http_batch([])
    with pytest.raises(DecodeError, match=r"\[1\]\.id"):
        from_http_batch(
            batch_headers,
            b'[{"specversion":"1.0","id":"1","source":"/s","type":"t"},'
            b'{"specversion":"1.0","source":"/s","type":"t"}]',
        )


def test_a_non_ascii_datacontenttype_cannot_go_in_binary_mode() -> None:
    with pytest.raises(EncodeError, match="structured mode"):
        to_http(sample(datacontenttype="text/plain; name=ü", data="x"))


# -- the official SDK, both ways --------------------------------------------------------------


def test_sdk_binary_and_structured_decode_with_ours() -> None:
    theirs = CloudEvent(
        {
            "type": "com.example.order.placed",
            "source": "/orders",
            "id": "id-1",
            "time": T0,
            "subject": 'Euro € 😀 "q" 100%',
            "datacontenttype": "application/json",
            "traceparent": "00-abc-01",
        },
        {"order": 7},
    )
    for message in (sdk_http.to_binary(theirs, FMT), sdk_http.to_structured(theirs, FMT)):
        ours = from_http(_wire(message.headers), message.body)
        assert (ours.id, ours.source, ours.type, ours.time) == (
            "id-1",
            "/orders",
            theirs.get_type(),
            T0,
        )
        assert ours.subject == 'Euro € 😀 "q" 100%'
        assert ours.extensions == {"traceparent": "00-abc-01"}
        assert ours.data == {"order": 7}


def test_our_binary_and_structured_decode_with_the_sdk() -> None:
    ours = sample(extensions={"traceparent": "00-abc-01"})
    for mode in ("binary", "structured"):
        headers, body = to_http(ours, mode)
        theirs = sdk_http.from_http(sdk_http.HTTPMessage(headers, body), FMT)
        assert theirs.get_subject() == ours.subject
        assert theirs.get_time() == T0
        assert theirs.get_extension("traceparent") == "00-abc-01"
        assert theirs.get_data() == {"order": 7}
