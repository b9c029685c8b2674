"""Compile a JSON Schema (2020-12 or draft-07) into Python source for one fast predicate.

The generated function answers only "valid or not", with jsonschema's exact semantics for the
keywords it covers: every keyword of draft-07, and every 2020-12 keyword except
``$dynamicRef``, ``unevaluatedItems`` and ``unevaluatedProperties``. ``$ref`` is covered when it
is a JSON pointer into the same document and no subschema on the way declares its own ``$id`` or
``$schema``. Anything else raises :class:`Unsupported`, and the caller falls back to jsonschema
for that schema. ``format`` is an annotation (as in jsonschema without a format checker).

Each subschema becomes inline statements that ``return False`` on failure; subschemas needed as
a boolean (``anyOf``, ``oneOf``, ``not``, ``if``, ``contains``, ``$ref`` targets) become their
own functions. Type checks decide which keyword groups are emitted at all.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from math import inf
from numbers import Number
from typing import Any

from eventbus._contracts.jsonvalue import equal, float_multiple_fails, resolve_pointer, uniq

__all__ = ["DRAFT7", "DRAFT202012", "Unsupported", "compile_predicate"]

DRAFT7, DRAFT202012 = "draft-07", "2020-12"

_NOT_COVERED = {"$dynamicRef", "unevaluatedItems", "unevaluatedProperties"}
_TYPES = ("null", "boolean", "object", "array", "number", "integer", "string")
_STRING_KW = ("minLength", "maxLength", "pattern")
_NUMBER_KW = ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "multipleOf")
_OBJECT_KW = (
    "properties",
    "required",
    "additionalProperties",
    "patternProperties",
    "propertyNames",
    "minProperties",
    "maxProperties",
    "dependentRequired",
    "dependentSchemas",
    "dependencies",
)
_ARRAY_KW = (
    "items",
    "prefixItems",
    "additionalItems",
    "contains",
    "minItems",
    "maxItems",
    "uniqueItems",
)
_DRAFT7_ONLY = {"dependencies", "additionalItems"}
_2020_ONLY = {"prefixItems", "dependentRequired", "dependentSchemas"}
_MAX_INDENT = 30


class Unsupported(Exception):
    """The schema uses something the compiler does not cover; validate it with jsonschema."""


def _guard(t: str, v: str) -> str:
    if t == "null":
        return f"{v} is None"
    if t == "boolean":
        return f"({v} is True or {v} is False)"
    if t == "object":
        return f"isinstance({v}, dict)"
    if t == "array":
        return f"isinstance({v}, list)"
    if t == "string":
        return f"isinstance({v}, str)"
    if t == "number":
        return f"(type({v}) in _NUM or (isinstance({v}, _Number) and not isinstance({v}, bool)))"
    return (  # integer: an int that is not a bool, or a float with no fraction
        f"(type({v}) is int or (isinstance({v}, float) and {v}.is_integer())"
        f" or (isinstance({v}, int) and not isinstance({v}, bool)))"
    )


def _number(value: Any, keyword: str) -> Any:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise Unsupported(f"{keyword} is not a number")
    return value


def _strings(value: Any, keyword: str) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(s, str) for s in value):
        raise Unsupported(f"{keyword} is not a list of strings")
    return value


def _regex(pattern: Any) -> re.Pattern[str]:
    if not isinstance(pattern, str):
        raise Unsupported("pattern is not a string")
    try:
        return re.compile(pattern)
    except re.error as exc:
        raise Unsupported(f"pattern {pattern!r}: {exc}") from None


class _Gen:
    def __init__(self, root: Any, dialect: str) -> None:
        self.root = root
        self.draft7 = dialect == DRAFT7
        self.ns: dict[str, Any] = {
            "_NUM": frozenset({int, float}),
            "_Number": Number,
            "_M": object(),
            "_equal": equal,
            "_uniq": uniq,
            "_fmul": float_multiple_fails,
        }
        self.defs: list[str] = []
        self.names: dict[int, str] = {}
        self.n = 0

    def fresh(self, prefix: str) -> str:
        self.n += 1
        return f"{prefix}{self.n}"

    def const(self, value: Any) -> str:
        """A name for ``value`` in the generated code (a literal for plain numbers)."""
        if type(value) is int or (type(value) is float and value == value and abs(value) != inf):
            return repr(value)
        name = self.fresh("_k")
        self.ns[name] = value
        return name

    def function(self, schema: Any) -> str:
        """A module-level function ``name(x) -> bool`` for ``schema`` (memoised per subschema)."""
        key = id(schema)
        if key in self.names:
            return self.names[key]
        name = self.fresh("_f")
        self.names[key] = name
        body = self.block(schema, "x", 1, top=schema is self.root)
        self.defs.append("\n".join([f"def {name}(x):", *body, "    return True", ""]))
        return name

    def ref(self, ref: Any) -> Any:
        if not isinstance(ref, str) or not ref.startswith("#"):
            raise Unsupported(f"$ref {ref!r} is not a pointer into this document")
        fragment = ref[1:]
        if fragment and not fragment.startswith("/"):
            raise Unsupported(f"$ref {ref!r} names an anchor")
        try:
            chain = resolve_pointer(self.root, fragment)
        except (LookupError, ValueError) as exc:
            raise Unsupported(f"$ref {ref!r} does not resolve: {exc}") from None
        for node in chain[1:]:
            if isinstance(node, dict) and ("$id" in node or "$schema" in node):
                raise Unsupported(f"$ref {ref!r} crosses an embedded resource")
        return chain[-1]

    # -- one subschema as inline statements -----------------------------------------------------

    def block(self, schema: Any, v: str, depth: int, *, top: bool = False) -> list[str]:
        pad = "    " * depth
        if schema is True:
            return []
        if schema is False:
            return [f"{pad}return False"]
        if not isinstance(schema, dict):
            raise Unsupported(f"a schema must be an object or a boolean, not {schema!r}")
        if depth > _MAX_INDENT:
            return [f"{pad}if not {self.function(schema)}({v}): return False"]
        if not top and ("$id" in schema or "$schema" in schema):
            raise Unsupported("an embedded resource ($id or $schema in a subschema)")
        if self.draft7 and "$ref" in schema:  # draft-07: $ref ignores its siblings
            return [f"{pad}if not {self.function(self.ref(schema['$ref']))}({v}): return False"]
        if not self.draft7 and _NOT_COVERED & schema.keys():
            raise Unsupported(", ".join(sorted(_NOT_COVERED & schema.keys())))
        out: list[str] = []
        known: str | None = None
        if "type" in schema:
            types = schema["type"]
            types = [types] if isinstance(types, str) else types
            if not isinstance(types, list) or not all(t in _TYPES for t in types):
                raise Unsupported(f"type {schema['type']!r}")
            if not types:
                return [f"{pad}return False"]
            cond = " or ".join(_guard(t, v) for t in dict.fromkeys(types))
            out.append(f"{pad}if not ({cond}): return False")
            if len(types) == 1:
                known = types[0]
        if "$ref" in schema:
            out.append(f"{pad}if not {self.function(self.ref(schema['$ref']))}({v}): return False")
        if "enum" in schema:
            out += self.enum(schema["enum"], v, pad, known)
        if "const" in schema:
            out.append(f"{pad}if not _equal({v}, {self.const(schema['const'])}): return False")
        for kws, kind, emit in (
            (_STRING_KW, "string", self.string),
            (_NUMBER_KW, "number", self.number),
            (_OBJECT_KW, "object", self.object),
            (_ARRAY_KW, "array", self.array),
        ):
            present = [k for k in kws if k in schema and self.applies(k)]
            if not present:
                continue
            applies = known is None or known == kind or (kind == "number" and known == "integer")
            if not applies:
                continue
            if known is not None:
                out += emit(schema, v, depth)
            else:
                inner = emit(schema, v, depth + 1)
                if inner:
                    out.append(f"{pad}if {_guard(kind, v)}:")
                    out += inner
        out += self.combinators(schema, v, depth)
        return out

    def applies(self, keyword: str) -> bool:
        return keyword not in (_2020_ONLY if self.draft7 else _DRAFT7_ONLY)

    def enum(self, values: Any, v: str, pad: str, known: str | None) -> list[str]:
        if not isinstance(values, list):
            raise Unsupported("enum is not a list")
        strings = frozenset(x for x in values if isinstance(x, str))
        others = tuple(x for x in values if not isinstance(x, str))
        if known == "string":  # the type check ran: only the strings can match
            return [f"{pad}if {v} not in {self.const(strings)}: return False"]
        if not others:
            return [
                f"{pad}if not (isinstance({v}, str) and {v} in {self.const(strings)}): return False"
            ]
        k = self.const(others)
        other_test = f"any(_equal(e, {v}) for e in {k})"
        if not strings:
            return [f"{pad}if not {other_test}: return False"]
        s = self.const(strings)
        return [
            f"{pad}if not (({v} in {s}) if isinstance({v}, str) else {other_test}): return False"
        ]

    def string(self, schema: dict[str, Any], v: str, depth: int) -> list[str]:
        pad, out = "    " * depth, []
        if "minLength" in schema:
            out.append(
                f"{pad}if len({v}) < {self.const(_number(schema['minLength'], 'minLength'))}: return False"
            )
        if "maxLength" in schema:
            out.append(
                f"{pad}if len({v}) > {self.const(_number(schema['maxLength'], 'maxLength'))}: return False"
            )
        if "pattern" in schema:
            out.append(
                f"{pad}if {self.const(_regex(schema['pattern']))}.search({v}) is None: return False"
            )
        return out

    def number(self, schema: dict[str, Any], v: str, depth: int) -> list[str]:
        pad, out = "    " * depth, []
        for kw, op in (
            ("minimum", "<"),
            ("maximum", ">"),
            ("exclusiveMinimum", "<="),
            ("exclusiveMaximum", ">="),
        ):
            if kw in schema:
                out.append(f"{pad}if {v} {op} {self.const(_number(schema[kw], kw))}: return False")
        if "multipleOf" in schema:
            divisor = _number(schema["multipleOf"], "multipleOf")
            k = self.const(divisor)
            test = f"_fmul({v}, {k})" if isinstance(divisor, float) else f"{v} % {k}"
            out.append(f"{pad}if {test}: return False")
        return out

    def object(self, schema: dict[str, Any], v: str, depth: int) -> list[str]:
        from eventbus._contracts.codegen_object import emit_object

        return emit_object(self, schema, v, depth)

    def array(self, schema: dict[str, Any], v: str, depth: int) -> list[str]:
        from eventbus._contracts.codegen_object import emit_array

        return emit_array(self, schema, v, depth)

    def combinators(self, schema: dict[str, Any], v: str, depth: int) -> list[str]:
        pad, out = "    " * depth, []
        for kw in ("allOf", "anyOf", "oneOf"):
            if kw in schema and (not isinstance(schema[kw], list) or not schema[kw]):
                raise Unsupported(f"{kw} is not a non-empty list")
        for sub in schema.get("allOf", ()):
            out += self.block(sub, v, depth)
        if "anyOf" in schema:
            calls = " or ".join(f"{self.function(s)}({v})" for s in schema["anyOf"])
            out.append(f"{pad}if not ({calls}): return False")
        if "oneOf" in schema:
            calls = " + ".join(f"{self.function(s)}({v})" for s in schema["oneOf"])
            out.append(f"{pad}if ({calls}) != 1: return False")
        if "not" in schema:
            out.append(f"{pad}if {self.function(schema['not'])}({v}): return False")
        if "if" in schema and ("then" in schema or "else" in schema):
            then = self.block(schema.get("then", True), v, depth + 1) or [f"{pad}    pass"]
            other = self.block(schema.get("else", True), v, depth + 1) or [f"{pad}    pass"]
            out += [f"{pad}if {self.function(schema['if'])}({v}):", *then, f"{pad}else:", *other]
        return out


def compile_predicate(schema: Any, dialect: str) -> tuple[Callable[[Any], bool], str]:
    """``(predicate, source)`` for ``schema``; raises :class:`Unsupported` when not covered."""
    if dialect not in (DRAFT7, DRAFT202012):
        raise Unsupported(f"dialect {dialect}")
    if isinstance(schema, Mapping) and not isinstance(schema, dict):
        schema = dict(schema)
    gen = _Gen(schema, dialect)
    try:
        entry = gen.function(schema)
        source = "\n".join(gen.defs)
        code = compile(source, f"<schema {entry}>", "exec")
    except (SyntaxError, RecursionError, MemoryError) as exc:  # pathological nesting
        raise Unsupported(f"too deeply nested to compile: {type(exc).__name__}") from None
    exec(code, gen.ns)
    predicate: Callable[[Any], bool] = gen.ns[entry]
    return predicate, source
