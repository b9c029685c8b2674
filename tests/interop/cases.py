"""The interop cases: events with the values that break bindings.

Every case is one CloudEvent; each interop row sends every case one way and compares every
attribute and the data on the other side (``interop_lib.differences``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

from eventbus import Event

__all__ = ["CASES", "KAFKA_CASES", "KEYED", "Case"]


@dataclass(frozen=True)
class Case:
    name: str
    what: str
    event: Event[Any]
    #: extension name -> "uri" / "urireference": how typed SDKs should build them
    uri_extensions: dict[str, str] = field(default_factory=dict)


def _event(name: str, **fields: Any) -> Event[Any]:
    fields.setdefault("source", "https://eventbus.example/interop")
    fields.setdefault("time", datetime(2024, 5, 1, 12, 0, 0, 123000, tzinfo=UTC))
    return Event(type=f"dev.eventbus.interop.{name}", id=f"case-{name}", **fields)


CASES: tuple[Case, ...] = (
    Case(
        "text",
        "text data, a content type with parameters, non-ASCII subject and extension",
        _event(
            "text",
            subject="Grüße aus Köln – ✓",  # noqa: RUF001 - a non-ASCII dash on purpose
            data="héllo wörld\nline two",
            datacontenttype="text/plain; charset=utf-8",
            extensions={"region": "Zürich"},
        ),
    ),
    Case(
        "escapes",
        "spaces, double quotes and '%' in subject and extensions",
        _event(
            "escapes",
            subject='a "quoted" 100% done',
            data={"ok": True},
            extensions={"code": "code%41%42", "spaced": "two words", "quote": '"x"'},
        ),
    ),
    Case(
        "integers",
        "integer extremes and booleans as typed extensions",
        _event(
            "integers",
            data={"n": 1},
            extensions={
                "imin": -2147483648,
                "imax": 2147483647,
                "zero": 0,
                "yes": True,
                "no": False,
            },
        ),
    ),
    Case(
        "uris",
        "a relative URI-reference source, a dataschema URI with query and fragment, URI extensions",
        _event(
            "uris",
            source="../relative/path?q=1",
            dataschema="https://schemas.example/order/v1.json?x=1#frag",
            data={"ok": 1},
            extensions={"link": "https://example.com/a?b=c", "ref": "/a/b#c"},
        ),
        {"link": "uri", "ref": "urireference"},
    ),
    Case(
        "times",
        "a time with microseconds and a +05:30 offset, a timestamp extension at -03:00",
        _event(
            "times",
            time=datetime(
                2024, 2, 29, 23, 59, 58, 654321, tzinfo=timezone(timedelta(hours=5, minutes=30))
            ),
            data={"ok": 1},
            extensions={
                "expirytime": datetime(
                    2030, 1, 2, 3, 4, 5, 600000, tzinfo=timezone(timedelta(hours=-3))
                )
            },
        ),
    ),
    Case(
        "json-object",
        "nested JSON object data with non-ASCII keys, null, floats",
        _event(
            "json-object",
            data={"nested": {"a": [1, 2.5, "x", None, True]}, "ü": "ß", "empty": {}},
            datacontenttype="application/json",
        ),
    ),
    Case(
        "json-array",
        "a JSON array as data with a +json media type with parameters",
        _event(
            "json-array",
            data=[1, "two", {"three": 3}],
            datacontenttype="application/vnd.example+json; charset=utf-8",
        ),
    ),
    Case(
        "binary",
        "binary data (data_base64 in structured mode)",
        _event(
            "binary",
            data=bytes([0, 1, 2, 254, 255]) + b"binary\x00",
            datacontenttype="application/octet-stream",
        ),
    ),
    Case(
        "no-data",
        "an event without data and without datacontenttype",
        _event("no-data", subject="nothing"),
    ),
)

#: The Kafka rows run one more case: the binding's Key Mapper (``partitionkey`` is the record key,
#: and the attribute is kept). The other bindings have no record key to check.
KEYED = Case(
    "partitionkey",
    "a partitionkey extension (Kafka rows only: it must also be the record key)",
    _event("partitionkey", data={"order": 7}, extensions={"partitionkey": "order-7 ✓"}),
)
KAFKA_CASES: tuple[Case, ...] = (*CASES, KEYED)
