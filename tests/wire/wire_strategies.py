"""Hypothesis strategies for valid events and for garbage messages, plus expected round trips."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import msgspec
from hypothesis import strategies as st

from eventbus import Event, Message
from eventbus._wire._data import is_json_type
from eventbus._wire._types import (
    CONTEXT_ATTRIBUTES,
    INT32_MAX,
    INT32_MIN,
    string_problem,
    to_canonical,
)

# -- CloudEvents Strings ----------------------------------------------------------------------

_ce_char = st.characters(exclude_categories=("Cs", "Cc")).filter(
    lambda c: string_problem(c) is None
)
_tricky_char = st.sampled_from([" ", '"', "%", "\\", "é", "€", "😀", "\ufffd", "~", "!", "+", ":"])
_ascii_char = st.characters(min_codepoint=0x20, max_codepoint=0x7E)


def any_text(max_size: int = 16) -> st.SearchStrategy[str]:
    """Any str a transport could hand over, lone surrogates and control characters included."""
    return st.text(st.characters(exclude_categories=()), max_size=max_size)


def ce_text(min_size: int = 1, max_size: int = 24) -> st.SearchStrategy[str]:
    """Valid CloudEvents Strings, mostly printable ASCII (the fast paths), sometimes anything."""
    return st.one_of(
        st.text(_ascii_char, min_size=min_size, max_size=max_size),
        st.text(st.one_of(_ascii_char, _tricky_char), min_size=min_size, max_size=max_size),
        st.text(_ce_char, min_size=min_size, max_size=max_size),
    )


extension_names = st.from_regex(r"[a-z0-9]{1,14}", fullmatch=True).filter(
    lambda n: n not in CONTEXT_ATTRIBUTES and n != "data"
)
offsets = st.one_of(
    st.just(UTC),
    st.builds(
        timezone,
        st.timedeltas(min_value=timedelta(hours=-23, minutes=-59), max_value=timedelta(hours=23)),
    ),
)
aware_datetimes = st.datetimes(
    min_value=datetime(2, 1, 1), max_value=datetime(9998, 12, 31), timezones=offsets
)
extension_values = st.one_of(
    st.booleans(),
    st.integers(INT32_MIN, INT32_MAX),
    ce_text(min_size=0),
    st.binary(max_size=16),
    aware_datetimes,
)
extensions = st.dictionaries(extension_names, extension_values, max_size=4)

# -- data with a matching content type --------------------------------------------------------

_json_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**63), 2**63 - 1),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=10),
)
json_values = st.recursive(
    _json_scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=6), inner, max_size=3)
    ),
    max_leaves=8,
)
JSON_TYPES = [None, "application/json", "application/cloudevents-test+json; charset=utf-8"]
TEXT_TYPES = ["text/plain", "text/plain; charset=utf-8", "application/xml; charset=utf-8"]
BINARY_TYPES = [None, "application/octet-stream", "image/png"]

data_and_type = st.one_of(
    st.tuples(
        st.one_of(st.dictionaries(st.text(max_size=6), json_values, max_size=4), json_values),
        st.sampled_from(JSON_TYPES),
    ),
    st.tuples(st.one_of(st.none(), st.text(max_size=20)), st.sampled_from(TEXT_TYPES)),
    st.tuples(st.binary(max_size=24), st.sampled_from(BINARY_TYPES)),
)


@st.composite
def events(draw: st.DrawFn) -> Event[Any]:
    """Valid events covering every attribute, extension type and data kind."""
    data, ctype = draw(data_and_type)
    return Event(
        type=draw(ce_text()),
        source=draw(ce_text()),
        id=draw(ce_text()),
        time=draw(st.one_of(st.none(), aware_datetimes)),
        subject=draw(st.one_of(st.none(), ce_text())),
        dataschema=draw(st.one_of(st.none(), ce_text().map(lambda s: "urn:x-" + s))),
        datacontenttype=ctype,
        extensions=draw(extensions),
        data=data,
    )


# -- what a round trip gives back -------------------------------------------------------------


def _json_extension(value: Any) -> Any:
    return value if isinstance(value, bool | int | str) else to_canonical(value)


def expected(event: Event[Any], binding: str, structured: bool) -> Event[Any]:
    """``event`` as a decoder sees it after the given binding and mode.

    Header bindings carry extensions as canonical strings (AMQP keeps native types but sends
    timestamps as strings); the JSON format keeps booleans and integers. Binary mode reads an
    empty body as "no data".
    """
    if structured:
        return event.replace(
            extensions={k: _json_extension(v) for k, v in event.extensions.items()}
        )
    if binding != "amqp":
        event = event.replace(extensions={k: to_canonical(v) for k, v in event.extensions.items()})
    elif any(isinstance(v, datetime) for v in event.extensions.values()):
        event = event.replace(
            extensions={
                k: to_canonical(v) if isinstance(v, datetime) else v
                for k, v in event.extensions.items()
            }
        )
    if event.data == b"" or (event.data == "" and not is_json_type(event.datacontenttype)):
        event = event.replace(data=None)
    return event


# -- garbage ----------------------------------------------------------------------------------

_header_names = st.one_of(
    st.sampled_from(
        [
            "ce-specversion",
            "ce-id",
            "CE-Source",
            "ce-type",
            "ce-time",
            "ce-subject",
            "ce-dataschema",
            "ce-datacontenttype",
            "ce-",
            "ce-Bad",
            "ce-data",
            "content-type",
            "Content-Type",
            "cloudEvents_specversion",
            "cloudEvents_id",
            "cloudEvents:source",
            "cloudEvents_type",
            "cloudEvents_time",
            "cloudEvents_x",
            "cloudEvents:",
        ]
    ),
    st.text(max_size=16),
    any_text(max_size=16),  # lone surrogates included
    st.sampled_from(["ce-\ud800", "ce-id\udc00", "ce-\x00", "cloudEvents_\udfff"]),
    st.binary(max_size=8),
)
_header_values = st.one_of(
    st.sampled_from(
        [
            "1.0",
            "0.3",
            "",
            "2024-01-01T00:00:00Z",
            "application/cloudevents+json",
            "application/cloudevents-batch+json",
            "application/cloudevents+avro",
            "application/json",
            "text/plain",
            "%C0%A0",
            "%zz",
            "%",
            '"quoted \\" string"',
            '"unterminated',
            "a%20b",
        ]
    ),
    st.text(max_size=16),
    any_text(max_size=16),
    st.sampled_from(["\ud800", "a\udc00b", "%41\ud800", '"\ud800"']),
    st.binary(max_size=8),
    st.integers(),
    st.booleans(),
    st.datetimes(),
    st.none(),
    st.floats(),
    # A transport that keeps repeated headers (NATS) hands over a list.
    st.lists(st.one_of(st.text(max_size=6), st.binary(max_size=4)), min_size=2, max_size=3),
)
_bodies = st.one_of(
    st.binary(max_size=40),
    st.sampled_from(
        [
            b"",
            b"{}",
            b"[]",
            b'{"specversion":"1.0","id":"1","source":"/s","type":"t"}',
            b'{"specversion":"1.0","id":"1","source":"/s","type":"t","data":1,"data_base64":"AA=="}',
            b'{"specversion":"1.0","id":1}',
            b"[" * 5000,
            b'{"a":' * 3000,
            b"\xff\xfe",
            b'"\\ud800"',
        ]
    ),
    json_values.map(msgspec.json.encode),
)
garbage_messages = st.builds(
    Message,
    headers=st.dictionaries(_header_names, _header_values, max_size=8),
    body=_bodies,
)
