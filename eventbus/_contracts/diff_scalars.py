"""Schema diff, scalar keyword groups: types, enum/const, strings, numbers, ``not``.

As Confluent's StringSchemaDiff, NumberSchemaDiff, EnumSchemaDiff and NotSchemaDiff, with two
deliberate differences: ``exclusiveMaximum`` decreases are detected against
``exclusiveMaximum`` (Confluent compares with ``maximum``), and ``multipleOf`` is compared
exactly as a fraction (Confluent truncates to integers).
"""

from __future__ import annotations

from collections.abc import Mapping
from fractions import Fraction
from typing import Any

from eventbus._contracts.diff import Ctx, compare
from eventbus._contracts.jsonvalue import canonical
from eventbus._contracts.kinds import Kind

__all__ = [
    "bound",
    "enum_facet",
    "not_facet",
    "number_facet",
    "string_facet",
    "type_facet",
    "types_of",
]

K = Kind


def _num(schema: Mapping[str, Any], keyword: str) -> Any:
    value = schema.get(keyword)
    return value if isinstance(value, int | float) and not isinstance(value, bool) else None


def bound(ctx: Ctx, o: Mapping[str, Any], u: Mapping[str, Any], keyword: str, kind: str) -> None:
    """``<kind>_ADDED``, ``_REMOVED``, ``_INCREASED`` or ``_DECREASED`` for a numeric keyword."""
    ov, uv = _num(o, keyword), _num(u, keyword)
    if ov == uv:
        return
    if ov is None:
        ctx.add(Kind(f"{kind}_ADDED"), keyword)
    elif uv is None:
        ctx.add(Kind(f"{kind}_REMOVED"), keyword)
    else:
        ctx.add(Kind(f"{kind}_INCREASED" if ov < uv else f"{kind}_DECREASED"), keyword)


def string_facet(ctx: Ctx, o: Mapping[str, Any], u: Mapping[str, Any]) -> None:
    bound(ctx, o, u, "maxLength", "MAX_LENGTH")
    bound(ctx, o, u, "minLength", "MIN_LENGTH")
    op, up = o.get("pattern"), u.get("pattern")
    if op is None and up is not None:
        ctx.add(K.PATTERN_ADDED, "pattern")
    elif op is not None and up is None:
        ctx.add(K.PATTERN_REMOVED, "pattern")
    elif op != up:
        ctx.add(K.PATTERN_CHANGED, "pattern")


def number_facet(ctx: Ctx, o: Mapping[str, Any], u: Mapping[str, Any]) -> None:
    for keyword, kind in (
        ("maximum", "MAXIMUM"),
        ("minimum", "MINIMUM"),
        ("exclusiveMaximum", "EXCLUSIVE_MAXIMUM"),
        ("exclusiveMinimum", "EXCLUSIVE_MINIMUM"),
    ):
        bound(ctx, o, u, keyword, kind)
    ov, uv = _num(o, "multipleOf"), _num(u, "multipleOf")
    if ov == uv:
        return
    if ov is None:
        ctx.add(K.MULTIPLE_OF_ADDED, "multipleOf")
    elif uv is None:
        ctx.add(K.MULTIPLE_OF_REMOVED, "multipleOf")
    else:
        of, uf = Fraction(str(ov)), Fraction(str(uv))
        if of and (uf / of).denominator == 1:
            ctx.add(K.MULTIPLE_OF_EXPANDED, "multipleOf")
        elif uf and (of / uf).denominator == 1:
            ctx.add(K.MULTIPLE_OF_REDUCED, "multipleOf")
        else:
            ctx.add(K.MULTIPLE_OF_CHANGED, "multipleOf")


def types_of(schema: Mapping[str, Any]) -> frozenset[str] | None:
    """The JSON types a schema allows: its ``type``, else those of its enum/const values."""
    declared = schema.get("type")
    if isinstance(declared, str):
        return frozenset({declared})
    if isinstance(declared, list):
        return frozenset(t for t in declared if isinstance(t, str))
    values = schema["enum"] if isinstance(schema.get("enum"), list) else None
    if values is None and "const" in schema:
        values = [schema["const"]]
    if values is None:
        return None
    return frozenset(_json_type(v) for v in values)


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int) or (isinstance(value, float) and value.is_integer()):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    return "array" if isinstance(value, list) else "object"


def _covers(types: frozenset[str], t: str) -> bool:
    return t in types or (t == "integer" and "number" in types)


def type_facet(ctx: Ctx, o: Mapping[str, Any], u: Mapping[str, Any]) -> bool:
    """Compare the allowed types; True when they changed beyond comparison (TYPE_CHANGED)."""
    ot, ut = types_of(o), types_of(u)
    if ot == ut:
        return False
    if ut is None:
        ctx.add(K.TYPE_EXTENDED, "type")
        return False
    if ot is None:
        ctx.add(K.TYPE_NARROWED, "type")
        return False
    widened = all(_covers(ut, t) for t in ot)
    narrowed = all(_covers(ot, t) for t in ut)
    if widened and narrowed:
        return False
    if widened:
        ctx.add(K.SUM_TYPE_EXTENDED if len(ut) > len(ot) else K.TYPE_EXTENDED, "type")
        return False
    if narrowed:
        ctx.add(K.SUM_TYPE_NARROWED if len(ot) > len(ut) else K.TYPE_NARROWED, "type")
        return False
    ctx.add(K.TYPE_CHANGED, "type")
    return True


def _enum_values(schema: Mapping[str, Any]) -> frozenset[str] | None:
    if isinstance(schema.get("enum"), list):
        return frozenset(canonical(v) for v in schema["enum"])
    if "const" in schema:
        return frozenset({canonical(schema["const"])})
    return None


def enum_facet(ctx: Ctx, o: Mapping[str, Any], u: Mapping[str, Any]) -> None:
    ov, uv = _enum_values(o), _enum_values(u)
    if ov == uv:
        return
    where = "enum" if "enum" in o or "enum" in u else "const"
    if uv is None or (ov is not None and uv > ov):
        ctx.add(K.ENUM_ARRAY_EXTENDED, where)
    elif ov is None or uv < ov:
        ctx.add(K.ENUM_ARRAY_NARROWED, where)
    else:
        ctx.add(K.ENUM_ARRAY_CHANGED, where)


def not_facet(ctx: Ctx, o: Mapping[str, Any], u: Mapping[str, Any]) -> None:
    if "not" not in o and "not" not in u:
        return
    if "not" not in o:
        ctx.add(K.NOT_TYPE_EXTENDED, "not")
        return
    if "not" not in u:
        ctx.add(K.NOT_TYPE_NARROWED, "not")
        return
    sub = ctx.sub()
    with sub.at("not"):
        compare(sub, u["not"], o["not"])  # reversed: what the update excludes vs the original
    ctx.add(K.NOT_TYPE_NARROWED if sub.compatible else K.NOT_TYPE_EXTENDED, "not")
