"""JSON values and JSON pointers as JSON Schema means them (for the schema diff and the
consumer expectations): ``equal`` (bool is not a number, ``1 == 1.0``, containers compared
element-wise), ``canonical`` forms, and RFC 6901 pointers."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from fractions import Fraction
from typing import Any
from urllib.parse import unquote

__all__ = [
    "canonical",
    "equal",
    "escape",
    "join_pointer",
    "resolve_pointer",
    "split_pointer",
]

_TRUE = object()
_FALSE = object()


def _unbool(value: Any) -> Any:
    if value is True:
        return _TRUE
    if value is False:
        return _FALSE
    return value


def equal(one: Any, two: Any) -> bool:
    """JSON equality: True is not 1, 1 is 1.0, lists and objects compared member by member."""
    if one is two:
        return True
    if isinstance(one, str) or isinstance(two, str):
        return bool(one == two)
    if isinstance(one, Sequence) and isinstance(two, Sequence):
        return len(one) == len(two) and all(equal(a, b) for a, b in zip(one, two, strict=True))
    if isinstance(one, Mapping) and isinstance(two, Mapping):
        return len(one) == len(two) and all(k in two and equal(v, two[k]) for k, v in one.items())
    return bool(_unbool(one) == _unbool(two))


def canonical(value: Any) -> str:
    """A string equal for ``equal`` JSON values (for sets of enum values); bool kept apart."""
    if value is True or value is False:
        return f"b:{value}"
    if isinstance(value, int | float):
        return f"n:{Fraction(value)}" if value == value else "n:nan"
    if isinstance(value, str):
        return "s:" + value
    if isinstance(value, Mapping):
        inner = ",".join(f"{k!r}={canonical(v)}" for k, v in sorted(value.items()))
        return "{" + inner + "}"
    if isinstance(value, Sequence):
        return "[" + ",".join(canonical(v) for v in value) + "]"
    return f"o:{value!r}"


# -- JSON pointers (RFC 6901) ------------------------------------------------------------------


def escape(token: object) -> str:
    return str(token).replace("~", "~0").replace("/", "~1")


def join_pointer(parts: Iterable[object]) -> str:
    """``["a", 0, "b/c"]`` -> ``/a/0/b~1c``; no parts -> "" (the root)."""
    return "".join("/" + escape(p) for p in parts)


def split_pointer(pointer: str) -> list[str]:
    """``/a/0/b~1c`` -> ``["a", "0", "b/c"]``; "" -> []."""
    if not pointer:
        return []
    if not pointer.startswith("/"):
        raise ValueError(f"{pointer!r} is not a JSON pointer: it must start with '/'")
    return [t.replace("~1", "/").replace("~0", "~") for t in pointer[1:].split("/")]


def resolve_pointer(document: Any, fragment: str) -> list[Any]:
    """The chain of values from ``document`` down to a URI fragment (``#/$defs/a`` minus '#').

    Percent-escapes are undone first, as referencing does. Raises LookupError when a step does
    not exist. The last element is the target.
    """
    chain = [document]
    node = document
    for token in split_pointer(unquote(fragment)):
        if isinstance(node, Mapping):
            if token not in node:
                raise LookupError(f"no member {token!r}")
            node = node[token]
        elif isinstance(node, Sequence) and not isinstance(node, str):
            try:
                node = node[int(token)]
            except (ValueError, IndexError):
                raise LookupError(f"no item {token!r}") from None
        else:
            raise LookupError(f"cannot step into {type(node).__name__} with {token!r}")
        chain.append(node)
    return chain
