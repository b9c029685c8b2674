"""Interop with the official CloudEvents SDK (``cloudevents.core``) in both directions."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from cloudevents.core.bindings import amqp as sdk_amqp
from cloudevents.core.bindings import http as sdk_http
from cloudevents.core.formats.json import JSONFormat
from cloudevents.core.v1.event import CloudEvent
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from wire_strategies import extension_names, json_values

from eventbus import (
    ContentMode,
    Event,
    InvalidEventError,
    Message,
    decode,
    encode,
    from_json,
    from_sdk,
    to_json,
    to_sdk,
)

FMT = JSONFormat()
T0 = datetime(2024, 5, 1, 12, 30, 15, 250000, tzinfo=UTC)
CT = "content-type"


def sample(**changes: Any) -> Event[Any]:
    base: dict[str, Any] = {
        "type": "com.example.order.placed",
        "source": "/orders",
        "id": "id-1",
        "time": T0,
        "subject": "order 7 / ünï",
        "data": {"order": 7, "items": ["a", "b"]},
        "extensions": {"traceparent": "00-abc-01", "partitionkey": "cust 1"},
    }
    base.update(changes)
    return Event(**base)


def sdk_sample(**attributes: Any) -> CloudEvent:
    base: dict[str, Any] = {
        "type": "com.example.order.placed",
        "source": "/orders",
        "id": "id-1",
        "time": T0,
        "subject": "order 7 / ünï",
        "datacontenttype": "application/json",
        "traceparent": "00-abc-01",
    }
    base.update(attributes)
    data = base.pop("data", {"order": 7})
    return CloudEvent(base, data)


def assert_same(ours: Event[Any], theirs: Any, *, extensions: dict[str, Any]) -> None:
    assert theirs.get_specversion() == "1.0"
    assert (theirs.get_id(), theirs.get_source(), theirs.get_type()) == (
        ours.id,
        ours.source,
        ours.type,
    )
    assert theirs.get_subject() == ours.subject
    assert theirs.get_time() == ours.time
    assert theirs.get_datacontenttype() == ours.datacontenttype
    for name, value in extensions.items():
        assert theirs.get_extension(name) == value


def amqp_message(message: Message) -> sdk_amqp.AMQPMessage:
    """Our AMQP headers as the SDK's message: content-type is an AMQP property."""
    properties = {CT: message.headers[CT]} if CT in message.headers else {}
    app = {k: v for k, v in message.headers.items() if k != CT}
    return sdk_amqp.AMQPMessage(properties, app, message.body)


def from_amqp_message(message: sdk_amqp.AMQPMessage) -> Message:
    return Message(
        {**message.properties, **message.application_properties}, message.application_data
    )


# -- AMQP -------------------------------------------------------------------------------------


def test_our_amqp_binary_decodes_with_the_sdk() -> None:
    ours = sample(extensions={"flag": True, "n": 5, "raw": b"\x00\x01", "s": "x"})
    theirs = sdk_amqp.from_binary(amqp_message(encode(ours, "amqp")), FMT)
    assert_same(ours, theirs, extensions={"flag": True, "n": 5, "raw": b"\x00\x01", "s": "x"})
    assert theirs.get_data() == ours.data


def test_our_amqp_structured_decodes_with_the_sdk() -> None:
    ours = sample()
    message = amqp_message(encode(ours, "amqp", ContentMode.STRUCTURED))
    theirs = sdk_amqp.from_amqp(message, FMT)
    assert_same(ours, theirs, extensions=dict(ours.extensions))
    assert theirs.get_data() == ours.data


def test_sdk_amqp_binary_decodes_with_ours() -> None:
    theirs = sdk_sample(flag=True, n=5, raw=b"\x00\x01")
    ours = decode(from_amqp_message(sdk_amqp.to_binary(theirs, FMT)), "amqp")
    # The SDK writes time as AMQP milliseconds: sub-millisecond precision is lost.
    assert ours.time == T0.replace(microsecond=250000)
    assert_same(ours, theirs, extensions={"flag": True, "n": 5, "raw": b"\x00\x01"})
    assert ours.data == {"order": 7}


def test_sdk_amqp_structured_decodes_with_ours() -> None:
    theirs = sdk_sample(n=5)
    ours = decode(from_amqp_message(sdk_amqp.to_structured(theirs, FMT)), "amqp")
    assert_same(ours, theirs, extensions={"n": 5, "traceparent": "00-abc-01"})
    assert ours.data == {"order": 7}


def test_sdk_amqp_colon_prefix_decodes_with_ours() -> None:
    message = sdk_amqp.to_binary(sdk_sample(), FMT)
    colon = {
        k.replace("cloudEvents_", "cloudEvents:"): v
        for k, v in message.application_properties.items()
    }
    ours = decode(Message({**message.properties, **colon}, message.application_data), "amqp")
    assert ours.id == "id-1"
    assert ours.extensions == {"traceparent": "00-abc-01"}


# -- HTTP (the oracle for ce- headers) --------------------------------------------------------


def test_our_ce_headers_decode_with_the_sdk_http_binding() -> None:
    ours = sample(extensions={"traceparent": "00-abc-01", "note": 'a "quoted" 100% ü'})
    message = encode(ours, "ce-headers")
    theirs = sdk_http.from_binary(sdk_http.HTTPMessage(dict(message.headers), message.body), FMT)  # type: ignore[arg-type]
    assert_same(ours, theirs, extensions={"note": 'a "quoted" 100% ü'})
    assert theirs.get_data() == ours.data


def test_sdk_http_binary_decodes_with_our_ce_headers() -> None:
    """Values the SDK's HTTP binding leaves alone decode as they are; it percent-encodes the
    rest (as HTTP asks, unlike sdk-go's NATS modules), and ce- headers carry values raw."""
    theirs = sdk_sample(note="plain-value_1.2", subject="s")
    http = sdk_http.to_binary(theirs, FMT)
    assert http.headers["content-type"] == "application/json"  # datacontenttype -> content-type
    ours = decode(Message(http.headers, http.body), "ce-headers")
    assert_same(ours, theirs, extensions={"note": "plain-value_1.2"})
    assert ours.data == {"order": 7}
    escaped = sdk_http.to_binary(sdk_sample(subject="s p"), FMT)
    assert decode(Message(escaped.headers, escaped.body), "ce-headers").subject == "s%20p"


def test_sdk_http_structured_decodes_with_our_ce_headers() -> None:
    theirs = sdk_sample()
    http = sdk_http.to_structured(theirs, FMT)
    ours = decode(Message(http.headers, http.body), "ce-headers")
    assert_same(ours, theirs, extensions={"traceparent": "00-abc-01"})


# -- JSON format ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "ctype"),
    [({"a": [1, 2.5, None]}, "application/json"), (b"\x00\xff", None), ("plain", "text/plain")],
)
def test_json_format_both_ways(data: Any, ctype: str | None) -> None:
    ours = sample(data=data, datacontenttype=ctype, extensions={"n": 3, "flag": False})
    theirs = FMT.read(None, to_json(ours))
    assert_same(ours, theirs, extensions={"n": 3, "flag": False})
    assert theirs.get_data() == data
    back = from_json(FMT.write(theirs))
    assert back == ours


def test_sdk_json_with_non_utc_time() -> None:
    tz = timezone(timedelta(hours=2))
    theirs = sdk_sample(time=datetime(2024, 1, 1, 10, tzinfo=tz))
    assert from_json(FMT.write(theirs)).time == datetime(2024, 1, 1, 8, tzinfo=UTC)


# -- SDK objects ------------------------------------------------------------------------------


def test_to_sdk_and_back() -> None:
    ours = sample(extensions={"n": 1, "raw": b"\x01", "at": T0})
    theirs = to_sdk(ours)
    assert isinstance(theirs, CloudEvent)
    assert_same(ours, theirs, extensions={"n": 1, "raw": b"\x01", "at": T0})
    assert from_sdk(theirs) == ours


def test_to_sdk_converts_structs() -> None:
    import msgspec

    class Order(msgspec.Struct):
        order: int

    theirs = to_sdk(sample(data=Order(7)))
    assert theirs.get_data() == {"order": 7}
    assert from_sdk(theirs, Order).data == Order(7)


def test_from_sdk_rejects_non_1_0_and_bad_extensions() -> None:
    with pytest.raises(InvalidEventError):
        from_sdk(sdk_sample(n=1.5))
    from cloudevents.core.v03.event import CloudEvent as CloudEvent03

    with pytest.raises(InvalidEventError):
        from_sdk(CloudEvent03({"type": "t", "source": "/s", "id": "1", "specversion": "0.3"}))


# -- properties -------------------------------------------------------------------------------

_text = st.text(
    st.characters(min_codepoint=0x20, max_codepoint=0x7E) | st.sampled_from("éü€ "),
    min_size=1,
    max_size=12,
)
_ms_times = st.datetimes(
    min_value=datetime(1971, 1, 1), max_value=datetime(2100, 1, 1), timezones=st.just(UTC)
).map(lambda t: t.replace(microsecond=t.microsecond // 1000 * 1000))


@st.composite
def sdk_friendly_events(draw: st.DrawFn) -> Event[Any]:
    """Events whose every value survives the SDK's own model (str extensions, dict data)."""
    return Event(
        type=draw(_text),
        source=draw(_text),
        id=draw(_text),
        time=draw(_ms_times),
        subject=draw(st.one_of(st.none(), _text)),
        extensions=draw(st.dictionaries(extension_names, _text, max_size=3)),
        data=draw(st.dictionaries(st.text(max_size=5), json_values, max_size=3)),
    )


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(event=sdk_friendly_events())
def test_sdk_round_trips(event: Event[Any]) -> None:
    # ce- headers with the SDK's HTTP binding: structured mode (its binary mode percent-encodes)
    headers = encode(event, "ce-headers", ContentMode.STRUCTURED)
    theirs = sdk_http.from_http(sdk_http.HTTPMessage(dict(headers.headers), headers.body), FMT)  # type: ignore[arg-type]
    assert from_sdk(theirs) == event
    http = sdk_http.to_structured(to_sdk(event), FMT)
    assert decode(Message(http.headers, http.body), "ce-headers") == event
    for mode in ContentMode:
        theirs = sdk_amqp.from_amqp(amqp_message(encode(event, "amqp", mode)), FMT)
        assert from_sdk(theirs) == event
    # The SDK writes AMQP time as int(timestamp * 1000), which can lose a millisecond.
    back = decode(from_amqp_message(sdk_amqp.to_binary(to_sdk(event), FMT)), "amqp")
    assert back.time is not None
    assert event.time is not None
    assert abs(back.time - event.time) <= timedelta(milliseconds=1)
    assert back.replace(time=event.time) == event
    assert from_json(FMT.write(to_sdk(event))) == event
    assert from_sdk(FMT.read(None, to_json(event))) == event
