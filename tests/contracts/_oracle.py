"""An independent oracle for differential tests: the pure-Python ``jsonschema`` package with
the two keywords where Python's defaults differ from the specification replaced:

- ``pattern``: ECMA-262 (``u`` flag) through ``regress``, the Rust ECMA regex engine's Python
  bindings (``re`` lets ``$`` match before a final newline, ``\\d`` match non-ASCII digits...);
- ``multipleOf``: exact decimal arithmetic on the number's shortest text (0.07 is a multiple of
  0.01, which float division denies).

Schemas whose other keywords use regexes (``patternProperties``, and ``additionalProperties``
next to it) are not covered: :func:`covers` says so.
"""

from __future__ import annotations

import decimal
from collections.abc import Iterator
from typing import Any

import jsonschema
import regress
from jsonschema.exceptions import ValidationError

__all__ = ["covers", "oracle"]

_CONTEXT = decimal.Context(prec=2000, Emax=10**6, Emin=-(10**6))


def _number(value: int | float) -> decimal.Decimal:
    return decimal.Decimal(value) if isinstance(value, int) else decimal.Decimal(repr(value))


def _pattern(validator: Any, pattern: str, instance: Any, schema: Any) -> Iterator[ValidationError]:
    if isinstance(instance, str) and regress.Regex(pattern, "u").find(instance) is None:
        yield ValidationError(f"{instance!r} does not match {pattern!r}")


def _multiple_of(
    validator: Any, divisor: Any, instance: Any, schema: Any
) -> Iterator[ValidationError]:
    if not validator.is_type(instance, "number"):
        return
    if isinstance(instance, float) and instance in (float("inf"), float("-inf")):
        return
    remainder = _CONTEXT.remainder(_number(instance), _number(divisor))
    if remainder != 0:
        yield ValidationError(f"{instance!r} is not a multiple of {divisor!r}")


def oracle(schema: Any, dialect: str) -> Any:
    """A jsonschema validator for ``schema`` with ECMA-262 patterns and exact ``multipleOf``."""
    base = jsonschema.Draft7Validator if dialect == "draft-07" else jsonschema.Draft202012Validator
    cls = jsonschema.validators.extend(base, {"pattern": _pattern, "multipleOf": _multiple_of})
    return cls(schema)


def covers(schema: Any) -> bool:
    """Whether the oracle decides like the specification for ``schema``."""
    if isinstance(schema, dict):
        if "patternProperties" in schema:
            return False
        return all(covers(v) for k, v in schema.items() if k not in ("enum", "const", "default"))
    if isinstance(schema, list):
        return all(covers(v) for v in schema)
    return True
