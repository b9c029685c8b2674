"""The wire layer's fast paths must agree exactly with the slow, canonical code they shortcut."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from wire_strategies import aware_datetimes

from eventbus import DecodeError, Event, InvalidEventError
from eventbus._bindings import _is_safe, _percent_encode, _unescape
from eventbus._types import format_time, parse_time
from eventbus._wire import build_event, parse_time_text, time_text

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


def _event(fields: dict[str, Any]) -> Event[Any] | None:
    try:
        return Event(**fields)
    except InvalidEventError:
        return None


@settings(max_examples=600, deadline=None)
@given(
    specversion=_strings,
    id=_strings,
    source=_strings,
    type=_strings,
    subject=_strings,
    dataschema=_strings,
    datacontenttype=_strings,
    time=st.one_of(st.none(), st.just(datetime(2024, 1, 1)), aware_datetimes, st.just("t")),
    extensions=st.dictionaries(_names, _values, max_size=3),
    data=st.one_of(st.none(), st.binary(max_size=2), st.just({"a": 1})),
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
def test_build_event_matches_event(**fields: Any) -> None:
    want = _event(dict(fields, extensions=dict(fields["extensions"])))
    try:
        got = build_event(lambda n: n, **fields)
    except DecodeError:
        assert want is None
    else:
        assert want is not None
        assert got == want
        assert got.datacontenttype == want.datacontenttype


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
def test_time_text_matches_format_time(value: datetime) -> None:
    assert time_text(value) == format_time(value)
    assert parse_time(time_text(value)) == value


_UNSAFE = re.compile(r"[^!#$&-~]")


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=20))
def test_is_safe_matches_the_rule(text: str) -> None:
    assert _is_safe(text) is (_UNSAFE.search(text) is None)


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=20))
@example(' "%\x7fé')
def test_percent_encoding_round_trips(text: str) -> None:
    encoded = _percent_encode(text)
    assert _UNSAFE.search(encoded.replace("%", "")) is None
    assert _unescape(encoded, "ce-x") == text
