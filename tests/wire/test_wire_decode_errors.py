"""Decoders raise only DecodeError / DataDecodeError, whatever they are given (issue 10, 6)."""

from __future__ import annotations

import contextlib
from typing import Any

import msgspec
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from wire_strategies import any_text, garbage_messages

from eventbus import (
    ConfigurationError,
    DataDecodeError,
    DecodeError,
    Event,
    EventBus,
    Message,
    decode,
    from_json,
    from_json_batch,
)
from eventbus._wire._bindings import BINDINGS

_VALID = {"ce-specversion": "1.0", "ce-id": "1", "ce-source": "/s", "ce-type": "t"}
_VALID_AMQP = {
    "cloudEvents_specversion": "1.0",
    "cloudEvents_id": "1",
    "cloudEvents_source": "/s",
    "cloudEvents_type": "t",
}


class StrOrBytes(msgspec.Struct):
    """msgspec cannot decode into this (two str-like types in one union)."""

    value: str | bytes


class Order(msgspec.Struct):
    order_id: str


_KINDS = [None, Any, dict, dict[str, int], Order, str, bytes, list[int], StrOrBytes]


@pytest.mark.parametrize("binding", ["ce-headers", "pubsub"])
@pytest.mark.parametrize(
    "extra",
    [
        {"ce-\ud800": "x"},  # a lone surrogate in a name
        {"ce-ext\udfff": "x"},
        {"ce-ext": "\ud800"},  # ... in a value
        {"ce-ext": "%41\ud800"},
        {"ce-id": "\udc00"},
    ],
)
def test_lone_surrogates_are_decode_errors(binding: str, extra: dict[str, str]) -> None:
    with pytest.raises(DecodeError) as info:
        decode(Message({**_VALID, **extra}, b""), binding)
    str(info.value).encode("utf-8")  # the error text itself can be logged anywhere


def test_lone_surrogate_in_an_amqp_name_is_a_decode_error() -> None:
    with pytest.raises(DecodeError):
        decode(Message({**_VALID_AMQP, "cloudEvents_\ud800": "x"}, b""), "amqp")


def test_repeated_header_is_a_decode_error() -> None:
    headers: dict[str, Any] = {**_VALID, "ce-id": ["1", "2"]}
    with pytest.raises(DecodeError, match="ce-id: appears 2 times"):
        decode(Message(headers, b""), "ce-headers")


def test_invalid_utf8_header_value_is_a_decode_error() -> None:
    headers: dict[str, Any] = {**_VALID, "ce-ext": b"a\xffb"}
    with pytest.raises(DecodeError, match="ce-ext: is not valid UTF-8"):
        decode(Message(headers, b""), "ce-headers")


_STRUCTURED = b'{"specversion":"1.0","id":"1","source":"/s","type":"t","data":{"value":"a"}}'


@pytest.mark.parametrize("binding", BINDINGS)
def test_an_unconvertible_data_type_is_a_data_decode_error(binding: str) -> None:
    headers = _VALID_AMQP if binding == "amqp" else _VALID
    if binding == "kafka":
        headers = {k.replace("ce-", "ce_"): v for k, v in _VALID.items()}
    binary = Message(headers, b'{"value":"a"}')
    structured = Message({"content-type": "application/cloudevents+json"}, _STRUCTURED)
    for message in (binary, structured):
        with pytest.raises(DataDecodeError, match="StrOrBytes"):
            decode(message, binding, StrOrBytes)


def test_from_json_with_an_unconvertible_data_type_is_a_data_decode_error() -> None:
    with pytest.raises(DataDecodeError, match="StrOrBytes"):
        from_json(_STRUCTURED, StrOrBytes)
    with pytest.raises(DataDecodeError, match="StrOrBytes"):
        from_json_batch(b"[" + _STRUCTURED + b"]", StrOrBytes)


def test_subscribe_refuses_an_unconvertible_data_type() -> None:
    async def handler(event: Event[StrOrBytes]) -> None:
        pass

    bus = EventBus("memory://")
    with pytest.raises(ConfigurationError, match="StrOrBytes"):
        bus.subscribe("order.placed", handler)
    with pytest.raises(ConfigurationError, match="StrOrBytes"):
        bus.subscribe("order.placed", lambda event: None, data_type=StrOrBytes)


_kinds = st.sampled_from(_KINDS)


@pytest.mark.parametrize("binding", BINDINGS)
@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(message=garbage_messages, kind=_kinds)
def test_any_headers_and_body_raise_only_our_errors(
    binding: str, message: Message, kind: Any
) -> None:
    try:
        decode(message, binding, kind)
    except DecodeError as exc:
        str(exc).encode("utf-8")


_members = st.dictionaries(
    st.one_of(
        st.sampled_from(["specversion", "id", "source", "type", "time", "data", "data_base64"]),
        any_text(8),
    ),
    st.one_of(any_text(8), st.integers(), st.none(), st.booleans(), st.just({"value": "x"})),
    max_size=8,
)


def _encodable(value: Any) -> bool:
    try:
        msgspec.json.encode(value)
    except Exception:
        return False
    return True


_json_bodies = st.one_of(
    st.binary(max_size=60),
    _members.filter(_encodable).map(msgspec.json.encode),
    _members.map(lambda m: {"specversion": "1.0", "id": "1", "source": "/s", "type": "t", **m})
    .filter(_encodable)
    .map(msgspec.json.encode),
)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(body=_json_bodies)
@pytest.mark.parametrize("kind", _KINDS, ids=repr)
def test_from_json_raises_only_our_errors(body: bytes, kind: Any) -> None:
    for decoder, text in (
        (from_json, body),
        (from_json_batch, body),
        (from_json_batch, b"[%s]" % body),
    ):
        with contextlib.suppress(DecodeError):
            decoder(text, kind)
