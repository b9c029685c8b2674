"""Property tests: every binding x mode round-trips valid events; garbage raises only our errors."""

from __future__ import annotations

from typing import Any

import msgspec
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from wire_strategies import events, expected, garbage_messages

from eventbus import ContentMode, DecodeError, Event, Message, annotate, decode, encode
from eventbus._wire._bindings import BINDINGS
from eventbus.adapter import broker_dedupe_id


class Order(msgspec.Struct):
    order_id: str


@pytest.mark.parametrize("mode", list(ContentMode))
@pytest.mark.parametrize("binding", BINDINGS)
@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(event=events())
def test_round_trip(binding: str, mode: ContentMode, event: Event[Any]) -> None:
    message = encode(event, binding, mode)
    assert type(message.headers) is dict
    assert message.dedupe_id == broker_dedupe_id(event.source, event.id)
    decoded = decode(message, binding)
    assert decoded == expected(event, binding, mode is ContentMode.STRUCTURED)


def _decodes_or_raises_ours(message: Message, binding: str, kind: Any) -> Event[Any] | None:
    try:
        return decode(message, binding, kind)
    except DecodeError:
        return None


@pytest.mark.parametrize("binding", BINDINGS)
@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    message=garbage_messages,
    kind=st.sampled_from([None, Any, dict, dict[str, int], Order, str, bytes, list[int]]),
)
def test_garbage_raises_only_decode_errors(binding: str, message: Message, kind: Any) -> None:
    _decodes_or_raises_ours(message, binding, kind)


@pytest.mark.parametrize("binding", BINDINGS)
@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(message=garbage_messages, reason=st.text(max_size=30))
def test_annotate_never_raises_and_survives_decoding(
    binding: str, message: Message, reason: str
) -> None:
    annotated = annotate(message, binding, {"deadletterreason": reason, "deadletterattempts": 2})
    assert isinstance(annotated, Message)
    if _decodes_or_raises_ours(message, binding, None) is not None:
        back = decode(annotated, binding)
        assert str(back.extensions["deadletterattempts"]) == "2"
        assert isinstance(back.extensions["deadletterreason"], str)


@pytest.mark.parametrize("binding", BINDINGS)
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    event=events(),
    mode=st.sampled_from(list(ContentMode)),
    name=st.sampled_from(["ce-id", "ce-time", "cloudEvents_time", "content-type", "ce-x"]),
    value=st.one_of(st.text(max_size=8), st.binary(max_size=4), st.integers(), st.none()),
)
def test_mutated_messages_raise_only_decode_errors(
    binding: str, event: Event[Any], mode: ContentMode, name: str, value: Any
) -> None:
    message = encode(event, binding, mode)
    mutated = Message({**message.headers, name: value}, message.body)
    _decodes_or_raises_ours(mutated, binding, Order)
    annotate(mutated, binding, {"deadletterreason": "x"})
