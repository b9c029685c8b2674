"""Code generation for the object and array keywords (see :mod:`eventbus._contracts.codegen`)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from eventbus._contracts.codegen import Unsupported, _number, _regex, _strings

if TYPE_CHECKING:
    from eventbus._contracts.codegen import _Gen

__all__ = ["emit_array", "emit_object"]


def _schemas(value: Any, keyword: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise Unsupported(f"{keyword} is not an object")
    return value


def _missing_any(names: list[str], v: str) -> str:
    return " or ".join(f"{n!r} not in {v}" for n in names)


def emit_object(g: _Gen, schema: dict[str, Any], v: str, depth: int) -> list[str]:
    pad, out = "    " * depth, []
    props = _schemas(schema.get("properties", {}), "properties")
    required = _strings(schema["required"], "required") if "required" in schema else []
    fetched: set[str] = set()
    for name, sub in props.items():
        w = g.fresh("v")
        if name in required:
            fetched.add(name)
            out += [f"{pad}{w} = {v}.get({name!r}, _M)", f"{pad}if {w} is _M: return False"]
            out += g.block(sub, w, depth)
            continue
        body = g.block(sub, w, depth + 1)
        if body:
            out += [f"{pad}{w} = {v}.get({name!r}, _M)", f"{pad}if {w} is not _M:", *body]
    rest = [n for n in dict.fromkeys(required) if n not in fetched]
    if rest:
        out.append(f"{pad}if {_missing_any(rest, v)}: return False")
    patterns = _schemas(schema.get("patternProperties", {}), "patternProperties")
    if "additionalProperties" in schema:
        out += _additional(g, schema["additionalProperties"], props, patterns, v, depth)
    for pattern, sub in patterns.items():
        k, w = g.fresh("k"), g.fresh("v")
        body = g.block(sub, w, depth + 2)
        if body:
            regex = g.const(_regex(pattern))
            out += [f"{pad}for {k}, {w} in {v}.items():", f"{pad}    if {regex}.search({k}):"]
            out += body
    if "propertyNames" in schema:
        k = g.fresh("k")
        body = g.block(schema["propertyNames"], k, depth + 1)
        if body:
            out += [f"{pad}for {k} in {v}:", *body]
    for kw, op in (("minProperties", "<"), ("maxProperties", ">")):
        if kw in schema:
            out.append(f"{pad}if len({v}) {op} {g.const(_number(schema[kw], kw))}: return False")
    if g.draft7:
        dependencies = _schemas(schema.get("dependencies", {}), "dependencies")
        arrays = {p: d for p, d in dependencies.items() if isinstance(d, list)}
        schemas = {p: d for p, d in dependencies.items() if not isinstance(d, list)}
    else:
        arrays = _schemas(schema.get("dependentRequired", {}), "dependentRequired")
        schemas = _schemas(schema.get("dependentSchemas", {}), "dependentSchemas")
    for prop, names in arrays.items():
        names = _strings(names, "dependentRequired")
        if names:
            out.append(f"{pad}if {prop!r} in {v} and ({_missing_any(names, v)}): return False")
    for prop, sub in schemas.items():
        body = g.block(sub, v, depth + 1)
        if body:
            out += [f"{pad}if {prop!r} in {v}:", *body]
    return out


def _additional(
    g: _Gen, extra: Any, props: dict[str, Any], patterns: dict[str, Any], v: str, depth: int
) -> list[str]:
    pad = "    " * depth
    declared = g.const(frozenset(props))
    joined = "|".join(patterns)  # jsonschema matches the patterns joined, so do we
    regex = g.const(_regex(joined)) if joined else None
    if extra is True:
        return []
    k = g.fresh("k")
    not_declared = f"{k} not in {declared}"
    if regex is not None:
        not_declared += f" and {regex}.search({k}) is None"
    if extra is False:
        if regex is None:
            return [f"{pad}if not {declared}.issuperset({v}): return False"]
        return [f"{pad}for {k} in {v}:", f"{pad}    if {not_declared}: return False"]
    if not isinstance(extra, dict):
        raise Unsupported("additionalProperties is neither a schema nor a boolean")
    w = g.fresh("v")
    body = g.block(extra, w, depth + 2)
    if not body:
        return []
    return [f"{pad}for {k}, {w} in {v}.items():", f"{pad}    if {not_declared}:", *body]


def emit_array(g: _Gen, schema: dict[str, Any], v: str, depth: int) -> list[str]:
    pad, out = "    " * depth, []
    items = schema.get("items", True)
    if g.draft7:
        if isinstance(items, list):
            out += _tuple(g, items, v, depth)
            if "additionalItems" in schema:
                out += _rest(g, schema["additionalItems"], len(items), v, depth)
        elif "additionalItems" in schema and isinstance(items, bool) and "items" in schema:
            raise Unsupported("additionalItems next to a boolean items")  # jsonschema fails here
        else:
            out += _rest(g, items, 0, v, depth)
    else:
        prefix = schema.get("prefixItems", [])
        if not isinstance(prefix, list) or isinstance(items, list):
            raise Unsupported("prefixItems must be a list and items a schema")
        out += _tuple(g, prefix, v, depth)
        out += _rest(g, items, len(prefix), v, depth)
    if "contains" in schema:
        fn = g.function(schema["contains"])
        if g.draft7:
            out.append(f"{pad}if not any(map({fn}, {v})): return False")
        else:
            low = g.const(_number(schema.get("minContains", 1), "minContains"))
            count = g.fresh("c")
            out.append(f"{pad}{count} = sum(1 for e in {v} if {fn}(e))")
            test = f"{count} < {low}"
            if "maxContains" in schema:
                test += f" or {count} > {g.const(_number(schema['maxContains'], 'maxContains'))}"
            out.append(f"{pad}if {test}: return False")
    for kw, op in (("minItems", "<"), ("maxItems", ">")):
        if kw in schema:
            out.append(f"{pad}if len({v}) {op} {g.const(_number(schema[kw], kw))}: return False")
    if schema.get("uniqueItems"):
        out.append(f"{pad}if not _uniq({v}): return False")
    return out


def _tuple(g: _Gen, schemas: list[Any], v: str, depth: int) -> list[str]:
    pad, out = "    " * depth, []
    for index, sub in enumerate(schemas):
        w = g.fresh("v")
        body = g.block(sub, w, depth + 1)
        if body:
            out += [f"{pad}if len({v}) > {index}:", f"{pad}    {w} = {v}[{index}]", *body]
    return out


def _rest(g: _Gen, schema: Any, start: int, v: str, depth: int) -> list[str]:
    """Every item from ``start`` on must match ``schema`` (items / additionalItems)."""
    pad = "    " * depth
    if schema is True:
        return []
    if schema is False:
        return [f"{pad}if len({v}) > {start}: return False"]
    if not isinstance(schema, dict):
        raise Unsupported("items is neither a schema nor a boolean")
    w = g.fresh("v")
    body = g.block(schema, w, depth + 1)
    if not body:
        return []
    if start == 0:
        return [f"{pad}for {w} in {v}:", *body]
    i = g.fresh("i")
    return [f"{pad}for {i} in range({start}, len({v})):", f"{pad}    {w} = {v}[{i}]", *body]
