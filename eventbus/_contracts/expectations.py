"""Consumer-driven contracts: what a consumer reads, checked against every producer version.

A consumer declares, in ``contracts/<type>/consumers/<consumer>.json``, the fields it reads::

    {
      "consumer": "payments",
      "since_version": 1,
      "reads": {
        "/order_id": "string",
        "/amount_cents": {"type": "integer"},
        "/currency": {"type": "string", "required": false, "enum": ["EUR", "USD"]},
        "/lines/*/sku": {"type": "string", "required": false}
      }
    }

A field is a JSON pointer (``*`` steps into every array item). ``type``: a JSON type or a list
(``number`` accepts ``integer``; omit it to accept any). ``required`` (default true): every
event carries it. ``enum``: the values the consumer handles. Each schema version from
``since_version`` on must guarantee all of it: the field declared (not merely allowed by an open
content model), its types within the consumer's, required at every level when the consumer
needs it, and its values within the consumer's ``enum``.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from eventbus._contracts.diff_scalars import types_of
from eventbus._contracts.jsonvalue import canonical, resolve_pointer, split_pointer
from eventbus._errors import RegistryError

__all__ = ["ConsumerExpectation", "FieldExpectation", "unmet"]

_TYPES = frozenset({"null", "boolean", "object", "array", "number", "integer", "string"})
_CLOSED = "closed"


@dataclass(frozen=True)
class FieldExpectation:
    pointer: str
    types: frozenset[str] | None = None
    required: bool = True
    enum: tuple[Any, ...] | None = None

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"required": self.required}
        if self.types is not None:
            out["type"] = sorted(self.types) if len(self.types) > 1 else next(iter(self.types))
        if self.enum is not None:
            out["enum"] = list(self.enum)
        return out


@dataclass(frozen=True)
class ConsumerExpectation:
    """What one consumer reads of an event type (a ``consumers/NAME.json`` file of the
    registry): the fields it needs, checked against every version from ``since_version``."""

    consumer: str
    event_type: str | None
    fields: tuple[FieldExpectation, ...]
    since_version: int = 1
    path: str | None = None

    @classmethod
    def parse(
        cls, data: Any, *, path: str | None = None, event_type: str | None = None
    ) -> ConsumerExpectation:
        """Read the JSON form; :class:`RegistryError` names the file and the bad key."""
        if not isinstance(data, Mapping):
            raise RegistryError("a consumer expectation must be a JSON object", path=path)
        unknown = set(data) - {
            "$comment",
            "consumer",
            "type",
            "since_version",
            "reads",
            "description",
        }
        if unknown:
            raise RegistryError(f"unknown key(s) {', '.join(sorted(unknown))}", path=path)
        consumer, reads = data.get("consumer"), data.get("reads")
        if not isinstance(consumer, str) or not consumer:
            raise RegistryError("consumer must name the consuming service", path=path)
        if not isinstance(reads, Mapping) or not reads:
            raise RegistryError("reads must map JSON pointers to what is read", path=path)
        since = data.get("since_version", 1)
        if not isinstance(since, int) or isinstance(since, bool) or since < 1:
            raise RegistryError("since_version must be a version number >= 1", path=path)
        fields = [_field(pointer, spec, path) for pointer, spec in reads.items()]
        declared_type = data.get("type", event_type)
        if event_type is not None and declared_type != event_type:
            raise RegistryError(
                f"type {declared_type!r} differs from the directory's {event_type!r}", path=path
            )
        return cls(consumer, declared_type, tuple(fields), since, path)

    @classmethod
    def load(cls, path: Path, event_type: str | None = None) -> ConsumerExpectation:
        """Read a consumer file; in ``<type>/consumers/`` the directory names the type."""
        from eventbus._contracts.registry import read_json

        if event_type is None and path.parent.name == "consumers":
            event_type = path.parent.parent.name
        return cls.parse(read_json(path), path=str(path), event_type=event_type)

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"consumer": self.consumer}
        if self.event_type:
            out["type"] = self.event_type
        out["since_version"] = self.since_version
        out["reads"] = {f.pointer: f.to_json() for f in self.fields}
        return out


def _field(pointer: Any, spec: Any, path: str | None) -> FieldExpectation:
    if not isinstance(pointer, str) or not pointer.startswith("/"):
        raise RegistryError(f"{pointer!r} is not a JSON pointer (it starts with '/')", path=path)
    if isinstance(spec, str | list):
        spec = {"type": spec}
    if not isinstance(spec, Mapping) or set(spec) - {"type", "required", "enum"}:
        raise RegistryError(
            f"reads[{pointer!r}] must be a type or {{type, required, enum}}", path=path
        )
    types = spec.get("type")
    if types is not None:
        types = [types] if isinstance(types, str) else types
        if not isinstance(types, list) or not set(types) <= _TYPES:
            raise RegistryError(f"reads[{pointer!r}].type: not JSON types: {types!r}", path=path)
    enum = spec.get("enum")
    if enum is not None and not isinstance(enum, list):
        raise RegistryError(f"reads[{pointer!r}].enum must be a list", path=path)
    required = spec.get("required", True)
    if not isinstance(required, bool):
        raise RegistryError(f"reads[{pointer!r}].required must be true or false", path=path)
    return FieldExpectation(
        pointer,
        None if types is None else frozenset(types),
        required,
        None if enum is None else tuple(enum),
    )


# -- checking ------------------------------------------------------------------------------------


def _deref(schema: Any, root: Any) -> Any:
    for _ in range(50):
        if not (isinstance(schema, Mapping) and isinstance(schema.get("$ref"), str)):
            return schema
        ref = schema["$ref"]
        if not ref.startswith("#"):
            return schema
        schema = resolve_pointer(root, ref[1:])[-1]
    return schema


def _parts(schema: Any, root: Any) -> Iterator[Any]:
    """The conjunction a schema stands for: itself and its allOf branches (refs followed)."""
    schema = _deref(schema, root)
    yield schema
    if isinstance(schema, Mapping):
        for branch in schema.get("allOf", ()):
            yield from _parts(branch, root)


def _alternatives(schema: Any, root: Any) -> list[list[Any]]:
    """Every shape the data can take: one conjunction per anyOf/oneOf branch (or just one)."""
    parts = list(_parts(schema, root))
    for part in parts:
        if isinstance(part, Mapping):
            for keyword in ("anyOf", "oneOf"):
                if isinstance(part.get(keyword), list):
                    rest = [p for p in parts if p is not part]
                    return [rest + alt for b in part[keyword] for alt in _alternatives(b, root)]
    return [parts]


def _step(parts: list[Any], token: str, root: Any) -> tuple[list[list[Any]], bool, str | None]:
    """Step into a member (or ``*``: every item): (alternatives, guaranteed present, problem)."""
    children: list[Any] = []
    required = False
    for part in parts:
        if part is False or not isinstance(part, Mapping):
            continue
        if token == "*":
            for keyword in ("prefixItems", "items", "additionalItems"):
                value = part.get(keyword)
                children += value if isinstance(value, list) else [] if value is None else [value]
            continue
        if token in (part.get("properties") or {}):
            children.append(part["properties"][token])
        required = required or token in (part.get("required") or ())
    if not children:
        closed = any(
            isinstance(p, Mapping) and p.get("additionalProperties") is False for p in parts
        )
        if closed:
            return [], False, _CLOSED
        what = "items" if token == "*" else f"member {token!r}"
        return [], False, f"declares no {what}, so it could hold anything"
    alternatives = [alt for child in children for alt in _alternatives(child, root)]
    return alternatives, required or token == "*", None


def unmet(schema: Mapping[str, Any], expectation: ConsumerExpectation) -> list[tuple[str, str]]:
    """``(pointer, problem)`` for every field of ``expectation`` this schema does not guarantee."""
    problems: list[tuple[str, str]] = []
    for want in expectation.fields:
        tokens = split_pointer(want.pointer)
        level = _alternatives(schema, schema)
        present = True
        problem = None
        for token in tokens:
            nxt: list[list[Any]] = []
            for parts in level:
                alts, guaranteed, problem = _step(parts, token, schema)
                if problem is not None:
                    break
                present = present and guaranteed
                nxt += alts
            if problem is not None:
                break
            level = nxt
        if problem is _CLOSED:
            if want.required:  # an optional read of a member that cannot occur is fine
                problems.append((want.pointer, "does not have it (closed content model)"))
            continue
        if problem is not None:
            problems.append((want.pointer, problem))
            continue
        if want.required and not present:
            problems.append(
                (want.pointer, "is optional in the schema; the consumer needs it always")
            )
        problems += [(want.pointer, p) for p in _leaf_problems(level, want)]
    return problems


def _leaf_problems(level: list[list[Any]], want: FieldExpectation) -> list[str]:
    found: list[str] = []
    for parts in level:
        maps = [p for p in parts if isinstance(p, Mapping)]
        typesets = [t for t in (types_of(p) for p in maps) if t is not None]
        types = frozenset.intersection(*typesets) if typesets else None
        if want.types is not None:
            if types is None:
                found.append(f"has no type; the consumer reads {'/'.join(sorted(want.types))}")
            else:
                extra = {
                    t
                    for t in types
                    if t not in want.types and not (t == "integer" and "number" in want.types)
                }
                if extra:
                    found.append(
                        f"may be {'/'.join(sorted(extra))}; the consumer reads {'/'.join(sorted(want.types))}"
                    )
        if want.enum is not None:
            handled = {canonical(v) for v in want.enum}
            enums = [
                p["enum"] if "enum" in p else [p["const"]]
                for p in maps
                if "enum" in p or "const" in p
            ]
            if not enums:
                found.append(f"allows any value; the consumer handles only {list(want.enum)}")
            else:
                allowed = set.intersection(*({canonical(v) for v in e} for e in enums))
                values = [v for e in enums for v in e if canonical(v) in allowed - handled]
                if values:
                    found.append(f"may be {values}; the consumer handles only {list(want.enum)}")
    return list(dict.fromkeys(found))
