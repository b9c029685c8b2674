"""Schema diff with Confluent Schema Registry's JSON Schema rules (json/diff/SchemaDiff.java).

``diff(original, update, policy)`` lists every :class:`Difference` (a :class:`Kind` and the JSON
pointer of the changed keyword in the schema). Confluent compares everit schema objects; this
compares the JSON itself, keyword group by keyword group (types, enum, strings, numbers,
objects, arrays, combinators), with the same kinds and the same content-model rules:

- an object is OPEN when ``additionalProperties`` and ``unevaluatedProperties`` are absent or
  true and there are no ``patternProperties``; PARTIALLY OPEN when a pattern matches or either
  is a schema; CLOSED otherwise. For additions the original's model decides, for removals the
  update's; a property covered by a partially open model is checked against the covering schema.
- ``$ref`` is followed (into the same document, or through ``external``); one that does not
  resolve is an :class:`InvalidSchemaError`, never silently ``{}``. A pair met again while it is
  being compared is a cycle, assumed compatible; when the pass ends with such a pair found
  incompatible, the comparison runs again knowing it (a greatest fixed point), so memoised
  sub-results cannot mask a change behind a recursive ``oneOf``.

Where Confluent has no rule for a keyword, a subschema that appears is SCHEMA_ADDED and one
that disappears SCHEMA_REMOVED; any change to ``if``/``then``/``else`` is COMBINED_TYPE_CHANGED.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from eventbus._contracts.jsonvalue import canonical, equal, join_pointer, resolve_pointer
from eventbus._contracts.kinds import Kind, compatible_kinds
from eventbus._contracts.model import CompatibilityPolicy
from eventbus._contracts.validate import MAX_SCHEMA_DEPTH, schema_depth
from eventbus._errors import InvalidSchemaError

__all__ = ["ABSENT", "Difference", "diff"]

K = Kind
ABSENT: Any = object()
_ANNOTATIONS = frozenset(
    {
        "$id",
        "$schema",
        "$comment",
        "$anchor",
        "$defs",
        "definitions",
        "title",
        "description",
        "default",
        "examples",
        "deprecated",
        "readOnly",
        "writeOnly",
        "format",
        "contentMediaType",
        "contentEncoding",
    }
)
_COMBINATORS = ("allOf", "anyOf", "oneOf")
_RECURSION_LIMIT = 20_000


@dataclass(frozen=True, slots=True)
class Difference:
    kind: Kind
    pointer: str  # into the schema (RFC 6901); "" is the root


def is_empty(schema: Any) -> bool:
    """True for ``true`` and for objects with annotations only (they accept everything)."""
    return schema is True or (isinstance(schema, Mapping) and not (schema.keys() - _ANNOTATIONS))


Key = tuple[int, int]


class _Pass:
    """What one pass of the comparison shares across contexts: the memo of finished pairs, the
    pairs in progress, and what cycles assumed. A pair met again while in progress is a cycle:
    it is assumed compatible, unless an earlier pass found it is not, in which case that pass's
    differences stand in for it (a greatest fixed point, as Confluent computes it)."""

    def __init__(self, known: dict[Key, list[Difference]]) -> None:
        self.memo: dict[Key, tuple[Any, Any, list[Difference]]] = {}  # schemas kept: ids unique
        self.busy: set[Key] = set()
        self.known = known  # pairs an earlier pass found incompatible, with their differences
        self.assumed: set[Key] = set()  # pairs a cycle assumed compatible in this pass
        self.targets: dict[tuple[int, str], Any] = {}  # (side, $ref) -> the schema it names
        self.derefs: dict[tuple[int, int], tuple[Any, Any]] = {}  # (side, id) -> (schema, target)


class Ctx:
    """Where we are in the comparison, what was found, and what counts as compatible."""

    def __init__(
        self,
        ok: frozenset[Kind],
        roots: tuple[Any, Any],
        external: Callable[[str], Any] | None,
        shared: _Pass | None = None,
    ) -> None:
        self.ok = ok
        self.roots = roots
        self.external = external
        self.shared = shared if shared is not None else _Pass({})
        self.path: list[str] = []
        self.found: list[Difference] = []

    def sub(self, *, keep_path: bool = True) -> Ctx:
        ctx = Ctx(self.ok, self.roots, self.external, self.shared)
        if keep_path:
            ctx.path = list(self.path)
        return ctx

    @contextmanager
    def at(self, *segments: object) -> Iterator[None]:
        self.path.extend(str(s) for s in segments)
        try:
            yield
        finally:
            del self.path[len(self.path) - len(segments) :]

    def add(self, kind: Kind, *segments: object) -> None:
        self.found.append(Difference(kind, join_pointer([*self.path, *segments])))

    def extend(self, found: list[Difference]) -> None:
        self.found.extend(found)

    @property
    def compatible(self) -> bool:
        return all(d.kind in self.ok for d in self.found)

    def deref(self, schema: Any, side: int) -> Any:
        """Follow ``$ref`` (a ``$ref`` with other keywords becomes ``allOf`` of both); the
        result is kept per schema, so each ``$ref`` is followed once per pass."""
        if not isinstance(schema, dict) or "$ref" not in schema:
            return schema
        key = (side, id(schema))
        cached = self.shared.derefs.get(key)
        if cached is None:
            cached = self.shared.derefs[key] = (schema, self._follow(schema, side))
        return cached[1]

    def _follow(self, schema: Any, side: int) -> Any:
        seen: set[int] = set()
        while isinstance(schema, Mapping) and isinstance(schema.get("$ref"), str):
            if id(schema) in seen:
                return True
            seen.add(id(schema))
            target = self._target(schema["$ref"], side)
            rest = {k: v for k, v in schema.items() if k != "$ref"}
            if rest.keys() - _ANNOTATIONS:
                return {"allOf": [target, rest]}
            schema = target
        return schema

    def _target(self, ref: str, side: int) -> Any:
        targets = self.shared.targets
        found = targets.get((side, ref), ABSENT)
        if found is ABSENT:
            found = targets[side, ref] = self._resolve(ref, side)
        return found

    def _resolve(self, ref: str, side: int) -> Any:
        which = ("old", "new")[side]
        if ref.startswith("#"):
            try:
                return resolve_pointer(self.roots[side], ref[1:])[-1]
            except (LookupError, ValueError) as exc:
                raise InvalidSchemaError(
                    f"$ref {ref!r} in the {which} schema does not resolve: {exc}",
                    pointer=join_pointer(self.path),
                    code="unresolvable-ref",
                ) from None
        found = self.external(ref) if self.external is not None else None
        if found is None:
            raise InvalidSchemaError(
                f"$ref {ref!r} in the {which} schema names no schema known here",
                pointer=join_pointer(self.path),
                code="unresolvable-ref",
            )
        return found


def compare(ctx: Ctx, original: Any, update: Any) -> None:
    """Add the differences from ``original`` to ``update`` at the current path."""
    if original is ABSENT and update is ABSENT:
        return
    if original is ABSENT:
        ctx.add(K.SCHEMA_ADDED)
        return
    if update is ABSENT:
        ctx.add(K.SCHEMA_REMOVED)
        return
    original, update = ctx.deref(original, 0), ctx.deref(update, 1)
    key = (id(original), id(update))
    shared = ctx.shared
    entry = shared.memo.get(key)
    if entry is None:
        if key in shared.busy:  # a cycle: what an earlier pass found, else compatible
            if key in shared.known:
                found = shared.known[key]
                prefix = join_pointer(ctx.path)
                ctx.extend([Difference(d.kind, prefix + d.pointer) for d in found])
            else:
                shared.assumed.add(key)
            return
        shared.busy.add(key)
        try:
            inner = ctx.sub(keep_path=False)
            _compare(inner, original, update)
            entry = shared.memo[key] = (original, update, inner.found)
        finally:
            shared.busy.discard(key)
    prefix = join_pointer(ctx.path)
    ctx.extend([Difference(d.kind, prefix + d.pointer) for d in entry[2]])


def _compare(ctx: Ctx, o: Any, u: Any) -> None:
    from eventbus._contracts.diff_arrays import array_facet
    from eventbus._contracts.diff_objects import object_facet
    from eventbus._contracts.diff_scalars import (
        enum_facet,
        not_facet,
        number_facet,
        string_facet,
        type_facet,
    )

    if o is False or u is False or is_empty(o) or is_empty(u):
        if o is False or is_empty(u):
            if isinstance(o, Mapping) and isinstance(u, Mapping):
                _annotations(ctx, o, u)
            return
        ctx.add(K.TYPE_CHANGED)
        return
    if not isinstance(o, Mapping) or not isinstance(u, Mapping):
        if o != u:
            ctx.add(K.TYPE_CHANGED)
        return
    if _sum_type_special_cases(ctx, o, u):
        return
    _annotations(ctx, o, u)
    if type_facet(ctx, o, u):
        return
    enum_facet(ctx, o, u)
    string_facet(ctx, o, u)
    number_facet(ctx, o, u)
    object_facet(ctx, o, u)
    array_facet(ctx, o, u)
    _combinators(ctx, o, u)
    not_facet(ctx, o, u)
    if any(canonical(o.get(k)) != canonical(u.get(k)) for k in ("if", "then", "else")):
        ctx.add(K.COMBINED_TYPE_CHANGED, "if")


def _only(schema: Mapping[str, Any], keyword: str) -> bool:
    return keyword in schema and not (schema.keys() - _ANNOTATIONS - {keyword})


def _sum_type_special_cases(ctx: Ctx, o: Mapping[str, Any], u: Mapping[str, Any]) -> bool:
    """Confluent: a plain schema becoming one branch of an anyOf/oneOf is SUM_TYPE_EXTENDED; a
    one-branch allOf wrapped, or a one-branch combination unwrapped, compares its branch; any
    other change between a plain schema and a combination is TYPE_CHANGED."""
    o_comb = [k for k in _COMBINATORS if k in o]
    u_comb = [k for k in _COMBINATORS if k in u]
    if not o_comb and len(u_comb) == 1 and _only(u, u_comb[0]):
        keyword, branches = u_comb[0], u[u_comb[0]]
        if not isinstance(branches, list):
            return False
        if keyword == "allOf" and len(branches) == 1:  # compare with the one branch
            with ctx.at(keyword, 0):
                compare(ctx, o, branches[0])
            return True
        if keyword != "allOf":
            for index, branch in enumerate(branches):
                sub = ctx.sub()
                with sub.at(keyword, index):
                    compare(sub, o, branch)
                if sub.compatible:
                    ctx.extend(sub.found)
                    if len(branches) > 1:
                        ctx.add(K.SUM_TYPE_EXTENDED, keyword)
                    return True
        ctx.add(K.TYPE_CHANGED)  # a plain schema became a combination it is not part of
        return True
    if not u_comb and len(o_comb) == 1 and _only(o, o_comb[0]):
        branches = o[o_comb[0]]
        if not isinstance(branches, list):
            return False
        if len(branches) == 1:  # a one-branch combination unwrapped: compare the branch
            compare(ctx, branches[0], u)
            return True
        ctx.add(K.TYPE_CHANGED)  # a combination became a plain schema
        return True
    return False


def _annotations(ctx: Ctx, o: Mapping[str, Any], u: Mapping[str, Any]) -> None:
    for keyword, kind in (
        ("$id", K.ID_CHANGED),
        ("title", K.TITLE_CHANGED),
        ("description", K.DESCRIPTION_CHANGED),
    ):
        if o.get(keyword) != u.get(keyword):
            ctx.add(kind, keyword)
    if ("default" in o) != ("default" in u) or (
        "default" in o and not equal(o["default"], u["default"])
    ):
        ctx.add(K.DEFAULT_CHANGED, "default")


def _combinators(ctx: Ctx, o: Mapping[str, Any], u: Mapping[str, Any]) -> None:
    from eventbus._contracts.diff_arrays import combined

    o_comb = [k for k in _COMBINATORS if isinstance(o.get(k), list)]
    u_comb = [k for k in _COMBINATORS if isinstance(u.get(k), list)]
    if len(o_comb) == 1 and len(u_comb) == 1 and o_comb != u_comb:
        combined(ctx, o_comb[0], o[o_comb[0]], u_comb[0], u[u_comb[0]])
        return
    for keyword in _COMBINATORS:
        if keyword in o_comb and keyword in u_comb:
            combined(ctx, keyword, o[keyword], keyword, u[keyword])
        elif keyword in u_comb:
            ctx.add(K.SCHEMA_ADDED, keyword)
        elif keyword in o_comb:
            ctx.add(K.SCHEMA_REMOVED, keyword)


def diff(
    original: Any,
    update: Any,
    policy: CompatibilityPolicy = CompatibilityPolicy.STRICT,
    *,
    external: Callable[[str], Any] | None = None,
) -> list[Difference]:
    """Every difference from ``original`` to ``update``. ``policy`` matters where Confluent
    decides by compatibility (covered properties, matching combined subschemas); ``external``
    resolves ``$ref`` URIs outside the two documents (None when unknown)."""
    for which, schema in (("old", original), ("new", update)):
        if schema_depth(schema) > MAX_SCHEMA_DEPTH:
            raise InvalidSchemaError(
                f"the {which} schema nests too deeply to compare "
                f"(deeper than {MAX_SCHEMA_DEPTH} levels, the limit)",
                code="depth",
            )
    ok = compatible_kinds(policy)
    known: dict[Key, list[Difference]] = {}
    passes: list[_Pass] = []  # kept alive so the ids in ``known`` keep naming the same schemas
    with _deep_recursion():
        while True:
            shared = _Pass(dict(known))
            passes.append(shared)
            ctx = Ctx(ok, (original, update), external, shared)
            compare(ctx, original, update)
            # A cycle assumed a pair compatible that turned out not to be: results built on
            # that assumption may be wrong, so compare again knowing it (at most once per pair).
            wrong = {
                key: shared.memo[key][2]
                for key in shared.assumed
                if key in shared.memo and not all(d.kind in ok for d in shared.memo[key][2])
            }
            if not wrong:
                return ctx.found
            known.update(wrong)


@contextmanager
def _deep_recursion() -> Iterator[None]:
    """Mutually recursive schemas nest comparisons deeply (one frame group per pair in
    progress); allow for it, and report what is still too deep as a typed error."""
    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(max(limit, _RECURSION_LIMIT))
    try:
        yield
    except RecursionError:
        raise InvalidSchemaError(
            "the schemas nest too deeply to compare (mutual recursion beyond the limit)",
            code="depth",
        ) from None
    finally:
        sys.setrecursionlimit(limit)
