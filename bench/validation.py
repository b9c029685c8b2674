"""Validation of one order against its JSON Schema: eventbus against jsonschema-rs,
fastjsonschema and jsonschema, side by side in one run.

The order schema (2020-12, closed objects, a pattern, an enum, a $ref'd line item, two lines)
and an invalid order with four violations. Every engine is timed in the same rounds, taking
turns, so machine load hits them alike, best round kept; ratios are against jsonschema-rs
measured in this run.
Targets: eventbus's ``is_valid`` no slower than jsonschema-rs's (ratio >= 0.95, the noise of a
shared machine: it is the same native function), and listing every violation of the invalid
order >= 4x faster than jsonschema's ``iter_errors``. Also what the publish-side middleware costs on top.
Run: python bench/validation.py
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))

import fastjsonschema
import jsonschema
import jsonschema_rs
import msgspec
from _util import per_call_us, verdict

from eventbus import Event, Registry, SchemaValidator, ValidationMiddleware

ROUNDS = 9


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


def race(engines: dict[str, Callable[[Any], object]], data: Any, n: int) -> dict[str, float]:
    """Best µs per call of each engine over ROUNDS rounds, engines taking turns (the best
    round is the one least disturbed by other work on the machine)."""
    samples: dict[str, list[float]] = {name: [] for name in engines}
    for _ in range(ROUNDS):
        for name, fn in engines.items():
            start = time.perf_counter()
            for _ in range(n):
                fn(data)
            samples[name].append((time.perf_counter() - start) / n * 1e6)
    return {name: min(values) for name, values in samples.items()}


def report(title: str, figures: dict[str, float], baseline: str) -> None:
    print(title)
    for name, us in figures.items():
        print(f"  {name:<44} {us:9.2f} µs   x{figures[baseline] / us:6.2f} vs {baseline}")


def main() -> None:
    ours = SchemaValidator(ORDER_SCHEMA)
    rs = jsonschema_rs.Draft202012Validator(ORDER_SCHEMA)
    fast = fastjsonschema.compile(ORDER_SCHEMA)
    py = jsonschema.Draft202012Validator(ORDER_SCHEMA)
    for check in (ours.is_valid, rs.is_valid, py.is_valid):
        assert check(ORDER) and not check(INVALID)
    fast(ORDER)

    def fast_listing(data: Any) -> object:
        try:
            return fast(data)
        except fastjsonschema.JsonSchemaValueException as exc:  # the first violation only
            return exc

    valid = race(
        {
            "eventbus SchemaValidator.is_valid": ours.is_valid,
            "jsonschema-rs Draft202012Validator.is_valid": rs.is_valid,
            "fastjsonschema (compiled function)": fast,
        },
        ORDER,
        50_000,
    )
    valid["jsonschema Draft202012Validator.is_valid"] = race({"py": py.is_valid}, ORDER, 1_000)[
        "py"
    ]
    base = "jsonschema-rs Draft202012Validator.is_valid"
    report("valid order, yes/no:", valid, base)
    listing = race(
        {
            "eventbus SchemaValidator.validate (all)": ours.validate,
            "jsonschema-rs iter_errors (all)": lambda d: list(rs.iter_errors(d)),
            "fastjsonschema (first violation only)": fast_listing,
        },
        INVALID,
        5_000,
    )
    listing["jsonschema iter_errors (all)"] = race(
        {"py": lambda d: list(py.iter_errors(d))}, INVALID, 500
    )["py"]
    report(
        f"invalid order, {len(ours.validate(INVALID))} violations listed:",
        listing,
        "jsonschema-rs iter_errors (all)",
    )

    registry = Registry(Path(__file__).resolve().parents[1] / "contracts")
    middleware = ValidationMiddleware(registry)
    event = Event(
        type="com.example.shop.order.placed",
        source="/bench",
        data=OrderPlaced("o-1001", "ada", 4200),
    )
    publish = per_call_us(lambda: middleware.check(event), 20_000)
    print(f"publish-side check of a Struct event (convert, validate, stamp): {publish:.2f} µs")
    ratio = valid[base] / valid["eventbus SchemaValidator.is_valid"]
    print(
        f"target: eventbus is_valid no slower than jsonschema-rs: x{ratio:.2f}  {verdict(ratio >= 0.95)}"
    )
    speedup = (
        listing["jsonschema iter_errors (all)"] / listing["eventbus SchemaValidator.validate (all)"]
    )
    print(f"target: listing >= 4x faster than jsonschema: x{speedup:.1f}  {verdict(speedup >= 4)}")


if __name__ == "__main__":
    main()
