"""The immutable CloudEvents 1.0 event model."""

from __future__ import annotations

import builtins
from collections.abc import Mapping
from datetime import datetime
from functools import lru_cache
from typing import Any, Generic, TypeVar, cast

import msgspec

from eventbus._errors import InvalidEventError, Problem
from eventbus._wire._types import (
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
_force_setattr = msgspec.structs.force_setattr


@lru_cache(maxsize=1024)
def _extension_names_ok(names: tuple[str, ...]) -> bool:
    """Whether every name is a valid extension name (memoised: programs use few name sets)."""
    return all(attribute_name_problem(name) is None for name in names)


class Event(msgspec.Struct, Generic[T], frozen=True, kw_only=True, repr_omit_defaults=True):
    """One CloudEvent: context attributes, extensions and data.

    ``id`` (a fresh UUID-v4-shaped string), ``time`` (now, UTC), ``specversion`` ("1.0") and
    ``datacontenttype`` ("application/octet-stream" for bytes data, other data
    "application/json"; an event without data gets none) are defaulted. Pass ``time=None`` to
    leave ``time`` unset. ``data`` may be a msgspec Struct,
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
        # Fast path: plain printable-ASCII attributes and string extensions (the usual event)
        # pass cheap C-level checks that imply every rule below; anything else is checked in
        # full by _validate. tests/wire/test_wire_fast_paths.py holds the two paths equal.
        id_, source, type_ = self.id, self.source, self.type
        subject, ct, schema = self.subject, self.datacontenttype, self.dataschema
        try:  # join takes only str (TypeError otherwise) and always makes a plain str
            if subject is None and ct is None and schema is None:  # the usual new event
                joined = "".join((id_, source, type_))
                optional_ok = True
            else:
                joined = "".join(
                    (
                        id_,
                        source,
                        type_,
                        "" if subject is None else subject,
                        "" if ct is None else ct,
                        "" if schema is None else schema,
                    )
                )
                optional_ok = (
                    subject != ""
                    and ct != ""
                    and (ct is None or "/" in ct)
                    and (schema is None or is_absolute_uri(schema))
                )
        except TypeError:  # some attribute is not a str
            self._validate()
            return
        time, ext = self.time, self.extensions
        if not (
            optional_ok
            and id_
            and source
            and type_
            and self.specversion == SPECVERSION
            and (time is None or (isinstance(time, datetime) and time.tzinfo is not None))
            and joined.isascii()
            and joined.isprintable()
        ):
            self._validate()
            return
        if ext:
            try:
                names_ok = _extension_names_ok(tuple(ext))
                values = "".join(ext.values())  # type: ignore[arg-type]
            except TypeError:  # a non-str name or value: check each
                self._validate()
                return
            if not (names_ok and values.isascii() and values.isprintable()):
                self._validate()
                return
            _force_setattr(self, "extensions", dict(ext))
        if ct is None:
            data = self.data
            if data is not None:
                _force_setattr(
                    self,
                    "datacontenttype",
                    OCTET_STREAM if isinstance(data, bytes) else JSON_CONTENT_TYPE,
                )

    def _validate(self) -> None:
        """Check every attribute; raise one InvalidEventError listing every problem."""
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
        if self.datacontenttype is None and self.data is not None:
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

    @property
    def payload(self) -> T:
        """``data``, typed ``T`` rather than ``T | None``: what a typed handler reads
        (``event.payload.order_id`` passes ``mypy --strict``). Raises
        :class:`~eventbus.DataDecodeError` when the event carries no data."""
        data = self.data
        if data is None:
            from eventbus._errors import DataDecodeError

            raise DataDecodeError(
                f"event {self.id!r} of type {self.type!r} has no data", where="data"
            )
        return data

    def data_as(self, kind: builtins.type[U]) -> U:
        """``data`` converted to ``kind`` (a Struct, dataclass, dict...) with validation."""
        from eventbus._wire._data import convert_data

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
