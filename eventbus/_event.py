"""The immutable CloudEvents 1.0 event model."""

from __future__ import annotations

import builtins
from collections.abc import Mapping
from datetime import datetime
from typing import Any, Generic, TypeVar, cast

import msgspec

from eventbus._errors import InvalidEventError, Problem
from eventbus._types import (
    CONTEXT_ATTRIBUTES,
    SPECVERSION,
    ExtensionValue,
    attribute_name_problem,
    is_absolute_uri,
    new_id,
    string_problem,
    utc_now,
    value_problem,
)

__all__ = ["Event"]

T = TypeVar("T")
U = TypeVar("U")

JSON_CONTENT_TYPE = "application/json"
OCTET_STREAM = "application/octet-stream"


class Event(msgspec.Struct, Generic[T], frozen=True, kw_only=True, repr_omit_defaults=True):
    """One CloudEvent: context attributes, extensions and data.

    ``id`` (a fresh UUID-v4-shaped string), ``time`` (now, UTC), ``specversion`` ("1.0") and
    ``datacontenttype`` ("application/octet-stream" for bytes data, else "application/json")
    are defaulted. Pass ``time=None`` to leave ``time`` unset. ``data`` may be a msgspec Struct,
    a dataclass, a dict/list, a str, bytes or None. Construction validates every attribute and
    raises one :class:`InvalidEventError` listing every problem.

    ``Event[OrderPlaced]`` in a handler's annotation makes the bus decode ``data`` into
    ``OrderPlaced``.
    """

    type: str
    source: str
    data: T | None = None
    id: str = msgspec.field(default_factory=new_id)
    time: datetime | None = msgspec.field(default_factory=utc_now)
    subject: str | None = None
    datacontenttype: str | None = None
    dataschema: str | None = None
    specversion: str = SPECVERSION
    extensions: Mapping[str, ExtensionValue] = msgspec.field(default_factory=dict)

    def __post_init__(self) -> None:
        problems: list[Problem] | None = None
        for name in ("id", "source", "type"):
            value = getattr(self, name)
            if not isinstance(value, str) or not value:
                problems = problems or []
                problems.append(Problem(name, "required, must be a non-empty string"))
            elif (why := string_problem(value)) is not None:
                problems = problems or []
                problems.append(Problem(name, why))
        if self.specversion != SPECVERSION:
            problems = problems or []
            problems.append(Problem("specversion", f"must be {SPECVERSION!r}"))
        for name in ("subject", "dataschema", "datacontenttype"):
            value = getattr(self, name)
            if value is None:
                continue
            if not isinstance(value, str) or not value:
                problems = problems or []
                problems.append(Problem(name, "must be a non-empty string when set"))
            elif (why := string_problem(value)) is not None:
                problems = problems or []
                problems.append(Problem(name, why))
        if (
            self.dataschema
            and isinstance(self.dataschema, str)
            and not is_absolute_uri(self.dataschema)
        ):
            problems = problems or []
            problems.append(Problem("dataschema", "must be an absolute URI"))
        if (
            isinstance(self.datacontenttype, str)
            and self.datacontenttype
            and "/" not in self.datacontenttype
        ):
            problems = problems or []
            problems.append(Problem("datacontenttype", "must be a media type (RFC 2046)"))
        if self.time is not None and (
            not isinstance(self.time, datetime) or self.time.tzinfo is None
        ):
            problems = problems or []
            problems.append(Problem("time", "must be a timezone-aware datetime"))
        ext = self.extensions
        if ext:
            if not isinstance(ext, Mapping):
                problems = problems or []
                problems.append(Problem("extensions", "must be a mapping of name to value"))
            else:
                for name, value in ext.items():
                    why = attribute_name_problem(name) or value_problem(value)
                    if why is not None:
                        problems = problems or []
                        problems.append(Problem(f"extensions.{name}", why))
                # Never keep (or later mutate) the caller's dict.
                msgspec.structs.force_setattr(self, "extensions", dict(ext))
        if problems:
            raise InvalidEventError(problems)
        if self.datacontenttype is None:
            default = OCTET_STREAM if isinstance(self.data, bytes) else JSON_CONTENT_TYPE
            msgspec.structs.force_setattr(self, "datacontenttype", default)

    # -- reading -----------------------------------------------------------------------------

    def get(self, name: str, default: Any = None) -> Any:
        """Any context or extension attribute by its CloudEvents name."""
        if name in CONTEXT_ATTRIBUTES:
            value = getattr(self, name)
            return default if value is None else value
        return self.extensions.get(name, default)

    def attributes(self) -> dict[str, ExtensionValue]:
        """Every set context and extension attribute (no data), keyed by CloudEvents name."""
        out: dict[str, ExtensionValue] = {
            "specversion": self.specversion,
            "id": self.id,
            "source": self.source,
            "type": self.type,
        }
        if self.datacontenttype is not None:
            out["datacontenttype"] = self.datacontenttype
        if self.dataschema is not None:
            out["dataschema"] = self.dataschema
        if self.subject is not None:
            out["subject"] = self.subject
        if self.time is not None:
            out["time"] = self.time
        out.update(self.extensions)
        return out

    def data_as(self, kind: builtins.type[U]) -> U:
        """``data`` converted to ``kind`` (a Struct, dataclass, dict...) with validation."""
        from eventbus._data import convert_data

        return convert_data(self.data, kind)

    # -- deriving ----------------------------------------------------------------------------

    def replace(self, **changes: Any) -> Event[Any]:
        """A copy with some attributes changed (validated again)."""
        return cast("Event[Any]", msgspec.structs.replace(self, **changes))

    def with_extensions(self, **values: ExtensionValue | None) -> Event[T]:
        """A copy with extensions added (a value of None removes one)."""
        merged = dict(self.extensions)
        for name, value in values.items():
            if value is None:
                merged.pop(name, None)
            else:
                merged[name] = value
        return msgspec.structs.replace(self, extensions=merged)
