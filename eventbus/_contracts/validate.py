"""``SchemaValidator``: one JSON Schema, compiled once, with jsonschema's verdicts and errors.

The fast path is the generated predicate (:mod:`eventbus._contracts.codegen`); schemas it does not
cover use jsonschema's compiled validator instead. Either way, when data is invalid the errors
come from jsonschema's ``iter_errors``, so every failing JSON pointer is reported, with
jsonschema's messages. Formats are annotations (no format checker), as in jsonschema's default.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

import jsonschema
import referencing
from jsonschema.exceptions import ValidationError

from eventbus._contracts.codegen import DRAFT7, DRAFT202012, Unsupported, compile_predicate
from eventbus._contracts.jsonvalue import join_pointer
from eventbus._errors import SchemaValidationError, Violation

__all__ = ["SchemaValidator", "dialect_of", "validator_class"]

_DIALECTS: dict[type[Any], str] = {
    jsonschema.Draft7Validator: DRAFT7,
    jsonschema.Draft202012Validator: DRAFT202012,
}


def validator_class(schema: Any) -> type[Any]:
    """jsonschema's validator class for ``schema``'s ``$schema`` (2020-12 when absent)."""
    cls: type[Any] = jsonschema.validators.validator_for(
        schema, default=jsonschema.Draft202012Validator
    )
    return cls


def dialect_of(schema: Any) -> str | None:
    """``"2020-12"``, ``"draft-07"`` or None for any other dialect."""
    return _DIALECTS.get(validator_class(schema))


class SchemaValidator:
    """Validate data against one schema.

    ``is_valid(data)`` is the fast yes/no; ``validate(data)`` returns every :class:`Violation`
    (empty when valid); ``check(data)`` raises :class:`SchemaValidationError` listing them.
    ``compiled`` tells whether the fast path is generated code or jsonschema (``fallback``
    says why). ``registry`` (a ``referencing.Registry``) resolves references to other schemas.
    """

    def __init__(
        self,
        schema: Mapping[str, Any] | bool,
        *,
        registry: referencing.Registry[Any] | None = None,
        dialect: str | None = None,
    ) -> None:
        self.schema = schema
        cls = validator_class(schema)
        if dialect is not None:
            cls = {DRAFT7: jsonschema.Draft7Validator}.get(dialect, jsonschema.Draft202012Validator)
        kwargs: dict[str, Any] = {} if registry is None else {"registry": registry}
        self._jsonschema = cls(schema, **kwargs)
        self.dialect = _DIALECTS.get(cls)
        self.fallback: str | None = None
        self.source = ""
        fast: Callable[[Any], bool]
        try:
            fast, self.source = compile_predicate(schema, self.dialect or "other")
        except Unsupported as exc:
            fast = self._jsonschema.is_valid
            self.fallback = str(exc)
        self.is_valid: Callable[[Any], bool] = fast

    @property
    def compiled(self) -> bool:
        return self.fallback is None

    def validate(self, data: Any) -> list[Violation]:
        """Every violation (empty when ``data`` is valid)."""
        if self.is_valid(data):
            return []
        found = violations_of(self._jsonschema.iter_errors(data))
        # The differential tests keep the two in agreement; never turn a rejection into a pass.
        return found or [Violation("", "schema", "rejected by the compiled validator only")]

    def check(self, data: Any, **context: Any) -> None:
        """Raise :class:`SchemaValidationError` (with ``context``: event_type, version...)."""
        if not self.is_valid(data):
            raise SchemaValidationError(self.validate(data), **context)

    def __repr__(self) -> str:
        how = "compiled" if self.compiled else f"jsonschema ({self.fallback})"
        return f"SchemaValidator({self.dialect or 'other dialect'}, {how})"


def violations_of(errors: Iterable[ValidationError]) -> list[Violation]:
    """jsonschema errors as violations; ``required`` and ``additionalProperties: false`` errors
    point at each missing or unexpected property itself."""
    out: list[Violation] = []
    pending_required: dict[tuple[Any, ...], list[str]] = {}
    for error in errors:
        path = tuple(error.absolute_path)
        pointer = join_pointer(path)
        schema_pointer = join_pointer(error.absolute_schema_path)
        keyword = str(error.validator) if error.validator is not None else "false"
        instance = error.instance
        value = error.validator_value
        if keyword == "required" and isinstance(instance, dict) and isinstance(value, list):
            key = (*path, id(value))
            if key not in pending_required:
                pending_required[key] = [p for p in value if p not in instance]
            missing = pending_required[key]
            if missing:
                name = missing.pop(0)
                out.append(
                    Violation(
                        join_pointer((*path, name)),
                        keyword,
                        "required property is missing",
                        schema_pointer,
                    )
                )
                continue
        if keyword == "additionalProperties" and value is False and isinstance(instance, dict):
            extras = _additional(instance, error.schema)
            if extras:
                for name in extras:
                    out.append(
                        Violation(
                            join_pointer((*path, name)),
                            keyword,
                            "additional property is not allowed",
                            schema_pointer,
                        )
                    )
                continue
        out.append(Violation(pointer, keyword, error.message, schema_pointer))
    return out


def _additional(instance: Mapping[str, Any], schema: Any) -> list[str]:
    import re

    if not isinstance(schema, Mapping):
        return []
    props = schema.get("properties", {})
    joined = "|".join(schema.get("patternProperties", {}))
    return sorted(k for k in instance if k not in props and not (joined and re.search(joined, k)))
