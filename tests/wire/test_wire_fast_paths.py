"""The wire layer's fast paths must agree exactly with the slow, canonical code they shortcut."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import msgspec
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from wire_strategies import aware_datetimes, events

from eventbus import (
    ContentMode,
    DecodeError,
    EncodeError,
    Event,
    InvalidEventError,
    decode,
    encode,
)
from eventbus._wire._ce_decode import (
    _MAX_SHAPE_CHARS,
    _MAX_SHAPES,
    _SHAPES,
    _decode_ce_fast,
    _decode_ce_slow,
)
from eventbus._wire._ce_encode import ce_attributes, encode_ce_binary, message_of
from eventbus._wire._types import format_time, parse_time
from eventbus._wire._values import build_event, parse_time_text

_strings = st.one_of(
    st.none(),
    st.text(max_size=6),
    st.sampled_from(["", "1.0", "0.3", "a/b", "ab", "urn:x", "x y", "é", "\x7f", "\x00", "data"]),
    st.integers(-3, 3),
    st.booleans(),
)
_names = st.one_of(
    st.text(max_size=4),
    st.sampled_from(["", "data", "id", "time", "ok", "A", "a_b", "ab1", "é", "x" * 25]),
)
_values = st.one_of(
    st.text(max_size=5),
    st.sampled_from(["", "\x00", "\x85", "\ud800", "\ufdd0", "é"]),
    st.integers(-(2**32), 2**32),
    st.booleans(),
    st.binary(max_size=3),
    st.just(datetime(2024, 1, 1)),
    st.just(datetime(2024, 1, 1, tzinfo=UTC)),
    st.floats(),
    st.none(),
)


class _FullyCheckedEvent(Event[Any], frozen=True, kw_only=True):
    """An Event that always takes the full validation path."""

    def __post_init__(self) -> None:
        self._validate()


def _outcome(cls: type[Event[Any]], fields: dict[str, Any]) -> dict[str, Any] | str:
    try:
        return msgspec.structs.asdict(cls(**dict(fields, extensions=dict(fields["extensions"]))))
    except InvalidEventError as exc:
        return "; ".join(sorted(str(p) for p in exc.problems))


def _mostly(valid: st.SearchStrategy[Any], other: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """Usually a valid value, so that one odd field at a time meets the fast path's checks."""
    return st.one_of(valid, valid, valid, other)


_FIELDS = {
    "specversion": _mostly(st.just("1.0"), _strings),
    "id": _mostly(st.sampled_from(["1", "abc-9"]), _strings),
    "source": _mostly(st.sampled_from(["/s", "urn:x"]), _strings),
    "type": _mostly(st.just("com.example.t"), _strings),
    "subject": _mostly(st.sampled_from([None, "o-1"]), _strings),
    "dataschema": _mostly(st.sampled_from([None, "https://x/s.json"]), _strings),
    "datacontenttype": _mostly(st.sampled_from([None, "application/json"]), _strings),
    "time": _mostly(
        st.one_of(st.none(), aware_datetimes), st.sampled_from([datetime(2024, 1, 1), "t"])
    ),
    "extensions": _mostly(
        st.dictionaries(st.sampled_from(["ok", "ab1", "tenant"]), st.text(max_size=4), max_size=2),
        st.dictionaries(_names, _values, max_size=3),
    ),
    "data": st.one_of(st.none(), st.binary(max_size=2), st.just({"a": 1})),
}


@settings(max_examples=1500, deadline=None)
@given(**_FIELDS)
@example(
    specversion="1.0",
    id="1",
    source="/s",
    type="t",
    subject="",
    dataschema=None,
    datacontenttype=None,
    time=None,
    extensions={},
    data=None,
)
@example(
    specversion="1.0",
    id="1",
    source="/s",
    type="t",
    subject=None,
    dataschema=None,
    datacontenttype=None,
    time=None,
    extensions={"": "x"},
    data=None,
)
def test_event_fast_path_matches_full_validation(**fields: Any) -> None:
    assert _outcome(Event, fields) == _outcome(_FullyCheckedEvent, fields)


_VALID = {
    "specversion": "1.0",
    "id": "1",
    "source": "/s",
    "type": "t",
    "subject": None,
    "dataschema": None,
    "datacontenttype": None,
    "time": None,
    "extensions": {},
    "data": None,
}


@pytest.mark.parametrize(
    "change",
    [
        {"subject": ""},
        {"subject": 5},
        {"datacontenttype": ""},
        {"datacontenttype": "json"},
        {"dataschema": "relative/path"},
        {"dataschema": ""},
        {"time": datetime(2024, 1, 1)},
        {"time": "2024-01-01T00:00:00Z"},
        {"specversion": "0.3"},
        {"id": ""},
        {"id": "é"},
        {"id": "a\x00b"},
        {"type": "t\x7f"},
        {"source": "a\x7fb"},
        {"id": "a\x00b", "subject": "s"},
        {"type": None},
        {"extensions": {"data": "x"}},
        {"extensions": {"Tenant": "x"}},
        {"extensions": {"id": "x"}},
        {"extensions": {"": "x"}},
        {"extensions": {"a_b": "x"}},
        {"extensions": {"ok": "\x00"}},
        {"extensions": {"ok": 2**31}},
        {"extensions": {"ok": 1.5}},
        {"extensions": {"ok": datetime(2024, 1, 1)}},
        {"extensions": {"ok": "é", "n": 3}},
        {"extensions": {"ok": "x", "n": True, "b": b"\x00"}},
        {},
    ],
)
def test_each_fast_path_check_agrees_with_full_validation(change: dict[str, Any]) -> None:
    fields = dict(_VALID, **change)
    assert _outcome(Event, fields) == _outcome(_FullyCheckedEvent, fields)


def test_build_event_names_the_wire_field() -> None:
    with pytest.raises(DecodeError) as info:
        build_event(lambda n: "ce-" + n, "1.0", "", "/s", "t", None, None, None, None, {}, None)
    assert info.value.where == "ce-id"


_times = st.one_of(
    aware_datetimes.map(format_time),
    aware_datetimes.map(lambda t: format_time(t).replace("T", "t").replace("Z", "z")),
    aware_datetimes.map(lambda t: format_time(t).replace("T", " ")),
    st.from_regex(
        r"\d{4}-\d\d-\d\d[Tt ]\d\d:\d\d:\d\d(\.\d{0,9})?([Zz]|[+-]\d\d:?\d\d)?", fullmatch=True
    ),
    st.text(max_size=30),
)


@settings(max_examples=500, deadline=None)
@given(_times)
@example("2024-01-01T10:00:00.9999999Z")
@example("9999-12-31T23:59:59.9999999Z")
@example("2024-01-01T10:00:00+0100")
@example("2024-01-01T10:00:00")
def test_parse_time_text_matches_parse_time(text: str) -> None:
    try:
        want: datetime | None = parse_time(text)
    except ValueError:
        want = None
    if want is None:
        with pytest.raises(DecodeError) as info:
            parse_time_text(text, "time")
        assert info.value.where == "time"
        return
    got = parse_time_text(text, "time")
    assert got == want
    assert got.utcoffset() == want.utcoffset()


@settings(max_examples=300, deadline=None)
@given(aware_datetimes)
def test_format_time_fast_utc_path_matches_isoformat(value: datetime) -> None:
    utc = value.astimezone(UTC)
    assert format_time(utc) == utc.isoformat().replace("+00:00", "Z")
    assert parse_time(format_time(value)) == value


_MUTATED_KEYS = [
    "ce-id",
    "ce-source",
    "ce-type",
    "ce-specversion",
    "ce-subject",
    "ce-time",
    "ce-datacontenttype",
    "ce-dataschema",
    "ce-data",
    "ce-ok",
    "ce-Bad",
    "content-type",
    "x-other",
]
_MUTATED_VALUES = [
    "",
    "1.0",
    "0.3",
    "a/b",
    "json",
    "urn:x",
    "rel/x",
    "é",
    "%41",
    "\x00",
    "a b",
    "2024-01-01T00:00:00",
    "2024-01-01T00:00:00.1234567Z",
    "2024-01-01T00:00:00+01:00",
    "application/cloudevents+json",
]
_header_mutations = st.one_of(
    st.just({}),
    st.builds(
        lambda k, v: {k: v}, st.sampled_from(_MUTATED_KEYS), st.sampled_from(_MUTATED_VALUES)
    ),
)
_plain_events = st.builds(
    Event,
    type=st.sampled_from(["com.example.t", "a.b"]),
    source=st.sampled_from(["/s", "urn:x"]),
    subject=st.sampled_from([None, "o-1"]),
    data=st.sampled_from([None, {"a": 1}, b"\x00\x01", "text"]),
    extensions=st.sampled_from([{}, {"partitionkey": "k"}, {"a": "1", "b": "2"}]),
)


@settings(max_examples=1000, deadline=None)
@given(
    event=st.one_of(_plain_events, events()),
    mutation=_header_mutations,
    binding=st.sampled_from(["ce-headers", "pubsub"]),
    data_type=st.sampled_from([None, bytes, dict[str, Any], str]),
)
@example(
    event=Event(type="a.b", source="/s", data={"a": 1}),
    mutation={"content-type": "application/cloudevents+json"},
    binding="ce-headers",
    data_type=None,
)
def test_ce_decode_fast_path_agrees_with_the_slow_path(
    event: Event[Any], mutation: dict[str, str], binding: str, data_type: Any
) -> None:
    message = encode(event, binding)
    headers = {**message.headers, **mutation}
    fast = _decode_ce_fast(headers, message.body, data_type)
    if fast is None:
        return
    slow = _decoded(lambda: _decode_ce_slow(headers, message.body, data_type))
    assert msgspec.structs.asdict(fast) == slow


@settings(max_examples=500, deadline=None)
@given(
    event=st.one_of(_plain_events, events()),
    mutation=_header_mutations,
    binding=st.sampled_from(["ce-headers", "pubsub"]),
)
def test_ce_decode_fast_path_is_the_same_cold_and_warm(
    event: Event[Any], mutation: dict[str, str], binding: str
) -> None:
    # The fast path remembers what it learnt about each set of header names: a remembered set
    # must decide exactly as a first sight does.
    message = encode(event, binding)
    headers = {**message.headers, **mutation}
    _SHAPES.clear()
    cold = _decode_ce_fast(headers, message.body, None)
    warm = _decode_ce_fast(headers, message.body, None)
    assert (cold is None) == (warm is None)
    if cold is not None and warm is not None:
        assert msgspec.structs.asdict(cold) == msgspec.structs.asdict(warm)


def test_ce_decode_fast_path_forgets_header_sets_beyond_its_bound() -> None:
    _SHAPES.clear()
    for i in range(_MAX_SHAPES + 10):
        _decode_ce_fast({"ce-x" + str(i): "1"}, b"", None)
    assert len(_SHAPES) <= _MAX_SHAPES


def test_ce_decode_fast_path_keeps_only_short_header_name_sets() -> None:
    # A sender making up long header names must not make the cache hold them.
    message = encode(Event(type="a.b", source="/s"), "ce-headers")
    _SHAPES.clear()
    short = {**message.headers, "ce-" + "x" * 20: "1"}
    long = {**message.headers, "ce-" + "x" * _MAX_SHAPE_CHARS: "1"}
    for headers in (short, long):
        event = _decode_ce_fast(headers, b"", None)
        assert event is not None and len(event.extensions) == 1
    assert list(_SHAPES) == [tuple(short)]


_structured_headers = st.one_of(
    st.just(None),  # as the encoder wrote them
    st.sampled_from(
        [
            {"Content-Type": "application/cloudevents+json; charset=utf-8"},
            {"content-type": "application/cloudevents+json; charset=UTF-8"},
            {"Content-Type": "application/cloudevents-batch+json"},
            {"Content-Type": "application/cloudevents+xml"},
            {"content-type": "application/cloudevents+xml"},
            {"content-type": b"application/cloudevents+json; charset=utf-8"},
            {"content-type": "application/json"},
            {"CONTENT-TYPE": "application/cloudevents+json; charset=utf-8"},
            {
                "Content-Type": "application/cloudevents+json; charset=utf-8",
                "content-type": "text/plain",
            },
            {
                "Content-Type": "application/cloudevents+json; charset=utf-8",
                "ce-specversion": "1.0",
            },
            {"Content-Type": b"application/cloudevents+json; charset=utf-8"},
            # a broker's own header next to the content type (JetStream: Nats-Msg-Id)
            {"content-type": "application/cloudevents+json; charset=utf-8", "Nats-Msg-Id": "1"},
            {"Nats-Msg-Id": b"\xff", "Content-Type": "application/cloudevents+json; charset=utf-8"},
            {"content-type": "application/cloudevents+json; charset=utf-8", "ce-id": "other"},
            {
                "content-type": "application/cloudevents+json; charset=utf-8",
                "CONTENT-TYPE": "application/cloudevents+xml",  # the slow path reads this one
            },
            {"content-type": "application/cloudevents+json; charset=utf-8", b"Content-Type": "x"},
            {"content-type": "application/cloudevents+json; charset=utf-8", 7: "x"},
            {"content-type": "application/json", "Nats-Msg-Id": "1"},
            {"content-type": "application/cloudevents+xml", "Nats-Msg-Id": "1"},
        ]
    ),
)


def _decoded(run: Any) -> dict[str, Any] | str:
    try:
        return msgspec.structs.asdict(run())
    except DecodeError as exc:
        return f"{type(exc).__name__}: {exc}"


@settings(max_examples=500, deadline=None)
@given(
    event=st.one_of(_plain_events, events()),
    binding=st.sampled_from(["ce-headers", "pubsub"]),
    headers=_structured_headers,
    data_type=st.sampled_from([None, bytes, dict[str, Any], str]),
)
def test_structured_shortcut_agrees_with_the_slow_path(
    event: Event[Any], binding: str, headers: dict[str, Any] | None, data_type: Any
) -> None:
    message = encode(event, binding, ContentMode.STRUCTURED)
    if headers is not None:
        message = msgspec.structs.replace(message, headers=headers)
    assert _decoded(lambda: decode(message, binding, data_type)) == _decoded(
        lambda: _decode_ce_slow(message.headers, message.body, data_type)
    )


# -- ce- attribute headers: the one-literal shortcut for the usual event ------------------------


@settings(max_examples=300, deadline=None)
@given(events())
def test_ce_attribute_headers_equal_the_canonical_attributes_in_order(event: Event[Any]) -> None:
    from eventbus._wire._types import to_canonical

    reference = {"ce-" + name: to_canonical(v) for name, v in event.attributes().items()}
    got = ce_attributes(event)
    assert got == reference
    assert list(got) == list(reference)  # the same header order, shortcut or not


@settings(max_examples=300, deadline=None)
@given(st.one_of(_plain_events, events()))
@example(Event(type="a.b", source="/s", id="x" * 96))
@example(Event(type="a.b", source="/s", id="x" * 97))
@example(Event(type="a.b", source="/s", data=b"\x00", datacontenttype="application/json"))
@example(Event(type="a.b", source="/s", extensions={"partitionkey": 5}))
@example(Event(type="a.b", source="/s", data={"n": 1}, extensions={"partitionkey": "k"}))
def test_ce_binary_encoder_equals_the_general_encoder(event: Event[Any]) -> None:
    # encode_ce_binary inlines the JSON body, the partition key and the broker dedupe id.
    assert encode_ce_binary(event) == message_of(event, ce_attributes)


def test_ce_binary_encoder_refuses_data_json_cannot_hold_as_the_general_encoder_does() -> None:
    event = Event(type="a.b", source="/s", data={"n": object()})
    with pytest.raises(EncodeError) as general:
        message_of(event, ce_attributes)
    with pytest.raises(EncodeError) as inline:
        encode_ce_binary(event)
    assert str(inline.value) == str(general.value)
