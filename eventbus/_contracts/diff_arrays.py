"""Schema diff, array keywords and allOf/anyOf/oneOf: as Confluent's ArraySchemaDiff and
CombinedSchemaDiff (subschemas of a combination are matched by maximum bipartite matching of
the compatible pairs)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from eventbus._contracts.diff import ABSENT, Ctx, Difference, compare, is_empty
from eventbus._contracts.diff_objects import extra_of, subschema, unevaluated
from eventbus._contracts.diff_scalars import bound, types_of
from eventbus._contracts.jsonvalue import canonical
from eventbus._contracts.kinds import Kind

__all__ = ["array_facet", "combined"]

K = Kind
_ARRAY_KW = frozenset(
    {
        "items",
        "prefixItems",
        "additionalItems",
        "unevaluatedItems",
        "contains",
        "minItems",
        "maxItems",
        "minContains",
        "maxContains",
        "uniqueItems",
    }
)


def _array_view(schema: Mapping[str, Any]) -> tuple[Any, list[Any], Any, str]:
    """(schema of all items, positional schemas, schema of the items after them, its keyword)."""
    if isinstance(schema.get("prefixItems"), list):
        return ABSENT, schema["prefixItems"], schema.get("items", True), "prefixItems"
    if isinstance(schema.get("items"), list):
        return ABSENT, schema["items"], schema.get("additionalItems", True), "items"
    return schema.get("items", ABSENT), [], True, "items"


def _items_open(extra: Any, schema: Mapping[str, Any]) -> bool:
    if extra is False or (extra is not True and not is_empty(extra)):
        return False
    return extra_of(schema, "unevaluatedItems") is True


def _items_cover(extra: Any, schema: Mapping[str, Any]) -> Any:
    if extra is not True and extra is not False and not is_empty(extra):
        return extra
    uneval = extra_of(schema, "unevaluatedItems")
    return uneval if isinstance(uneval, Mapping) else None


def array_facet(ctx: Ctx, o: Mapping[str, Any], u: Mapping[str, Any]) -> None:
    def is_array(s: Mapping[str, Any]) -> bool:
        types = types_of(s)
        return bool(types and "array" in types) or bool(s.keys() & _ARRAY_KW)

    if not (is_array(o) or is_array(u)):
        return
    (o_all, o_tuple, o_extra, o_kw), (u_all, u_tuple, u_extra, _) = _array_view(o), _array_view(u)
    with ctx.at("items"):
        compare(ctx, o_all, u_all)
    for index in range(max(len(o_tuple), len(u_tuple))):
        with ctx.at(o_kw, index):
            if index < len(o_tuple) and index < len(u_tuple):
                compare(ctx, o_tuple[index], u_tuple[index])
            elif index < len(o_tuple):
                _item_removed(ctx, o_tuple[index], u_extra, u)
            else:
                _item_added(ctx, o_extra, o, u_tuple[index])
    if o_tuple or u_tuple:
        _additional_items(ctx, o_extra, u_extra)
    unevaluated(ctx, o, u, "unevaluatedItems", "UNEVALUATED_ITEMS")
    bound(ctx, o, u, "maxItems", "MAX_ITEMS")
    bound(ctx, o, u, "minItems", "MIN_ITEMS")
    bound(ctx, o, u, "maxContains", "MAX_CONTAINS")
    bound(ctx, o, u, "minContains", "MIN_CONTAINS")
    if bool(o.get("uniqueItems")) != bool(u.get("uniqueItems")):
        ctx.add(
            K.UNIQUE_ITEMS_REMOVED if o.get("uniqueItems") else K.UNIQUE_ITEMS_ADDED, "uniqueItems"
        )
    subschema(ctx, o, u, "contains")


def _item_removed(ctx: Ctx, original: Any, extra: Any, update: Mapping[str, Any]) -> None:
    if _items_open(extra, update):
        ctx.add(K.ITEM_REMOVED_FROM_OPEN_CONTENT_MODEL)
        return
    cover = _items_cover(extra, update)
    if cover is not None:
        sub = ctx.sub()
        compare(sub, original, cover)
        ctx.extend(sub.found)
        ctx.add(
            K.ITEM_REMOVED_IS_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL
            if sub.compatible
            else K.ITEM_REMOVED_NOT_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL
        )
    elif ctx.deref(original, 0) is False:
        ctx.add(K.ITEM_WITH_FALSE_REMOVED_FROM_CLOSED_CONTENT_MODEL)
    else:
        ctx.add(K.ITEM_REMOVED_FROM_CLOSED_CONTENT_MODEL)


def _item_added(ctx: Ctx, extra: Any, original: Mapping[str, Any], added: Any) -> None:
    if _items_open(extra, original):
        empty = is_empty(ctx.deref(added, 1))
        ctx.add(
            K.ITEM_WITH_EMPTY_SCHEMA_ADDED_TO_OPEN_CONTENT_MODEL
            if empty
            else K.ITEM_ADDED_TO_OPEN_CONTENT_MODEL
        )
        return
    cover = _items_cover(extra, original)
    if cover is None:
        ctx.add(K.ITEM_ADDED_TO_CLOSED_CONTENT_MODEL)
        return
    sub = ctx.sub()
    compare(sub, cover, added)
    ctx.extend(sub.found)
    ctx.add(
        K.ITEM_ADDED_IS_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL
        if sub.compatible
        else K.ITEM_ADDED_NOT_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL
    )


def _additional_items(ctx: Ctx, oe: Any, ue: Any) -> None:
    oe = True if oe is True or is_empty(oe) else oe
    ue = True if ue is True or is_empty(ue) else ue
    if (oe is False) != (ue is False):
        ctx.add(
            K.ADDITIONAL_ITEMS_REMOVED if ue is False else K.ADDITIONAL_ITEMS_ADDED,
            "additionalItems",
        )
    elif oe is True and ue is not True:
        ctx.add(K.ADDITIONAL_ITEMS_NARROWED, "additionalItems")
    elif ue is True and oe is not True:
        ctx.add(K.ADDITIONAL_ITEMS_EXTENDED, "additionalItems")
    elif oe is not True and oe is not False:
        with ctx.at("additionalItems"):
            compare(ctx, oe, ue)


def _combination_widens(okw: str, olist: list[Any], ukw: str, ulist: list[Any]) -> bool:
    """Whether changing the keyword keeps every value valid: to ``anyOf``; between two
    one-branch combinations; from one branch to ``oneOf``; or from ``allOf`` to one branch
    (one subschema left of a conjunction)."""
    return (
        ukw == "anyOf"
        or (len(olist) == 1 and len(ulist) == 1)
        or (len(olist) == 1 and ukw == "oneOf")
        or (len(ulist) == 1 and okw == "allOf")
    )


def combined(ctx: Ctx, okw: str, olist: list[Any], ukw: str, ulist: list[Any]) -> None:
    if okw != ukw:
        if not _combination_widens(okw, olist, ukw, ulist):
            ctx.add(K.COMBINED_TYPE_CHANGED, ukw)
            return
        ctx.add(K.COMBINED_TYPE_EXTENDED, ukw)
    originals = list({canonical(s): s for s in olist}.values())
    updates = list({canonical(s): s for s in ulist}.values())
    if len(originals) < len(updates):  # more branches: the new keyword says of what kind
        ctx.add(K.PRODUCT_TYPE_EXTENDED if ukw == "allOf" else K.SUM_TYPE_EXTENDED, ukw)
    elif len(originals) > len(updates):  # fewer: the old keyword says what was narrowed
        ctx.add(K.PRODUCT_TYPE_NARROWED if okw == "allOf" else K.SUM_TYPE_NARROWED, ukw)
    edges: list[list[tuple[int, list[Difference]]]] = []
    for i, original in enumerate(originals):
        row = []
        for j, update in enumerate(updates):
            sub = ctx.sub()
            with sub.at(okw, i):
                compare(sub, original, update)
            if sub.compatible:
                row.append((j, sub.found))
        edges.append(row)
    matched = _maximum_matching(edges)
    for i, j in sorted(matched.items()):
        ctx.extend(next(found for k, found in edges[i] if k == j))
    if len(matched) < min(len(originals), len(updates)):
        ctx.add(K.COMBINED_TYPE_SUBSCHEMAS_CHANGED, okw)


def _maximum_matching(edges: list[list[tuple[int, list[Difference]]]]) -> dict[int, int]:
    """Maximum bipartite matching (augmenting paths): original index -> update index."""
    owner: dict[int, int] = {}

    def augment(i: int, seen: set[int]) -> bool:
        for j, _ in edges[i]:
            if j in seen:
                continue
            seen.add(j)
            if j not in owner or augment(owner[j], seen):
                owner[j] = i
                return True
        return False

    # Originals with an exact match (no differences) go first, and each tries its closest
    # updates first, so the matching pairs equal subschemas when it can (as Confluent's does).
    for row in edges:
        row.sort(key=lambda edge: len(edge[1]))
    order = sorted(range(len(edges)), key=lambda i: min((len(f) for _, f in edges[i]), default=0))
    for i in order:
        augment(i, set())
    return {i: j for j, i in owner.items()}
