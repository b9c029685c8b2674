"""``eventbus contracts lint``: the registry's structure and schemas, file by file.

Errors: unreadable files, malformed config, gaps in version numbers, schemas that break their
meta-schema or use another dialect than 2020-12 / draft-07, ``$id`` other than the version's
``dataschema``, ``$ref`` that does not resolve, examples of unknown versions, malformed
consumer files, deprecations naming unknown types or versions. Warnings: what works but should
be fixed (no ``$schema``, no ``$id``, no title or description, no examples, a passed sunset,
schemas validated on the slow path, type names that are not reverse-DNS).
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime
from typing import Any

import referencing.exceptions
from jsonschema.exceptions import SchemaError

from eventbus._contracts.expectations import ConsumerExpectation
from eventbus._contracts.jsonvalue import join_pointer
from eventbus._contracts.model import Finding
from eventbus._contracts.registry import DEFAULT_BASE_URI, REGISTRY_FILE, Contract, Registry
from eventbus._contracts.validate import validator_class
from eventbus._errors import RegistryError

__all__ = ["lint"]

_TYPE_NAME = re.compile(r"^[a-z0-9]+(\.[a-z0-9][a-z0-9-]*)+$")
_KNOWN_ENTRIES = {"contract.json", "examples", "consumers"}


def lint(registry: Registry) -> list[Finding]:
    """Every problem of a registry opened with ``strict=False``."""
    found = list(registry.problems)
    if registry.base_uri == DEFAULT_BASE_URI:
        found.append(
            Finding(
                str(registry.root / REGISTRY_FILE),
                "no-base-uri",
                f"no base_uri: dataschema URIs default to {DEFAULT_BASE_URI}<type>/vN.schema.json",
                "warning",
            )
        )
    for contract in registry.contracts:
        found += _lint_contract(registry, contract)
    return sorted(found, key=lambda f: (f.path, f.severity, f.code))


def _lint_contract(registry: Registry, contract: Contract) -> Iterator[Finding]:
    directory = str(contract.directory)
    if not _TYPE_NAME.match(contract.type):
        yield Finding(
            directory,
            "type-name",
            "event types should be lower-case reverse-DNS names (com.example.thing.happened)",
            "warning",
        )
    numbers = [v.version for v in contract.versions]
    missing = sorted(set(range(1, max(numbers) + 1)) - set(numbers))
    if missing:
        yield Finding(
            directory,
            "version-gap",
            f"versions must run v1..v{max(numbers)}: missing {', '.join(f'v{n}' for n in missing)}",
        )
    for entry in contract.directory.iterdir():
        if entry.name not in _KNOWN_ENTRIES and not entry.name.endswith(".schema.json"):
            yield Finding(
                str(entry), "stray-file", "not part of the registry layout (ignored)", "warning"
            )
    for sv in contract.versions:
        yield from _lint_schema(registry, sv.path, sv.schema, sv.uri, sv.dialect)
    examples = {e.version for e in contract.examples if e.valid}
    for example in contract.examples:
        if example.version not in numbers:
            yield Finding(
                str(example.path), "example-version", f"v{example.version} does not exist"
            )
    for sv in contract.versions:
        if sv.version not in examples:
            yield Finding(
                str(sv.path),
                "no-examples",
                f"no valid example in examples/v{sv.version}/valid/",
                "warning",
            )
    for path in contract.consumer_paths:
        try:
            ConsumerExpectation.load(path, contract.type)
        except RegistryError as exc:
            yield Finding(str(path), "consumer-file", str(exc))
    yield from _lint_deprecations(registry, contract)


def _lint_schema(
    registry: Registry, path: Any, schema: Mapping[str, Any], uri: str, dialect: str | None
) -> Iterator[Finding]:
    where = str(path)
    if dialect is None:
        yield Finding(
            where,
            "dialect",
            f"$schema {schema.get('$schema')!r} is not 2020-12 or draft-07",
            pointer="/$schema",
        )
        return
    if "$schema" not in schema:
        yield Finding(where, "no-$schema", "no $schema: read as 2020-12", "warning")
    if "$id" not in schema:
        yield Finding(where, "no-$id", f"no $id: set it to the dataschema {uri}", "warning")
    elif schema["$id"] != uri:
        yield Finding(where, "id-mismatch", f"$id must be the dataschema {uri}", pointer="/$id")
    for keyword in ("title", "description"):
        if keyword not in schema:
            yield Finding(where, f"no-{keyword}", f"no {keyword}", "warning")
    cls = validator_class(schema)
    try:
        cls.check_schema(schema)
    except SchemaError as exc:
        yield Finding(
            where,
            "meta-schema",
            f"{exc.message} [{exc.validator}]",
            pointer=join_pointer(exc.absolute_path),
        )
        return
    resolver = registry.resources().resolver_with_root(
        referencing.Resource.from_contents(
            schema, default_specification=referencing.jsonschema.DRAFT202012
        )
    )
    for pointer, ref in _refs(schema, []):
        try:
            resolver.lookup(ref)
        except referencing.exceptions.Unresolvable:
            yield Finding(
                where, "unresolvable-ref", f"$ref {ref!r} does not resolve", pointer=pointer
            )
    version = registry.by_uri(uri)
    if version is not None:
        validator = registry.validator(version.type, version.version)
        if not validator.compiled:
            yield Finding(
                where,
                "slow-path",
                f"validated by jsonschema, not compiled: {validator.fallback}",
                "warning",
            )


def _refs(node: Any, path: list[str]) -> Iterator[tuple[str, str]]:
    if isinstance(node, Mapping):
        if isinstance(node.get("$ref"), str):
            yield join_pointer([*path, "$ref"]), node["$ref"]
        for key, value in node.items():
            if key not in ("enum", "const", "default", "examples"):
                yield from _refs(value, [*path, key])
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from _refs(value, [*path, str(index)])


def _lint_deprecations(registry: Registry, contract: Contract) -> Iterator[Finding]:
    config = contract.directory / "contract.json"
    now = datetime.now(UTC)
    numbers = {v.version for v in contract.versions}
    for number in contract.config.version_deprecations:
        if number not in numbers:
            yield Finding(
                str(config),
                "deprecation-version",
                f"versions.{number}: no such version",
                pointer=f"/versions/{number}",
            )
    items = [("deprecated", contract.config.deprecated)]
    items += [
        (f"versions/{n}/deprecated", d) for n, d in contract.config.version_deprecations.items()
    ]
    for where, deprecation in items:
        if deprecation is None:
            continue
        if deprecation.replaced_by is not None and deprecation.replaced_by not in registry.types:
            yield Finding(
                str(config),
                "replaced-by",
                f"replaced_by {deprecation.replaced_by!r} is not in the registry",
                pointer=f"/{where}/replaced_by",
            )
        if deprecation.sunset is not None and deprecation.sunset < now:
            yield Finding(
                str(config),
                "sunset-passed",
                f"the sunset ({deprecation.sunset.date()}) has passed: remove the type or extend it",
                "warning",
                pointer=f"/{where}/sunset",
            )
