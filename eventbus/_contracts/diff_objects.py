"""Schema diff, object keywords: as Confluent's ObjectSchemaDiff.

Content models: OPEN when ``additionalProperties`` and ``unevaluatedProperties`` are absent or
true and there are no ``patternProperties``; PARTIALLY OPEN when a pattern matches the property
or either is a schema; CLOSED otherwise. For an added property the original's model decides,
for a removed one the update's; a covered property is compared with its covering schema.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from eventbus._contracts.diff import ABSENT, Ctx, compare, is_empty
from eventbus._contracts.diff_scalars import bound, types_of
from eventbus._contracts.kinds import Kind

__all__ = ["object_facet", "subschema", "unevaluated"]

K = Kind
_OBJECT_KW = frozenset(
    {
        "properties",
        "required",
        "additionalProperties",
        "unevaluatedProperties",
        "patternProperties",
        "propertyNames",
        "minProperties",
        "maxProperties",
        "dependencies",
        "dependentRequired",
        "dependentSchemas",
    }
)


def extra_of(schema: Mapping[str, Any], keyword: str) -> Any:
    """additionalProperties / unevaluatedProperties as True (absent, true, {}), False or a schema."""
    value = schema.get(keyword, True)
    return True if value is True or is_empty(value) else value


def _is_open(schema: Mapping[str, Any]) -> bool:
    return (
        extra_of(schema, "additionalProperties") is True
        and extra_of(schema, "unevaluatedProperties") is True
        and not schema.get("patternProperties")
    )


def _covering(schema: Mapping[str, Any], name: str) -> Any:
    """The schema a property ``name`` falls under when not declared (None: not allowed)."""
    patterns = schema.get("patternProperties")
    if isinstance(patterns, Mapping):
        for pattern, sub in patterns.items():
            try:
                if re.search(pattern, name):
                    return sub
            except re.error:
                continue
    for keyword in ("additionalProperties", "unevaluatedProperties"):
        extra = extra_of(schema, keyword)
        if isinstance(extra, Mapping):
            return extra
    return None


def _is_object(schema: Mapping[str, Any]) -> bool:
    types = types_of(schema)
    return bool(types and "object" in types) or bool(schema.keys() & _OBJECT_KW)


def _has_default(ctx: Ctx, schema: Any) -> bool:
    target = ctx.deref(schema, 1)
    return isinstance(target, Mapping) and "default" in target


def object_facet(ctx: Ctx, o: Mapping[str, Any], u: Mapping[str, Any]) -> None:
    if not (_is_object(o) or _is_object(u)):
        return
    op, up = o.get("properties") or {}, u.get("properties") or {}
    oreq = {r for r in o.get("required", []) if isinstance(r, str)}
    ureq = {r for r in u.get("required", []) if isinstance(r, str)}
    for name in [*op, *(n for n in sorted(oreq | ureq) if n not in op and n not in up)]:
        if name in op and name not in up:
            continue
        if name in oreq and name not in ureq:
            ctx.add(K.REQUIRED_ATTRIBUTE_REMOVED, "required", name)
        elif name in ureq and name not in oreq:
            with_default = name in up and _has_default(ctx, up[name])
            kind = (
                K.REQUIRED_ATTRIBUTE_WITH_DEFAULT_ADDED
                if with_default
                else K.REQUIRED_ATTRIBUTE_ADDED
            )
            ctx.add(kind, "required", name)
    with ctx.at("properties"):
        for name in [*op, *(n for n in up if n not in op)]:
            with ctx.at(name):
                if name not in up:
                    _property_removed(ctx, op[name], u)
                elif name not in op:
                    _property_added(ctx, o, up[name], name in ureq)
                else:
                    compare(ctx, op[name], up[name])
    _dependencies(ctx, o, u)
    _additional_properties(ctx, o, u)
    unevaluated(ctx, o, u, "unevaluatedProperties", "UNEVALUATED_PROPERTIES")
    _pattern_properties(ctx, o, u)
    subschema(ctx, o, u, "propertyNames")
    bound(ctx, o, u, "maxProperties", "MAX_PROPERTIES")
    bound(ctx, o, u, "minProperties", "MIN_PROPERTIES")


def _property_removed(ctx: Ctx, original: Any, update: Mapping[str, Any]) -> None:
    """Only the update's content model matters: can it still take the property?"""
    if _is_open(update):
        ctx.add(K.PROPERTY_REMOVED_FROM_OPEN_CONTENT_MODEL)
        return
    cover = _covering(update, ctx.path[-1])
    if cover is not None:
        sub = ctx.sub()
        compare(sub, original, cover)
        ctx.extend(sub.found)
        covered = sub.compatible
        ctx.add(
            K.PROPERTY_REMOVED_IS_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL
            if covered
            else K.PROPERTY_REMOVED_NOT_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL
        )
    elif ctx.deref(original, 0) is False:
        ctx.add(K.PROPERTY_WITH_FALSE_REMOVED_FROM_CLOSED_CONTENT_MODEL)
    else:
        ctx.add(K.PROPERTY_REMOVED_FROM_CLOSED_CONTENT_MODEL)


def _property_added(ctx: Ctx, original: Mapping[str, Any], added: Any, required: bool) -> None:
    """Only the original's content model matters: could old data already have it?"""
    with_default = _has_default(ctx, added)
    if _is_open(original):
        if required:
            ctx.add(
                K.REQUIRED_PROPERTY_WITH_DEFAULT_ADDED_TO_OPEN_CONTENT_MODEL
                if with_default
                else K.REQUIRED_PROPERTY_ADDED_TO_OPEN_CONTENT_MODEL
            )
        elif is_empty(ctx.deref(added, 1)):
            ctx.add(K.PROPERTY_WITH_EMPTY_SCHEMA_ADDED_TO_OPEN_CONTENT_MODEL)
        else:
            ctx.add(K.OPTIONAL_PROPERTY_ADDED_TO_OPEN_CONTENT_MODEL)
        return
    cover = _covering(original, ctx.path[-1])
    if cover is not None:
        sub = ctx.sub()
        compare(sub, cover, added)
        ctx.extend(sub.found)
        covered = sub.compatible
        ctx.add(
            K.PROPERTY_ADDED_IS_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL
            if covered
            else K.PROPERTY_ADDED_NOT_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL
        )
    if required:
        ctx.add(
            K.REQUIRED_PROPERTY_WITH_DEFAULT_ADDED_TO_UNOPEN_CONTENT_MODEL
            if with_default
            else K.REQUIRED_PROPERTY_ADDED_TO_UNOPEN_CONTENT_MODEL
        )
    else:
        ctx.add(K.OPTIONAL_PROPERTY_ADDED_TO_UNOPEN_CONTENT_MODEL)


def _dependency_maps(schema: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    arrays = dict(schema.get("dependentRequired") or {})
    schemas = dict(schema.get("dependentSchemas") or {})
    for name, value in (schema.get("dependencies") or {}).items():
        (arrays if isinstance(value, list) else schemas)[name] = value
    return arrays, schemas


def _dependencies(ctx: Ctx, o: Mapping[str, Any], u: Mapping[str, Any]) -> None:
    (oa, os_), (ua, us) = _dependency_maps(o), _dependency_maps(u)
    new_style = "dependentRequired" in o or "dependentRequired" in u
    keyword = "dependentRequired" if new_style else "dependencies"
    for name in [*oa, *(n for n in ua if n not in oa)]:
        if name not in ua:
            ctx.add(K.DEPENDENCY_ARRAY_REMOVED, keyword, name)
        elif name not in oa:
            ctx.add(K.DEPENDENCY_ARRAY_ADDED, keyword, name)
        elif set(oa[name]) != set(ua[name]):
            before, after = set(oa[name]), set(ua[name])
            kind = (
                K.DEPENDENCY_ARRAY_EXTENDED
                if after > before
                else K.DEPENDENCY_ARRAY_NARROWED
                if after < before
                else K.DEPENDENCY_ARRAY_CHANGED
            )
            ctx.add(kind, keyword, name)
    keyword = (
        "dependentSchemas" if "dependentSchemas" in o or "dependentSchemas" in u else "dependencies"
    )
    for name in [*os_, *(n for n in us if n not in os_)]:
        if name not in us:
            ctx.add(K.DEPENDENCY_SCHEMA_REMOVED, keyword, name)
        elif name not in os_:
            ctx.add(K.DEPENDENCY_SCHEMA_ADDED, keyword, name)
        else:
            with ctx.at(keyword, name):
                compare(ctx, os_[name], us[name])


def _additional_properties(ctx: Ctx, o: Mapping[str, Any], u: Mapping[str, Any]) -> None:
    oa, ua = extra_of(o, "additionalProperties"), extra_of(u, "additionalProperties")
    if oa is True and ua is True:
        return
    if (oa is False) != (ua is False):
        ctx.add(
            K.ADDITIONAL_PROPERTIES_ADDED if oa is False else K.ADDITIONAL_PROPERTIES_REMOVED,
            "additionalProperties",
        )
    elif oa is True:
        ctx.add(K.ADDITIONAL_PROPERTIES_NARROWED, "additionalProperties")
    elif ua is True:
        ctx.add(K.ADDITIONAL_PROPERTIES_EXTENDED, "additionalProperties")
    elif oa is not False:
        with ctx.at("additionalProperties"):
            compare(ctx, oa, ua)


def unevaluated(
    ctx: Ctx, o: Mapping[str, Any], u: Mapping[str, Any], keyword: str, kind: str
) -> None:
    """unevaluatedProperties / unevaluatedItems: ``<kind>_ADDED/_REMOVED/_EXTENDED/_NARROWED``."""
    ov = None if o.get(keyword) is None or is_empty(o[keyword]) else o[keyword]
    uv = None if u.get(keyword) is None or is_empty(u[keyword]) else u[keyword]
    if ov is None and uv is None:
        return
    if ov is None:
        ctx.add(Kind(f"{kind}_REMOVED" if uv is False else f"{kind}_NARROWED"), keyword)
    elif uv is None:
        ctx.add(Kind(f"{kind}_ADDED" if ov is False else f"{kind}_EXTENDED"), keyword)
    elif ov is False and uv is not False:
        ctx.add(Kind(f"{kind}_ADDED"), keyword)
    elif ov is not False and uv is False:
        ctx.add(Kind(f"{kind}_REMOVED"), keyword)
    elif ov is not False:
        with ctx.at(keyword):
            compare(ctx, ov, uv)


def _pattern_properties(ctx: Ctx, o: Mapping[str, Any], u: Mapping[str, Any]) -> None:
    op, up = o.get("patternProperties") or {}, u.get("patternProperties") or {}
    for pattern in [*op, *(p for p in up if p not in op)]:
        with ctx.at("patternProperties", pattern):
            if pattern in op and pattern in up:
                compare(ctx, op[pattern], up[pattern])
            elif pattern in up:  # matching names now constrained (open) or allowed (closed)
                ctx.add(
                    K.ADDITIONAL_PROPERTIES_EXTENDED
                    if extra_of(o, "additionalProperties") is False
                    else K.SCHEMA_ADDED
                )
            elif _is_open(u):
                ctx.add(K.SCHEMA_REMOVED)
            else:
                ctx.add(K.ADDITIONAL_PROPERTIES_NARROWED)


def subschema(ctx: Ctx, o: Mapping[str, Any], u: Mapping[str, Any], keyword: str) -> None:
    with ctx.at(keyword):
        compare(ctx, o.get(keyword, ABSENT), u.get(keyword, ABSENT))
