"""``SchemaValidator``: one JSON Schema, compiled once by jsonschema-rs, spec-exact.

The engine is `jsonschema-rs <https://pypi.org/project/jsonschema-rs/>`_ (Rust, with Python
bindings): patterns are ECMA-262 regular expressions (``$`` does not match before a final
newline, ``\\d``/``\\w`` are ASCII, ``\\p{Letter}`` works), ``multipleOf`` is exact for decimal
numbers (0.07 is a multiple of 0.01), and big numbers keep their value. It passes the whole
JSON-Schema-Test-Suite for draft-07 and 2020-12, required and optional files (the tests run
it). ``format`` is an annotation in both dialects (2020-12's default; optional in draft-07,
where some validators assert it), so no format changes a verdict.

Limits, each a typed error: a schema nested deeper than :data:`MAX_SCHEMA_DEPTH` levels is
refused when compiled (:class:`InvalidSchemaError`); data nested deeper than
:data:`MAX_DATA_DEPTH` levels is invalid under a recursive schema (a ``depth`` violation), so
no input can exhaust the native stack.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from typing import Any
from urllib.parse import urljoin

import jsonschema_rs

from eventbus._contracts.jsonvalue import join_pointer, resolve_pointer
from eventbus._errors import InvalidSchemaError, SchemaValidationError, Violation

__all__ = [
    "DEFAULT_DIALECT",
    "DIALECTS",
    "DRAFT7",
    "DRAFT202012",
    "MAX_DATA_DEPTH",
    "MAX_SCHEMA_DEPTH",
    "SchemaValidator",
    "dialect_of",
    "parse_dialect",
]

DRAFT7, DRAFT202012 = "draft-07", "2020-12"
DEFAULT_DIALECT = DRAFT7  # Confluent Schema Registry's default for schemas without $schema
DIALECTS: dict[str, str] = {
    "http://json-schema.org/draft-07/schema": DRAFT7,
    "https://json-schema.org/draft/2020-12/schema": DRAFT202012,
}
MAX_SCHEMA_DEPTH = 128
MAX_DATA_DEPTH = 256
_CLASSES: dict[str, Any] = {
    DRAFT7: jsonschema_rs.Draft7Validator,
    DRAFT202012: jsonschema_rs.Draft202012Validator,
}
_NOT_JSON = "not a JSON value"
_ABSOLUTE = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:")
Retriever = Callable[[str], Any]


def parse_dialect(value: Any, where: str = "dialect") -> str:
    """``"draft-07"`` or ``"2020-12"`` from either name or its meta-schema URI."""
    if isinstance(value, str):
        if value in _CLASSES:
            return value
        found = DIALECTS.get(value.rstrip("#"))
        if found is not None:
            return found
    known = ", ".join([*_CLASSES, *DIALECTS])
    raise InvalidSchemaError(
        f"{where} {value!r} is not a supported dialect (one of: {known})",
        pointer="/$schema" if where == "$schema" else None,
        code="dialect",
    )


def dialect_of(
    schema: Any, default: str = DEFAULT_DIALECT, retrieve: Retriever | None = None
) -> str:
    """The dialect a schema declares with ``$schema``, else ``default``; raises
    :class:`InvalidSchemaError` for any other ``$schema``. A ``$schema`` naming a custom
    meta-schema that ``retrieve`` finds has that meta-schema's dialect."""
    if not isinstance(schema, Mapping) or "$schema" not in schema:
        return default
    declared = schema["$schema"]
    if isinstance(declared, str) and retrieve is not None and declared.rstrip("#") not in DIALECTS:
        meta = retrieve(declared)
        if isinstance(meta, Mapping) and meta.get("$schema") != declared:
            return dialect_of(meta, default)
    return parse_dialect(declared, "$schema")


def schema_depth(schema: Any) -> int:
    """How deeply the schema document nests (objects and arrays), without recursion."""
    deepest, stack = 0, [(schema, 1)]
    while stack:
        node, depth = stack.pop()
        if isinstance(node, dict):
            values: Iterable[Any] = node.values()
        elif isinstance(node, list):
            values = node
        else:
            continue
        deepest = max(deepest, depth)
        if depth <= MAX_SCHEMA_DEPTH:
            stack.extend((v, depth + 1) for v in values)
    return deepest


def data_too_deep(data: Any, limit: int = MAX_DATA_DEPTH) -> bool:
    """True when ``data`` nests more than ``limit`` containers deep (checked without
    recursion, stopping at the limit)."""
    stack = [(data, 0)]
    while stack:
        node, depth = stack.pop()
        if isinstance(node, dict):
            children: Iterable[Any] = node.values()
        elif isinstance(node, list | tuple):
            children = node
        else:
            continue
        if depth >= limit:
            return True
        stack.extend((c, depth + 1) for c in children if isinstance(c, dict | list | tuple))
    return False


def is_recursive(schema: Any) -> bool:
    """Whether validation may follow references in a cycle (so its depth follows the data's).

    Local JSON-pointer references are followed; a cycle among them, or any reference this
    cannot follow (another document, an anchor, ``$dynamicRef``, ``$recursiveRef``), counts as
    recursive. Without recursion the schema's own depth bounds the validator's.
    """

    def refs(node: Any) -> Iterable[Any]:
        stack = [node]
        while stack:
            item = stack.pop()
            if isinstance(item, dict):
                for key, value in item.items():
                    if key in ("enum", "const", "default", "examples"):
                        continue
                    if key in ("$ref", "$dynamicRef", "$recursiveRef"):
                        yield key, value
                    else:
                        stack.append(value)
            elif isinstance(item, list):
                stack.extend(item)

    def visit(node: Any, active: set[str]) -> bool:
        for key, ref in refs(node):
            if key != "$ref" or not isinstance(ref, str) or not (ref == "#" or ref[:2] == "#/"):
                return True
            if ref in active:
                return True
            try:
                target = resolve_pointer(schema, ref[1:])[-1]
            except (LookupError, ValueError):
                return True
            if visit(target, active | {ref}):
                return True
        return False

    return visit(schema, set())


class SchemaValidator:
    """Validate data against one schema (``dialect``: draft-07 or 2020-12 for a schema
    without ``$schema``; ``retrieve``: the schema at a URI that ``$ref`` names, or raise).

    ``is_valid(data)`` is the fast yes/no (jsonschema-rs's own, called directly);
    ``validate(data)`` returns every :class:`Violation` (empty when valid); ``check(data)``
    raises :class:`SchemaValidationError` listing them. A schema that cannot be used (its
    meta-schema rejects it, a regex is not ECMA-262, a ``$ref`` does not resolve, too deep)
    raises :class:`InvalidSchemaError` here. ``is_valid`` raises ``ValueError`` for values that
    are not JSON (a set, an object); ``validate`` and ``check`` report those as violations.
    """

    def __init__(
        self,
        schema: Mapping[str, Any] | bool,
        *,
        dialect: str | None = None,
        retrieve: Retriever | None = None,
    ) -> None:
        self.schema = schema
        self.dialect = dialect_of(schema, parse_dialect(dialect or DEFAULT_DIALECT), retrieve)
        depth = schema_depth(schema)
        if depth > MAX_SCHEMA_DEPTH:
            raise InvalidSchemaError(
                f"the schema nests deeper than {MAX_SCHEMA_DEPTH} levels (the limit)", code="depth"
            )
        self._rs = _compile(schema, self.dialect, retrieve)
        self.recursive = is_recursive(schema)
        fast: Callable[[Any], bool] = self._rs.is_valid
        if self.recursive:
            fast = self._guarded
        self.is_valid: Callable[[Any], bool] = fast

    def _guarded(self, data: Any) -> bool:
        return not data_too_deep(data) and bool(self._rs.is_valid(data))

    def validate(self, data: Any) -> list[Violation]:
        """Every violation (empty when ``data`` is valid)."""
        if self.recursive and data_too_deep(data):
            return [Violation("", "depth", f"data nests deeper than {MAX_DATA_DEPTH} levels")]
        try:
            return violations_of(self._rs.iter_errors(data))
        except ValueError as exc:  # a value that is not JSON, or too deep to compare
            return [Violation("", "type", f"{_NOT_JSON}: {exc}")]

    def check(self, data: Any, **context: Any) -> None:
        """Raise :class:`SchemaValidationError` (with ``context``: event_type, version...)."""
        found = self.validate(data)
        if found:
            raise SchemaValidationError(found, **context)

    def __repr__(self) -> str:
        return f"SchemaValidator({self.dialect}{', recursive' if self.recursive else ''})"


def _compile(schema: Any, dialect: str, retrieve: Retriever | None) -> Any:
    def retriever(uri: str) -> Any:
        found = retrieve(uri) if retrieve is not None else None
        if found is None:
            raise LookupError(f"no schema at {uri} in the registry")
        return found

    options: dict[str, Any] = {"retriever": retriever}
    if dialect == DRAFT7:
        options["validate_formats"] = False  # jsonschema-rs asserts draft-07 formats by default
    declared = schema.get("$schema") if isinstance(schema, Mapping) else None
    if isinstance(declared, str) and declared.rstrip("#") not in DIALECTS:
        # a custom meta-schema: registered up front so that its vocabularies apply
        meta = retriever(declared)
        options = {"registry": jsonschema_rs.Registry([(declared, meta)], retriever=retriever)}
    try:
        return _CLASSES[dialect](schema, **options)
    except ValueError as exc:  # jsonschema_rs.ValidationError: the meta-schema, a regex, a ref
        message = (getattr(exc, "message", "") or str(exc)).splitlines()[0]
        path = getattr(exc, "instance_path", None)
        if path:
            raise InvalidSchemaError(message, pointer=join_pointer(path)) from None
        dangling = _dangling_ref(schema, retrieve)
        if dangling is None and not any(w in message for w in ("Pointer", "Resource", "nchor")):
            raise InvalidSchemaError(message) from None
        pointer, ref = dangling or (None, None)
        raise InvalidSchemaError(
            f"$ref {ref!r} does not resolve ({message})" if ref else message,
            pointer=pointer,
            code="unresolvable-ref",
        ) from None


def _dangling_ref(schema: Any, retrieve: Retriever | None) -> tuple[str, str] | None:
    """The first ``$ref`` (its pointer and value) naming a JSON pointer missing from this
    document, or a document the registry does not hold. References it cannot judge alone
    (anchors, inside embedded resources, relative to a non-hierarchical base) are left to
    jsonschema-rs, which reports them without a pointer."""
    if not isinstance(schema, Mapping):
        return None
    declared = schema.get("$id")
    base: str = declared if isinstance(declared, str) else ""
    document_uri = base.split("#", 1)[0]
    hierarchical = not base or "://" in base
    stack: list[tuple[Any, tuple[str, ...]]] = [(schema, ())]
    while stack:
        node, path = stack.pop()
        if isinstance(node, list):
            stack.extend((v, (*path, str(i))) for i, v in enumerate(node))
            continue
        if not isinstance(node, dict) or (path and "$id" in node):
            continue
        for key, value in node.items():
            if key in ("enum", "const", "default", "examples"):
                continue
            if key != "$ref" or not isinstance(value, str):
                stack.append((value, (*path, key)))
                continue
            if not value.startswith("#") and not _ABSOLUTE.match(value) and not hierarchical:
                continue
            uri, _, fragment = urljoin(base, value).partition("#")
            target = schema if uri == document_uri else None
            if target is None and retrieve is not None and uri:
                target = retrieve(uri)
            if target is None or not _has_pointer(target, fragment):
                return join_pointer((*path, key)), value
    return None


def _has_pointer(document: Any, fragment: str) -> bool:
    if not fragment.startswith("/"):
        return True  # the whole document or an anchor
    try:
        resolve_pointer(document, fragment)
    except (LookupError, ValueError):
        return False
    return True


_REQUIRED = jsonschema_rs.ValidationErrorKind.Required
_UNEXPECTED = (
    jsonschema_rs.ValidationErrorKind.AdditionalProperties,
    jsonschema_rs.ValidationErrorKind.UnevaluatedProperties,
)


def violations_of(errors: Iterable[Any]) -> list[Violation]:
    """jsonschema-rs errors as violations; a missing required property and each unexpected
    additional property is pointed at by its own name."""
    out: list[Violation] = []
    append = out.append
    for error in errors:
        path = error.instance_path
        kind = error.kind
        kind_type = type(kind)
        schema_pointer = _pointer(error.schema_path)
        if kind_type is _REQUIRED:
            append(
                Violation(
                    _pointer([*path, kind.property]),
                    "required",
                    "required property is missing",
                    schema_pointer,
                )
            )
        elif kind_type in _UNEXPECTED:
            keyword = kind.name
            message = f"{keyword.removesuffix('Properties')} property is not allowed"
            for name in kind.unexpected:
                append(Violation(_pointer([*path, name]), keyword, message, schema_pointer))
        else:
            append(Violation(_pointer(path), kind.name, error.message, schema_pointer))
    return out


def _pointer(parts: list[Any]) -> str:
    """``join_pointer`` for the common case of tokens without ``~`` or ``/``."""
    if not parts:
        return ""
    text = "/" + "/".join(map(str, parts))
    if "~" in text or text.count("/") != len(parts):
        return join_pointer(parts)
    return text
