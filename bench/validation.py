"""Validation of one order against its JSON Schema: compiled validator vs jsonschema's.

Target: <= 3 µs per validation of the order below (2020-12, closed objects, a pattern, an
enum, a $ref'd line item, two lines). Prints both figures and the ratio, measured in this run,
plus what the publish-side middleware costs on top (data conversion, dataschema stamp).
Run: python bench/validation.py
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

import jsonschema
import msgspec
from _util import per_call_us, verdict

from eventbus import Event, Registry, SchemaValidator, ValidationMiddleware

N = 100_000

ORDER_SCHEMA = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "type": "object",
    "properties": {
        "order_id": {"type": "string", "pattern": "^o-[0-9]+$"},
        "customer": {"type": "string", "minLength": 1, "maxLength": 100},
        "amount_cents": {"type": "integer", "exclusiveMinimum": 0},
        "currency": {"type": "string", "enum": ["EUR", "USD", "GBP", "CHF"]},
        "placed_at": {"type": "string", "format": "date-time"},
        "lines": {
            "type": "array",
            "minItems": 1,
            "maxItems": 100,
            "items": {"$ref": "#/$defs/line"},
        },
    },
    "required": ["order_id", "customer", "amount_cents"],
    "additionalProperties": False,
    "$defs": {
        "line": {
            "type": "object",
            "properties": {
                "sku": {"type": "string", "minLength": 1},
                "quantity": {"type": "integer", "minimum": 1},
                "unit_price_cents": {"type": "integer", "minimum": 0},
            },
            "required": ["sku", "quantity", "unit_price_cents"],
            "additionalProperties": False,
        }
    },
}
ORDER = {
    "order_id": "o-1003",
    "customer": "linus",
    "amount_cents": 12500,
    "currency": "CHF",
    "placed_at": "2025-05-04T10:00:00Z",
    "lines": [
        {"sku": "kb-01", "quantity": 1, "unit_price_cents": 9900},
        {"sku": "cable-2m", "quantity": 2, "unit_price_cents": 1300},
    ],
}
INVALID = {**ORDER, "amount_cents": -1, "lines": [{"sku": "", "quantity": 0}]}


class OrderPlaced(msgspec.Struct):
    order_id: str
    customer: str
    amount_cents: int
    currency: str = "EUR"


def main() -> None:
    ours = SchemaValidator(ORDER_SCHEMA)
    assert ours.compiled, ours.fallback
    theirs = jsonschema.Draft202012Validator(ORDER_SCHEMA)
    assert ours.is_valid(ORDER) and theirs.is_valid(ORDER)
    assert not ours.is_valid(INVALID) and not theirs.is_valid(INVALID)

    fast = per_call_us(lambda: ours.is_valid(ORDER), N)
    listed = per_call_us(lambda: ours.validate(ORDER), N)
    slow = per_call_us(lambda: theirs.is_valid(ORDER), N // 50)
    print(f"eventbus  SchemaValidator.is_valid (valid order):    {fast:7.2f} µs")
    print(f"eventbus  SchemaValidator.validate (valid order):    {listed:7.2f} µs")
    print(f"jsonschema Draft202012Validator.is_valid (same):     {slow:7.2f} µs")
    print(f"ratio: eventbus is {slow / fast:.0f}x faster than jsonschema's compiled validator")
    bad_ours = per_call_us(lambda: ours.validate(INVALID), N // 100)
    bad_theirs = per_call_us(lambda: list(theirs.iter_errors(INVALID)), N // 100)
    print(
        f"invalid order, every violation: eventbus {bad_ours:.1f} µs, jsonschema {bad_theirs:.1f} µs"
    )

    registry = Registry(Path(__file__).resolve().parents[1] / "contracts")
    middleware = ValidationMiddleware(registry)
    event = Event(
        type="com.example.shop.order.placed",
        source="/bench",
        data=OrderPlaced("o-1001", "ada", 4200),
    )
    publish = per_call_us(lambda: middleware.check(event), N // 5)
    print(f"publish-side check of a Struct event (convert, validate, stamp): {publish:.2f} µs")
    print(f"target <= 3 µs: {fast:.2f} µs  {verdict(fast <= 3.0)}")


if __name__ == "__main__":
    main()
