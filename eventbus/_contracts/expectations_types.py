"""What a handler reads, derived from its declared data type (a msgspec Struct or dataclass)."""

from __future__ import annotations

from typing import Any

import msgspec

from eventbus._contracts.expectations import ConsumerExpectation, FieldExpectation

__all__ = ["expectation_from_type"]


def expectation_from_type(consumer: str, event_type: str, data_type: Any) -> ConsumerExpectation:
    """What a handler declared ``Event[data_type]`` reads (a msgspec Struct or dataclass):
    fields without a default are required; ``Literal``/``Enum`` fields give ``enum``."""
    fields: list[FieldExpectation] = []
    _collect(msgspec.inspect.type_info(data_type), "", True, fields)
    return ConsumerExpectation(consumer, event_type, tuple(fields))


def _collect(info: Any, pointer: str, required: bool, out: list[FieldExpectation]) -> None:
    mi = msgspec.inspect
    if isinstance(info, mi.StructType | mi.DataclassType):
        if pointer:
            out.append(FieldExpectation(pointer, frozenset({"object"}), required))
        for f in info.fields:
            _collect(f.type, f"{pointer}/{f.encode_name}", required and f.required, out)
        return
    types: set[str] = set()
    enum: tuple[Any, ...] | None = None
    options = info.types if isinstance(info, mi.UnionType) else (info,)
    for option in options:
        if isinstance(option, mi.NoneType):
            types.add("null")
        elif isinstance(option, mi.StrType | mi.DateTimeType | mi.DateType | mi.UUIDType):
            types.add("string")
        elif isinstance(option, mi.BoolType):
            types.add("boolean")
        elif isinstance(option, mi.IntType):
            types.add("integer")
        elif isinstance(option, mi.FloatType):
            types.add("number")
        elif isinstance(option, mi.LiteralType | mi.EnumType):
            values = (
                option.values
                if isinstance(option, mi.LiteralType)
                else tuple(m.value for m in option.cls)
            )
            enum = (enum or ()) + tuple(values)
            types |= {"string" if isinstance(v, str) else "integer" for v in values}
        elif isinstance(option, mi.ListType | mi.TupleType | mi.VarTupleType | mi.SetType):
            types.add("array")
            item = getattr(option, "item_type", None)
            if item is not None:
                _collect(item, f"{pointer}/*", False, out)
        elif isinstance(option, mi.DictType):
            types.add("object")
        else:
            types = set()
            break
    out.append(FieldExpectation(pointer, frozenset(types) or None, required, enum))
